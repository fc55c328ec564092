//! `/v1/push/subscriptions`: who may subscribe to what, what they see of
//! their subscriptions, and the checks every subscription passes.

use axum::http::Method;
use fake_push::{FakePushService, FakeSubscription};
use serde_json::{Value, json};

use crate::helpers::{
    ALICE, BOB, TestApp, TestResponse, backends, push_config, spawn_app_with_push,
};

pub(crate) const SUBSCRIPTIONS: &str = "/v1/push/subscriptions";
pub(crate) const CHANNEL: &str = "/buckets/b/collections/c";

/// An app whose subscriptions may point at `fake`, where Alice owns bucket
/// `b` and its collection `c`.
pub(crate) async fn app_for(backend: crate::helpers::Backend, fake: &FakePushService) -> TestApp {
    let app = spawn_app_with_push(backend, &[fake.origin()]).await;
    app.put_ok(ALICE, "/v1/buckets/b", json!({})).await;
    app.put_ok(ALICE, "/v1/buckets/b/collections/c", json!({}))
        .await;
    app
}

/// The body a page posts: the browser's `toJSON()` plus the channels.
pub(crate) fn body_of(subscription: &FakeSubscription, channels: &[&str]) -> Value {
    json!({"data": {
        "endpoint": subscription.endpoint,
        "expirationTime": null,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        "channels": channels,
    }})
}

pub(crate) async fn subscribe(
    app: &TestApp,
    credentials: &str,
    subscription: &FakeSubscription,
    channels: &[&str],
) -> TestResponse {
    let body = body_of(subscription, channels);
    app.call(
        Method::POST,
        SUBSCRIPTIONS,
        Some(credentials),
        Some(body),
        &[],
    )
    .await
}

#[tokio::test]
async fn the_hello_gives_the_vapid_public_key() {
    let fake = FakePushService::start().await;
    let app = app_for(backends()[0], &fake).await;

    let hello = app.get("/v1/").await.json();

    let key = hello["capabilities"]["webpush"]["vapid_public_key"]
        .as_str()
        .unwrap();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key)
        .unwrap();
    assert_eq!(bytes.len(), 65);
    assert_eq!(bytes[0], 4);
}

#[tokio::test]
async fn subscriptions_need_a_signed_in_user() {
    let fake = FakePushService::start().await;
    let app = app_for(backends()[0], &fake).await;
    let body = body_of(&fake.mint(), &[CHANNEL]);

    let response = app
        .call(Method::POST, SUBSCRIPTIONS, None, Some(body), &[])
        .await;
    let listing = app.get(SUBSCRIPTIONS).await;

    assert_eq!(response.status, 401);
    assert_eq!(listing.status, 401);
}

#[tokio::test]
async fn posting_the_same_subscription_again_updates_it() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let browser = fake.mint();

        let first = subscribe(&app, ALICE, &browser, &[CHANNEL]).await;
        let again = subscribe(&app, ALICE, &browser, &["/buckets/b"]).await;

        assert_eq!(first.status, 201, "{backend:?}: {}", first.text());
        assert_eq!(again.status, 200, "{}", again.text());
        assert_eq!(first.json()["data"]["id"], again.json()["data"]["id"]);
        let listing = app.get_as(SUBSCRIPTIONS, ALICE).await;
        let data = listing.json()["data"].clone();
        assert_eq!(data.as_array().unwrap().len(), 1);
        assert_eq!(data[0]["channels"], json!(["/buckets/b"]));
        assert_eq!(data[0]["stats"]["sent"], 0);
        assert!(data[0].get("keys").is_none(), "keys are never shown");
        assert!(listing.header("etag").starts_with('"'));
    }
}

#[tokio::test]
async fn replaces_removes_the_rotated_endpoint() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let old = fake.mint();
        let new = fake.mint();
        subscribe(&app, ALICE, &old, &[CHANNEL]).await;

        let mut body = body_of(&new, &[CHANNEL]);
        body["data"]["replaces"] = json!(old.endpoint);
        let response = app
            .call(Method::POST, SUBSCRIPTIONS, Some(ALICE), Some(body), &[])
            .await;

        assert_eq!(response.status, 201, "{}", response.text());
        let listing = app.get_as(SUBSCRIPTIONS, ALICE).await.json();
        let endpoints: Vec<&str> = listing["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["endpoint"].as_str().unwrap())
            .collect();
        assert_eq!(endpoints, [new.endpoint.as_str()], "{backend:?}");
    }
}

#[tokio::test]
async fn a_replacement_without_channels_keeps_the_old_ones() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let old = fake.mint();
        let new = fake.mint();
        subscribe(&app, ALICE, &old, &[CHANNEL]).await;

        let mut body = body_of(&new, &[]);
        body["data"].as_object_mut().unwrap().remove("channels");
        body["data"]["replaces"] = json!(old.endpoint);
        let response = app
            .call(Method::POST, SUBSCRIPTIONS, Some(ALICE), Some(body), &[])
            .await;

        assert_eq!(response.status, 201, "{}", response.text());
        let listing = app.get_as(SUBSCRIPTIONS, ALICE).await.json();
        assert_eq!(listing["data"].as_array().unwrap().len(), 1, "{backend:?}");
        assert_eq!(listing["data"][0]["endpoint"], json!(new.endpoint));
        assert_eq!(listing["data"][0]["channels"], json!([CHANNEL]));
    }
}

#[tokio::test]
async fn users_only_ever_see_their_own_subscriptions() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let created = subscribe(&app, ALICE, &fake.mint(), &[CHANNEL])
            .await
            .json();
        let id = created["data"]["id"].as_str().unwrap();
        let one = format!("{SUBSCRIPTIONS}/{id}");

        let listed = app.get_as(SUBSCRIPTIONS, BOB).await;
        let fetched = app.get_as(&one, BOB).await;
        let deleted = app.call(Method::DELETE, &one, Some(BOB), None, &[]).await;
        let emptied = app
            .call(Method::DELETE, SUBSCRIPTIONS, Some(BOB), None, &[])
            .await;

        assert_eq!(listed.json()["data"], json!([]), "{backend:?}");
        assert_eq!(fetched.status, 404);
        assert_eq!(deleted.status, 404);
        assert_eq!(emptied.json()["data"], json!([]));
        assert_eq!(app.get_as(&one, ALICE).await.status, 200);
    }
}

#[tokio::test]
async fn following_a_channel_takes_read_permission() {
    let fake = FakePushService::start().await;
    let app = app_for(backends()[0], &fake).await;

    let forbidden = subscribe(&app, BOB, &fake.mint(), &[CHANNEL]).await;
    let missing = subscribe(&app, BOB, &fake.mint(), &["/buckets/nothing"]).await;
    let grant = json!({"permissions": {"read": ["system.Authenticated"]}});
    let granted = app
        .call(
            Method::PATCH,
            "/v1/buckets/b/collections/c",
            Some(ALICE),
            Some(grant),
            &[],
        )
        .await;
    let allowed = subscribe(&app, BOB, &fake.mint(), &[CHANNEL]).await;

    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.json()["errno"], 121);
    assert_eq!(missing.status, 403, "a missing bucket looks forbidden");
    assert_eq!(granted.status, 200);
    assert_eq!(allowed.status, 201, "{}", allowed.text());
}

#[tokio::test]
async fn every_refusal_is_a_400_that_says_why() {
    let fake = FakePushService::start().await;
    let app = app_for(backends()[0], &fake).await;
    let browser = fake.mint();
    let base = body_of(&browser, &[CHANNEL]);
    let with = |pointer: &str, value: Value| {
        let mut body = base.clone();
        *body.pointer_mut(pointer).unwrap() = value;
        body
    };
    let cases = [
        (
            with("/data/endpoint", json!("https://evil.example/push")),
            "data.endpoint",
        ),
        (with("/data/endpoint", json!("ftp://x/y")), "data.endpoint"),
        (
            with("/data/endpoint", json!("http://10.0.0.1/push")),
            "data.endpoint",
        ),
        (with("/data/keys/p256dh", json!("AAAA")), "data.keys.p256dh"),
        (with("/data/keys/auth", json!("AAAAAAAA")), "data.keys.auth"),
        (
            with("/data/channels", json!(["/buckets/b/groups/g"])),
            "data.channels",
        ),
        (with("/data/channels", json!("/buckets/b")), "data.channels"),
        (
            with("/data/expirationTime", json!("tomorrow")),
            "data.expirationTime",
        ),
    ];

    for (body, field) in cases {
        let response = app
            .call(Method::POST, SUBSCRIPTIONS, Some(ALICE), Some(body), &[])
            .await;

        assert_eq!(response.status, 400, "{field}: {}", response.text());
        assert_eq!(response.json()["details"][0]["name"], field);
    }
    assert_eq!(
        app.get_as(SUBSCRIPTIONS, ALICE).await.json()["data"],
        json!([])
    );
}

#[tokio::test]
async fn patch_changes_the_channels_and_delete_removes_one_or_all() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let first = subscribe(&app, ALICE, &fake.mint(), &[CHANNEL])
            .await
            .json();
        subscribe(&app, ALICE, &fake.mint(), &[CHANNEL]).await;
        let one = format!("{SUBSCRIPTIONS}/{}", first["data"]["id"].as_str().unwrap());

        let patch = json!({"data": {"channels": ["/buckets/b"]}});
        let patched = app
            .call(Method::PATCH, &one, Some(ALICE), Some(patch), &[])
            .await;
        let moved = json!({"data": {"endpoint": "https://fcm.googleapis.com/x"}});
        let refused = app
            .call(Method::PATCH, &one, Some(ALICE), Some(moved), &[])
            .await;
        let deleted = app.call(Method::DELETE, &one, Some(ALICE), None, &[]).await;
        let emptied = app
            .call(Method::DELETE, SUBSCRIPTIONS, Some(ALICE), None, &[])
            .await;

        assert_eq!(patched.status, 200, "{backend:?}: {}", patched.text());
        assert_eq!(patched.json()["data"]["channels"], json!(["/buckets/b"]));
        assert_eq!(refused.status, 400);
        assert_eq!(deleted.json()["data"]["deleted"], true);
        assert_eq!(emptied.json()["data"].as_array().unwrap().len(), 1);
        assert_eq!(
            app.get_as(SUBSCRIPTIONS, ALICE).await.json()["data"],
            json!([])
        );
    }
}

#[tokio::test]
async fn the_generated_vapid_key_is_kept_across_restarts() {
    for backend in backends() {
        let fake = FakePushService::start().await;
        let app = app_for(backend, &fake).await;
        let hello = app.get("/v1/").await.json();

        let restarted = server::push::Push::new(&push_config(&[]), app.storage.as_ref())
            .await
            .unwrap();

        let key = &hello["capabilities"]["webpush"]["vapid_public_key"];
        assert_eq!(restarted.vapid.public_key(), key, "{backend:?}");
    }
}
