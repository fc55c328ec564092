//! The web app's pages and the service worker script.

use crate::helpers::{backends, spawn_app};

#[tokio::test]
async fn start_page_is_rendered_on_the_server() {
    let app = spawn_app(backends()[0]).await;

    let response = app.get("/").await;

    assert_eq!(response.status, 200);
    let html = response.text();
    assert!(html.contains("<title>kinto-push</title>"), "{html}");
    assert!(html.contains(r#"data-hydrated="false""#));
    assert!(html.contains("/pkg/kinto-push.js"));
}

#[tokio::test]
async fn unknown_page_is_a_404() {
    let app = spawn_app(backends()[0]).await;

    let response = app.get("/no/such/page").await;

    assert_eq!(response.status, 404);
    assert!(response.text().contains("Page not found"));
}
