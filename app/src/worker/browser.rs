//! Registers the service worker and proves the page ↔ worker channel: the
//! page sends a `Ping` with one end of a `MessageChannel` to the active worker
//! and the worker answers on it.

use futures_channel::oneshot;
use gloo_events::EventListener;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sw::message::{PageMessage, WorkerMessage, encode};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Event, EventTarget, MessageChannel, MessageEvent, RegistrationOptions, ServiceWorker,
    ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerUpdateViaCache,
};

use super::WorkerStatus;

/// Path and scope of the worker script the server serves.
const WORKER_SCRIPT: &str = "/sw.js";
const WORKER_SCOPE: &str = "/";

/// Registers the worker, waits until it is active, then pings it.
/// Progress goes to `status`.
pub(super) fn connect(status: WriteSignal<WorkerStatus>) {
    spawn_local(async move {
        let Some(container) = worker_container() else {
            status.set(WorkerStatus::Unsupported);
            return;
        };
        status.set(WorkerStatus::Registering);
        match register_and_ping(&container, status).await {
            Ok(version) => status.set(WorkerStatus::Connected { version }),
            Err(error) => status.set(WorkerStatus::Failed(describe(&error))),
        }
    });
}

/// The page's `navigator.serviceWorker`, absent in insecure contexts.
fn worker_container() -> Option<ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    let has_workers = js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker"));
    has_workers
        .unwrap_or(false)
        .then(|| navigator.service_worker())
}

async fn register_and_ping(
    container: &ServiceWorkerContainer,
    status: WriteSignal<WorkerStatus>,
) -> Result<String, JsValue> {
    let options = RegistrationOptions::new();
    options.set_scope(WORKER_SCOPE);
    options.set_type("module");
    // Check the worker's imported scripts on every update too, not only sw.js.
    options.set_update_via_cache(ServiceWorkerUpdateViaCache::None);
    JsFuture::from(container.register_with_options(WORKER_SCRIPT, &options)).await?;

    let worker = active_worker(container).await?;
    status.set(WorkerStatus::Active);

    ping(&worker).await
}

/// The registration's active worker, once there is one. This does not wait
/// for the worker to control the page: after a hard reload it never does.
async fn active_worker(container: &ServiceWorkerContainer) -> Result<ServiceWorker, JsValue> {
    let registration: ServiceWorkerRegistration =
        JsFuture::from(container.ready()?).await?.unchecked_into();
    registration
        .active()
        .ok_or_else(|| JsValue::from_str("the registration has no active worker"))
}

/// Sends `Ping` with a fresh port and waits for the worker's `Pong`.
async fn ping(worker: &ServiceWorker) -> Result<String, JsValue> {
    let channel = MessageChannel::new()?;
    let port = channel.port1();
    let reply = next_event(&port, "message");
    port.start();

    let transfer = js_sys::Array::of1(&channel.port2());
    worker.post_message_with_transferable(
        &JsValue::from_str(&encode(&PageMessage::Ping)),
        &transfer,
    )?;

    let event: MessageEvent = reply.await?.unchecked_into();
    let text = event.data().as_string().unwrap_or_default();
    match WorkerMessage::parse(&text) {
        Some(WorkerMessage::Pong { version }) => Ok(version),
        Some(WorkerMessage::Change(_)) | None => Err(JsValue::from_str(
            "the worker answered something unexpected",
        )),
    }
}

/// Resolves with the next `event_type` event fired at `target`. The listener
/// is added at once, so an event fired before the first poll still counts.
fn next_event(
    target: &EventTarget,
    event_type: &'static str,
) -> impl Future<Output = Result<Event, JsValue>> {
    let (sender, receiver) = oneshot::channel();
    let listener = EventListener::once(target, event_type, move |event| {
        // Nobody may be waiting any more; that is fine.
        let _ = sender.send(event.clone());
    });
    async move {
        let event = receiver.await;
        drop(listener);
        event.map_err(|_| JsValue::from_str("the event listener went away"))
    }
}

/// A readable reason from a JavaScript exception or rejection.
fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
}
