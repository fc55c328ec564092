//! The kinto-push service worker.
//!
//! The plain logic lives in ordinary modules that compile and test natively:
//! [`payload`] reads a push message, [`notification`] builds what is shown
//! for it, [`click`] chooses the window a notification click brings forward,
//! [`renewal`] plans the registration of a subscription the browser renewed,
//! made with the credentials pages leave in [`session`], and [`message`]
//! holds what pages
//! and the worker say to each other. [`json`] reads and writes their JSON
//! without putting a JSON library into the wasm. The wasm entry points
//! (`glue`) only decode browser events, call into these and perform the
//! effects; a small JavaScript module, `sw/shim.js`, registers the listeners
//! and loads the wasm.
//!
//! Without the `worker` feature the crate has no wasm dependency, so pages
//! (and anything else that speaks to the worker) can use its types.

pub mod click;
pub mod json;
pub mod message;
pub mod notification;
pub mod payload;
pub mod renewal;
pub mod session;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod glue;
