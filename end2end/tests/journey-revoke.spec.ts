import { expect, test } from "@playwright/test";

import {
  addNote,
  channelOf,
  fakePushURL,
  received,
  sentinel,
  sharedCollection,
} from "../support/journey";

// Journey 7: once A revokes B's access, B's browser hears nothing more of
// the collection.

test.skip(fakePushURL === "", "FAKE_PUSH_URL is not set: no fake push service to send to");

test("revoked sharing stops the pushes", async ({ browser, baseURL, request }) => {
  const shared = await sharedCollection(browser, baseURL ?? "", request);
  const { alicePage, bobPage, bob, keys, collectionURL } = shared;

  await addNote(alicePage, "Still shared");
  await expect.poll(async () => (await received(request, keys)).length).toBe(1);

  const { channel: own, drain } = await sentinel(request, bob, keys);
  const bobId = (await bobPage.getByTestId("user-id").textContent()) ?? "";
  await alicePage.getByRole("button", { name: `Revoke ${bobId}'s access` }).click();
  await expect(alicePage.getByText("Only you can see this collection.")).toBeVisible();
  await addNote(alicePage, "No longer shared");
  expect(await drain()).toEqual([shared.channel, own]);

  // B cannot read the notes any more either.
  const records = `/v1${channelOf(collectionURL)}/records`;
  const listing = await request.get(records, { headers: { Authorization: bob.authorization } });
  expect([403, 404]).toContain(listing.status());

  await shared.aliceContext.close();
  await shared.bobContext.close();
});
