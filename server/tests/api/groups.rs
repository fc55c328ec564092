//! Groups: their URIs are principals, so sharing with a group shares with
//! every member, and only for as long as they are members.

use axum::http::Method;
use serde_json::{Value, json};

use crate::helpers::{ALICE, BOB, TestApp, backends, spawn_app};

async fn user_id(app: &TestApp, credentials: &str) -> Value {
    app.get_as("/v1/", credentials).await.json()["user"]["id"].clone()
}

#[tokio::test]
async fn members_of_a_group_get_what_the_group_is_granted() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let bob = user_id(&app, BOB).await;
        app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;
        app.put_ok(
            ALICE,
            "/v1/buckets/b/groups/family",
            json!({"members": [bob]}),
        )
        .await;
        let share = json!({ "permissions": { "read": ["/buckets/b/groups/family"] } });
        app.call(
            Method::PUT,
            "/v1/buckets/b/collections/c",
            Some(ALICE),
            Some(share),
            &[],
        )
        .await;

        let as_member = app.get_as("/v1/buckets/b/collections/c", BOB).await;
        let hello = app.get_as("/v1/", BOB).await.json();
        app.put_ok(ALICE, "/v1/buckets/b/groups/family", json!({"members": []}))
            .await;
        let after_removal = app.get_as("/v1/buckets/b/collections/c", BOB).await;

        assert_eq!(as_member.status, 200, "{backend:?}");
        let principals = hello["user"]["principals"].as_array().unwrap().clone();
        assert!(principals.contains(&json!("/buckets/b/groups/family")));
        assert_eq!(after_removal.status, 403);
    }
}

#[tokio::test]
async fn group_members_default_to_none_and_must_be_a_list() {
    let app = spawn_app(backends()[0]).await;
    app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;

    let empty = app.put_ok(ALICE, "/v1/buckets/b/groups/g", json!({})).await;
    let invalid = app
        .put_ok_status(
            "/v1/buckets/b/groups/h",
            Some(json!({"data": {"members": "bob"}})),
        )
        .await;

    assert_eq!(empty["data"]["members"], json!([]));
    assert_eq!(invalid, 400);
}
