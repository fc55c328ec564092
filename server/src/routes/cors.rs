//! CORS, so that a web app on another origin can use the API: every answer
//! to a request with an `Origin` allows any origin and exposes the headers
//! clients read, and preflights get the methods of the URL they ask about.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Response headers a browser app may read: timestamps, pages, totals and
/// the back-off signals.
const EXPOSED_HEADERS: &str = "Alert, Backoff, Cache-Control, Content-Length, Content-Type, ETag, \
     Expires, Last-Modified, Next-Page, Pragma, Retry-After, Total-Objects, Total-Records";
/// How long a browser may remember a preflight's answer.
const PREFLIGHT_MAX_AGE_SECS: &str = "3600";

/// Middleware for the `/v1` routes.
pub(crate) async fn cors(request: Request, next: Next) -> Response {
    let has_origin = request.headers().contains_key(header::ORIGIN);
    let preflight_method = request
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .cloned();
    if request.method() == Method::OPTIONS
        && has_origin
        && let Some(method) = preflight_method
    {
        return preflight(request.uri().path(), &method, request.headers());
    }

    let mut response = next.run(request).await;
    if has_origin {
        allow_origin(response.headers_mut());
    }
    response
}

fn preflight(path: &str, requested: &HeaderValue, headers: &HeaderMap) -> Response {
    let methods = methods_of(path);
    let is_allowed = requested.to_str().is_ok_and(|method| {
        methods
            .split(", ")
            .any(|allowed| allowed.eq_ignore_ascii_case(method))
    });
    if !is_allowed {
        let mut response = ApiError::invalid(
            "header",
            "Access-Control-Request-Method",
            "not allowed here",
        )
        .into_response();
        allow_origin(response.headers_mut());
        return response;
    }

    let mut response = StatusCode::OK.into_response();
    let answer = response.headers_mut();
    allow_origin(answer);
    answer.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    let mut allowed_headers = String::from(EXPOSED_HEADERS);
    if let Some(requested) = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
    {
        allowed_headers = format!("{requested}, {allowed_headers}");
    }
    if let Ok(value) = HeaderValue::from_str(&allowed_headers) {
        answer.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, value);
    }
    answer.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(PREFLIGHT_MAX_AGE_SECS),
    );
    response
}

fn allow_origin(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED_HEADERS),
    );
}

/// The methods a `/v1` URL answers: a set (`/buckets`,
/// `/buckets/b/collections`, ...), one object, the batch, or a utility
/// endpoint.
fn methods_of(path: &str) -> &'static str {
    let segments: Vec<&str> = path
        .trim_start_matches("/v1")
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    match segments.first() {
        Some(&"buckets") if segments.len() % 2 == 1 => "GET, HEAD, POST, DELETE, OPTIONS",
        Some(&"buckets") => "GET, HEAD, PUT, PATCH, DELETE, OPTIONS",
        Some(&"batch") => "POST, OPTIONS",
        _ => "GET, HEAD, OPTIONS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_objects_answer_their_own_methods() {
        assert!(methods_of("/v1/buckets").contains("POST"));
        assert!(methods_of("/v1/buckets/b").contains("PUT"));
        assert!(methods_of("/v1/buckets/b/collections/c/records").contains("POST"));
        assert!(!methods_of("/v1/buckets/b/collections/c/records/r").contains("POST"));
        assert_eq!(methods_of("/v1/batch"), "POST, OPTIONS");
        assert_eq!(methods_of("/v1/"), "GET, HEAD, OPTIONS");
    }
}
