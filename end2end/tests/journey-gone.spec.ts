import { expect, test } from "@playwright/test";

import { addNote, fakePushURL, serverSubscriptions, sharedCollection } from "../support/journey";

// Journey 5: the push service says B's subscription is gone (410). The
// server deletes it, B's device list shows it gone, and B's next page load
// subscribes again.

test.skip(fakePushURL === "", "FAKE_PUSH_URL is not set: no fake push service to send to");

test("a subscription the push service dropped is removed, then renewed at the next load", async ({
  browser,
  baseURL,
  request,
}) => {
  const shared = await sharedCollection(browser, baseURL ?? "", request);
  const { alicePage, bobPage, bob, keys } = shared;
  const behavior = `${fakePushURL}/control/subscriptions/${keys.token}/behavior`;
  expect((await request.put(behavior, { data: { status: 410 } })).status()).toBe(204);

  await addNote(alicePage, "Nobody hears this");
  await expect.poll(async () => (await serverSubscriptions(request, bob)).length).toBe(0);
  await bobPage.getByRole("button", { name: "Refresh my devices" }).click();
  await expect(bobPage.getByTestId("no-devices")).toBeVisible();

  expect((await request.put(behavior, { data: { accept: true } })).status()).toBe(204);
  await bobPage.reload();
  await expect(bobPage.locator("[data-push-state]")).toHaveAttribute("data-push-state", "on");
  await expect
    .poll(async () => (await serverSubscriptions(request, bob)).map((s) => s.endpoint))
    .toEqual([keys.endpoint]);
  await expect(bobPage.locator(`[data-endpoint="${keys.endpoint}"]`)).toContainText(
    "this browser",
  );

  await shared.aliceContext.close();
  await shared.bobContext.close();
});
