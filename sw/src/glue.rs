//! wasm entry points called by `sw/shim.js`, one per worker event. Each
//! decodes the event, calls the plain logic and performs its effects.

use wasm_bindgen::prelude::*;
use web_sys::{ExtendableMessageEvent, MessagePort};

use crate::message::{PageMessage, encode, reply_to};

/// `message`: answers a page over the `MessagePort` it sent along.
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
    let Some(message) = PageMessage::parse(&text) else {
        return Ok(());
    };
    let Some(reply) = reply_to(&message) else {
        return Ok(());
    };

    let ports = event.ports();
    let Some(port) = ports.get(0).dyn_into::<MessagePort>().ok() else {
        return Ok(());
    };
    port.post_message(&JsValue::from_str(&encode(&reply)))
}
