//! The HTTP API under `/v1`, one module per resource. This file is the URL
//! table.

use axum::Router;
use axum::http::{HeaderMap, Uri, header};
use axum::routing::any;

use crate::AppState;
use crate::error::ApiError;

mod batch;
mod buckets;
mod collections;
mod cors;
mod default_bucket;
mod groups;
mod negotiation;
mod objects;
mod permissions;
mod push_messages;
mod records;
mod redirect;
mod subscriptions;
mod utility;

pub(crate) use objects::{is_valid_id, respond};
pub(crate) use redirect::redirect_to_canonical;

/// Every `/v1` route. Unknown URLs and methods get Kinto JSON errors.
pub fn router() -> Router<AppState> {
    Router::new()
        // /v1/, /v1/__heartbeat__, /v1/__lbheartbeat__, /v1/__version__
        .merge(utility::router())
        // /v1/batch
        .merge(batch::router())
        // /v1/permissions
        .merge(permissions::router())
        // /v1/push/subscriptions[/{subscription_id}]
        .merge(subscriptions::router())
        // /v1/push/messages
        .merge(push_messages::router())
        // /v1/buckets/default[/...]: the caller's own bucket
        .merge(default_bucket::router())
        // /v1/buckets, /v1/buckets/{bucket_id}
        .merge(buckets::router())
        // /v1/buckets/{bucket_id}/collections[/{collection_id}]
        .merge(collections::router())
        // /v1/buckets/{bucket_id}/groups[/{group_id}]
        .merge(groups::router())
        // /v1/buckets/{bucket_id}/collections/{collection_id}/records[/{record_id}]
        .merge(records::router())
        .route("/v1/{*path}", any(unknown_route))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(negotiation::require_json))
        .layer(axum::middleware::from_fn(cors::cors))
}

async fn unknown_route() -> ApiError {
    ApiError::unknown_route()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// The scheme and host the client used to reach us: the `Host` header, or
/// the URI's authority for HTTP/2 requests that carry none, with a reverse
/// proxy's `X-Forwarded-Proto` honoured.
pub(crate) fn public_origin(uri: &Uri, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| uri.authority().map(|authority| authority.as_str()))
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .filter(|scheme| matches!(*scheme, "http" | "https"))
        .unwrap_or("http");
    format!("{scheme}://{host}")
}
