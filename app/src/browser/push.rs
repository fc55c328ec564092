//! Notification permission and this browser's push subscription.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Notification, NotificationPermission, PushManager, PushSubscription,
    PushSubscriptionOptionsInit, ServiceWorkerRegistration,
};

/// Where this browser stands with notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permission {
    /// No service workers, push or notifications here (or the page is not
    /// a secure context).
    Unsupported,
    /// Not asked yet.
    Ask,
    Granted,
    Denied,
}

/// The notification permission, without asking.
pub(crate) fn permission() -> Permission {
    let Some(window) = web_sys::window() else {
        return Permission::Unsupported;
    };
    let has = |target: &JsValue, name: &str| {
        js_sys::Reflect::has(target, &JsValue::from_str(name)).unwrap_or(false)
    };
    let supported = has(&window, "Notification")
        && has(&window, "PushManager")
        && has(&window.navigator(), "serviceWorker");
    if !supported {
        return Permission::Unsupported;
    }
    match Notification::permission() {
        NotificationPermission::Granted => Permission::Granted,
        NotificationPermission::Denied => Permission::Denied,
        _ => Permission::Ask,
    }
}

/// Asks for the permission. Browsers only show the prompt when this runs
/// from a click or a key press.
pub(crate) async fn request_permission() -> Result<Permission, JsValue> {
    JsFuture::from(Notification::request_permission()?).await?;
    Ok(permission())
}

/// The service worker's registration, once it is active.
pub(crate) async fn registration() -> Result<ServiceWorkerRegistration, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let ready = window.navigator().service_worker().ready()?;
    Ok(JsFuture::from(ready).await?.unchecked_into())
}

fn push_manager(registration: &ServiceWorkerRegistration) -> Result<PushManager, JsValue> {
    registration.push_manager()
}

/// This browser's subscription, if it has one.
pub(crate) async fn current(
    registration: &ServiceWorkerRegistration,
) -> Result<Option<PushSubscription>, JsValue> {
    let found = JsFuture::from(push_manager(registration)?.get_subscription()?).await?;
    Ok(found.dyn_into::<PushSubscription>().ok())
}

/// Subscribes with the server's VAPID key (base64url).
pub(crate) async fn subscribe(
    registration: &ServiceWorkerRegistration,
    server_key: &str,
) -> Result<PushSubscription, JsValue> {
    let options = PushSubscriptionOptionsInit::new();
    options.set_user_visible_only(true);
    options.set_application_server_key(&JsValue::from_str(server_key));
    let promise = push_manager(registration)?.subscribe_with_options(&options)?;
    Ok(JsFuture::from(promise).await?.unchecked_into())
}

/// Ends a subscription in the browser; the push service forgets it.
pub(crate) async fn unsubscribe(subscription: &PushSubscription) -> Result<(), JsValue> {
    JsFuture::from(subscription.unsubscribe()?).await?;
    Ok(())
}

/// The VAPID key a subscription was made with, as base64url.
fn server_key_of(subscription: &PushSubscription) -> Option<String> {
    let key = subscription.options().application_server_key().ok()??;
    Some(BASE64URL.encode(js_sys::Uint8Array::new(&key).to_vec()))
}

/// Whether a subscription was made with `server_key`, whichever base64
/// alphabet and padding either side used.
pub(crate) fn uses_key(subscription: &PushSubscription, server_key: &str) -> bool {
    let wanted = server_key
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_");
    server_key_of(subscription).is_some_and(|key| key == wanted)
}

/// The subscription as the JSON text the server takes
/// (`PushSubscription.toJSON()`).
pub(crate) fn to_json_text(subscription: &PushSubscription) -> Result<String, JsValue> {
    js_sys::JSON::stringify(subscription)?
        .as_string()
        .ok_or_else(|| JsValue::from_str("the subscription has no JSON form"))
}
