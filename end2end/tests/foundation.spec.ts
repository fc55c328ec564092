import { expect, test } from "@playwright/test";

test.describe("the start page", () => {
  test("arrives server-rendered, with content before any script runs", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();

    await page.goto("/");

    await expect(page).toHaveTitle("kinto-push");
    await expect(page.getByRole("heading", { level: 1, name: "kinto-push" })).toBeVisible();
    const button = page.getByRole("button", { name: "Clicked 0 times" });
    await expect(button).toBeDisabled();
    await expect(button).toHaveAttribute("data-hydrated", "false");
    await expect(page.getByRole("status")).toHaveAttribute("data-state", "waiting");
    await context.close();
  });

  test("works once hydrated", async ({ page }) => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));

    await page.goto("/");
    const button = page.getByRole("button", { name: /^Clicked/ });
    await expect(button).toHaveAttribute("data-hydrated", "true");
    await button.click();
    await button.click();

    await expect(button).toHaveText("Clicked 2 times");
    expect(errors).toEqual([]);
  });

  test("answers unknown paths with a 404 page", async ({ page }) => {
    const response = await page.goto("/no/such/page");

    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  });
});

test.describe("the service worker", () => {
  test("registers, controls the page and answers over a MessageChannel", async ({ page }) => {
    await page.goto("/");

    // The app's own handshake, shown in the status line.
    await expect(page.getByRole("status")).toHaveAttribute("data-state", "connected");
    await expect(page.getByRole("status")).toContainText("active and connected");

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
    await expect(page.getByRole("status")).toHaveAttribute("data-state", "connected");
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
    await cdp.send("ServiceWorker.enable");
    await cdp.send("ServiceWorker.stopAllWorkers");

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

test.describe("the API", () => {
  test("says hello at /v1/", async ({ request, baseURL }) => {
    const response = await request.get("/v1/");

    expect(response.status()).toBe(200);
    const hello = await response.json();
    expect(hello.project_name).toBe("kinto-push");
    expect(hello.http_api_version).toBe("1.23");
    expect(hello.url).toBe(`${baseURL}/v1/`);
    expect(typeof hello.project_version).toBe("string");
  });

  test("answers unknown API paths with a Kinto JSON error", async ({ request }) => {
    const response = await request.get("/v1/no-such-thing");

    expect(response.status()).toBe(404);
    expect((await response.json()).errno).toBe(111);
  });
});

test("is installable: the manifest and its icons are served", async ({ request }) => {
  const manifest = await (await request.get("/manifest.webmanifest")).json();

  expect(manifest.display).toBe("standalone");
  for (const icon of manifest.icons) {
    expect((await request.get(icon.src)).status()).toBe(200);
  }
});
