//! Request extractors whose rejections are Kinto JSON errors, so that a
//! malformed request gets the same error shape as every other failure.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Media types a request body may have: plain JSON and the two patch
/// formats Kinto accepts on `PATCH`.
const JSON_MEDIA_TYPES: &[&str] = &[
    "application/json",
    "application/merge-patch+json",
    "application/json-patch+json",
];

/// A JSON body in, or a JSON body out. An empty request body reads as `{}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(MAX_BODY_BYTES),
                    _ => ApiError::invalid("body", "", "The body could not be read"),
                })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return parse(b"{}").map(Self);
        }

        match content_type.as_deref() {
            Some(value) if is_json(value) => parse(&bytes).map(Self),
            Some(value) => Err(ApiError::unsupported_media_type(value)),
            None => Err(ApiError::unsupported_media_type("(none)")),
        }
    }
}

/// Path parameters; a URL whose parameters do not decode is a Kinto 400.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::invalid("path", "", rejection.body_text())),
        }
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    JSON_MEDIA_TYPES
        .iter()
        .any(|media_type| essence.eq_ignore_ascii_case(media_type))
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|error| {
        let description = match error.classify() {
            serde_json::error::Category::Data => format!("does not fit the schema: {error}"),
            _ => "is not valid JSON".to_owned(),
        };
        ApiError::invalid("body", "", format!("The body {description}"))
    })
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::{Body, to_bytes};
    use axum::extract::DefaultBodyLimit;
    use axum::routing::post;
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;

    async fn send(content_type: Option<&str>, body: &'static str) -> (StatusCode, Value) {
        let app = Router::new()
            .route(
                "/",
                post(|ApiJson(body): ApiJson<Value>| async move { ApiJson(body) }),
            )
            .layer(DefaultBodyLimit::max(64));
        let mut request = Request::post("/");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let response = app
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn json_bodies_are_read() {
        let (status, body) = send(Some("application/json; charset=utf-8"), r#"{"a":1}"#).await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["a"], 1);
    }

    #[tokio::test]
    async fn an_empty_body_reads_as_an_empty_object() {
        let (status, body) = send(None, "").await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, serde_json::json!({}));
    }

    #[tokio::test]
    async fn malformed_json_is_a_400_with_errno_107() {
        let (status, body) = send(Some("application/json"), "{oops").await;

        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["errno"], 107);
        assert_eq!(body["details"][0]["location"], "body");
    }

    #[tokio::test]
    async fn other_media_types_are_a_415() {
        let (status, body) = send(Some("text/plain"), "{}").await;

        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(body["errno"], 107);
    }

    #[tokio::test]
    async fn oversized_bodies_are_a_413() {
        let (status, body) = send(Some("application/json"), include_str!("../Cargo.toml")).await;

        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["errno"], 113);
    }
}
