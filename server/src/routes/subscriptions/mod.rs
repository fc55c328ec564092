//! `/v1/push/subscriptions`: each user's browser push subscriptions and the
//! channels they follow. A user only ever sees and changes their own.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use self::body::{
    AUTH_BYTES, P256DH_BYTES, body_data, channels, expiration_time, key, optional_text,
    required_text,
};
use super::respond;
use crate::AppState;
use crate::auth::{Caller, UserId};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::permissions::Action;
use crate::push::{self, Channel};
use crate::session::Session;
use crate::storage::{DeliveryStats, Subscription, Timestamp, Transaction};

mod body;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/push/subscriptions",
            get(list_subscriptions)
                .post(post_subscription)
                .delete(delete_subscriptions),
        )
        .route(
            "/v1/push/subscriptions/{subscription_id}",
            get(get_subscription)
                .patch(patch_subscription)
                .delete(delete_subscription),
        )
}

#[derive(Debug, Deserialize)]
struct SubscriptionBody {
    data: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct SubscriptionPath {
    subscription_id: String,
}

async fn list_subscriptions(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, ApiError> {
    let user_id = signed_in(&session.caller)?;
    let now = Timestamp::now();
    let mut tx = session.begin_read(state.storage.as_ref()).await?;
    let timestamp = tx
        .push()
        .subscriptions_timestamp(user_id.as_str(), now)
        .await?;
    let subscriptions = tx.push().list_subscriptions(user_id.as_str()).await?;
    session.commit(tx, &state).await?;

    let data: Vec<Value> = subscriptions.iter().map(subscription_json).collect();
    Ok(respond(StatusCode::OK, &json!({ "data": data }), timestamp))
}

/// Stores a subscription, or updates it when the browser sends the same one
/// again; `replaces` removes the caller's subscription of an older endpoint.
async fn post_subscription(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<SubscriptionBody>,
) -> Result<Response, ApiError> {
    let user_id = signed_in(&session.caller)?;
    let data = body_data(body)?;
    let endpoint = required_text(&data, "endpoint")?;
    let checked = state
        .push
        .allowed_origins
        .check(&endpoint)
        .await
        .map_err(|refusal| ApiError::invalid("body", "data.endpoint", refusal.to_string()))?;
    let keys = data.get("keys").and_then(Value::as_object);
    let p256dh = key(keys, "p256dh", P256DH_BYTES)?;
    let auth = key(keys, "auth", AUTH_BYTES)?;
    let expiration_time = expiration_time(&data)?;
    let replaces = optional_text(&data, "replaces")?;
    let given_channels = data.get("channels");
    let wanted = channels(&state, user_id, given_channels)?;

    let now = Timestamp::now();
    let mut tx = session.begin_write(state.storage.as_ref()).await?;
    check_channels(&mut *tx, &session.caller, &wanted).await?;
    let mut followed: Vec<String> = wanted.iter().map(Channel::uri).collect();
    if let Some(old_endpoint) = replaces.filter(|old| *old != endpoint) {
        let old_id = subscription_id(user_id, &old_endpoint);
        let old = tx
            .push()
            .get_subscription(user_id.as_str(), &old_id)
            .await?;
        // A browser that renewed its subscription keeps what it followed,
        // unless it says otherwise. Rights are checked again at every send.
        if let Some(old) = old.filter(|_| given_channels.is_none()) {
            followed = old.channels;
        }
        tx.push()
            .delete_subscription(user_id.as_str(), &old_id)
            .await?;
    }
    let last_modified = tx
        .push()
        .next_subscriptions_timestamp(user_id.as_str(), now)
        .await?;
    let mut subscription = Subscription {
        id: subscription_id(user_id, &endpoint),
        user_id: user_id.as_str().to_owned(),
        endpoint,
        origin: checked.origin,
        p256dh,
        auth,
        expiration_time,
        channels: followed,
        last_modified,
        stats: DeliveryStats::default(),
    };
    let is_new = tx.push().put_subscription(&subscription).await?;
    if let Some(stored) = tx
        .push()
        .get_subscription(user_id.as_str(), &subscription.id)
        .await?
    {
        subscription = stored;
    }
    session.commit(tx, &state).await?;

    tracing::info!(subscription_id = %subscription.id, host = %checked.host, is_new,
        "push subscription stored");
    let status = if is_new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = json!({ "data": subscription_json(&subscription) });
    Ok(respond(status, &body, last_modified))
}

async fn delete_subscriptions(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, ApiError> {
    let user_id = signed_in(&session.caller)?;
    let now = Timestamp::now();
    let mut tx = session.begin_write(state.storage.as_ref()).await?;
    let ids = tx.push().delete_subscriptions_of(user_id.as_str()).await?;
    let timestamp = tx
        .push()
        .next_subscriptions_timestamp(user_id.as_str(), now)
        .await?;
    session.commit(tx, &state).await?;

    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({ "id": id, "last_modified": timestamp, "deleted": true }))
        .collect();
    Ok(respond(StatusCode::OK, &json!({ "data": data }), timestamp))
}

async fn get_subscription(
    State(state): State<AppState>,
    session: Session,
    ApiPath(path): ApiPath<SubscriptionPath>,
) -> Result<Response, ApiError> {
    let user_id = signed_in(&session.caller)?;
    let mut tx = session.begin_read(state.storage.as_ref()).await?;
    let subscription = tx
        .push()
        .get_subscription(user_id.as_str(), &path.subscription_id)
        .await?
        .ok_or_else(|| missing(&path.subscription_id))?;
    session.commit(tx, &state).await?;

    let body = json!({ "data": subscription_json(&subscription) });
    Ok(respond(StatusCode::OK, &body, subscription.last_modified))
}

/// Changes what a subscription follows (`channels`) or when it expires
/// (`expirationTime`); a new endpoint or new keys are a new subscription.
async fn patch_subscription(
    State(state): State<AppState>,
    session: Session,
    ApiPath(path): ApiPath<SubscriptionPath>,
    ApiJson(body): ApiJson<SubscriptionBody>,
) -> Result<Response, ApiError> {
    let user_id = signed_in(&session.caller)?;
    let data = body_data(body)?;
    if let Some(name) = ["endpoint", "keys"]
        .iter()
        .find(|name| data.contains_key(**name))
    {
        return Err(ApiError::invalid(
            "body",
            &format!("data.{name}"),
            "cannot change: post the new subscription instead",
        ));
    }
    let wanted = match data.get("channels") {
        Some(given) => Some(channels(&state, user_id, Some(given))?),
        None => None,
    };
    let expiration_time = match data.get("expirationTime") {
        Some(_) => Some(expiration_time(&data)?),
        None => None,
    };

    let now = Timestamp::now();
    let mut tx = session.begin_write(state.storage.as_ref()).await?;
    let mut subscription = tx
        .push()
        .get_subscription(user_id.as_str(), &path.subscription_id)
        .await?
        .ok_or_else(|| missing(&path.subscription_id))?;
    if let Some(wanted) = wanted {
        check_channels(&mut *tx, &session.caller, &wanted).await?;
        subscription.channels = wanted.iter().map(Channel::uri).collect();
    }
    if let Some(expiration_time) = expiration_time {
        subscription.expiration_time = expiration_time;
    }
    subscription.last_modified = tx
        .push()
        .next_subscriptions_timestamp(user_id.as_str(), now)
        .await?;
    tx.push().put_subscription(&subscription).await?;
    session.commit(tx, &state).await?;

    let body = json!({ "data": subscription_json(&subscription) });
    Ok(respond(StatusCode::OK, &body, subscription.last_modified))
}

async fn delete_subscription(
    State(state): State<AppState>,
    session: Session,
    ApiPath(path): ApiPath<SubscriptionPath>,
) -> Result<Response, ApiError> {
    let user_id = signed_in(&session.caller)?;
    let now = Timestamp::now();
    let mut tx = session.begin_write(state.storage.as_ref()).await?;
    let existed = tx
        .push()
        .delete_subscription(user_id.as_str(), &path.subscription_id)
        .await?;
    if !existed {
        return Err(missing(&path.subscription_id));
    }
    let timestamp = tx
        .push()
        .next_subscriptions_timestamp(user_id.as_str(), now)
        .await?;
    session.commit(tx, &state).await?;

    let id = &path.subscription_id;
    let body = json!({ "data": { "id": id, "last_modified": timestamp, "deleted": true } });
    Ok(respond(StatusCode::OK, &body, timestamp))
}

/// The caller's user id; subscriptions belong to signed-in users only.
fn signed_in(caller: &Caller) -> Result<&UserId, ApiError> {
    caller.user_id.as_ref().ok_or_else(ApiError::unauthorized)
}

fn missing(id: &str) -> ApiError {
    ApiError::missing_object(id, "subscription")
}

/// A subscription's id: derived from its owner and endpoint, so the same
/// browser subscribing again finds its row, and two users of one browser
/// keep one each.
fn subscription_id(user_id: &UserId, endpoint: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(user_id.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(endpoint.as_bytes());
    hex::encode(&hasher.finalize()[..16])
}

/// What the owner sees of a subscription: never its keys.
fn subscription_json(subscription: &Subscription) -> Value {
    let stats = &subscription.stats;
    let last_error = stats
        .last_error
        .as_ref()
        .map(|error| json!({ "status": error.status, "at": error.at, "reason": error.reason }));
    json!({
        "id": subscription.id,
        "last_modified": subscription.last_modified,
        "endpoint": subscription.endpoint,
        "expirationTime": subscription.expiration_time,
        "channels": subscription.channels,
        "stats": {
            "sent": stats.sent,
            "failed": stats.failed,
            "last_success": stats.last_success,
            "last_error": last_error,
        },
    })
}

/// Following a channel takes `read` on its object; a missing object is
/// refused the same way, so it cannot be told from a forbidden one.
async fn check_channels(
    tx: &mut dyn Transaction,
    caller: &Caller,
    channels: &[Channel],
) -> Result<(), ApiError> {
    if channels.is_empty() {
        return Ok(());
    }
    let principals = caller.with_groups(tx).await?.principals();
    for channel in channels {
        let links = push::channel_permissions(tx, channel).await?;
        let may_read =
            links.is_some_and(|links| push::is_allowed(&links, Action::Read, &principals));
        if !may_read {
            return Err(ApiError::forbidden().with_details(json!({
                "channel": channel.uri(),
                "description": "following a channel takes read permission on it",
            })));
        }
    }
    Ok(())
}
