//! kinto-push: a Kinto-compatible JSON store that pushes every change to
//! subscribed browsers.
//!
//! A tour of the crate:
//! - `auth`: Basic auth user ids and the principals of a request.
//! - `config`: [`Config`](config::Config), read once from `KINTO_PUSH_*`
//!   variables or flags.
//! - `telemetry`: the tracing subscriber and the per-request span.
//! - `error`: [`ApiError`](error::ApiError), the Kinto JSON error body.
//! - `permissions`: who may read, write and create what, with inheritance.
//! - `events`: the changes of each committed request, for consumers.
//! - `push`: the Web Push pipeline: subscriptions' channels, the outbox
//!   written with each change, and the dispatcher that sends it.
//! - `extract`: request extractors that answer bad input with Kinto errors.
//! - `routes`: the `/v1` HTTP API, one module per resource.
//! - `storage`: the [`Storage`](storage::Storage) trait and its SQLite and
//!   PostgreSQL backends.
//! - `session`: the caller of a request and the transaction it works in.
//! - `site`: the Leptos app, its wasm bundle and the service worker script.
//!
//! `main.rs` reads the configuration and serves [`app`]; the integration tests
//! drive the same router in-process.

// The app's pages are rendered here, and Leptos views are deeply nested
// types: their layouts need room.
#![recursion_limit = "256"]

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::{Router, middleware};
use leptos::prelude::LeptosOptions;

pub mod auth;
pub mod config;
pub mod error;
pub mod events;
pub mod extract;
pub mod permissions;
pub mod push;
pub mod routes;
pub mod session;
pub mod site;
pub mod storage;
pub mod telemetry;

use auth::Authenticator;
use config::Config;
use events::Events;
use storage::Storage;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub storage: Arc<dyn Storage>,
    pub auth: Arc<Authenticator>,
    pub events: Events,
    pub push: push::SharedPush,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The whole HTTP surface: the `/v1` API and the web app.
pub fn app(state: AppState) -> Router {
    let api = routes::router()
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .with_state(state.clone());
    let site = site::router(&state, api.clone())
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .with_state(state);
    api.merge(site)
        .layer(middleware::from_fn(routes::redirect_to_canonical))
        .layer(middleware::from_fn(telemetry::trace_request))
}
