import { expect, test, type CDPSession, type Page } from "@playwright/test";

// A push is delivered straight to the worker through the DevTools protocol:
// no push service and no subscription are involved, only what the worker
// does with the message.

type Registration = { registrationId: string; scopeURL: string; isDeleted: boolean };
type Shown = { title: string; body: string; tag: string; data: unknown };

const GENERIC_TITLE = "kinto-push";
const GENERIC_BODY = "Something changed. Open the app to see it.";

/** The worker's registration id for the page's origin, as DevTools names it. */
async function registrationIdOf(cdp: CDPSession, scopeURL: string): Promise<string> {
  const registrations = new Map<string, Registration>();
  cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations: updated }) => {
    for (const registration of updated) {
      registrations.set(registration.registrationId, registration);
    }
  });
  await cdp.send("ServiceWorker.enable");

  const find = () =>
    [...registrations.values()].find((r) => r.scopeURL === scopeURL && !r.isDeleted)
      ?.registrationId;
  await expect.poll(find).toBeDefined();
  return find() ?? "";
}

/** The notifications the worker's registration is showing. */
function shownNotifications(page: Page): Promise<Shown[]> {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    const notifications = await registration.getNotifications();
    return notifications.map(({ title, body, tag, data }) => ({ title, body, tag, data }));
  });
}

test("a push shows a notification per channel and reaches the open page", async ({
  page,
  context,
  baseURL,
}) => {
  const origin = new URL(baseURL ?? "").origin;
  await context.grantPermissions(["notifications"], { origin });

  // What the page hears, through `navigator.serviceWorker` and a port.
  const relayed: unknown[] = [];
  const onPort: unknown[] = [];
  await page.exposeFunction("relayed", (text: string) => relayed.push(JSON.parse(text)));
  await page.exposeFunction("onPort", (text: string) => onPort.push(JSON.parse(text)));
  await page.goto("/");
  await expect(page.getByTestId("worker-status")).toHaveAttribute("data-state", "connected");
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.evaluate(async () => {
    const exposed = window as unknown as Record<string, (text: string) => void>;
    navigator.serviceWorker.addEventListener("message", (event) => exposed.relayed(event.data));

    const listening = new MessageChannel();
    listening.port1.onmessage = (event) => exposed.onPort(event.data);
    (window as unknown as { listening: MessagePort }).listening = listening.port1;
    const worker = navigator.serviceWorker.controller;
    worker?.postMessage(JSON.stringify({ type: "listen" }), [listening.port2]);

    // The worker takes messages in order: once it answers this ping, it
    // holds the listening port.
    const ping = new MessageChannel();
    const pong = new Promise((resolve) => (ping.port1.onmessage = resolve));
    worker?.postMessage(JSON.stringify({ type: "ping" }), [ping.port2]);
    await pong;
  });

  const cdp = await context.newCDPSession(page);
  const registrationId = await registrationIdOf(cdp, `${origin}/`);
  const push = (data: string) =>
    cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data });

  const bucket = `push-${test.info().workerIndex}-${Date.now()}`;
  const channel = `/buckets/${bucket}/collections/tasks`;
  const change = {
    channel,
    bucket,
    collection: "tasks",
    action: "create",
    timestamp: 1796320953243,
    ids: ["r1"],
    count: 1,
    title: "tasks was updated",
    body: "1 change",
    url: channel,
  };
  await push(JSON.stringify(change));

  const collectionNotification = {
    title: "tasks was updated",
    body: "1 change",
    tag: channel,
    data: { url: `${origin}${channel}`, channel },
  };
  await expect.poll(() => shownNotifications(page)).toEqual([collectionNotification]);
  await expect.poll(() => relayed).toEqual([{ type: "change", ...change }]);
  await expect.poll(() => onPort).toEqual([{ type: "change", ...change }]);

  // A newer change to the same channel replaces the notification.
  const next = { ...change, action: "update", title: "tasks changed again", body: "2 changes" };
  await push(JSON.stringify(next));

  await expect
    .poll(() => shownNotifications(page))
    .toEqual([{ ...collectionNotification, title: "tasks changed again", body: "2 changes" }]);
  await expect.poll(() => relayed).toHaveLength(2);

  // Data that is not JSON still shows a notification, and pages still hear
  // that something changed.
  await push("this is not JSON");

  const genericNotification = {
    title: GENERIC_TITLE,
    body: GENERIC_BODY,
    tag: GENERIC_TITLE,
    data: { url: `${origin}/` },
  };
  await expect
    .poll(async () => (await shownNotifications(page)).find((n) => n.tag !== channel))
    .toEqual(genericNotification);
  expect(await shownNotifications(page)).toHaveLength(2);
  await expect.poll(() => relayed.at(-1)).toEqual({ type: "change" });
  await expect.poll(() => onPort.at(-1)).toEqual({ type: "change" });
});
