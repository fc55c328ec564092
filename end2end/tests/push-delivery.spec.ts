import { randomUUID } from "node:crypto";

import { expect, test } from "@playwright/test";

// A change is pushed, encrypted and signed, to the push service of the
// subscriptions that follow its channel. The push service is the fake one
// that `cargo xtask test` starts beside the server (`FAKE_PUSH_URL`): it
// checks the VAPID token, decrypts the message and lists it on its control
// API.

type Subscription = {
  token: string;
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
};
type Message = { payload: { channel?: string; action?: string; bucket?: string }; ttl: number };

const fakePushURL = process.env.FAKE_PUSH_URL ?? "";

test("a record write reaches the push service of a subscription to its collection", async ({
  request,
}) => {
  test.skip(fakePushURL === "", "FAKE_PUSH_URL is not set: no fake push service to send to");

  const id = randomUUID();
  const bucket = `push-${id}`;
  const channel = `/buckets/${bucket}/collections/tasks`;
  const headers = {
    Authorization: `Basic ${Buffer.from(`push-${id}:secret`).toString("base64")}`,
  };

  const minted = await request.post(`${fakePushURL}/control/subscriptions`);
  expect(minted.status()).toBe(201);
  const subscription = (await minted.json()) as Subscription;

  expect((await request.put(`/v1/buckets/${bucket}`, { headers, data: {} })).status()).toBe(201);
  const collection = await request.put(`/v1${channel}`, { headers, data: {} });
  expect(collection.status()).toBe(201);
  const { token, ...browserJSON } = subscription;
  const subscribed = await request.post("/v1/push/subscriptions", {
    headers,
    data: { data: { ...browserJSON, channels: [channel] } },
  });
  expect(subscribed.status()).toBe(201);

  const written = await request.post(`/v1${channel}/records`, {
    headers,
    data: { data: { title: "water the plants" } },
  });
  expect(written.status()).toBe(201);

  const messagesURL = `${fakePushURL}/control/subscriptions/${token}/messages`;
  const received = async () => {
    const messages = (await (await request.get(messagesURL)).json()) as Message[];
    return messages.map(({ payload }) => payload);
  };
  await expect
    .poll(received, { timeout: 15_000 })
    .toContainEqual(expect.objectContaining({ channel, bucket, action: "create" }));
});
