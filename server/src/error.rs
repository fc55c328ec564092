//! `ApiError`, the one error type that becomes an HTTP response, and the
//! Kinto error body: `{"code", "errno", "error", "message", "details"?}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// Seconds a client should wait before retrying after a 503.
const RETRY_AFTER_SECS: &str = "3";

/// Kinto's error numbers. Values are part of the wire contract: add new ones,
/// never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "u16")]
pub enum Errno {
    MissingAuthToken = 104,
    InvalidParameters = 107,
    InvalidResourceId = 110,
    MissingResource = 111,
    RequestTooLarge = 113,
    ModifiedMeanwhile = 114,
    MethodNotAllowed = 115,
    Forbidden = 121,
    ConstraintViolated = 122,
    BackendUnavailable = 201,
    Undefined = 999,
}

impl From<Errno> for u16 {
    fn from(errno: Errno) -> Self {
        errno as u16
    }
}

/// An error answered to the client in Kinto's JSON shape.
///
/// The message of a 4xx says what was wrong; a 5xx message only says that the
/// server failed, and its cause is logged where the response is built.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    errno: Errno,
    message: Option<String>,
    details: Option<Value>,
}

impl ApiError {
    fn new(status: StatusCode, errno: Errno, message: impl Into<String>) -> Self {
        Self {
            status,
            errno,
            message: Some(message.into()),
            details: None,
        }
    }

    /// 404 for a URL that matches no route.
    pub fn unknown_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            Errno::MissingResource,
            "No resource exists at this URL.",
        )
    }

    /// 405. The router adds the `Allow` header listing the route's methods.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            Errno::MethodNotAllowed,
            "This URL does not accept that method; the Allow header lists those it does.",
        )
    }

    /// 503: a backend the server depends on does not answer.
    pub fn backend_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Errno::BackendUnavailable,
            "A backend the server depends on is unavailable; retry after the \
             Retry-After delay.",
        )
    }

    /// 500 after an unexpected failure. Log the cause before returning this.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Errno::Undefined,
            "The server failed to handle this request; the failure is logged.",
        )
    }

    /// Attaches structured context, such as the object that already exists.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn errno(&self) -> Errno {
        self.errno
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: u16,
    errno: Errno,
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.status.as_u16(),
            errno: self.errno,
            error: self.status.canonical_reason().unwrap_or("Error"),
            message: self.message.as_deref(),
            details: self.details.as_ref(),
        };
        let mut response = (self.status, Json(body)).into_response();

        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            let retry_after = HeaderValue::from_static(RETRY_AFTER_SECS);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after);
        }
        // The request logger reads the errno from here.
        response.extensions_mut().insert(self.errno);
        response
    }
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;

    use super::*;

    async fn body_of(error: ApiError) -> (StatusCode, Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn errno_values_match_kinto() {
        assert_eq!(u16::from(Errno::InvalidParameters), 107);
        assert_eq!(u16::from(Errno::MissingResource), 111);
        assert_eq!(u16::from(Errno::MethodNotAllowed), 115);
        assert_eq!(u16::from(Errno::BackendUnavailable), 201);
        assert_eq!(u16::from(Errno::Undefined), 999);
    }

    #[tokio::test]
    async fn error_body_has_the_kinto_shape() {
        let (status, body) = body_of(ApiError::unknown_route()).await;

        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["code"], 404);
        assert_eq!(body["errno"], 111);
        assert_eq!(body["error"], "Not Found");
        assert!(body["message"].is_string());
        assert!(body.get("details").is_none());
    }

    #[tokio::test]
    async fn details_are_included_when_given() {
        let error = ApiError::internal().with_details(serde_json::json!({"id": "a"}));

        let (_, body) = body_of(error).await;

        assert_eq!(body["details"]["id"], "a");
    }

    #[test]
    fn unavailable_backend_asks_clients_to_retry() {
        let response = ApiError::backend_unavailable().into_response();

        assert_eq!(response.headers()[header::RETRY_AFTER], RETRY_AFTER_SECS);
    }
}
