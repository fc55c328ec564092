//! The server side of the app's data: calls to the kinto-push HTTP API made
//! on behalf of the signed-in user, with the credentials of their session
//! cookie.
//!
//! The server hands the app an [`ApiTransport`] through Leptos' context, and
//! the calls run through the same router as any client's, in-process: the
//! pages see exactly what kinto.js or curl would.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::header::{
    AUTHORIZATION, CONTENT_TYPE, COOKIE, ETAG, IF_MATCH, IF_NONE_MATCH, SET_COOKIE,
};
use http::{HeaderValue, Method, Request, Response};
use leptos::prelude::*;
use serde_json::Value;

/// The cookie that keeps the user signed in for the browser session.
const SESSION_COOKIE: &str = "kinto_push_session";
/// Longest user name or password accepted at sign-in.
const MAX_CREDENTIAL_CHARS: usize = 200;

/// Sends one request to the HTTP API and returns its answer, body read.
pub trait ApiTransport: Send + Sync + 'static {
    fn send(
        &self,
        request: Request<String>,
    ) -> Pin<Box<dyn Future<Output = Response<Vec<u8>>> + Send>>;
}

/// The transport the server provides as context to pages and server
/// functions.
#[derive(Clone)]
pub struct LocalApi(pub Arc<dyn ApiTransport>);

/// An answer of the API: its status and JSON body (`Null` when empty).
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: Value,
    /// The `ETag` as a timestamp, when the answer has one.
    pub etag: Option<u64>,
}

impl Answer {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The API's error message, for answers that are not successes.
    pub(crate) fn message(&self) -> String {
        self.body["message"].as_str().map_or_else(
            || format!("the server answered {}", self.status),
            str::to_owned,
        )
    }

    /// This answer as an error, for statuses the caller does not expect.
    pub(crate) fn into_error(self) -> ServerFnError {
        ServerFnError::new(self.message())
    }
}

/// What a write asks of the object's current state.
#[derive(Debug, Clone, Copy)]
enum Precondition {
    Any,
    /// Still at this timestamp (`If-Match`).
    Unchanged(u64),
    /// Not there yet (`If-None-Match: *`).
    IsNew,
}

/// The signed-in user's view of the API.
pub(crate) struct Kinto {
    api: LocalApi,
    /// The session's `Authorization` value, `Basic …`.
    authorization: String,
    /// The user name inside the credentials.
    name: String,
}

impl Kinto {
    /// The API as the signed-in user of the current request; `None` when
    /// the request carries no session.
    pub(crate) fn for_request() -> Result<Option<Self>, ServerFnError> {
        let api = local_api()?;
        let Some(token) = session_token() else {
            return Ok(None);
        };
        let Some(name) = user_name(&token) else {
            return Ok(None);
        };
        Ok(Some(Self {
            api,
            authorization: format!("Basic {token}"),
            name,
        }))
    }

    /// Like [`Kinto::for_request`], for calls that make no sense signed out.
    pub(crate) fn signed_in() -> Result<Self, ServerFnError> {
        Self::for_request()?.ok_or_else(|| ServerFnError::new("Sign in first."))
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) async fn get(&self, path: &str) -> Result<Answer, ServerFnError> {
        self.call(Method::GET, path, None, None).await
    }

    pub(crate) async fn delete(
        &self,
        path: &str,
        if_match: Option<u64>,
    ) -> Result<Answer, ServerFnError> {
        self.call(Method::DELETE, path, None, if_match).await
    }

    /// Sends `body` as JSON (`Content-Type` picks JSON Patch for arrays).
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        if_match: Option<u64>,
    ) -> Result<Answer, ServerFnError> {
        self.call(method, path, Some(body), if_match).await
    }

    /// Creates the object at `path` with a `PUT`, unless it exists: then
    /// the answer is a `412`.
    pub(crate) async fn create(&self, path: &str, body: &Value) -> Result<Answer, ServerFnError> {
        self.call_with(Method::PUT, path, Some(body), Precondition::IsNew)
            .await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<u64>,
    ) -> Result<Answer, ServerFnError> {
        let precondition = if_match.map_or(Precondition::Any, Precondition::Unchanged);
        self.call_with(method, path, body, precondition).await
    }

    async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        precondition: Precondition,
    ) -> Result<Answer, ServerFnError> {
        let content_type = match body {
            Some(Value::Array(_)) => "application/json-patch+json",
            _ => "application/json",
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("/v1{path}"))
            .header(AUTHORIZATION, &self.authorization)
            .header(CONTENT_TYPE, content_type);
        builder = match precondition {
            Precondition::Any => builder,
            Precondition::Unchanged(timestamp) => {
                builder.header(IF_MATCH, format!("\"{timestamp}\""))
            }
            Precondition::IsNew => builder.header(IF_NONE_MATCH, "*"),
        };
        let request = builder
            .body(body.map(Value::to_string).unwrap_or_default())
            .map_err(|error| ServerFnError::new(format!("bad request to {path}: {error}")))?;

        let response = self.api.0.send(request).await;
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim_matches('"').parse().ok());
        let body = if response.body().is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(response.body()).unwrap_or(Value::Null)
        };
        Ok(Answer {
            status: response.status().as_u16(),
            body,
            etag,
        })
    }
}

/// Checks the sign-in form and sets the session cookie. Kinto's Basic auth
/// has no accounts: every name and password pair is a user of its own, so
/// the same pair must be typed to come back to the same data.
pub(crate) fn start_session(name: &str, password: &str) -> Result<(), (String, String)> {
    let name = name.trim();
    if name.is_empty() {
        return Err(("name".to_owned(), "Enter a user name.".to_owned()));
    }
    if name.contains(':') {
        return Err((
            "name".to_owned(),
            "A user name cannot contain “:”.".to_owned(),
        ));
    }
    if password.is_empty() {
        return Err(("password".to_owned(), "Enter a password.".to_owned()));
    }
    if name.chars().count() > MAX_CREDENTIAL_CHARS
        || password.chars().count() > MAX_CREDENTIAL_CHARS
    {
        let message = format!("At most {MAX_CREDENTIAL_CHARS} characters.");
        return Err(("name".to_owned(), message));
    }
    let token = BASE64.encode(format!("{name}:{password}"));
    // Limitation: the cookie holds the credentials themselves, as Basic
    // auth needs them on every call. It is out of reach of scripts
    // (HttpOnly) and of other sites (SameSite=Strict), and ends with the
    // browser session; it is not marked Secure, so that plain-HTTP
    // development on loopback works.
    set_cookie(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    ));
    Ok(())
}

/// Clears the session cookie.
pub(crate) fn end_session() {
    set_cookie(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    ));
}

fn set_cookie(cookie: &str) {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.append_header(SET_COOKIE, value);
    }
}

fn local_api() -> Result<LocalApi, ServerFnError> {
    use_context::<LocalApi>().ok_or_else(|| ServerFnError::new("the API is not reachable"))
}

/// The session cookie's value in the current request.
fn session_token() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// The user name inside a Basic token, when it is one.
fn user_name(token: &str) -> Option<String> {
    let decoded = BASE64.decode(token).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (name, _) = text.split_once(':')?;
    Some(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_user() {
        let token = BASE64.encode("alice:secret:with:colons");

        assert_eq!(user_name(&token).as_deref(), Some("alice"));
        assert_eq!(user_name("not base64!"), None);
        assert_eq!(user_name(&BASE64.encode("no colon")), None);
    }

    #[test]
    fn sign_in_refuses_empty_or_ambiguous_names() {
        assert_eq!(start_session("  ", "pw").unwrap_err().0, "name");
        assert_eq!(start_session("a:b", "pw").unwrap_err().0, "name");
        assert_eq!(start_session("alice", "").unwrap_err().0, "password");
        assert!(start_session("alice", "pw").is_ok());
    }
}
