import { join } from "node:path";

import { expect, test } from "@playwright/test";

import {
  addNote,
  bridgePushes,
  fakePushURL,
  noteTitled,
  sharedCollection,
  shownNotifications,
} from "../support/journey";

// Journeys 2 and 3: A adds a note to a collection shared with B, and B's
// open page shows it without a reload, with a notification, through the
// whole push loop; once with B's worker running, once with it stopped.

test.skip(fakePushURL === "", "FAKE_PUSH_URL is not set: no fake push service to send to");

for (const start of ["warm", "cold"] as const) {
  test(`a shared note reaches the other user's open page and notifications (${start} worker)`, async ({
    browser,
    baseURL,
    request,
  }, testInfo) => {
    const shared = await sharedCollection(browser, baseURL ?? "", request);
    const { alicePage, bobPage, channel } = shared;
    const bridge = await bridgePushes(bobPage, request, shared.keys);
    if (start === "cold") {
      const cdp = await bobPage.context().newCDPSession(bobPage);
      const running = new Map<string, string>();
      cdp.on("ServiceWorker.workerVersionUpdated", ({ versions }) => {
        for (const version of versions) running.set(version.versionId, version.runningStatus);
      });
      await cdp.send("ServiceWorker.enable");
      await cdp.send("ServiceWorker.stopAllWorkers");
      await expect.poll(() => [...running.values()].every((s) => s === "stopped")).toBe(true);
    }

    await addNote(alicePage, "Passports", "Both of them");

    await expect(noteTitled(bobPage, "Passports")).toBeVisible();
    await expect(bobPage.getByTestId("sync-state")).toContainText("Synced at");
    await expect.poll(() => shownNotifications(bobPage)).toContainEqual(
      expect.objectContaining({ tag: channel, body: "1 change" }),
    );
    expect(bridge.delivered).toHaveLength(1);
    await bridge.stop();

    if (start === "warm") {
      // How the app looks, at phone and desktop width.
      for (const [name, width, height] of [
        ["phone", 390, 844],
        ["desktop", 1280, 900],
      ] as const) {
        await bobPage.setViewportSize({ width, height });
        await bobPage.screenshot({
          path: join(testInfo.project.outputDir, "..", "screenshots", `collection-${name}.png`),
          fullPage: true,
        });
        await alicePage.setViewportSize({ width, height });
        await alicePage.goto("/");
        await alicePage.screenshot({
          path: join(testInfo.project.outputDir, "..", "screenshots", `board-${name}.png`),
          fullPage: true,
        });
      }
    }
    await shared.aliceContext.close();
    await shared.bobContext.close();
  });
}
