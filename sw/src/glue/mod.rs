//! wasm entry points called by `sw/shim.js`, one per worker event. Each
//! decodes the event, calls the plain logic and performs its effects.
//!
//! JSON is read with the browser's `JSON.parse` (`fields`) and written by
//! [`crate::json`], so the wasm carries no JSON library.

use std::cell::RefCell;

use js_sys::{Array, JSON, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ClientQueryOptions, ClientType, Clients, ExtendableEvent, ExtendableMessageEvent, MessagePort,
    NotificationEvent, NotificationOptions, PushEvent, ServiceWorkerGlobalScope, VisibilityState,
    WindowClient,
};

use self::fields::JsObject;
use crate::click::{OpenWindow, WindowChoice, choose_window};
use crate::message::{PageMessage, WorkerMessage, reply_to};
use crate::notification::{Notice, NoticeData, build_notice, resolve_url};
use crate::payload::PushPayload;
use crate::renewal::{Renewal, plan_renewal};

mod fields;
mod renewal;

/// Most ports kept from `Listen` messages; a newer one pushes out the oldest.
const MAX_LISTENING_PORTS: usize = 16;

thread_local! {
    /// Ports pages handed over with `Listen`, oldest first.
    // Limitation: a port whose page has gone stays here until the worker
    // stops or newer ports push it out; posting to it is a harmless no-op.
    static LISTENING_PORTS: RefCell<Vec<MessagePort>> = const { RefCell::new(Vec::new()) };
}

/// `message`: answers a page's `Ping`, or keeps the port of its `Listen`,
/// over the `MessagePort` it sent along.
///
/// # Errors
///
/// Rejects when posting the reply fails; the shim hands the promise to
/// `waitUntil`, so the browser records the failure.
#[wasm_bindgen]
pub fn on_message(event: ExtendableMessageEvent) -> Result<(), JsValue> {
    let Some(text) = event.data().as_string() else {
        return Ok(());
    };
    let Some(message) = JsObject::parse(&text).and_then(|fields| PageMessage::read(&fields)) else {
        return Ok(());
    };
    let ports = event.ports();
    let Some(port) = ports.get(0).dyn_into::<MessagePort>().ok() else {
        return Ok(());
    };

    if message == PageMessage::Listen {
        keep_port(port);
        return Ok(());
    }
    let Some(reply) = reply_to(&message) else {
        return Ok(());
    };
    port.post_message(&JsValue::from_str(&reply.to_json()))
}

/// `push`: shows the notification for the message and relays its payload
/// to every open window and every listening port.
///
/// # Errors
///
/// Rejects when showing the notification or relaying failed, after both
/// were tried; the notification's error wins when both failed.
#[wasm_bindgen]
pub async fn on_push(event: PushEvent) -> Result<(), JsValue> {
    let payload = event
        .data()
        .and_then(|data| JsObject::parse(&data.text()))
        .map(|fields| PushPayload::read(&fields))
        .unwrap_or_default();
    let scope = worker_scope();
    let notice = build_notice(&payload, &scope.location().origin());

    // Both start here and neither waits on the other's success: a page
    // hears of the change even when the notification is refused.
    let shown = show_notice(&scope, &notice);
    let relayed = relay(&scope.clients(), &WorkerMessage::Change(payload)).await;
    let shown = match shown {
        Ok(promise) => JsFuture::from(promise).await.map(drop),
        Err(error) => Err(error),
    };

    shown.and(relayed)
}

/// `notificationclick`: closes the notification and brings forward a window
/// on its URL, reusing an open one when it can.
///
/// # Errors
///
/// Rejects when listing, focusing, navigating or opening a window fails.
#[wasm_bindgen]
pub async fn on_notification_click(event: NotificationEvent) -> Result<(), JsValue> {
    let notification = event.notification();
    notification.close();
    let scope = worker_scope();
    let origin = scope.location().origin();
    let target = JsObject::new(notification.data())
        .and_then(|data| NoticeData::read(&data))
        .and_then(|data| resolve_url(&data.url, &origin))
        .unwrap_or_else(|| format!("{origin}/"));

    let clients = scope.clients();
    let windows = list_windows(&clients, true).await?;
    let controlled: Vec<String> = list_windows(&clients, false)
        .await?
        .iter()
        .map(|window| window.id())
        .collect();
    let urls: Vec<String> = windows.iter().map(|window| window.url()).collect();
    let states: Vec<OpenWindow<'_>> = windows
        .iter()
        .zip(&urls)
        .map(|(window, url)| OpenWindow {
            url,
            is_focused: window.focused(),
            is_visible: window.visibility_state() == VisibilityState::Visible,
            is_controlled: controlled.contains(&window.id()),
        })
        .collect();

    match choose_window(&states, &target) {
        WindowChoice::Focus(index) => focus(window_at(&windows, index)?).await,
        WindowChoice::FocusAndNavigate(index) => {
            let window = window_at(&windows, index)?;
            let focused = focus(window).await;
            let navigated = JsFuture::from(window.navigate(&target)?).await;
            focused.and(navigated.map(drop))
        }
        WindowChoice::Open => JsFuture::from(clients.open_window(&target)).await.map(drop),
    }
}

/// `pushsubscriptionchange`: registers the subscription that replaces the
/// old one with the server, for the user signed in on this device, then
/// tells every open window. Does nothing when no user is signed in.
///
/// # Errors
///
/// Rejects when subscribing again, reading the server's key or registering
/// the new subscription fails.
///
/// # Limitations
///
/// A subscription renewed while nobody is signed in on this device is not
/// registered: pushes stop reaching the device until a page subscribes it
/// again.
#[wasm_bindgen]
pub async fn on_push_subscription_change(event: ExtendableEvent) -> Result<(), JsValue> {
    let scope = worker_scope();
    let Some(authorization) = renewal::stored_session(&scope).await? else {
        return Ok(());
    };
    let old = renewal::event_subscription(&event, "oldSubscription");
    let new = renewal::event_subscription(&event, "newSubscription");

    let old_key = old.as_ref().and_then(renewal::key_of);
    let subscription = match plan_renewal(new, old_key) {
        Renewal::Register(subscription) => subscription,
        Renewal::SubscribeWith(key) => renewal::subscribe(&scope, &key).await?,
        Renewal::SubscribeWithServerKey => {
            let key = renewal::server_key(&scope).await?;
            renewal::subscribe(&scope, &key).await?
        }
    };

    let replaces = old.map(|old| old.endpoint());
    renewal::register(&scope, &authorization, &subscription, replaces.as_deref()).await?;

    let text = JsValue::from_str(&WorkerMessage::SubscriptionChanged.to_json());
    post_to_windows(&scope.clients(), &text).await
}

fn worker_scope() -> ServiceWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn keep_port(port: MessagePort) {
    LISTENING_PORTS.with_borrow_mut(|ports| {
        if ports.len() >= MAX_LISTENING_PORTS {
            ports.remove(0);
        }
        ports.push(port);
    });
}

/// Starts showing `notice`; the promise settles once it is shown.
fn show_notice(scope: &ServiceWorkerGlobalScope, notice: &Notice) -> Result<Promise, JsValue> {
    let options = NotificationOptions::new();
    options.set_body(&notice.body);
    options.set_tag(&notice.tag);
    // A newer change to the same channel alerts again, not only replaces.
    options.set_renotify(true);
    options.set_icon(&notice.icon);
    options.set_data(&JSON::parse(&notice.data.encode())?);
    scope
        .registration()
        .show_notification_with_options(&notice.title, &options)
}

/// Posts `message` on every listening port and to every open window of the
/// origin, controlled or not. Tries them all; returns the first error.
async fn relay(clients: &Clients, message: &WorkerMessage) -> Result<(), JsValue> {
    let text = JsValue::from_str(&message.to_json());

    let on_ports = LISTENING_PORTS.with_borrow(|ports| {
        ports
            .iter()
            .map(|port| port.post_message(&text))
            .fold(Ok(()), Result::and)
    });

    let to_windows = post_to_windows(clients, &text).await;
    on_ports.and(to_windows)
}

/// Posts `text` to every open window of the origin, controlled or not.
/// Tries them all; returns the first error.
async fn post_to_windows(clients: &Clients, text: &JsValue) -> Result<(), JsValue> {
    list_windows(clients, true)
        .await?
        .iter()
        .map(|window| window.post_message(text))
        .fold(Ok(()), Result::and)
}

/// The open windows of the origin, most recently focused first.
async fn list_windows(
    clients: &Clients,
    include_uncontrolled: bool,
) -> Result<Vec<WindowClient>, JsValue> {
    let options = ClientQueryOptions::new();
    options.set_type(ClientType::Window);
    options.set_include_uncontrolled(include_uncontrolled);
    let list: Array = JsFuture::from(clients.match_all_with_options(&options))
        .await?
        .unchecked_into();
    Ok(list.iter().map(JsCast::unchecked_into).collect())
}

fn window_at(windows: &[WindowClient], index: usize) -> Result<&WindowClient, JsValue> {
    windows
        .get(index)
        .ok_or_else(|| JsValue::from_str("the chosen window is not in the list"))
}

async fn focus(window: &WindowClient) -> Result<(), JsValue> {
    JsFuture::from(window.focus()?).await.map(drop)
}
