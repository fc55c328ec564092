//! `spawn_app` and the `TestApp` the tests talk to.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use leptos::prelude::LeptosOptions;
use serde_json::Value;
use sqlx::Connection;
use tower::ServiceExt;

use server::auth::{self, Authenticator};
use server::config::{Config, DatabaseUrl, PushConfig};
use server::events::Events;
use server::push::{Dispatcher, Push};
use server::storage::{self, Storage};
use server::{AppState, app};

/// Enables the PostgreSQL runs: a URL to a database the tests may create
/// schemas in.
const POSTGRES_URL_VARIABLE: &str = "KINTO_PUSH_TEST_DATABASE_URL";

/// Credentials of the users the tests play.
pub(crate) const ALICE: &str = "alice:alice-s3cret";
pub(crate) const BOB: &str = "bob:bob-s3cret";

/// The backends a test can run against.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// Every backend available here. PostgreSQL is left out, with a note, when
/// no test database is configured.
pub(crate) fn backends() -> Vec<Backend> {
    if std::env::var(POSTGRES_URL_VARIABLE).is_ok() {
        vec![Backend::Sqlite, Backend::Postgres]
    } else {
        eprintln!("note: {POSTGRES_URL_VARIABLE} is not set: skipping PostgreSQL");
        vec![Backend::Sqlite]
    }
}

/// A running app on a fresh, empty database.
pub(crate) struct TestApp {
    router: Router,
    pub(crate) storage: Arc<dyn Storage>,
    /// Where the app publishes its change events.
    pub(crate) events: Events,
    /// Sends the push outbox, as the server does beside the API.
    _dispatcher: Dispatcher,
    // Keeps the SQLite file alive as long as the app.
    _folder: tempfile::TempDir,
}

/// A response with its body read.
pub(crate) struct TestResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl TestResponse {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .expect("the header is text")
    }
}

/// Starts the app on a fresh database of `backend`.
pub(crate) async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with_push(backend, &[]).await
}

/// The push settings of the tests: subscriptions may point at
/// `allowed_origins` (the fake push services' loopback origins), and
/// failed messages come back after 50 ms instead of seconds.
pub(crate) fn push_config(allowed_origins: &[&str]) -> PushConfig {
    PushConfig {
        vapid_private_key: None,
        vapid_subject: Some(
            "mailto:tests@kinto-push.example"
                .parse()
                .expect("a subject"),
        ),
        push_allowed_origins: allowed_origins.iter().map(|o| (*o).to_owned()).collect(),
        push_ttl_secs: 86_400,
        push_retry_secs: 86_400,
        push_first_retry_millis: 50,
        push_rate_limit_pause_secs: 1,
        push_concurrency: 16,
        push_origin_concurrency: 8,
        push_timeout_secs: 5,
    }
}

/// A running app whose subscriptions may point at `allowed_origins`.
pub(crate) async fn spawn_app_with_push(backend: Backend, allowed_origins: &[&str]) -> TestApp {
    spawn_app_with(backend, push_config(allowed_origins)).await
}

/// A running app with these push settings.
pub(crate) async fn spawn_app_with(backend: Backend, push: PushConfig) -> TestApp {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", folder.path().join("test.sqlite3").display()),
        Backend::Postgres => fresh_postgres_schema().await,
    };
    let database_url: DatabaseUrl = url.parse().expect("a valid database URL");
    let storage = storage::connect(&database_url, 4)
        .await
        .expect("the test database opens");

    let config = Config {
        listen: "127.0.0.1:0".parse().expect("an address"),
        database_url,
        database_pool_size: 4,
        log_format: server::config::LogFormat::Pretty,
        userid_hmac_secret: None,
        bucket_create_principals: vec!["system.Authenticated".to_owned()],
        push,
    };
    let events = Events::default();
    let hmac_key = auth::load_hmac_key(None, storage.as_ref())
        .await
        .expect("a user id key");
    let leptos_options = LeptosOptions::builder()
        .output_name("kinto-push")
        .site_root(folder.path().display().to_string())
        .build();
    let push = Push::new(&config.push, storage.as_ref())
        .await
        .expect("the push pipeline starts");
    let push = Arc::new(push);
    let state = AppState {
        config: Arc::new(config),
        storage: Arc::clone(&storage),
        auth: Arc::new(Authenticator::new(&hmac_key)),
        events: events.clone(),
        push: Arc::clone(&push),
        leptos_options,
    };
    TestApp {
        router: app(state),
        _dispatcher: Dispatcher::spawn(Arc::clone(&storage), push),
        storage,
        events,
        _folder: folder,
    }
}

/// Creates a schema no other test uses and returns a URL whose connections
/// work inside it.
pub(crate) async fn fresh_postgres_schema() -> String {
    let base = std::env::var(POSTGRES_URL_VARIABLE).expect("checked by backends()");
    let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .expect("the PostgreSQL test database answers");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .expect("a fresh schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

impl TestApp {
    pub(crate) async fn request(
        &self,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> TestResponse {
        let body = body.map_or_else(Body::empty, |json| Body::from(json.to_string()));
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1:8888")
            .header("content-type", "application/json")
            .body(body)
            .expect("a valid request");
        self.send(request).await
    }

    pub(crate) async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body is readable")
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub(crate) async fn get(&self, uri: &str) -> TestResponse {
        self.request(Method::GET, uri, None).await
    }

    /// Any request: `credentials` (`user:password`) sign it in, `headers`
    /// are added as given.
    pub(crate) async fn call(
        &self,
        method: Method,
        uri: &str,
        credentials: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1:8888");
        if let Some(credentials) = credentials {
            request = request.header("authorization", basic(credentials));
        }
        let has_content_type = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !has_content_type {
            request = request.header("content-type", "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = body.map_or_else(Body::empty, |json| Body::from(json.to_string()));
        self.send(request.body(body).expect("a valid request"))
            .await
    }

    /// `PUT` of `{"data": data}` at `uri` as `credentials`, which must
    /// succeed.
    pub(crate) async fn put_ok(&self, credentials: &str, uri: &str, data: Value) -> Value {
        let response = self
            .call(
                Method::PUT,
                uri,
                Some(credentials),
                Some(serde_json::json!({ "data": data })),
                &[],
            )
            .await;
        assert!(
            response.status.is_success(),
            "PUT {uri}: {} {}",
            response.status,
            response.text()
        );
        response.json()
    }

    /// The status of a `PUT` of `body` at `uri` as Alice.
    pub(crate) async fn put_ok_status(&self, uri: &str, body: Option<Value>) -> StatusCode {
        self.call(Method::PUT, uri, Some(ALICE), body, &[])
            .await
            .status
    }

    /// A GET signed in with Basic auth `credentials` (`user:password`).
    pub(crate) async fn get_as(&self, uri: &str, credentials: &str) -> TestResponse {
        let request = Request::builder()
            .method(Method::GET)
            .uri(uri)
            .header("host", "127.0.0.1:8888")
            .header(
                "authorization",
                format!("Basic {}", BASE64.encode(credentials)),
            )
            .body(Body::empty())
            .expect("a valid request");
        self.send(request).await
    }
}

/// The `Authorization` value for Basic auth `credentials` (`user:password`).
pub(crate) fn basic(credentials: &str) -> String {
    format!("Basic {}", BASE64.encode(credentials))
}
