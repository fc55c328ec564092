//! The signed-in user's credentials, which pages leave for the worker.
//!
//! When the browser renews a push subscription, the worker registers the
//! new one for the user with no page open, so it needs the user's
//! credentials. Pages keep them where the worker can read them: in the
//! Cache Storage cache [`SESSION_CACHE`], as the body of the response stored
//! for the request `<origin>` + [`SESSION_KEY_PATH`], written by
//! [`encode_session`]. Signing out deletes that entry.
//!
//! This module needs no wasm dependency: pages use it through the crate
//! without its `worker` feature.

use crate::json::{JsonFields, ObjectWriter, parse_object};

/// Name of the Cache Storage cache that holds the session.
pub const SESSION_CACHE: &str = "kinto-push-session";
/// Path, on the app's origin, of the request the session is stored under.
/// The cache is keyed by the absolute URL, `<origin>/__session__`.
pub const SESSION_KEY_PATH: &str = "/__session__";

/// The body of the session entry: `{"authorization": "<value>"}`, where the
/// value is the whole `Authorization` header the user's requests carry,
/// such as `Basic dXNlcjpwYXNz`.
pub fn encode_session(authorization: &str) -> String {
    ObjectWriter::new()
        .text("authorization", authorization)
        .finish()
}

/// The `Authorization` header value from a session entry's body; `None`
/// when the body is not a session or its value is blank.
pub fn parse_session(text: &str) -> Option<String> {
    read_session(&parse_object(text)?)
}

/// [`parse_session`], from the fields of the body's parsed JSON object.
pub fn read_session(fields: &impl JsonFields) -> Option<String> {
    let authorization = fields.text("authorization")?;
    (!authorization.trim().is_empty()).then_some(authorization)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_round_trips() {
        let text = encode_session("Basic dXNlcjpwYXNz");

        assert_eq!(text, r#"{"authorization":"Basic dXNlcjpwYXNz"}"#);
        assert_eq!(parse_session(&text).as_deref(), Some("Basic dXNlcjpwYXNz"));
    }

    #[test]
    fn other_fields_are_ignored() {
        let text = r#"{"user": "alice", "authorization": "Bearer t"}"#;

        assert_eq!(parse_session(text).as_deref(), Some("Bearer t"));
    }

    #[test]
    fn bodies_without_credentials_are_no_session() {
        for text in [
            "",
            "not json",
            "null",
            r#"["Basic dXNlcjpwYXNz"]"#,
            r#"{}"#,
            r#"{"authorization": null}"#,
            r#"{"authorization": 42}"#,
            r#"{"authorization": "  "}"#,
        ] {
            assert_eq!(parse_session(text), None, "{text}");
        }
    }

    #[test]
    fn session_cache_outlives_worker_updates() {
        // On activation, `sw/shim.js` deletes the older builds' caches,
        // found by this prefix.
        assert!(!SESSION_CACHE.starts_with("kinto-push-worker-"));
    }
}
