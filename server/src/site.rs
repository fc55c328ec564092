//! The web app: server-rendered Leptos pages, the hydrate bundle, the service
//! worker script and static files from the site root.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get_service;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower_http::services::ServeFile;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;

/// Path the page registers the service worker from.
pub const SERVICE_WORKER_PATH: &str = "/sw.js";
/// Scope the service worker may control: the whole origin.
const SERVICE_WORKER_SCOPE: &str = "/";

/// Pages, the worker script and static files; anything else renders the
/// app's "not found" page.
pub fn router(state: &AppState) -> Router<AppState> {
    let options = state.leptos_options.clone();
    let worker_script = Path::new(options.site_root.as_ref()).join("sw.js");

    // Browsers must revalidate the worker script on every update check, and
    // the header lets a worker served from one path control the whole origin.
    let worker = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("service-worker-allowed"),
            HeaderValue::from_static(SERVICE_WORKER_SCOPE),
        ))
        .service(ServeFile::new(worker_script));

    Router::new()
        .route(SERVICE_WORKER_PATH, get_service(worker))
        .leptos_routes(state, generate_route_list(app::App), move || {
            app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
}
