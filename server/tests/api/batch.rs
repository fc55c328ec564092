//! `POST /v1/batch`: sub-requests in order, in one transaction, with the
//! batch's defaults and credentials.

use axum::http::Method;
use serde_json::{Value, json};

use crate::helpers::{ALICE, TestApp, backends, spawn_app};

async fn batch(app: &TestApp, body: Value) -> crate::helpers::TestResponse {
    app.call(Method::POST, "/v1/batch", Some(ALICE), Some(body), &[])
        .await
}

fn statuses(response: &crate::helpers::TestResponse) -> Vec<u64> {
    response.json()["responses"]
        .as_array()
        .expect("a list of responses")
        .iter()
        .map(|response| response["status"].as_u64().expect("a status"))
        .collect()
}

#[tokio::test]
async fn batch_runs_requests_in_order_and_answers_each() {
    for backend in backends() {
        let app = spawn_app(backend).await;

        let response = batch(
            &app,
            json!({ "requests": [
                { "method": "PUT", "path": "/buckets/b" },
                { "method": "PUT", "path": "/v1/buckets/b/collections/c" },
                { "method": "PUT", "path": "/buckets/b/collections/c/records/r1",
                  "body": { "data": { "title": "milk" } } },
                { "path": "/buckets/b/collections/c/records/r1" },
            ]}),
        )
        .await;

        assert_eq!(response.status, 200, "{backend:?}: {}", response.text());
        assert_eq!(statuses(&response), [201, 201, 201, 200]);
        let last = &response.json()["responses"][3];
        assert_eq!(last["path"], "/v1/buckets/b/collections/c/records/r1");
        assert_eq!(last["body"]["data"]["title"], "milk");
    }
}

#[tokio::test]
async fn defaults_are_merged_into_every_request() {
    let app = spawn_app(backends()[0]).await;
    app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;
    app.put_ok(ALICE, "/v1/buckets/b/collections/c", json!({}))
        .await;

    let response = batch(
        &app,
        json!({
            "defaults": { "method": "PUT", "body": { "data": { "done": false } } },
            "requests": [
                { "path": "/buckets/b/collections/c/records/a",
                  "body": { "data": { "title": "one" } } },
                { "path": "/buckets/b/collections/c/records/b",
                  "body": { "data": { "title": "two", "done": true } } },
            ],
        }),
    )
    .await;

    assert_eq!(statuses(&response), [201, 201]);
    let a = app
        .get_as("/v1/buckets/b/collections/c/records/a", ALICE)
        .await;
    let b = app
        .get_as("/v1/buckets/b/collections/c/records/b", ALICE)
        .await;
    assert_eq!(
        a.json()["data"],
        json!({"id": "a", "title": "one", "done": false,
        "last_modified": a.json()["data"]["last_modified"]})
    );
    assert_eq!(b.json()["data"]["done"], true);
}

#[tokio::test]
async fn failed_sub_requests_are_answered_and_the_rest_is_kept() {
    let app = spawn_app(backends()[0]).await;
    app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;
    app.put_ok(ALICE, "/v1/buckets/b/collections/c", json!({}))
        .await;
    app.put_ok(ALICE, "/v1/buckets/b/collections/c/records/old", json!({}))
        .await;

    let response = batch(
        &app,
        json!({ "requests": [
            { "method": "PUT", "path": "/buckets/b/collections/c/records/old",
              "headers": { "If-None-Match": "*" }, "body": { "data": {} } },
            { "method": "PUT", "path": "/buckets/b/collections/nope/records/x" },
            { "method": "PUT", "path": "/buckets/b/collections/c/records/new" },
        ]}),
    )
    .await;

    assert_eq!(statuses(&response), [412, 404, 201]);
    let new = app
        .get_as("/v1/buckets/b/collections/c/records/new", ALICE)
        .await;
    assert_eq!(new.status, 200);
}

#[tokio::test]
async fn too_many_or_nested_requests_are_a_400() {
    let app = spawn_app(backends()[0]).await;
    let many: Vec<Value> = (0..26).map(|_| json!({ "path": "/" })).collect();

    let too_many = batch(&app, json!({ "requests": many })).await;
    let nested = batch(&app, json!({ "requests": [{ "path": "/batch" }] })).await;

    assert_eq!(too_many.status, 400);
    assert_eq!(too_many.json()["errno"], 107);
    assert_eq!(nested.status, 400);
}

#[tokio::test]
async fn empty_batch_answers_no_responses() {
    let app = spawn_app(backends()[0]).await;

    let response = batch(&app, json!({ "requests": [] })).await;

    assert_eq!(response.status, 200);
    assert_eq!(response.json(), json!({ "responses": [] }));
}
