//! The effects of renewing a push subscription: reading the session a page
//! left, subscribing again, and registering the subscription with the
//! server. The choices are made in [`crate::renewal`].

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Cache, ExtendableEvent, Headers, PushSubscription, PushSubscriptionOptionsInit, RequestInit,
    Response, ServiceWorkerGlobalScope,
};

use super::fields::JsObject;
use crate::renewal::{BrowserSubscription, HELLO_PATH, SUBSCRIPTIONS_PATH, read_vapid_key};
use crate::session::{SESSION_CACHE, SESSION_KEY_PATH, read_session};

/// The signed-in user's `Authorization` header value, when a page left one.
pub(super) async fn stored_session(
    scope: &ServiceWorkerGlobalScope,
) -> Result<Option<String>, JsValue> {
    let caches = scope.caches()?;
    // Opening a cache creates it: look first.
    if !JsFuture::from(caches.has(SESSION_CACHE)).await?.is_truthy() {
        return Ok(None);
    }
    let cache: Cache = JsFuture::from(caches.open(SESSION_CACHE))
        .await?
        .unchecked_into();

    // A path resolves against the worker's URL, so it names the entry the
    // page stored under `<origin>/__session__`.
    let stored = JsFuture::from(cache.match_with_str(SESSION_KEY_PATH)).await?;
    let Ok(response) = stored.dyn_into::<Response>() else {
        return Ok(None);
    };
    let text = JsFuture::from(response.text()?).await?;
    let text = text.as_string().unwrap_or_default();
    Ok(JsObject::parse(&text).and_then(|fields| read_session(&fields)))
}

/// The event's subscription named `name` (`oldSubscription` or
/// `newSubscription`), when it has one. Read as a property: the browser
/// offers no typed binding for the event.
pub(super) fn event_subscription(event: &ExtendableEvent, name: &str) -> Option<PushSubscription> {
    let value = Reflect::get(event, &JsValue::from_str(name)).ok()?;
    value.is_object().then(|| value.unchecked_into())
}

/// The application server key `subscription` was made with, when it says.
pub(super) fn key_of(subscription: &PushSubscription) -> Option<JsValue> {
    let key = subscription.options().application_server_key().ok()??;
    Some(key.into())
}

/// The server's VAPID public key, as bytes, from its hello.
///
/// # Errors
///
/// When the server cannot be reached or its hello has no key.
pub(super) async fn server_key(scope: &ServiceWorkerGlobalScope) -> Result<JsValue, JsValue> {
    let response: Response = JsFuture::from(scope.fetch_with_str(HELLO_PATH))
        .await?
        .unchecked_into();
    let hello = JsFuture::from(response.json()?).await?;
    let key = JsObject::new(hello)
        .and_then(|hello| read_vapid_key(&hello))
        .ok_or_else(|| JsValue::from_str("the server's hello has no VAPID public key"))?;
    Ok(Uint8Array::from(key.as_slice()).into())
}

/// Subscribes this registration again, with `key` as the application
/// server key and every push shown to the user.
///
/// # Errors
///
/// When the browser refuses the subscription.
pub(super) async fn subscribe(
    scope: &ServiceWorkerGlobalScope,
    key: &JsValue,
) -> Result<PushSubscription, JsValue> {
    let options = PushSubscriptionOptionsInit::new();
    options.set_user_visible_only(true);
    options.set_application_server_key(key);
    let manager = scope.registration().push_manager()?;
    let subscribed = JsFuture::from(manager.subscribe_with_options(&options)?).await?;
    Ok(subscribed.unchecked_into())
}

/// Registers `subscription` with the server for the user whose
/// `authorization` this is, in place of the subscription at `replaces`.
///
/// # Errors
///
/// When the subscription does not describe itself, the server cannot be
/// reached, or it refuses the registration.
pub(super) async fn register(
    scope: &ServiceWorkerGlobalScope,
    authorization: &str,
    subscription: &PushSubscription,
    replaces: Option<&str>,
) -> Result<(), JsValue> {
    let described = JsObject::new(subscription.to_json()?.into())
        .and_then(|fields| BrowserSubscription::read(&fields))
        .ok_or_else(|| JsValue::from_str("the new subscription has no endpoint or keys"))?;

    let headers = Headers::new()?;
    headers.set("Authorization", authorization)?;
    headers.set("Content-Type", "application/json")?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&described.registration_body(replaces)));
    let response: Response =
        JsFuture::from(scope.fetch_with_str_and_init(SUBSCRIPTIONS_PATH, &init))
            .await?
            .unchecked_into();

    if !response.ok() {
        return Err(JsValue::from_str(
            "the server refused the renewed subscription",
        ));
    }
    Ok(())
}
