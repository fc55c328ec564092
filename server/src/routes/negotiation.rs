//! Content negotiation: the API answers JSON only, so a request whose
//! `Accept` header rules JSON out gets a 406.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Media ranges under which a JSON response is acceptable.
const JSON_RANGES: &[&str] = &["application/json", "application/*", "*/*"];

/// Middleware for the `/v1` routes.
pub(crate) async fn require_json(request: Request, next: Next) -> Response {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    if accept.is_some_and(|accept| !accepts_json(accept)) {
        return ApiError::not_acceptable().into_response();
    }
    next.run(request).await
}

fn accepts_json(accept: &str) -> bool {
    if accept.trim().is_empty() {
        return true;
    }
    accept.split(',').any(|range| {
        let media_type = range.split(';').next().unwrap_or_default().trim();
        JSON_RANGES
            .iter()
            .any(|json| media_type.eq_ignore_ascii_case(json))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_wildcards_are_acceptable() {
        for accept in [
            "application/json",
            "*/*",
            "text/html, application/*;q=0.5",
            "",
        ] {
            assert!(accepts_json(accept), "{accept}");
        }
    }

    #[test]
    fn other_media_types_are_not() {
        assert!(!accepts_json("text/html"));
        assert!(!accepts_json("image/png, text/plain"));
    }
}
