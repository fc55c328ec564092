//! `ApiError`, the one error type that becomes an HTTP response, and the
//! Kinto error body: `{"code", "errno", "error", "message", "details"?}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::storage::StorageError;

/// Seconds a client should wait before retrying after a 503.
const RETRY_AFTER_SECS: &str = "3";

/// Kinto's error numbers. Values are part of the wire contract: add new ones,
/// never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "u16")]
pub enum Errno {
    MissingAuthToken = 104,
    InvalidParameters = 107,
    /// Kinto answers a missing object with this number.
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

    /// 400 for invalid input. `location` is `body`, `querystring`, `header`
    /// or `path`; the description becomes the message too.
    pub fn invalid(location: &str, name: &str, description: impl Into<String>) -> Self {
        let description = description.into();
        let message = if name.is_empty() {
            description.clone()
        } else {
            format!("{name} in {location}: {description}")
        };
        Self::new(StatusCode::BAD_REQUEST, Errno::InvalidParameters, message).with_details(
            json!([{ "location": location, "name": name, "description": description }]),
        )
    }

    /// 401: the caller must sign in. The response asks for Basic auth.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            Errno::MissingAuthToken,
            "Please sign in: this resource needs credentials.",
        )
    }

    /// 403: the signed-in caller may not do this, or the object's parent is
    /// hidden from them.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            Errno::Forbidden,
            "This user may not do this here.",
        )
    }

    /// 401 for anonymous callers, 403 for signed-in ones.
    pub fn denied(is_signed_in: bool) -> Self {
        if is_signed_in {
            Self::forbidden()
        } else {
            Self::unauthorized()
        }
    }

    /// 404 for an object that does not exist, naming it in `details` and,
    /// as Kinto does, with no message.
    pub fn missing_object(id: &str, resource_name: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            errno: Errno::InvalidResourceId,
            message: None,
            details: Some(json!({ "id": id, "resource_name": resource_name })),
        }
    }

    /// 404 for a parent (a collection, say) that does not exist.
    pub fn missing_parent(resource_name: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            Errno::MissingResource,
            format!("The {resource_name} {id} does not exist."),
        )
        .with_details(json!({ "id": id, "resource_name": resource_name }))
    }

    /// 412: a precondition header did not hold. `existing` is the current
    /// object, when there is one.
    pub fn precondition_failed(existing: Option<Value>) -> Self {
        let error = Self::new(
            StatusCode::PRECONDITION_FAILED,
            Errno::ModifiedMeanwhile,
            "The object changed since the version this request names.",
        );
        match existing {
            Some(existing) => error.with_details(json!({ "existing": existing })),
            None => error,
        }
    }

    /// 415 for a body that is not JSON.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Errno::InvalidParameters,
            format!("Content-Type {content_type} is not supported: send application/json."),
        )
    }

    /// 406 when the client accepts no JSON response.
    pub fn not_acceptable() -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            Errno::InvalidParameters,
            "Responses are application/json, which the Accept header excludes.",
        )
    }

    /// 413 for a body over the size limit.
    pub fn too_large(max_bytes: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Errno::RequestTooLarge,
            format!("The body is larger than the {max_bytes} bytes allowed."),
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

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Database(_)
            | StorageError::Migration(_)
            | StorageError::Folder { .. } => {
                tracing::error!(?error, "storage failed");
                Self::backend_unavailable()
            }
            StorageError::NotFound | StorageError::AlreadyExists(_) => {
                tracing::error!(?error, "storage outcome left unhandled");
                Self::internal()
            }
        }
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

        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = HeaderValue::from_static("Basic realm=\"kinto-push\"");
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
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
