import { expect, test } from "@playwright/test";

import {
  addNote,
  bridgePushes,
  fakePushURL,
  noteTitled,
  registrationIdOf,
  sharedCollection,
  shownNotifications,
} from "../support/journey";

// Journey 6: a push whose payload is not what the server sends still shows
// a notification, and the page keeps working.

test.skip(fakePushURL === "", "FAKE_PUSH_URL is not set: no fake push service to send to");

test("a malformed push shows a generic notification and breaks nothing", async ({
  browser,
  baseURL,
  request,
}) => {
  const shared = await sharedCollection(browser, baseURL ?? "", request);
  const { alicePage, bobPage } = shared;
  const errors: string[] = [];
  bobPage.on("pageerror", (error) => errors.push(error.message));
  const origin = new URL(bobPage.url()).origin;
  const cdp = await bobPage.context().newCDPSession(bobPage);
  const registrationId = await registrationIdOf(cdp, origin);

  await cdp.send("ServiceWorker.deliverPushMessage", {
    origin,
    registrationId,
    data: "{not json",
  });

  await expect.poll(() => shownNotifications(bobPage)).toContainEqual(
    expect.objectContaining({
      title: "kinto-push",
      body: "Something changed. Open the app to see it.",
    }),
  );
  // The next real change still arrives and shows.
  const bridge = await bridgePushes(bobPage, request, shared.keys);
  await addNote(alicePage, "After the garbage");
  await expect(noteTitled(bobPage, "After the garbage")).toBeVisible();
  await bridge.stop();
  expect(errors).toEqual([]);

  await shared.aliceContext.close();
  await shared.bobContext.close();
});
