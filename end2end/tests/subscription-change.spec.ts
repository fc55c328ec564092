import { randomUUID } from "node:crypto";

import {
  expect,
  test,
  type APIRequestContext,
  type BrowserContext,
  type Page,
  type Worker,
} from "@playwright/test";

// When the browser renews a push subscription, the worker registers the new
// one for the signed-in user in place of the old, and the server carries the
// old one's channels over. A browser never renews a subscription on its own
// during a test, so the specs dispatch `pushsubscriptionchange` inside the
// worker themselves, with stand-ins for the subscriptions: endpoints minted
// by the fake push service that `cargo xtask test` starts (`FAKE_PUSH_URL`).

type Minted = {
  token: string;
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
};
type Stored = { endpoint: string; channels: string[] };
type Subscribed = { userVisibleOnly: boolean; key: number[] };
/** The subscriptions of one change, as plain data the worker is sent. */
type Change = {
  /** The old subscription, with the application server key it names. */
  old: Minted & { key: number[] | null };
  renewed: Minted;
  /** Whether the event carries `renewed` as its `newSubscription`. */
  isGiven: boolean;
};

const fakePushURL = process.env.FAKE_PUSH_URL ?? "";
// The worker crate's `sw::session` names these.
const SESSION_CACHE = "kinto-push-session";
const SESSION_KEY_PATH = "/__session__";

/** A fresh user, with a collection of their own to follow. */
async function signUp(request: APIRequestContext) {
  const id = randomUUID();
  const bucket = `renewal-${id}`;
  const channel = `/buckets/${bucket}/collections/tasks`;
  const authorization = `Basic ${Buffer.from(`renewal-${id}:secret`).toString("base64")}`;
  const headers = { Authorization: authorization };

  expect((await request.put(`/v1/buckets/${bucket}`, { headers, data: {} })).status()).toBe(201);
  expect((await request.put(`/v1${channel}`, { headers, data: {} })).status()).toBe(201);
  return { authorization, headers, channel };
}

/** A new endpoint and its keys at the fake push service. */
async function mint(request: APIRequestContext): Promise<Minted> {
  const minted = await request.post(`${fakePushURL}/control/subscriptions`);
  expect(minted.status()).toBe(201);
  return (await minted.json()) as Minted;
}

/** The subscription the browser will replace, following `channel`. */
async function subscribeOld(
  request: APIRequestContext,
  headers: Record<string, string>,
  channel: string,
): Promise<Minted> {
  const old = await mint(request);
  const { token: _, ...browserJSON } = old;
  const subscribed = await request.post("/v1/push/subscriptions", {
    headers,
    data: { data: { ...browserJSON, channels: [channel] } },
  });
  expect(subscribed.status()).toBe(201);
  return old;
}

/** The user's subscriptions on the server: where each goes and what it follows. */
async function storedSubscriptions(
  request: APIRequestContext,
  headers: Record<string, string>,
): Promise<Stored[]> {
  const response = await request.get("/v1/push/subscriptions", { headers });
  const { data } = (await response.json()) as { data: Stored[] };
  return data.map(({ endpoint, channels }) => ({ endpoint, channels }));
}

/**
 * Opens the app signed in as `authorization`, as far as the worker can
 * tell, and returns the worker once it runs. The page keeps what the worker
 * posts to it in `window.heard`.
 */
async function openSignedIn(
  page: Page,
  context: BrowserContext,
  authorization: string,
): Promise<Worker> {
  await page.goto("/");
  await expect(page.getByTestId("worker-status")).toHaveAttribute("data-state", "connected");
  await page.evaluate(
    async ({ cacheName, keyPath, body }) => {
      const heard: unknown[] = [];
      (window as unknown as { heard: unknown[] }).heard = heard;
      navigator.serviceWorker.addEventListener("message", (event) =>
        heard.push(JSON.parse(event.data)),
      );
      const cache = await caches.open(cacheName);
      await cache.put(new URL(keyPath, location.origin).href, new Response(body));
    },
    {
      cacheName: SESSION_CACHE,
      keyPath: SESSION_KEY_PATH,
      body: JSON.stringify({ authorization }),
    },
  );
  return context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker"));
}

/**
 * Dispatches `pushsubscriptionchange` in the worker. The event's
 * subscriptions are stand-ins: the real ones cannot be made without a push
 * service, and an event made by a script cannot be given them. Subscribing
 * again answers the renewed subscription and is recorded in
 * `self.subscribed`.
 */
async function dispatchChange(worker: Worker, change: Change): Promise<void> {
  await worker.evaluate(({ old, renewed, isGiven }) => {
    const scope = self as unknown as {
      registration: { pushManager: { subscribe: unknown } };
      subscribed: Subscribed[];
    };
    const standIn = (minted: Minted, key: number[] | null) => {
      const { endpoint, keys } = minted;
      return Object.defineProperties(Object.create(PushSubscription.prototype), {
        endpoint: { value: endpoint },
        expirationTime: { value: null },
        options: {
          value: {
            userVisibleOnly: true,
            applicationServerKey: key === null ? null : new Uint8Array(key).buffer,
          },
        },
        toJSON: { value: () => ({ endpoint, expirationTime: null, keys }) },
        unsubscribe: { value: async () => true },
      });
    };

    scope.subscribed = [];
    scope.registration.pushManager.subscribe = async (options: {
      userVisibleOnly: boolean;
      applicationServerKey: BufferSource;
    }) => {
      const key = options.applicationServerKey;
      const bytes = ArrayBuffer.isView(key)
        ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength)
        : new Uint8Array(key);
      scope.subscribed.push({ userVisibleOnly: options.userVisibleOnly, key: Array.from(bytes) });
      return standIn(renewed, null);
    };

    const EventType = (self as unknown as { PushSubscriptionChangeEvent: typeof Event })
      .PushSubscriptionChangeEvent;
    const event = new EventType("pushsubscriptionchange", {});
    Object.defineProperty(event, "oldSubscription", { value: standIn(old, old.key) });
    Object.defineProperty(event, "newSubscription", {
      value: isGiven ? standIn(renewed, null) : null,
    });
    self.dispatchEvent(event);
  }, change);
}

/** What the worker passed to `pushManager.subscribe`. */
function subscribedWith(worker: Worker): Promise<Subscribed[]> {
  return worker.evaluate(() => (self as unknown as { subscribed: Subscribed[] }).subscribed);
}

test.describe("a renewed push subscription", () => {
  test.skip(fakePushURL === "", "FAKE_PUSH_URL is not set: no fake push service to mint with");

  test("replaces the old one on the server, keeps its channels and receives pushes", async ({
    page,
    context,
    request,
  }) => {
    const { authorization, headers, channel } = await signUp(request);
    const old = await subscribeOld(request, headers, channel);
    const renewed = await mint(request);
    const worker = await openSignedIn(page, context, authorization);

    await dispatchChange(worker, { old: { ...old, key: null }, renewed, isGiven: true });

    await expect
      .poll(() => storedSubscriptions(request, headers))
      .toEqual([{ endpoint: renewed.endpoint, channels: [channel] }]);
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { heard: unknown[] }).heard))
      .toEqual([{ type: "subscription_changed" }]);
    expect(await subscribedWith(worker)).toEqual([]);

    // The new endpoint gets the changes of the channel the old one followed.
    const written = await request.post(`/v1${channel}/records`, {
      headers,
      data: { data: { title: "water the plants" } },
    });
    expect(written.status()).toBe(201);
    const messagesURL = `${fakePushURL}/control/subscriptions/${renewed.token}/messages`;
    const received = async () => {
      const messages = (await (await request.get(messagesURL)).json()) as {
        payload: { channel?: string };
      }[];
      return messages.map(({ payload }) => payload.channel);
    };
    await expect.poll(received, { timeout: 15_000 }).toContain(channel);
  });

  test("is made with the server's key when the old subscription names none", async ({
    page,
    context,
    request,
  }) => {
    const { authorization, headers, channel } = await signUp(request);
    const old = await subscribeOld(request, headers, channel);
    const renewed = await mint(request);
    const hello = (await (await request.get("/v1/")).json()) as {
      capabilities: { webpush: { vapid_public_key: string } };
    };
    const serverKey = [...Buffer.from(hello.capabilities.webpush.vapid_public_key, "base64url")];
    const worker = await openSignedIn(page, context, authorization);

    await dispatchChange(worker, { old: { ...old, key: null }, renewed, isGiven: false });

    await expect
      .poll(() => storedSubscriptions(request, headers))
      .toEqual([{ endpoint: renewed.endpoint, channels: [channel] }]);
    expect(serverKey).toHaveLength(65);
    expect(await subscribedWith(worker)).toEqual([{ userVisibleOnly: true, key: serverKey }]);
  });

  test("is made with the old subscription's key when it names one", async ({
    page,
    context,
    request,
  }) => {
    const { authorization, headers, channel } = await signUp(request);
    const old = await subscribeOld(request, headers, channel);
    const renewed = await mint(request);
    const oldKey = [4, ...Array.from({ length: 64 }, (_, index) => index)];
    const worker = await openSignedIn(page, context, authorization);

    await dispatchChange(worker, { old: { ...old, key: oldKey }, renewed, isGiven: false });

    await expect
      .poll(() => storedSubscriptions(request, headers))
      .toEqual([{ endpoint: renewed.endpoint, channels: [channel] }]);
    expect(await subscribedWith(worker)).toEqual([{ userVisibleOnly: true, key: oldKey }]);
  });
});
