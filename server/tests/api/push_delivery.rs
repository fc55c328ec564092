//! What reaches the push service: one encrypted, signed message per channel
//! and request to every follower who may read it, and how each answer of
//! the push service is handled.

use std::time::{Duration, Instant};

use axum::http::Method;
use fake_push::{Behavior, FakePushService};
use serde_json::{Value, json};

use crate::helpers::{ALICE, BOB, TestApp, backends, push_config, spawn_app_with};
use crate::subscriptions::{CHANNEL, SUBSCRIPTIONS, app_for, subscribe};

const RECORDS: &str = "/v1/buckets/b/collections/c/records";
/// How long a test waits for the pipeline before failing.
const PATIENCE: Duration = Duration::from_secs(20);

/// Waits until the outbox is empty: everything was sent, or given up on.
async fn outbox_drained(app: &TestApp) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut tx = app.storage.begin_read().await.expect("a transaction");
        let pending = tx
            .push()
            .count_deliveries()
            .await
            .expect("the outbox count");
        drop(tx);
        if pending == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} deliveries still pending"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stats_of(app: &TestApp, credentials: &str) -> Vec<Value> {
    let listing = app.get_as(SUBSCRIPTIONS, credentials).await.json();
    listing["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|subscription| subscription["stats"].clone())
        .collect()
}

#[tokio::test]
async fn a_record_write_reaches_the_follower_encrypted_and_signed() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let browser = fake.mint();
        subscribe(&app, ALICE, &browser, &[CHANNEL]).await;

        app.put_ok(ALICE, &format!("{RECORDS}/r1"), json!({"title": "milk"}))
            .await;

        assert!(
            fake.wait_for_accepted(1, PATIENCE).await,
            "{:?}",
            fake.refused()
        );
        let push = &fake.received_by(&browser.token)[0];
        assert_eq!(push.payload["channel"], CHANNEL, "{backend:?}");
        assert_eq!(push.payload["action"], "create");
        assert_eq!(push.payload["ids"], json!(["r1"]));
        assert!(push.payload.get("title").is_some());
        assert!(
            push.payload.to_string().find("milk").is_none(),
            "never the data"
        );
        assert_eq!(push.ttl, 86_400);
        assert_eq!(push.urgency.as_deref(), Some("normal"));
        assert_eq!(push.topic.as_ref().unwrap().len(), 32);
        assert_eq!(push.claims["aud"], fake.origin());
        outbox_drained(&app).await;
        assert_eq!(stats_of(&app, ALICE).await[0]["sent"], 1);
    }
}

#[tokio::test]
async fn a_batch_of_writes_is_one_message() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let browser = fake.mint();
        subscribe(&app, ALICE, &browser, &["/buckets/b"]).await;
        let requests: Vec<Value> = (0..25)
            .map(|n| {
                let path = format!("{RECORDS}/r{n}");
                json!({"method": "PUT", "path": path, "body": {"data": {}}})
            })
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

        assert_eq!(response.status, 200, "{}", response.text());
        outbox_drained(&app).await;
        let received = fake.received_by(&browser.token);
        assert_eq!(received.len(), 1, "{backend:?}");
        assert_eq!(received[0].payload["count"], 25);
    }
}

#[tokio::test]
async fn every_follower_gets_the_change_once() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let browsers: Vec<_> = (0..40).map(|_| fake.mint()).collect();
        for browser in &browsers {
            // Following both the collection and its bucket still means one
            // message per change.
            subscribe(&app, ALICE, browser, &[CHANNEL, "/buckets/b"]).await;
        }

        app.put_ok(ALICE, &format!("{RECORDS}/r1"), json!({})).await;

        outbox_drained(&app).await;
        for browser in &browsers {
            assert_eq!(fake.received_by(&browser.token).len(), 1, "{backend:?}");
        }
    }
}

#[tokio::test]
async fn a_follower_who_loses_read_access_stops_receiving() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let grant = json!({"permissions": {"read": ["system.Authenticated"]}});
        app.call(
            Method::PATCH,
            "/v1/buckets/b/collections/c",
            Some(ALICE),
            Some(grant),
            &[],
        )
        .await;
        let bobs = fake.mint();
        assert_eq!(subscribe(&app, BOB, &bobs, &[CHANNEL]).await.status, 201);

        let revoke = json!({"permissions": {"read": []}});
        app.call(
            Method::PATCH,
            "/v1/buckets/b/collections/c",
            Some(ALICE),
            Some(revoke),
            &[],
        )
        .await;
        app.put_ok(ALICE, &format!("{RECORDS}/r1"), json!({})).await;

        outbox_drained(&app).await;
        assert!(fake.received_by(&bobs.token).is_empty(), "{backend:?}");
    }
}

#[tokio::test]
async fn a_gone_endpoint_loses_its_subscription_and_only_it() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let gone = fake.mint();
        let alive = fake.mint();
        subscribe(&app, ALICE, &gone, &[CHANNEL]).await;
        subscribe(&app, ALICE, &alive, &[CHANNEL]).await;
        fake.set_behavior(&gone.token, Behavior::Status(410));

        app.put_ok(ALICE, &format!("{RECORDS}/r1"), json!({})).await;

        outbox_drained(&app).await;
        let listing = app.get_as(SUBSCRIPTIONS, ALICE).await.json();
        let endpoints: Vec<&str> = listing["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["endpoint"].as_str().unwrap())
            .collect();
        assert_eq!(endpoints, [alive.endpoint.as_str()], "{backend:?}");
        assert_eq!(fake.received_by(&alive.token).len(), 1);
    }
}

#[tokio::test]
async fn a_rate_limited_service_is_paused_then_retried() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let browser = fake.mint();
        subscribe(&app, ALICE, &browser, &[CHANNEL]).await;
        fake.set_behavior(
            &browser.token,
            Behavior::RateLimit {
                retry_after_secs: Some(1),
                times: 1,
            },
        );
        let started = Instant::now();

        app.put_ok(ALICE, &format!("{RECORDS}/r1"), json!({})).await;

        assert!(fake.wait_for_accepted(1, PATIENCE).await, "{backend:?}");
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "Retry-After is honoured"
        );
        assert_eq!(fake.refused()[0].1, 429);
    }
}

#[tokio::test]
async fn passing_failures_are_retried_until_they_succeed() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let browser = fake.mint();
        subscribe(&app, ALICE, &browser, &[CHANNEL]).await;
        fake.set_behavior(
            &browser.token,
            Behavior::FailTimes {
                status: 503,
                times: 2,
            },
        );

        app.put_ok(ALICE, &format!("{RECORDS}/r1"), json!({})).await;

        assert!(fake.wait_for_accepted(1, PATIENCE).await, "{backend:?}");
        outbox_drained(&app).await;
        let stats = &stats_of(&app, ALICE).await[0];
        assert_eq!(stats["sent"], 1);
        assert_eq!(stats["failed"], 0);
        assert_eq!(stats["last_error"]["status"], 503);
    }
}

#[tokio::test]
async fn a_message_is_given_up_after_the_retry_window() {
    let fake = FakePushService::start().await;
    let mut config = push_config(&[fake.origin()]);
    config.push_retry_secs = 0;
    let app = spawn_app_with(backends()[0], config).await;
    app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;
    let browser = fake.mint();
    subscribe(&app, ALICE, &browser, &["/buckets/b"]).await;
    fake.set_behavior(&browser.token, Behavior::Status(500));

    app.put_ok(ALICE, "/v1/buckets/b/collections/c", json!({}))
        .await;

    outbox_drained(&app).await;
    let stats = &stats_of(&app, ALICE).await[0];
    assert_eq!(stats["failed"], 1);
    assert_eq!(stats["last_error"]["status"], 500);
}

#[tokio::test]
async fn refusals_are_recorded_and_not_retried() {
    for status in [400, 403, 413] {
        let fake = FakePushService::start().await;
        let app = app_for(backends()[0], &fake).await;
        let browser = fake.mint();
        subscribe(&app, ALICE, &browser, &[CHANNEL]).await;
        fake.set_behavior(&browser.token, Behavior::Status(status));

        app.put_ok(ALICE, &format!("{RECORDS}/r1"), json!({})).await;

        outbox_drained(&app).await;
        assert_eq!(fake.refused().len(), 1, "{status}: one attempt only");
        let stats = &stats_of(&app, ALICE).await[0];
        assert_eq!(stats["failed"], 1);
        assert_eq!(stats["last_error"]["status"], status);
    }
}

#[tokio::test]
async fn writers_send_custom_messages_to_a_channel() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let browser = fake.mint();
        subscribe(&app, ALICE, &browser, &[CHANNEL]).await;
        let message = json!({"data": {"channel": CHANNEL, "title": "Hi", "body": "Dinner at 8"}});

        let sent = app
            .call(
                Method::POST,
                "/v1/push/messages",
                Some(ALICE),
                Some(message.clone()),
                &[],
            )
            .await;
        let refused = app
            .call(
                Method::POST,
                "/v1/push/messages",
                Some(BOB),
                Some(message),
                &[],
            )
            .await;

        assert_eq!(sent.status, 202, "{backend:?}: {}", sent.text());
        assert_eq!(sent.json()["data"]["subscriptions"], 1);
        assert_eq!(refused.status, 403);
        assert!(fake.wait_for_accepted(1, PATIENCE).await);
        let push = &fake.received_by(&browser.token)[0];
        assert_eq!(push.payload["title"], "Hi");
        assert_eq!(push.payload["body"], "Dinner at 8");
    }
}

#[tokio::test]
async fn a_collection_sets_the_ttl_of_its_messages() {
    let fake = FakePushService::start().await;
    let app = app_for(backends()[0], &fake).await;
    app.put_ok(
        ALICE,
        "/v1/buckets/b/collections/c",
        json!({"push_ttl": 600}),
    )
    .await;
    let browser = fake.mint();
    subscribe(&app, ALICE, &browser, &[CHANNEL]).await;

    app.put_ok(ALICE, &format!("{RECORDS}/r1"), json!({})).await;

    assert!(fake.wait_for_accepted(1, PATIENCE).await);
    assert_eq!(fake.received_by(&browser.token)[0].ttl, 600);
}

#[tokio::test]
async fn an_expired_subscription_gets_nothing() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let expired = fake.mint();
        let current = fake.mint();
        let mut body = crate::subscriptions::body_of(&expired, &[CHANNEL]);
        body["data"]["expirationTime"] = json!(1_000);
        app.call(Method::POST, SUBSCRIPTIONS, Some(ALICE), Some(body), &[])
            .await;
        subscribe(&app, ALICE, &current, &[CHANNEL]).await;

        app.put_ok(ALICE, &format!("{RECORDS}/r1"), json!({})).await;

        outbox_drained(&app).await;
        assert_eq!(fake.received_by(&current.token).len(), 1, "{backend:?}");
        assert!(fake.received_by(&expired.token).is_empty());
    }
}
