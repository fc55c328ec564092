//! Buckets and collections: creation rights, permissions and their
//! inheritance, what stays hidden, and cascading deletes.

use axum::http::Method;
use serde_json::json;

use crate::helpers::{ALICE, BOB, backends, spawn_app};

#[tokio::test]
async fn signed_in_user_creates_a_bucket_and_owns_it() {
    for backend in backends() {
        let app = spawn_app(backend).await;

        let response = app
            .call(Method::PUT, "/v1/buckets/notes", Some(ALICE), None, &[])
            .await;

        assert_eq!(response.status, 201, "{backend:?}");
        let body = response.json();
        assert_eq!(body["data"]["id"], "notes");
        let alice = app.get_as("/v1/", ALICE).await.json()["user"]["id"].clone();
        assert_eq!(body["permissions"]["write"], json!([alice]));
        let etag = format!("\"{}\"", body["data"]["last_modified"]);
        assert_eq!(response.header("etag"), etag);
    }
}

#[tokio::test]
async fn anonymous_callers_must_sign_in_to_create_a_bucket() {
    let app = spawn_app(backends()[0]).await;

    let response = app
        .call(Method::PUT, "/v1/buckets/notes", None, None, &[])
        .await;

    assert_eq!(response.status, 401);
    assert_eq!(response.json()["errno"], 104);
    assert!(response.header("www-authenticate").starts_with("Basic"));
}

#[tokio::test]
async fn missing_and_forbidden_buckets_look_the_same() {
    let app = spawn_app(backends()[0]).await;
    app.put_ok(ALICE, "/v1/buckets/private", json!({})).await;

    let forbidden = app.get_as("/v1/buckets/private", BOB).await;
    let missing = app.get_as("/v1/buckets/nowhere", BOB).await;
    let anonymous = app.get("/v1/buckets/private/collections").await;

    assert_eq!(forbidden.status, 403);
    assert_eq!(missing.status, 403);
    assert_eq!(forbidden.json()["errno"], missing.json()["errno"]);
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn read_permission_on_a_bucket_holds_for_its_records() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let bob = app.get_as("/v1/", BOB).await.json()["user"]["id"].clone();
        let share = json!({ "permissions": { "read": [bob] } });
        app.call(Method::PUT, "/v1/buckets/b", Some(ALICE), Some(share), &[])
            .await;
        app.put_ok(ALICE, "/v1/buckets/b/collections/c", json!({}))
            .await;
        let records = "/v1/buckets/b/collections/c/records";
        app.put_ok(ALICE, &format!("{records}/r1"), json!({"title": "milk"}))
            .await;

        let read = app.get_as(&format!("{records}/r1"), BOB).await;
        let write = app
            .call(
                Method::PUT,
                &format!("{records}/r1"),
                Some(BOB),
                Some(json!({"data": {"title": "beer"}})),
                &[],
            )
            .await;

        assert_eq!(read.status, 200, "{backend:?}");
        assert_eq!(read.json()["data"]["title"], "milk");
        assert_eq!(read.json()["permissions"], json!({}));
        assert_eq!(write.status, 403);
    }
}

#[tokio::test]
async fn record_create_permission_lets_others_add_records() {
    let app = spawn_app(backends()[0]).await;
    app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;
    let permissions = json!({ "permissions": { "record:create": ["system.Authenticated"] } });
    app.call(
        Method::PUT,
        "/v1/buckets/b/collections/inbox",
        Some(ALICE),
        Some(permissions),
        &[],
    )
    .await;

    let created = app
        .call(
            Method::POST,
            "/v1/buckets/b/collections/inbox/records",
            Some(BOB),
            Some(json!({"data": {"text": "hello"}})),
            &[],
        )
        .await;

    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    let own = app
        .get_as(
            &format!("/v1/buckets/b/collections/inbox/records/{id}"),
            BOB,
        )
        .await;
    assert_eq!(own.status, 200);
}

#[tokio::test]
async fn listing_shows_only_the_buckets_the_caller_can_read() {
    let app = spawn_app(backends()[0]).await;
    app.put_ok(ALICE, "/v1/buckets/alices", json!({})).await;
    app.put_ok(BOB, "/v1/buckets/bobs", json!({})).await;

    let listed = app.get_as("/v1/buckets", BOB).await;

    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["data"][0]["id"], "bobs");
    assert_eq!(listed.json()["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed.header("total-records"), "1");
}

#[tokio::test]
async fn missing_collection_in_a_readable_bucket_is_a_404() {
    let app = spawn_app(backends()[0]).await;
    app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;

    let response = app
        .get_as("/v1/buckets/b/collections/nope/records", ALICE)
        .await;

    assert_eq!(response.status, 404);
    assert_eq!(response.json()["errno"], 111);
}

#[tokio::test]
async fn deleting_a_bucket_removes_everything_in_it() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;
        app.put_ok(ALICE, "/v1/buckets/b/collections/c", json!({}))
            .await;
        let record = "/v1/buckets/b/collections/c/records/r1";
        let before = app.put_ok(ALICE, record, json!({})).await;

        let deleted = app
            .call(Method::DELETE, "/v1/buckets/b", Some(ALICE), None, &[])
            .await;
        app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;
        let collection = app.get_as("/v1/buckets/b/collections/c", ALICE).await;
        app.put_ok(ALICE, "/v1/buckets/b/collections/c", json!({}))
            .await;
        let records = app
            .get_as("/v1/buckets/b/collections/c/records", ALICE)
            .await;

        assert_eq!(deleted.status, 200, "{backend:?}");
        assert_eq!(deleted.json()["data"]["deleted"], true);
        assert_eq!(collection.status, 404);
        assert_eq!(records.json()["data"], json!([]));
        let etag: i64 = records.header("etag").trim_matches('"').parse().unwrap();
        assert!(etag > before["data"]["last_modified"].as_i64().unwrap());
    }
}

#[tokio::test]
async fn unknown_permission_names_are_a_400() {
    let app = spawn_app(backends()[0]).await;
    let body = json!({ "permissions": { "bogus": ["alice"] } });

    let response = app
        .call(Method::PUT, "/v1/buckets/b", Some(ALICE), Some(body), &[])
        .await;

    assert_eq!(response.status, 400);
    assert_eq!(response.json()["errno"], 107);
    assert!(
        response.json()["message"]
            .as_str()
            .unwrap()
            .contains("bogus")
    );
}

#[tokio::test]
async fn permissions_endpoint_lists_what_the_caller_holds() {
    let app = spawn_app(backends()[0]).await;
    app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;
    app.put_ok(ALICE, "/v1/buckets/b/collections/c", json!({}))
        .await;

    let listed = app.get_as("/v1/permissions", ALICE).await;
    let hello = app.get_as("/v1/", ALICE).await.json();

    assert_eq!(listed.status, 200);
    let data = listed.json()["data"].clone();
    assert_eq!(data.as_array().unwrap().len(), 2);
    assert_eq!(data[0]["uri"], "/buckets/b");
    assert_eq!(data[0]["permissions"], json!(["read", "write"]));
    assert_eq!(data[1]["resource_name"], "collection");
    assert!(hello["capabilities"]["permissions_endpoint"].is_object());
}
