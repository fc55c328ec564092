//! The JSON control API under `/control`: what a test in another process
//! does through the library's methods (the routes are listed in the crate's
//! documentation).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Behavior, FakeSubscription, Shared, keys, lock};

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/control/subscriptions", post(post_subscription))
        .route(
            "/control/subscriptions/{token}/messages",
            get(list_messages),
        )
        .route("/control/subscriptions/{token}/behavior", put(put_behavior))
        .route("/control/stats", get(get_stats))
}

/// Keys a test made, to register instead of minting new ones.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysBody {
    p256dh: String,
    private_key: String,
    auth: String,
}

/// What an endpoint answers, as JSON: exactly one of these keys.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum BehaviorBody {
    Accept(bool),
    Status(u16),
    FailTimes {
        status: u16,
        times: u32,
    },
    RateLimit {
        retry_after_secs: Option<u64>,
        times: u32,
    },
    SlowMs(u64),
}

/// Mints a subscription, or registers the keys in the body when there is
/// one: 201 and the subscription.
async fn post_subscription(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let is_empty = body.iter().all(u8::is_ascii_whitespace);
    let subscription = if is_empty || body.as_ref() == b"{}" {
        match shared.mint(Behavior::Accept) {
            Ok(subscription) => subscription,
            Err(_) => return failure(StatusCode::INTERNAL_SERVER_ERROR, "no key pair"),
        }
    } else {
        let keys: KeysBody = match serde_json::from_slice(&body) {
            Ok(keys) => keys,
            Err(error) => return failure(StatusCode::BAD_REQUEST, &error.to_string()),
        };
        match keys::parse_keys(&keys.p256dh, &keys.private_key, &keys.auth) {
            Ok(keys) => shared.insert(keys.components, keys.auth, Behavior::Accept),
            Err(error) => return failure(StatusCode::BAD_REQUEST, &error.to_string()),
        }
    };

    (
        StatusCode::CREATED,
        axum::Json(subscription_json(&subscription)),
    )
        .into_response()
}

/// Longest a listing waits for a new push.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// `?after=N&wait_ms=M`: wait up to `M` ms for more than `N` pushes.
#[derive(Deserialize)]
struct ListQuery {
    after: Option<usize>,
    wait_ms: Option<u64>,
}

/// The pushes the endpoint of `token` accepted, oldest first. With `after`
/// and `wait_ms`, answers as soon as more than `after` arrived, or when the
/// wait is over: a test hears of a push without polling.
async fn list_messages(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    if !shared.has_subscription(&token) {
        return failure(StatusCode::NOT_FOUND, "no such subscription");
    }
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(0)).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    let after = query.after.unwrap_or(0);
    let received = loop {
        // Made before reading, so a push arriving in between still wakes it.
        let arrived = shared.arrived.notified();
        let received = shared.received_by(&token);
        if received.len() > after || tokio::time::timeout_at(deadline, arrived).await.is_err() {
            break received;
        }
    };

    let messages: Vec<Value> = received
        .into_iter()
        .map(|push| {
            json!({
                "payload": push.payload,
                "ttl": push.ttl,
                "topic": push.topic,
                "urgency": push.urgency,
            })
        })
        .collect();
    axum::Json(messages).into_response()
}

/// Sets what the endpoint of `token` answers from now on: 204.
async fn put_behavior(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let body: BehaviorBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(error) => return failure(StatusCode::BAD_REQUEST, &error.to_string()),
    };
    let behavior = match to_behavior(body) {
        Ok(behavior) => behavior,
        Err(message) => return failure(StatusCode::BAD_REQUEST, message),
    };

    if !shared.set_behavior(&token, behavior) {
        return failure(StatusCode::NOT_FOUND, "no such subscription");
    }
    StatusCode::NO_CONTENT.into_response()
}

/// How many pushes were accepted and refused, and why each refusal was.
async fn get_stats(State(shared): State<Arc<Shared>>) -> Response {
    let refusals: Vec<Value> = lock(&shared.refused)
        .iter()
        .map(|(token, status, reason)| json!({"token": token, "status": status, "reason": reason}))
        .collect();

    axum::Json(json!({
        "accepted": shared.accepted.load(Ordering::SeqCst),
        "refused": refusals.len(),
        "refusals": refusals,
    }))
    .into_response()
}

/// The behavior a body asks for; a status must be an error a push service
/// could answer (400 to 599).
fn to_behavior(body: BehaviorBody) -> Result<Behavior, &'static str> {
    let is_error = |status: u16| (400..=599).contains(&status);
    match body {
        BehaviorBody::Accept(true) => Ok(Behavior::Accept),
        BehaviorBody::Accept(false) => Err("accept takes true"),
        BehaviorBody::Status(status) | BehaviorBody::FailTimes { status, .. }
            if !is_error(status) =>
        {
            Err("status is not between 400 and 599")
        }
        BehaviorBody::Status(status) => Ok(Behavior::Status(status)),
        BehaviorBody::FailTimes { status, times } => Ok(Behavior::FailTimes { status, times }),
        BehaviorBody::RateLimit {
            retry_after_secs,
            times,
        } => Ok(Behavior::RateLimit {
            retry_after_secs,
            times,
        }),
        BehaviorBody::SlowMs(millis) => Ok(Behavior::Slow(Duration::from_millis(millis))),
    }
}

/// A subscription as a page's `PushSubscription.toJSON()` gives it, plus
/// the token the control API knows it by.
fn subscription_json(subscription: &FakeSubscription) -> Value {
    json!({
        "token": subscription.token,
        "endpoint": subscription.endpoint,
        "expirationTime": null,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    })
}

fn failure(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;

    use super::*;
    use crate::{FakePushService, sender};

    async fn post_json(url: &str, body: Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(url)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn put_behavior(fake: &FakePushService, token: &str, body: Value) -> u16 {
        let url = format!("{}/control/subscriptions/{token}/behavior", fake.origin());
        let response = reqwest::Client::new()
            .put(url)
            .json(&body)
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    }

    async fn get_json(url: &str) -> (u16, Value) {
        let response = reqwest::get(url).await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn send_to(fake: &FakePushService, subscription: &Value, payload: &Value) -> u16 {
        sender::send(
            fake.origin(),
            subscription["endpoint"].as_str().unwrap(),
            subscription["keys"]["p256dh"].as_str().unwrap(),
            subscription["keys"]["auth"].as_str().unwrap(),
            payload,
        )
        .await
    }

    async fn mint_over_http(fake: &FakePushService) -> Value {
        let url = format!("{}/control/subscriptions", fake.origin());
        let response = reqwest::Client::new().post(url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 201);
        response.json().await.unwrap()
    }

    #[tokio::test]
    async fn posting_no_body_mints_a_subscription_on_the_fakes_origin() {
        let fake = FakePushService::start().await;

        let subscription = mint_over_http(&fake).await;

        let token = subscription["token"].as_str().unwrap();
        let endpoint = subscription["endpoint"].as_str().unwrap();
        assert_eq!(endpoint, format!("{}/push/{token}", fake.origin()));
        let p256dh = subscription["keys"]["p256dh"].as_str().unwrap();
        assert_eq!(BASE64URL.decode(p256dh).unwrap().len(), 65);
        assert_eq!(subscription["expirationTime"], Value::Null);
    }

    #[tokio::test]
    async fn posted_keys_are_registered_and_their_messages_listed() {
        let fake = FakePushService::start().await;
        let (keys, auth) = ece::generate_keypair_and_auth_secret().unwrap();
        let components = keys.raw_components().unwrap();
        let body = json!({
            "p256dh": BASE64URL.encode(components.public_key()),
            "private_key": BASE64URL.encode(components.private_key()),
            "auth": BASE64URL.encode(auth),
        });
        let url = format!("{}/control/subscriptions", fake.origin());
        let subscription: Value = post_json(&url, body).await.json().await.unwrap();
        let payload = json!({"channel": "/buckets/b", "action": "update"});

        let status = send_to(&fake, &subscription, &payload).await;

        assert_eq!(status, 201);
        let token = subscription["token"].as_str().unwrap();
        let url = format!("{}/control/subscriptions/{token}/messages", fake.origin());
        let (status, messages) = get_json(&url).await;
        assert_eq!(status, 200);
        assert_eq!(messages[0]["payload"], payload);
        assert_eq!(messages[0]["urgency"], "normal");
    }

    #[tokio::test]
    async fn a_listing_can_wait_for_the_next_push() {
        let fake = FakePushService::start().await;
        let subscription = mint_over_http(&fake).await;
        let token = subscription["token"].as_str().unwrap().to_owned();
        let url = format!(
            "{}/control/subscriptions/{token}/messages?after=0&wait_ms=5000",
            fake.origin()
        );

        let waiting = tokio::spawn(async move { get_json(&url).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let status = send_to(&fake, &subscription, &json!({"n": 1})).await;
        let (listed, messages) = waiting.await.unwrap();

        assert_eq!(status, 201);
        assert_eq!(listed, 200);
        assert_eq!(messages[0]["payload"], json!({"n": 1}));
    }

    #[tokio::test]
    async fn posted_keys_that_do_not_decode_get_400() {
        let fake = FakePushService::start().await;
        let url = format!("{}/control/subscriptions", fake.origin());
        let body = json!({"p256dh": "!", "private_key": "AA", "auth": "AA"});

        let response = post_json(&url, body).await;

        assert_eq!(response.status().as_u16(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "p256dh is not base64url");
    }

    #[tokio::test]
    async fn a_status_behavior_is_what_the_endpoint_answers() {
        let fake = FakePushService::start().await;
        let subscription = mint_over_http(&fake).await;
        let token = subscription["token"].as_str().unwrap();

        let set = put_behavior(&fake, token, json!({"status": 410})).await;
        let status = send_to(&fake, &subscription, &json!({})).await;

        assert_eq!(set, 204);
        assert_eq!(status, 410);
    }

    #[tokio::test]
    async fn a_rate_limit_lasts_its_number_of_times() {
        let fake = FakePushService::start().await;
        let subscription = mint_over_http(&fake).await;
        let token = subscription["token"].as_str().unwrap();
        let rate_limit = json!({"rate_limit": {"retry_after_secs": 1, "times": 1}});

        put_behavior(&fake, token, rate_limit).await;
        let first = send_to(&fake, &subscription, &json!({})).await;
        let second = send_to(&fake, &subscription, &json!({})).await;

        assert_eq!((first, second), (429, 201));
    }

    #[tokio::test]
    async fn unknown_or_invalid_behaviors_get_400() {
        let fake = FakePushService::start().await;
        let subscription = mint_over_http(&fake).await;
        let token = subscription["token"].as_str().unwrap();

        for body in [
            json!({"status": 201}),
            json!({"accept": false}),
            json!({"explode": true}),
            json!({"status": 410, "slow_ms": 5}),
        ] {
            assert_eq!(
                put_behavior(&fake, token, body.clone()).await,
                400,
                "{body}"
            );
        }
    }

    #[tokio::test]
    async fn unknown_tokens_get_404() {
        let fake = FakePushService::start().await;
        let messages = format!("{}/control/subscriptions/nobody/messages", fake.origin());

        let (listed, _) = get_json(&messages).await;
        let set = put_behavior(&fake, "nobody", json!({"accept": true})).await;

        assert_eq!((listed, set), (404, 404));
    }

    #[tokio::test]
    async fn stats_count_accepted_and_refused_pushes() {
        let fake = FakePushService::start().await;
        let accepting = mint_over_http(&fake).await;
        let failing = mint_over_http(&fake).await;
        let token = failing["token"].as_str().unwrap();
        put_behavior(
            &fake,
            token,
            json!({"fail_times": {"status": 500, "times": 1}}),
        )
        .await;

        send_to(&fake, &accepting, &json!({})).await;
        send_to(&fake, &failing, &json!({})).await;

        let (_, stats) = get_json(&format!("{}/control/stats", fake.origin())).await;
        assert_eq!(stats["accepted"], 1);
        assert_eq!(stats["refused"], 1);
        assert_eq!(stats["refusals"][0]["status"], 500);
        assert_eq!(stats["refusals"][0]["token"], token);
    }
}
