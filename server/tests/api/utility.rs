//! `/v1/`, heartbeats, version, and the errors for unknown routes and methods.

use axum::http::Method;

use crate::helpers::{backends, spawn_app};

#[tokio::test]
async fn hello_describes_the_server_with_an_absolute_url() {
    for backend in backends() {
        let app = spawn_app(backend).await;

        let response = app.get("/v1/").await;

        assert_eq!(response.status, 200, "{backend:?}");
        let hello = response.json();
        assert_eq!(hello["project_name"], "kinto-push");
        assert_eq!(hello["http_api_version"], "1.23");
        assert_eq!(hello["url"], "http://127.0.0.1:8888/v1/");
        assert_eq!(hello["settings"]["batch_max_requests"], 25);
        assert!(hello["capabilities"].is_object());
    }
}

#[tokio::test]
async fn hello_names_the_signed_in_user_and_their_principals() {
    let app = spawn_app(backends()[0]).await;

    let hello = app.get_as("/v1/", "alice:alice-s3cret").await.json();

    let id = hello["user"]["id"].as_str().unwrap();
    assert!(id.starts_with("basicauth:"), "{id}");
    assert_eq!(id.len(), "basicauth:".len() + 64);
    assert_eq!(
        hello["user"]["principals"],
        serde_json::json!([id, "system.Everyone", "system.Authenticated"])
    );
}

#[tokio::test]
async fn hello_has_no_user_for_anonymous_callers() {
    let app = spawn_app(backends()[0]).await;

    let hello = app.get("/v1/").await.json();

    assert!(hello.get("user").is_none());
}

#[tokio::test]
async fn heartbeat_reports_a_healthy_database() {
    for backend in backends() {
        let app = spawn_app(backend).await;

        let response = app.get("/v1/__heartbeat__").await;

        assert_eq!(response.status, 200, "{backend:?}");
        assert_eq!(response.json()["storage"], true);
    }
}

#[tokio::test]
async fn heartbeat_answers_503_when_the_database_is_down() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.storage.close().await;

        let response = app.get("/v1/__heartbeat__").await;

        assert_eq!(response.status, 503, "{backend:?}");
        assert_eq!(response.json()["storage"], false);
    }
}

#[tokio::test]
async fn lbheartbeat_answers_without_touching_the_database() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.storage.close().await;

        let response = app.get("/v1/__lbheartbeat__").await;

        assert_eq!(response.status, 200, "{backend:?}");
        assert_eq!(response.json(), serde_json::json!({}));
    }
}

#[tokio::test]
async fn version_names_the_project() {
    let app = spawn_app(backends()[0]).await;

    let response = app.get("/v1/__version__").await;

    assert_eq!(response.status, 200);
    assert_eq!(response.json()["name"], "kinto-push");
    assert_eq!(response.json()["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn unknown_api_route_is_a_kinto_404() {
    let app = spawn_app(backends()[0]).await;

    let response = app.get("/v1/nowhere/at/all").await;

    assert_eq!(response.status, 404);
    assert_eq!(response.json()["errno"], 111);
    assert_eq!(response.json()["error"], "Not Found");
}

#[tokio::test]
async fn wrong_method_is_a_kinto_405_with_allow() {
    let app = spawn_app(backends()[0]).await;

    let response = app.request(Method::DELETE, "/v1/__heartbeat__", None).await;

    assert_eq!(response.status, 405);
    assert_eq!(response.json()["errno"], 115);
    assert!(response.header("allow").contains("GET"));
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app(backends()[0]).await;

    let response = app.get("/v1/").await;

    assert_eq!(response.header("x-request-id").len(), 36);
}

#[tokio::test]
async fn api_paths_without_the_prefix_are_redirected() {
    let app = spawn_app(backends()[0]).await;

    let response = app.get("/__heartbeat__?x=1").await;

    assert_eq!(response.status, 307);
    assert_eq!(response.header("location"), "/v1/__heartbeat__?x=1");
}

#[tokio::test]
async fn trailing_slash_is_redirected_and_cacheable() {
    let app = spawn_app(backends()[0]).await;

    let response = app.get("/v1/__heartbeat__/").await;

    assert_eq!(response.status, 307);
    assert_eq!(response.header("location"), "/v1/__heartbeat__");
    assert_eq!(response.header("cache-control"), "max-age=3600");
}

#[tokio::test]
async fn cors_preflight_answers_the_methods_of_the_url() {
    let app = spawn_app(backends()[0]).await;
    let preflight = async |method: &'static str| {
        let headers = [
            ("origin", "https://notes.example"),
            ("access-control-request-method", method),
            ("access-control-request-headers", "authorization, if-match"),
        ];
        let uri = "/v1/buckets/b/collections/c/records";
        app.call(Method::OPTIONS, uri, None, None, &headers).await
    };

    let allowed = preflight("POST").await;
    let refused = preflight("PUT").await;

    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.header("access-control-allow-origin"), "*");
    assert!(
        allowed
            .header("access-control-allow-methods")
            .contains("POST")
    );
    assert!(
        allowed
            .header("access-control-allow-headers")
            .contains("if-match")
    );
    assert_eq!(refused.status, 400);
}

#[tokio::test]
async fn cors_responses_expose_the_headers_clients_read() {
    let app = spawn_app(backends()[0]).await;

    let response = app
        .call(
            Method::GET,
            "/v1/",
            None,
            None,
            &[("origin", "https://notes.example")],
        )
        .await;

    assert_eq!(response.header("access-control-allow-origin"), "*");
    let exposed = response.header("access-control-expose-headers");
    for name in [
        "ETag",
        "Next-Page",
        "Total-Records",
        "Retry-After",
        "Backoff",
    ] {
        assert!(exposed.contains(name), "{exposed}");
    }
}

#[tokio::test]
async fn accept_without_json_is_a_406() {
    let app = spawn_app(backends()[0]).await;

    let response = app
        .call(Method::GET, "/v1/", None, None, &[("accept", "text/html")])
        .await;

    assert_eq!(response.status, 406);
    assert_eq!(response.json()["errno"], 107);
}

#[tokio::test]
async fn undecodable_path_parameters_are_a_kinto_400() {
    let app = spawn_app(backends()[0]).await;

    let response = app
        .get_as("/v1/buckets/%FF%FE", crate::helpers::ALICE)
        .await;

    assert_eq!(response.status, 400);
    assert_eq!(response.json()["errno"], 107);
}
