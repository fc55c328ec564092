// What the user journeys share: fresh users, the app's forms, a stand-in
// for the browser's push service, and the bridge that hands what the fake
// push service received to a browser's service worker.
//
// The loop each journey runs through is the real one: a page subscribes
// with `PushManager`, the server encrypts and signs a push for it and sends
// it to the fake push service on loopback, which decrypts it with the keys
// this test generated. The bridge then delivers the plaintext to the
// worker through the DevTools protocol, as a push service would over its
// own connection.

import { createECDH, randomBytes, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";

import {
  expect,
  type APIRequestContext,
  type Browser,
  type BrowserContext,
  type CDPSession,
  type Page,
} from "@playwright/test";

export const fakePushURL = process.env.FAKE_PUSH_URL ?? "";

export type User = { name: string; password: string; authorization: string };

/** A user nobody else uses: Basic auth makes one from any pair. */
export function freshUser(role: string): User {
  const name = `${role}-${randomUUID().slice(0, 8)}`;
  const password = `pw-${randomUUID()}`;
  const authorization = `Basic ${Buffer.from(`${name}:${password}`).toString("base64")}`;
  return { name, password, authorization };
}

/** Signs in through the form and waits for the board. */
export async function signIn(page: Page, user: User): Promise<void> {
  await page.goto("/");
  await expect(page.getByTestId("worker-status")).toHaveAttribute("data-state", "connected");
  await page.getByLabel("User name").fill(user.name);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("user-id")).toBeVisible();
}

/** The signed-in user's id, as their board shows it. */
export async function userIdOn(page: Page): Promise<string> {
  return (await page.getByTestId("user-id").textContent()) ?? "";
}

/** Creates a collection from the board and opens its page. */
export async function createCollection(page: Page, title: string): Promise<string> {
  await page.getByLabel("New collection").fill(title);
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByRole("link", { name: title }).click();
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(page.getByTestId("worker-status")).toHaveAttribute("data-state", "connected");
  return page.url();
}

/** Adds a note on a collection's page and waits for it in the list. */
export async function addNote(page: Page, title: string, text = ""): Promise<void> {
  await page.getByLabel("Title", { exact: true }).first().fill(title);
  await page.getByLabel("Text", { exact: true }).first().fill(text);
  await page.getByRole("button", { name: "Add note" }).click();
  await expect(noteTitled(page, title)).toBeVisible();
}

/** A note's entry in the list. */
export function noteTitled(page: Page, title: string) {
  return page.getByRole("list", { name: "Notes" }).getByRole("heading", { name: title });
}

/** The collection path the server uses for a page of the app. */
export function channelOf(pageURL: string): string {
  const [, , bucket, collection] = new URL(pageURL).pathname.split("/");
  return `/buckets/${bucket}/collections/${collection}`;
}

/** Keys of a browser's push subscription, made here and known to the fake. */
export type BrowserKeys = { token: string; endpoint: string; p256dh: string; auth: string };

/** Makes a key pair and secret, and registers them at the fake push service. */
export async function browserKeys(request: APIRequestContext): Promise<BrowserKeys> {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const p256dh = ecdh.getPublicKey().toString("base64url");
  const auth = randomBytes(16).toString("base64url");
  const registered = await request.post(`${fakePushURL}/control/subscriptions`, {
    data: { p256dh, private_key: ecdh.getPrivateKey().toString("base64url"), auth },
  });
  expect(registered.status()).toBe(201);
  const { token, endpoint } = (await registered.json()) as { token: string; endpoint: string };
  return { token, endpoint, p256dh, auth };
}

/**
 * A browser context whose `PushManager` subscribes with `keys`: a real
 * browser's push service cannot be reached from here. The double checks
 * what Chrome checks (permission, `userVisibleOnly`, a 65-byte key) and
 * keeps the subscription across loads in `localStorage`, as a browser
 * keeps its own.
 */
export async function pushContext(
  browser: Browser,
  baseURL: string,
  keys: BrowserKeys,
): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL });
  await context.grantPermissions(["notifications"], { origin: new URL(baseURL).origin });
  await context.addInitScript((keys) => {
    const STORE = "test-push-subscription";
    const fromBase64url = (text: string) =>
      Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    const toBase64url = (bytes: Uint8Array) =>
      btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const keyBytes = (key: unknown): Uint8Array => {
      if (typeof key === "string") return fromBase64url(key);
      if (ArrayBuffer.isView(key)) return new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
      return new Uint8Array(key as ArrayBuffer);
    };
    const subscription = (serverKey: string) => {
      const json = {
        endpoint: keys.endpoint,
        expirationTime: null,
        keys: { p256dh: keys.p256dh, auth: keys.auth },
      };
      return Object.defineProperties(Object.create(PushSubscription.prototype), {
        endpoint: { value: keys.endpoint },
        expirationTime: { value: null },
        options: {
          value: { userVisibleOnly: true, applicationServerKey: fromBase64url(serverKey).buffer },
        },
        getKey: {
          value: (name: "p256dh" | "auth") => fromBase64url(json.keys[name]).buffer,
        },
        toJSON: { value: () => json },
        unsubscribe: {
          value: async () => {
            localStorage.removeItem(STORE);
            return true;
          },
        },
      });
    };
    const proto = PushManager.prototype as unknown as Record<string, unknown>;
    proto.subscribe = async function (options: {
      userVisibleOnly?: boolean;
      applicationServerKey?: unknown;
    }) {
      if (Notification.permission !== "granted") {
        throw new DOMException("Registration failed - permission denied", "NotAllowedError");
      }
      const key = keyBytes(options?.applicationServerKey);
      if (!options?.userVisibleOnly || key.length !== 65) {
        throw new DOMException("Registration failed - bad options", "InvalidAccessError");
      }
      const serverKey = toBase64url(key);
      localStorage.setItem(STORE, serverKey);
      return subscription(serverKey);
    };
    proto.getSubscription = async function () {
      const serverKey = localStorage.getItem(STORE);
      return serverKey === null ? null : subscription(serverKey);
    };
    proto.permissionState = async function () {
      return Notification.permission === "default" ? "prompt" : Notification.permission;
    };
  }, keys);
  return context;
}

/** Turns notifications on from the panel and waits until the server has them. */
export async function enableNotifications(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Enable notifications" }).click();
  await expect(page.locator("[data-push-state]")).toHaveAttribute("data-push-state", "on");
}

/** The worker's registration id for the page's origin, as DevTools names it. */
export async function registrationIdOf(cdp: CDPSession, origin: string): Promise<string> {
  const registrations = new Map<string, { scopeURL: string; isDeleted: boolean }>();
  cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations: updated }) => {
    for (const registration of updated) registrations.set(registration.registrationId, registration);
  });
  await cdp.send("ServiceWorker.enable");
  const find = () =>
    [...registrations.entries()].find(([, r]) => r.scopeURL === `${origin}/` && !r.isDeleted)?.[0];
  await expect.poll(find).toBeDefined();
  return find() ?? "";
}

/**
 * The pushes the fake push service accepted for `keys`, oldest first. With
 * `after`, waits (up to a few seconds) until there are more than that.
 */
export async function received(
  request: APIRequestContext,
  keys: BrowserKeys,
  after?: number,
): Promise<unknown[]> {
  const wait = after === undefined ? "" : `?after=${after}&wait_ms=2000`;
  const response = await request.get(
    `${fakePushURL}/control/subscriptions/${keys.token}/messages${wait}`,
  );
  expect(response.status()).toBe(200);
  const messages = (await response.json()) as { payload: unknown }[];
  return messages.map((message) => message.payload);
}

/**
 * Hands every push the fake accepts for `keys` to the page's worker, in
 * order, until stopped. Returns how to stop it and what it delivered.
 */
export async function bridgePushes(
  page: Page,
  request: APIRequestContext,
  keys: BrowserKeys,
): Promise<{ delivered: unknown[]; heardAt: number[]; stop: () => Promise<void> }> {
  const origin = new URL(page.url()).origin;
  const cdp = await page.context().newCDPSession(page);
  const registrationId = await registrationIdOf(cdp, origin);
  const delivered: unknown[] = [];
  // When each push was heard from the fake, in epoch milliseconds.
  const heardAt: number[] = [];
  let running = true;
  const loop = (async () => {
    // Bounded: a journey never runs longer than its test timeout.
    const until = Date.now() + 60_000;
    while (running && Date.now() < until) {
      // Answers as soon as a push arrives, like a push service's connection.
      const payloads = await received(request, keys, delivered.length);
      const at = performance.timeOrigin + performance.now();
      for (const payload of payloads.slice(delivered.length)) {
        delivered.push(payload);
        heardAt.push(at);
        await cdp.send("ServiceWorker.deliverPushMessage", {
          origin,
          registrationId,
          data: JSON.stringify(payload),
        });
      }
    }
  })();
  return {
    delivered,
    heardAt,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** The notifications the worker shows, read from the page. */
export function shownNotifications(
  page: Page,
): Promise<{ title: string; body: string; tag: string }[]> {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications()).map(({ title, body, tag }) => ({
      title,
      body,
      tag,
    }));
  });
}

/** The user's subscriptions as the server keeps them. */
export async function serverSubscriptions(
  request: APIRequestContext,
  user: User,
): Promise<{ id: string; endpoint: string; channels: string[] }[]> {
  const response = await request.get("/v1/push/subscriptions", {
    headers: { Authorization: user.authorization },
  });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { data: { id: string; endpoint: string; channels: string[] }[] })
    .data;
}

/**
 * A shared collection, seen from both sides: A owns it and shares it with
 * B, whose browser has push turned on and follows it. Each page is left on
 * the collection.
 */
export async function sharedCollection(browser: Browser, baseURL: string, request: APIRequestContext) {
  const alice = freshUser("alice");
  const bob = freshUser("bob");
  const keys = await browserKeys(request);

  const aliceContext = await browser.newContext({ baseURL });
  const alicePage = await aliceContext.newPage();
  const bobContext = await pushContext(browser, baseURL, keys);
  const bobPage = await bobContext.newPage();

  await signIn(bobPage, bob);
  const bobId = await userIdOn(bobPage);
  await enableNotifications(bobPage);

  await signIn(alicePage, alice);
  const title = `Trip ${randomUUID().slice(0, 6)}`;
  const collectionURL = await createCollection(alicePage, title);
  await alicePage.getByLabel("Share with (user id)").fill(bobId);
  await alicePage.getByLabel("Access").selectOption("write");
  await alicePage.getByRole("button", { name: "Share", exact: true }).click();
  await expect(alicePage.getByRole("list").getByText(bobId)).toBeVisible();

  await bobPage.goto(collectionURL);
  await expect(bobPage.getByTestId("worker-status")).toHaveAttribute("data-state", "connected");
  await expect(bobPage.locator("[data-push-state]")).toHaveAttribute("data-push-state", "on");
  await bobPage.getByLabel(`Follow ${title}`).check();
  const channel = channelOf(collectionURL);
  await expect
    .poll(async () => (await serverSubscriptions(request, bob))[0]?.channels)
    .toEqual([channel]);

  return { alice, bob, keys, alicePage, bobPage, aliceContext, bobContext, title, collectionURL, channel };
}

/**
 * Proves that nothing more is on its way to `keys`: `user` follows a
 * collection of their own from now on, and `drain` writes to it and waits
 * for that push. The server queues pushes in commit order, so by the time the
 * sentinel's arrives, every push of an earlier write has arrived too.
 * Returns the channels of every push received, sentinel included.
 */
export async function sentinel(request: APIRequestContext, user: User, keys: BrowserKeys) {
  const headers = { Authorization: user.authorization };
  const hello = (await (await request.get("/v1/", { headers })).json()) as {
    user: { bucket: string };
  };
  const channel = `/buckets/${hello.user.bucket}/collections/sentinel`;
  const created = await request.put(`/v1/buckets/default/collections/sentinel`, {
    headers,
    data: { data: {} },
  });
  expect(created.ok()).toBe(true);
  const [subscription] = await serverSubscriptions(request, user);
  const followed = await request.patch(`/v1/push/subscriptions/${subscription.id}`, {
    headers,
    data: { data: { channels: [...subscription.channels, channel] } },
  });
  expect(followed.status()).toBe(200);

  const drain = async (): Promise<string[]> => {
    const before = (await received(request, keys)).length;
    const written = await request.post(`/v1${channel}/records`, { headers, data: { data: {} } });
    expect(written.status()).toBe(201);
    const channels = async () =>
      ((await received(request, keys, before)) as { channel: string }[]).map((m) => m.channel);
    await expect.poll(async () => (await channels()).at(-1)).toBe(channel);
    return channels();
  };
  return { channel, drain };
}
