import { expect, test } from "@playwright/test";

import {
  addNote,
  fakePushURL,
  received,
  sentinel,
  serverSubscriptions,
  sharedCollection,
} from "../support/journey";

// Journey 4: the follow toggle decides what the server sends to a browser.

test.skip(fakePushURL === "", "FAKE_PUSH_URL is not set: no fake push service to send to");

test("following and unfollowing a collection changes what is sent", async ({
  browser,
  baseURL,
  request,
}) => {
  const shared = await sharedCollection(browser, baseURL ?? "", request);
  const { alicePage, bobPage, bob, keys, title, channel } = shared;

  await addNote(alicePage, "While followed");
  await expect.poll(async () => (await received(request, keys)).length).toBe(1);

  await bobPage.getByLabel(`Follow ${title}`).uncheck();
  await expect.poll(async () => (await serverSubscriptions(request, bob))[0]?.channels).toEqual([]);
  const { channel: own, drain } = await sentinel(request, bob, keys);
  await addNote(alicePage, "While not followed");
  expect(await drain()).toEqual([channel, own]);

  await bobPage.reload();
  await bobPage.getByLabel(`Follow ${title}`).check();
  await expect
    .poll(async () => (await serverSubscriptions(request, bob))[0]?.channels)
    .toContain(channel);
  await addNote(alicePage, "Followed again");
  await expect.poll(async () => (await received(request, keys)).length).toBe(3);

  await shared.aliceContext.close();
  await shared.bobContext.close();
});
