//! Browser APIs the pages use, wrapped for Rust: push subscriptions and
//! notification permission (`push`), the credentials kept for the service
//! worker (`session`), and small helpers for events and errors.

use std::future::Future;

use futures_channel::oneshot;
use gloo_events::EventListener;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, EventTarget};

pub(crate) mod push;
pub(crate) mod session;

/// Resolves with the next `event_type` event fired at `target`. The listener
/// is added at once, so an event fired before the first poll still counts.
pub(crate) fn next_event(
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
pub(crate) fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
}

/// The value of the input `name` of the form a submit event is for.
pub(crate) fn form_value(event: &web_sys::SubmitEvent, name: &str) -> String {
    event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::HtmlFormElement>().ok())
        .and_then(|form| form.elements().named_item(name))
        .and_then(|input| input.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|input| input.value())
        .unwrap_or_default()
}

/// Reloads the page from the server.
pub(crate) fn reload() {
    if let Some(window) = web_sys::window() {
        // Nothing sensible is left to do when even a reload fails.
        let _ = window.location().reload();
    }
}

/// The browser's clock as `HH:MM:SS`, local time.
pub(crate) fn clock_time() -> String {
    let now = js_sys::Date::new_0();
    format!(
        "{:02}:{:02}:{:02}",
        now.get_hours(),
        now.get_minutes(),
        now.get_seconds()
    )
}

/// Now, in milliseconds since the epoch with the precision of the page's
/// clock.
pub(crate) fn epoch_millis() -> Option<f64> {
    let performance = web_sys::window()?.performance()?;
    Some(performance.time_origin() + performance.now())
}
