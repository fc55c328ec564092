//! `POST /v1/batch`: up to `BATCH_MAX_REQUESTS` API requests in one, run in
//! order inside one transaction. A sub-request's 4xx is answered and kept;
//! a 5xx rolls the whole batch back.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, MAX_BODY_BYTES};
use crate::session::{BatchTransaction, Session};

/// Most sub-requests one batch may carry; the hello advertises it.
pub(crate) const BATCH_MAX_REQUESTS: usize = 25;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/batch", post(post_batch))
}

#[derive(Debug, Deserialize)]
struct BatchBody {
    #[serde(default)]
    defaults: Option<Value>,
    requests: Vec<Value>,
}

/// One sub-request once the defaults are merged in.
#[derive(Debug, Deserialize)]
struct SubRequest {
    #[serde(default = "default_method")]
    method: String,
    path: String,
    #[serde(default)]
    headers: Map<String, Value>,
    #[serde(default)]
    body: Option<Value>,
}

fn default_method() -> String {
    "GET".to_owned()
}

async fn post_batch(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BatchBody>,
) -> Result<Response, ApiError> {
    if body.requests.len() > BATCH_MAX_REQUESTS {
        return Err(ApiError::invalid(
            "body",
            "requests",
            format!("a batch holds at most {BATCH_MAX_REQUESTS} requests"),
        ));
    }
    let requests = body
        .requests
        .into_iter()
        .enumerate()
        .map(|(index, request)| sub_request(index, body.defaults.as_ref(), request))
        .collect::<Result<Vec<_>, _>>()?;

    let shared = BatchTransaction::new(state.storage.begin_write().await?);
    let api = super::router().with_state(state.clone());
    let mut responses = Vec::with_capacity(requests.len());
    for request in requests {
        let path = request.path.clone();
        let response = run(&api, &headers, &shared, request).await?;
        let status = response.status;
        responses.push(response.into_json(&path));
        // A server failure in any part undoes the whole batch.
        if status.is_server_error() {
            return Err(ApiError::backend_unavailable());
        }
    }
    let user_id = session.caller.user_id.as_ref().map(|id| id.as_str());
    shared.commit(&state, user_id).await?;

    Ok((
        StatusCode::OK,
        axum::Json(json!({ "responses": responses })),
    )
        .into_response())
}

/// The sub-request at `index`, with `defaults` merged in and its path
/// checked.
fn sub_request(
    index: usize,
    defaults: Option<&Value>,
    request: Value,
) -> Result<SubRequest, ApiError> {
    let name = format!("requests.{index}");
    let mut merged = defaults.cloned().unwrap_or_else(|| json!({}));
    merge(&mut merged, request);
    let mut request: SubRequest = serde_json::from_value(merged)
        .map_err(|error| ApiError::invalid("body", &name, error.to_string()))?;

    let path = request.path.strip_prefix("/v1").unwrap_or(&request.path);
    if !path.starts_with('/') {
        return Err(ApiError::invalid(
            "body",
            &format!("{name}.path"),
            "expected a path",
        ));
    }
    if path.trim_end_matches('/') == "/batch" {
        return Err(ApiError::invalid(
            "body",
            &format!("{name}.path"),
            "batches do not nest",
        ));
    }
    request.path = format!("/v1{path}");
    Ok(request)
}

/// Deep-merges `overlay` into `base`: objects key by key, anything else
/// replaced.
fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// A sub-request's outcome.
struct SubResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl SubResponse {
    fn into_json(self, path: &str) -> Value {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .filter_map(|(name, value)| {
                let value = value.to_str().ok()?;
                Some((name.as_str().to_owned(), Value::from(value)))
            })
            .collect();
        json!({
            "status": self.status.as_u16(),
            "path": path,
            "headers": headers,
            "body": self.body,
        })
    }
}

/// Runs one sub-request through the API, with the batch's own headers
/// (credentials included) under its own.
async fn run(
    api: &Router,
    outer: &HeaderMap,
    shared: &BatchTransaction,
    request: SubRequest,
) -> Result<SubResponse, ApiError> {
    let method = Method::from_bytes(request.method.to_uppercase().as_bytes())
        .map_err(|_| ApiError::invalid("body", "method", "not an HTTP method"))?;
    let mut builder = Request::builder().method(method).uri(&request.path);
    for name in [header::HOST, header::AUTHORIZATION, header::ACCEPT] {
        if let Some(value) = outer.get(&name) {
            builder = builder.header(name, value);
        }
    }
    for (name, value) in &request.headers {
        let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(name.as_bytes()),
            value.as_str().map(HeaderValue::from_str),
        ) else {
            return Err(ApiError::invalid(
                "body",
                "headers",
                "expected text header values",
            ));
        };
        builder = builder.header(name, value);
    }
    let body = match &request.body {
        Some(body) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    let mut http_request = builder
        .body(body)
        .map_err(|_| ApiError::invalid("body", "path", "not a valid request"))?;
    http_request.extensions_mut().insert(shared.clone());

    let Ok(response) = api.clone().oneshot(http_request).await;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::internal())?;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(SubResponse {
        status,
        headers,
        body,
    })
}
