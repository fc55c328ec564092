//! The web app: server-rendered Leptos pages, the hydrate bundle, the service
//! worker script and static files from the site root.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use app::{ApiTransport, LocalApi};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, Response, header};
use axum::routing::get_service;
use http_body_util::BodyExt;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower::{ServiceBuilder, ServiceExt};
use tower_http::services::ServeFile;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;

/// Path the page registers the service worker from.
pub const SERVICE_WORKER_PATH: &str = "/sw.js";
/// Scope the service worker may control: the whole origin.
const SERVICE_WORKER_SCOPE: &str = "/";

/// The app's way to the HTTP API: requests go through the `/v1` router
/// in-process, so pages get exactly what any client would.
#[derive(Clone)]
struct InProcessApi(Router);

impl ApiTransport for InProcessApi {
    fn send(
        &self,
        request: Request<String>,
    ) -> Pin<Box<dyn Future<Output = Response<Vec<u8>>> + Send>> {
        let router = self.0.clone();
        Box::pin(async move {
            let response = match router.oneshot(request.map(Body::from)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let (parts, body) = response.into_parts();
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes().to_vec(),
                Err(error) => {
                    tracing::warn!(%error, "an API answer to the app could not be read");
                    Vec::new()
                }
            };
            Response::from_parts(parts, bytes)
        })
    }
}

/// Pages, the worker script and static files; anything else renders the
/// app's "not found" page. `api` is the `/v1` router the pages read and
/// write through.
pub fn router(state: &AppState, api: Router) -> Router<AppState> {
    app::api::register_server_functions();
    let api = LocalApi(Arc::new(InProcessApi(api)));
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
        .leptos_routes_with_context(
            state,
            generate_route_list(app::App),
            move || provide_context(api.clone()),
            move || app::shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
}
