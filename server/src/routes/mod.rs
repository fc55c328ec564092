//! The HTTP API under `/v1`, one module per resource. This file is the URL
//! table.

use axum::Router;
use axum::routing::get;

use crate::AppState;
use crate::error::ApiError;

mod utility;

/// Every `/v1` route. Unknown URLs and methods get Kinto JSON errors.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/", get(utility::get_hello))
        .route("/v1/__heartbeat__", get(utility::get_heartbeat))
        .route("/v1/__lbheartbeat__", get(utility::get_lbheartbeat))
        .route("/v1/__version__", get(utility::get_version))
        .route("/v1/{*path}", axum::routing::any(unknown_route))
        .method_not_allowed_fallback(method_not_allowed)
}

async fn unknown_route() -> ApiError {
    ApiError::unknown_route()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
