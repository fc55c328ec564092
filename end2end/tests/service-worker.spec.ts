import { expect, test } from "@playwright/test";

test.describe("the service worker", () => {
  test("registers, controls the page and answers over a MessageChannel", async ({ page }) => {
    await page.goto("/");

    // The app's own handshake, shown in the status line.
    await expect(page.getByTestId("worker-status")).toHaveAttribute("data-state", "connected");
    await expect(page.getByTestId("worker-status")).toContainText("active and connected");

    // The same channel, driven by the test.
    const reply = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      const controller = navigator.serviceWorker.controller;
      const channel = new MessageChannel();
      const answer = new Promise<string>((resolve) => {
        channel.port1.onmessage = (event) => resolve(event.data);
      });
      controller?.postMessage(JSON.stringify({ type: "ping" }), [channel.port2]);
      return {
        scope: registration.scope,
        controlled: controller !== null,
        answer: JSON.parse(await answer),
      };
    });

    expect(reply.controlled).toBe(true);
    expect(reply.scope).toBe(new URL("/", page.url()).href);
    expect(reply.answer.type).toBe("pong");
  });

  test("is served for the whole origin and always revalidated", async ({ request }) => {
    const response = await request.get("/sw.js");

    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toContain("javascript");
    expect(response.headers()["cache-control"]).toBe("no-cache");
    expect(response.headers()["service-worker-allowed"]).toBe("/");
    expect(await response.text()).toMatch(/worker\.[0-9a-f]{16}\.wasm/);
  });

  test("starts cold from its cache when the origin is unreachable", async ({ page, context }) => {
    await page.goto("/");
    await expect(page.getByTestId("worker-status")).toHaveAttribute("data-state", "connected");
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const requests = await Promise.all(
        names.map(async (name) => (await (await caches.open(name)).keys()).map((r) => r.url)),
      );
      return requests.flat();
    });
    expect(cached).toEqual([expect.stringMatching(/\/pkg\/worker\.[0-9a-f]{16}\.wasm$/)]);

    // Offline first, then stop the worker: the next message starts it cold.
    await context.setOffline(true);
    const cdp = await context.newCDPSession(page);
    const runningStatus = new Map<string, string>();
    cdp.on("ServiceWorker.workerVersionUpdated", ({ versions }) => {
      for (const version of versions) runningStatus.set(version.versionId, version.runningStatus);
    });
    await cdp.send("ServiceWorker.enable");
    await cdp.send("ServiceWorker.stopAllWorkers");
    const isStopped = () =>
      runningStatus.size > 0 && [...runningStatus.values()].every((s) => s === "stopped");
    await expect.poll(isStopped).toBe(true);

    const outcome = await page.evaluate(async () => {
      const isOnline = await fetch("/v1/").then(
        () => true,
        () => false,
      );
      const registration = await navigator.serviceWorker.ready;
      const channel = new MessageChannel();
      const reply = new Promise<string>((resolve) => {
        channel.port1.onmessage = (event) => resolve(event.data);
      });
      registration.active?.postMessage(JSON.stringify({ type: "ping" }), [channel.port2]);
      return { isOnline, answer: JSON.parse(await reply) };
    });

    expect(outcome.isOnline).toBe(false);
    expect(outcome.answer.type).toBe("pong");
    await context.setOffline(false);
  });
});
