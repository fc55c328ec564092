//! Registers the service worker, proves the page ↔ worker channel (the
//! page sends a `Ping` with one end of a `MessageChannel` and the worker
//! answers on it) and listens for the changes the worker relays.
//!
//! Changes arrive two ways: as `message` events on
//! `navigator.serviceWorker`, which survive the worker stopping, and on a
//! port the page hands over with `Listen` at load and at every
//! `controllerchange`. The same change heard both ways counts once.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_events::EventListener;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sw::message::{PageMessage, WorkerMessage, encode};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MessageChannel, MessageEvent, MessagePort, RegistrationOptions, ServiceWorker,
    ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerUpdateViaCache,
};

use super::WorkerStatus;
use crate::browser::{describe, next_event};
use crate::live::{LiveChanges, Relayed};

/// Path and scope of the worker script the server serves.
const WORKER_SCRIPT: &str = "/sw.js";
const WORKER_SCOPE: &str = "/";

/// Registers the worker, waits until it is active, then pings it.
/// Progress goes to `status`, relayed changes to `live`.
pub(super) fn connect(status: WriteSignal<WorkerStatus>, live: LiveChanges) {
    spawn_local(async move {
        let Some(container) = worker_container() else {
            status.set(WorkerStatus::Unsupported);
            return;
        };
        listen(&container, live);
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

/// Hears relayed changes for as long as the page lives.
fn listen(container: &ServiceWorkerContainer, live: LiveChanges) {
    let last_heard: Rc<RefCell<Option<String>>> = Rc::default();
    let hear = Rc::new(move |event: &MessageEvent| {
        let Some(text) = event.data().as_string() else {
            return;
        };
        let relayed = match WorkerMessage::parse(&text) {
            Some(WorkerMessage::Change(payload)) => Relayed::Change(Box::new(payload)),
            Some(WorkerMessage::SubscriptionChanged) => Relayed::SubscriptionChanged,
            _ => return,
        };
        if last_heard.replace(Some(text.clone())).as_deref() == Some(text.as_str()) {
            return;
        }
        live.publish(relayed);
    });

    let from_worker = Rc::clone(&hear);
    EventListener::new(container, "message", move |event| {
        from_worker(event.unchecked_ref());
    })
    .forget();

    // A port for this controller now, and a new one for every new
    // controller: ports die with the worker that held them.
    let hand_over = move |container: &ServiceWorkerContainer| {
        let Some(worker) = container.controller() else {
            return;
        };
        let on_port = Rc::clone(&hear);
        if let Err(error) = send_listening_port(&worker, move |event| on_port(event)) {
            leptos::logging::warn!("could not hand the worker a port: {}", describe(&error));
        }
    };
    hand_over(container);
    let watched = container.clone();
    EventListener::new(container, "controllerchange", move |_| hand_over(&watched)).forget();
}

/// Sends `Listen` with a port whose messages go to `on_message`.
fn send_listening_port(
    worker: &ServiceWorker,
    on_message: impl Fn(&MessageEvent) + 'static,
) -> Result<(), JsValue> {
    let channel = MessageChannel::new()?;
    let port: MessagePort = channel.port1();
    EventListener::new(&port, "message", move |event| {
        on_message(event.unchecked_ref())
    })
    .forget();
    port.start();
    let transfer = js_sys::Array::of1(&channel.port2());
    worker.post_message_with_transferable(
        &JsValue::from_str(&encode(&PageMessage::Listen)),
        &transfer,
    )
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
        _ => Err(JsValue::from_str(
            "the worker answered something unexpected",
        )),
    }
}
