//! The `default` bucket: each user's own, created with its collections on
//! first use.

use axum::http::Method;
use serde_json::json;

use crate::helpers::{ALICE, BOB, backends, spawn_app};

#[tokio::test]
async fn default_bucket_is_created_with_its_collection_on_first_use() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let records = "/v1/buckets/default/collections/tasks/records";

        let created = app
            .call(
                Method::POST,
                records,
                Some(ALICE),
                Some(json!({"data": {"title": "milk"}})),
                &[],
            )
            .await;
        let listed = app.get_as(records, ALICE).await;
        let bucket = app.get_as("/v1/", ALICE).await.json()["user"]["bucket"].clone();
        let real = app
            .get_as(
                &format!(
                    "/v1/buckets/{}/collections/tasks/records",
                    bucket.as_str().unwrap()
                ),
                ALICE,
            )
            .await;

        assert_eq!(created.status, 201, "{backend:?}: {}", created.text());
        assert_eq!(listed.json()["data"].as_array().unwrap().len(), 1);
        assert_eq!(real.json()["data"], listed.json()["data"]);
    }
}

#[tokio::test]
async fn default_buckets_are_private_to_each_user() {
    let app = spawn_app(backends()[0]).await;
    let records = "/v1/buckets/default/collections/tasks/records";
    app.call(
        Method::POST,
        records,
        Some(ALICE),
        Some(json!({"data": {}})),
        &[],
    )
    .await;

    let bobs = app.get_as(records, BOB).await;
    let anonymous = app.get(records).await;

    assert_eq!(bobs.status, 200);
    assert_eq!(bobs.json()["data"], json!([]));
    assert_eq!(anonymous.status, 401);
}
