//! Change events: one per committed request, resource kind, parent and
//! action; nothing for a request that fails.

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use serde_json::{Value, json};
use server::events::{ChangeAction, ChangeEvent};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::TryRecvError;

use crate::helpers::{ALICE, TestApp, backends, spawn_app};

const RECORDS: &str = "/v1/buckets/b/collections/c/records";

async fn app_with_collection() -> TestApp {
    let app = spawn_app(backends()[0]).await;
    app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;
    app.put_ok(ALICE, "/v1/buckets/b/collections/c", json!({}))
        .await;
    app
}

async fn next_event(events: &mut Receiver<Arc<ChangeEvent>>) -> Arc<ChangeEvent> {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("an event within 5 s")
        .expect("the channel is open")
}

#[tokio::test]
async fn a_committed_write_publishes_one_event() {
    let app = app_with_collection().await;
    let mut events = app.events.subscribe();

    let written = app
        .put_ok(ALICE, &format!("{RECORDS}/r1"), json!({"title": "milk"}))
        .await;

    let event = next_event(&mut events).await;
    assert_eq!(event.action, ChangeAction::Create);
    assert_eq!(event.resource_name, "record");
    assert_eq!(event.bucket_id.as_deref(), Some("b"));
    assert_eq!(event.collection_id.as_deref(), Some("c"));
    assert!(event.user_id.as_deref().unwrap().starts_with("basicauth:"));
    assert_eq!(event.impacted_objects.len(), 1);
    assert_eq!(event.impacted_objects[0].new, written["data"]);
    assert_eq!(
        event.timestamp.as_millis(),
        written["data"]["last_modified"]
    );
}

#[tokio::test]
async fn a_batch_of_writes_to_one_collection_is_one_event() {
    let app = app_with_collection().await;
    let mut events = app.events.subscribe();
    let requests: Vec<Value> = (0..25)
        .map(|n| json!({"method": "PUT", "path": format!("{RECORDS}/r{n}"), "body": {"data": {}}}))
        .collect();

    let response = app
        .call(
            Method::POST,
            "/v1/batch",
            Some(ALICE),
            Some(json!({"requests": requests})),
            &[],
        )
        .await;

    assert_eq!(response.status, 200);
    let event = next_event(&mut events).await;
    assert_eq!(event.impacted_objects.len(), 25);
    assert_eq!(events.try_recv().unwrap_err(), TryRecvError::Empty);
}

#[tokio::test]
async fn a_deletion_carries_the_old_object_and_the_tombstone() {
    let app = app_with_collection().await;
    app.put_ok(ALICE, &format!("{RECORDS}/r1"), json!({"title": "milk"}))
        .await;
    let mut events = app.events.subscribe();

    app.call(
        Method::DELETE,
        &format!("{RECORDS}/r1"),
        Some(ALICE),
        None,
        &[],
    )
    .await;

    let event = next_event(&mut events).await;
    assert_eq!(event.action, ChangeAction::Delete);
    let impacted = &event.impacted_objects[0];
    assert_eq!(impacted.old.as_ref().unwrap()["title"], "milk");
    assert_eq!(impacted.new["deleted"], true);
}

#[tokio::test]
async fn a_failed_write_publishes_nothing() {
    let app = app_with_collection().await;
    app.put_ok(ALICE, &format!("{RECORDS}/r1"), json!({})).await;
    let mut events = app.events.subscribe();

    let refused = app
        .call(
            Method::PUT,
            &format!("{RECORDS}/r1"),
            Some(ALICE),
            Some(json!({"data": {}})),
            &[("if-match", "\"1\"")],
        )
        .await;

    assert_eq!(refused.status, 412);
    assert_eq!(events.try_recv().unwrap_err(), TryRecvError::Empty);
}
