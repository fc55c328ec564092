//! `POST /v1/push/messages`: a custom notification to everyone who follows a
//! channel and may read it. Sending one takes `write` on the channel.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::permissions::Action;
use crate::push::{self, Channel};
use crate::session::Session;
use crate::storage::Timestamp;

/// Longest title, in characters.
const MAX_TITLE_CHARS: usize = 120;
/// Longest body or URL, in characters; the payload must stay well under the
/// 4 KB push services take.
const MAX_TEXT_CHARS: usize = 1_000;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/push/messages", post(post_message))
}

#[derive(Debug, Deserialize)]
struct MessageBody {
    data: Option<Value>,
}

async fn post_message(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<MessageBody>,
) -> Result<Response, ApiError> {
    let Some(user_id) = &session.caller.user_id else {
        return Err(ApiError::unauthorized());
    };
    let Some(Value::Object(data)) = body.data else {
        return Err(ApiError::invalid("body", "data", "expected an object"));
    };
    let uri = text(&data, "channel", MAX_TEXT_CHARS)?.unwrap_or_default();
    let mut channel = Channel::parse(&uri).ok_or_else(|| {
        ApiError::invalid(
            "body",
            "data.channel",
            "expected /buckets/{bid} or /buckets/{bid}/collections/{cid}",
        )
    })?;
    if channel.bucket_id == "default" {
        channel.bucket_id = state.auth.default_bucket_id(user_id);
    }
    let title = required(&data, "title", MAX_TITLE_CHARS)?;
    let message = required(&data, "body", MAX_TEXT_CHARS)?;
    let url = text(&data, "url", MAX_TEXT_CHARS)?.unwrap_or_else(|| channel.uri());

    let now = Timestamp::now();
    let mut tx = session.begin_write(state.storage.as_ref()).await?;
    let principals = session.caller.with_groups(&mut *tx).await?.principals();
    let links = push::channel_permissions(&mut *tx, &channel).await?;
    if !links.is_some_and(|links| push::is_allowed(&links, Action::Write, &principals)) {
        return Err(ApiError::forbidden());
    }
    let payload = json!({
        "channel": channel.uri(),
        "bucket": channel.bucket_id,
        "collection": channel.collection_id,
        "action": "message",
        "timestamp": now,
        "ids": [],
        "count": 0,
        "title": title,
        "body": message,
        "url": url,
    });
    let queued = state
        .push
        .enqueue_message(&mut *tx, &channel, payload.to_string(), now)
        .await?;
    session.commit(tx, &state).await?;
    if queued > 0 {
        state.push.wake();
    }

    let body = json!({ "data": { "channel": channel.uri(), "subscriptions": queued } });
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}

fn required(data: &Map<String, Value>, name: &str, max_chars: usize) -> Result<String, ApiError> {
    text(data, name, max_chars)?
        .ok_or_else(|| ApiError::invalid("body", &format!("data.{name}"), "is required"))
}

fn text(
    data: &Map<String, Value>,
    name: &str,
    max_chars: usize,
) -> Result<Option<String>, ApiError> {
    let field = format!("data.{name}");
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.chars().count() <= max_chars => Ok(Some(text.clone())),
        Some(Value::String(_)) => Err(ApiError::invalid(
            "body",
            &field,
            format!("at most {max_chars} characters"),
        )),
        Some(_) => Err(ApiError::invalid("body", &field, "expected a string")),
    }
}
