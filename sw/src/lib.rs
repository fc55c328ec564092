//! The kinto-push service worker.
//!
//! The plain logic lives in ordinary modules that compile and test natively:
//! [`message`] holds what pages and the worker say to each other. The wasm
//! entry points (`glue`) only decode browser events and call into it; a small
//! JavaScript module, `sw/shim.js`, registers the listeners and loads the wasm.

pub mod message;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod glue;
