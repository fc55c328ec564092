// The service worker's entry point, served at /sw.js as a module worker.
//
// Every listener is added during the first evaluation of this script: one
// added later, after an await, misses the event that woke the worker. Each
// handler then waits for the wasm inside `waitUntil`.
//
// The build fills in the placeholders: the wasm file name carries a hash of
// its content, so a new build changes this script and the browser installs
// the new worker.
import init, {
  on_message,
  on_notification_click,
  on_push,
  on_push_subscription_change,
} from "./pkg/worker.js";

const WASM_URL = new URL("./pkg/__WORKER_WASM__", import.meta.url).href;
const CACHE_PREFIX = "kinto-push-worker-";
const CACHE_NAME = `${CACHE_PREFIX}__WORKER_HASH__`;

// The wasm, started once on first use. Cache first: a worker woken by a push
// must start even when the origin is unreachable. A failed start is
// forgotten, so the next event tries again.
let started = null;
function wasmReady() {
  started ??= caches
    .open(CACHE_NAME)
    .then((cache) => cache.match(WASM_URL))
    .then((cached) => init({ module_or_path: cached ?? fetch(WASM_URL) }))
    .catch((error) => {
      started = null;
      throw error;
    });
  return started;
}

// Keeps the worker alive until `work` settles. An event a script made and
// dispatched itself refuses `waitUntil` with an InvalidStateError; its work
// runs all the same.
function keepAlive(event, work) {
  try {
    event.waitUntil(work);
  } catch (error) {
    if (error.name !== "InvalidStateError") {
      throw error;
    }
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE_NAME)
      .then((cache) => cache.add(WASM_URL))
      .then(wasmReady)
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  const dropOldCaches = caches
    .keys()
    .then((names) =>
      Promise.all(
        names
          .filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE_NAME)
          .map((name) => caches.delete(name)),
      ),
    );
  event.waitUntil(dropOldCaches.then(() => self.clients.claim()));
});

self.addEventListener("message", (event) => {
  keepAlive(event, wasmReady().then(() => on_message(event)));
});

// A push must end in a notification even when the wasm cannot start: Chrome
// requires one for every push, and the reader still learns that something
// changed. The fallback is the worker's own generic notification.
self.addEventListener("push", (event) => {
  keepAlive(
    event,
    wasmReady().then(
      () => on_push(event),
      () =>
        self.registration.showNotification("kinto-push", {
          tag: "kinto-push",
          body: "Something changed. Open the app to see it.",
        }),
    ),
  );
});

self.addEventListener("notificationclick", (event) => {
  keepAlive(event, wasmReady().then(() => on_notification_click(event)));
});

// The browser renewed the push subscription: register the new one for the
// signed-in user, so pushes keep reaching this device.
self.addEventListener("pushsubscriptionchange", (event) => {
  keepAlive(event, wasmReady().then(() => on_push_subscription_change(event)));
});
