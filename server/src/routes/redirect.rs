//! Canonical API URLs: a request for an API path without the `/v1` prefix,
//! or with a trailing slash, gets a `307` to the URL it meant, query string
//! kept.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The prefix every API URL has.
const API_PREFIX: &str = "/v1";
/// First path segments that only the API uses, so that `/buckets/b` can
/// only mean `/v1/buckets/b`. Other paths belong to the web app.
const API_SEGMENTS: &[&str] = &[
    "buckets",
    "batch",
    "permissions",
    "push",
    "__heartbeat__",
    "__lbheartbeat__",
    "__version__",
];
/// How long clients may remember a trailing-slash redirect.
const TRAILING_SLASH_CACHE_SECS: u32 = 3600;

/// Middleware: answers non-canonical API URLs with a redirect.
pub(crate) async fn redirect_to_canonical(request: Request, next: Next) -> Response {
    let Some(redirect) = canonical(request.uri()) else {
        return next.run(request).await;
    };
    let Ok(location) = HeaderValue::from_str(&redirect.location) else {
        return next.run(request).await;
    };

    let mut response = (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response();
    if redirect.is_trailing_slash {
        let max_age = format!("max-age={TRAILING_SLASH_CACHE_SECS}");
        if let Ok(value) = HeaderValue::from_str(&max_age) {
            response.headers_mut().insert(header::CACHE_CONTROL, value);
        }
    }
    response
}

#[derive(Debug, PartialEq, Eq)]
struct Redirect {
    location: String,
    is_trailing_slash: bool,
}

/// Where a non-canonical API URL should go, or `None` when `uri` is fine.
fn canonical(uri: &Uri) -> Option<Redirect> {
    let path = uri.path();
    let query = uri
        .query()
        .map(|query| format!("?{query}"))
        .unwrap_or_default();

    if path == API_PREFIX {
        return Some(Redirect {
            location: format!("{API_PREFIX}/{query}"),
            is_trailing_slash: false,
        });
    }
    if let Some(rest) = path
        .strip_prefix(API_PREFIX)
        .and_then(|r| r.strip_prefix('/'))
    {
        // `/v1/` itself is the root; `/v1/buckets/` means `/v1/buckets`.
        let trimmed = rest.trim_end_matches('/');
        if !rest.is_empty() && trimmed.len() < rest.len() {
            return Some(Redirect {
                location: format!("{API_PREFIX}/{trimmed}{query}"),
                is_trailing_slash: true,
            });
        }
        return None;
    }

    let first_segment = path.trim_start_matches('/').split('/').next()?;
    API_SEGMENTS.contains(&first_segment).then(|| Redirect {
        location: format!("{API_PREFIX}{path}{query}"),
        is_trailing_slash: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(uri: &'static str) -> Option<String> {
        canonical(&Uri::from_static(uri)).map(|redirect| redirect.location)
    }

    #[test]
    fn api_paths_without_the_prefix_get_it() {
        assert_eq!(
            location("/buckets/b?_since=1").as_deref(),
            Some("/v1/buckets/b?_since=1")
        );
        assert_eq!(
            location("/__heartbeat__").as_deref(),
            Some("/v1/__heartbeat__")
        );
        assert_eq!(location("/v1").as_deref(), Some("/v1/"));
    }

    #[test]
    fn trailing_slashes_are_dropped_except_on_the_root() {
        let redirect = canonical(&Uri::from_static("/v1/buckets/?a=1")).unwrap();

        assert_eq!(redirect.location, "/v1/buckets?a=1");
        assert!(redirect.is_trailing_slash);
        assert_eq!(location("/v1/buckets//").as_deref(), Some("/v1/buckets"));
        assert_eq!(location("/v1/"), None);
    }

    #[test]
    fn canonical_and_app_paths_are_left_alone() {
        assert_eq!(location("/v1/buckets/b"), None);
        assert_eq!(location("/v1x/buckets/"), None);
        assert_eq!(location("/"), None);
        assert_eq!(location("/sw.js"), None);
        assert_eq!(location("/pkg/kinto-push.wasm"), None);
    }
}
