//! Utility endpoints: the hello document, heartbeats and the version.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::batch::BATCH_MAX_REQUESTS;
use super::public_origin;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// The Kinto HTTP API version whose behaviour this server reproduces.
pub(crate) const HTTP_API_VERSION: &str = "1.23";

const PROJECT_NAME: &str = "kinto-push";
const PROJECT_VERSION: &str = env!("CARGO_PKG_VERSION");
const PROJECT_DOCS: &str = "https://docs.kinto-storage.org/";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/", get(get_hello))
        .route("/v1/__heartbeat__", get(get_heartbeat))
        .route("/v1/__lbheartbeat__", get(get_lbheartbeat))
        .route("/v1/__version__", get(get_version))
}

#[derive(Serialize)]
pub(crate) struct Hello {
    project_name: &'static str,
    project_version: &'static str,
    http_api_version: &'static str,
    project_docs: &'static str,
    url: String,
    settings: HelloSettings,
    capabilities: Map<String, Value>,
    /// Only for a signed-in caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<HelloUser>,
}

#[derive(Serialize)]
struct HelloUser {
    id: String,
    principals: Vec<String>,
    /// The id `/buckets/default` stands for.
    bucket: String,
}

#[derive(Serialize)]
struct HelloSettings {
    batch_max_requests: usize,
    readonly: bool,
    explicit_permissions: bool,
}

async fn get_hello(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Hello>, ApiError> {
    let user = match &caller.user_id {
        Some(user_id) => {
            let mut tx = state.storage.begin_read().await?;
            let principals = caller.with_groups(tx.as_mut()).await?.principals();
            Some(HelloUser {
                id: user_id.as_str().to_owned(),
                principals,
                bucket: state.auth.default_bucket_id(user_id),
            })
        }
        None => None,
    };
    Ok(Json(Hello {
        project_name: PROJECT_NAME,
        project_version: PROJECT_VERSION,
        http_api_version: HTTP_API_VERSION,
        project_docs: PROJECT_DOCS,
        url: format!("{}/v1/", public_origin(&uri, &headers)),
        settings: HelloSettings {
            batch_max_requests: BATCH_MAX_REQUESTS,
            readonly: false,
            explicit_permissions: true,
        },
        capabilities: capabilities(&state, &public_origin(&uri, &headers)),
        user,
    }))
}

/// The optional features this server has, as Kinto clients look them up.
fn capabilities(state: &AppState, origin: &str) -> Map<String, Value> {
    let mut capabilities = Map::new();
    capabilities.insert(
        "default_bucket".to_owned(),
        json!({
            "description": "/buckets/default is each user's own bucket, created on first use.",
            "url": PROJECT_DOCS,
        }),
    );
    capabilities.insert(
        "schema".to_owned(),
        json!({
            "description": "A collection's JSON Schema, under `schema`, validates its records.",
            "url": PROJECT_DOCS,
        }),
    );
    capabilities.insert(
        "permissions_endpoint".to_owned(),
        json!({
            "description": "GET /v1/permissions lists the objects the caller has rights on.",
            "url": format!("{origin}/v1/permissions"),
        }),
    );
    capabilities.insert("webpush".to_owned(), state.push.capability());
    capabilities
}

/// 200 when every backend answers, 503 otherwise; the body says which.
async fn get_heartbeat(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let is_storage_up = match state.storage.ping().await {
        Ok(()) => true,
        Err(error) => {
            tracing::error!(?error, "heartbeat: the database does not answer");
            false
        }
    };

    // Records and permissions live in the same database.
    let body = json!({ "storage": is_storage_up, "permission": is_storage_up });
    let status = if is_storage_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// Load-balancer check: answers as long as the process serves requests.
async fn get_lbheartbeat() -> Json<Value> {
    Json(json!({}))
}

async fn get_version() -> Json<Value> {
    Json(json!({ "name": PROJECT_NAME, "version": PROJECT_VERSION }))
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderValue, header};

    use super::*;

    #[test]
    fn public_origin_uses_host_and_forwarded_scheme() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("example.org:8443"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));

        assert_eq!(
            public_origin(&Uri::from_static("/v1/"), &headers),
            "https://example.org:8443"
        );
    }

    #[test]
    fn public_origin_falls_back_to_the_uri_authority() {
        let uri = Uri::from_static("http://kinto.example:8888/v1/");

        assert_eq!(
            public_origin(&uri, &HeaderMap::new()),
            "http://kinto.example:8888"
        );
    }

    #[test]
    fn public_origin_ignores_unknown_schemes() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8888"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("gopher"));

        assert_eq!(
            public_origin(&Uri::from_static("/v1/"), &headers),
            "http://127.0.0.1:8888"
        );
    }
}
