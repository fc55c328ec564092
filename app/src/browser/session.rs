//! The credentials kept for the service worker, which renews the push
//! subscription when the browser replaces it and no page is open. They live
//! in this origin's Cache Storage, which no other origin can read, and are
//! removed at sign-out.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sw::session::{SESSION_CACHE, SESSION_KEY_PATH, encode_session};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Response};

/// Keeps the Basic credentials of `name` and `password` for the worker.
pub(crate) async fn keep_for_worker(name: &str, password: &str) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let authorization = format!("Basic {}", BASE64.encode(format!("{name}:{password}")));
    let cache: Cache = JsFuture::from(window.caches()?.open(SESSION_CACHE))
        .await?
        .unchecked_into();
    let key = format!("{}{SESSION_KEY_PATH}", window.location().origin()?);
    let body = Response::new_with_opt_str(Some(&encode_session(&authorization)))?;
    JsFuture::from(cache.put_with_str(&key, &body)).await?;
    Ok(())
}

/// Removes what [`keep_for_worker`] kept.
pub(crate) async fn forget_for_worker() -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    JsFuture::from(window.caches()?.delete(SESSION_CACHE)).await?;
    Ok(())
}
