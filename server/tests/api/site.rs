//! The web app's pages and the service worker script.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::json;

use crate::helpers::{ALICE, TestApp, TestResponse, backends, spawn_app};

#[tokio::test]
async fn start_page_is_rendered_on_the_server() {
    let app = spawn_app(backends()[0]).await;

    let response = app.get("/").await;

    assert_eq!(response.status, 200);
    let html = response.text();
    assert!(html.contains("<title>kinto-push</title>"), "{html}");
    assert!(
        html.contains("Sign in"),
        "signed out, the page offers to sign in"
    );
    assert!(html.contains(r#"name="password""#));
    assert!(html.contains("/pkg/kinto-push.js"));
}

/// Posts the sign-in form as a browser without scripts does, and returns
/// the session cookie the answer sets.
async fn sign_in(app: &TestApp, name: &str, password: &str) -> String {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/sign_in")
        .header("host", "127.0.0.1:8888")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .header("referer", "http://127.0.0.1:8888/")
        .body(Body::from(format!("name={name}&password={password}")))
        .expect("a valid request");
    let response = app.send(request).await;
    assert_eq!(response.status, 302, "{}", response.text());
    assert!(
        response
            .header("location")
            .starts_with("http://127.0.0.1:8888/")
    );
    let cookie = response.header("set-cookie").to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap_or_default().to_owned()
}

async fn get_with_cookie(app: &TestApp, uri: &str, cookie: &str) -> TestResponse {
    let request = Request::builder()
        .uri(uri)
        .header("host", "127.0.0.1:8888")
        .header("cookie", cookie)
        .body(Body::empty())
        .expect("a valid request");
    app.send(request).await
}

#[tokio::test]
async fn a_signed_in_page_is_rendered_with_the_users_data() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let cookie = sign_in(&app, "alice", "alice-s3cret").await;
        let hello = app.get_as("/v1/", ALICE).await.json();
        let bucket = hello["user"]["bucket"].as_str().unwrap().to_owned();
        let collection = "/v1/buckets/default/collections/groceries";
        app.put_ok(ALICE, collection, json!({"title": "Groceries"}))
            .await;
        app.call(
            Method::POST,
            &format!("{collection}/records"),
            Some(ALICE),
            Some(json!({"data": {"title": "Oat milk", "text": "Two cartons"}})),
            &[],
        )
        .await;

        let board = get_with_cookie(&app, "/", &cookie).await.text();
        let page = get_with_cookie(&app, &format!("/collections/{bucket}/groceries"), &cookie)
            .await
            .text();

        let user_id = hello["user"]["id"].as_str().unwrap();
        assert!(
            board.contains(user_id),
            "{backend:?}: the board shows the user id"
        );
        assert!(board.contains("Groceries"), "{board}");
        assert!(
            page.contains("Oat milk") && page.contains("Two cartons"),
            "{page}"
        );
    }
}

#[tokio::test]
async fn forms_post_to_server_functions_without_scripts() {
    let app = spawn_app(backends()[0]).await;
    let cookie = sign_in(&app, "alice", "alice-s3cret").await;

    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/create_collection")
        .header("host", "127.0.0.1:8888")
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .header("referer", "http://127.0.0.1:8888/")
        .body(Body::from("title=Trip+to+Lyon"))
        .expect("a valid request");
    let created = app.send(request).await;

    assert_eq!(created.status, 302, "{}", created.text());
    let listing = app
        .get_as("/v1/buckets/default/collections", ALICE)
        .await
        .json();
    assert_eq!(listing["data"][0]["id"], "trip-to-lyon");
    assert_eq!(listing["data"][0]["title"], "Trip to Lyon");
    assert!(
        listing["data"][0]["schema"].is_object(),
        "notes are checked by the server"
    );
}

#[tokio::test]
async fn unknown_page_is_a_404() {
    let app = spawn_app(backends()[0]).await;

    let response = app.get("/no/such/page").await;

    assert_eq!(response.status, 404);
    assert!(response.text().contains("Page not found"));
}
