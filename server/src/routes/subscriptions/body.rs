//! Reading a subscription body: each field checked, with a 400 that names
//! it when it is wrong.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use serde_json::{Map, Value};

use super::SubscriptionBody;
use crate::AppState;
use crate::auth::UserId;
use crate::error::ApiError;
use crate::push::{self, Channel};

/// Length of a browser's P-256 public key, uncompressed.
pub(super) const P256DH_BYTES: usize = 65;
/// Length of a browser's authentication secret.
pub(super) const AUTH_BYTES: usize = 16;
/// Most channels one subscription may follow.
const MAX_CHANNELS: usize = 100;

pub(super) fn body_data(body: SubscriptionBody) -> Result<Map<String, Value>, ApiError> {
    match body.data {
        Some(Value::Object(data)) => Ok(data),
        _ => Err(ApiError::invalid("body", "data", "expected an object")),
    }
}

pub(super) fn required_text(data: &Map<String, Value>, name: &str) -> Result<String, ApiError> {
    optional_text(data, name)?
        .ok_or_else(|| ApiError::invalid("body", &format!("data.{name}"), "is required"))
}

pub(super) fn optional_text(
    data: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, ApiError> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ApiError::invalid(
            "body",
            &format!("data.{name}"),
            "expected a string",
        )),
    }
}

/// A key of `keys`, checked to decode to `bytes` bytes and stored as
/// unpadded base64url whatever base64 the browser used.
pub(super) fn key(
    keys: Option<&Map<String, Value>>,
    name: &str,
    bytes: usize,
) -> Result<String, ApiError> {
    let field = format!("data.keys.{name}");
    let text = keys
        .and_then(|keys| keys.get(name))
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("body", &field, "is required"))?;
    let decoded = push::decode_any_base64(text)
        .ok_or_else(|| ApiError::invalid("body", &field, "expected base64url"))?;
    let is_point = name != "p256dh" || decoded.first() == Some(&4);
    if decoded.len() != bytes || !is_point {
        let description = match name {
            "p256dh" => "expected an uncompressed P-256 public key (65 bytes)",
            _ => "expected 16 bytes",
        };
        return Err(ApiError::invalid("body", &field, description));
    }
    Ok(BASE64URL.encode(decoded))
}

pub(super) fn expiration_time(data: &Map<String, Value>) -> Result<Option<i64>, ApiError> {
    match data.get("expirationTime") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_i64().map(Some).ok_or_else(|| {
            ApiError::invalid(
                "body",
                "data.expirationTime",
                "expected epoch milliseconds or null",
            )
        }),
    }
}

/// The channels a body lists, each a bucket or collection URI; `default`
/// stands for the caller's own bucket, as in the object URLs.
pub(super) fn channels(
    state: &AppState,
    user_id: &UserId,
    given: Option<&Value>,
) -> Result<Vec<Channel>, ApiError> {
    let invalid = |description: String| ApiError::invalid("body", "data.channels", description);
    let listed = match given {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(listed)) => listed,
        Some(_) => return Err(invalid("expected a list of URIs".to_owned())),
    };
    if listed.len() > MAX_CHANNELS {
        return Err(invalid(format!("at most {MAX_CHANNELS} channels")));
    }
    let mut channels = Vec::new();
    for uri in listed {
        let text = uri.as_str().unwrap_or_default();
        let mut channel = Channel::parse(text).ok_or_else(|| {
            invalid(format!(
                "{uri} is not /buckets/{{bid}} or /buckets/{{bid}}/collections/{{cid}}"
            ))
        })?;
        if channel.bucket_id == "default" {
            channel.bucket_id = state.auth.default_bucket_id(user_id);
        }
        if !channels.contains(&channel) {
            channels.push(channel);
        }
    }
    Ok(channels)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_checked_and_normalized_to_base64url() {
        let point = [vec![4_u8], vec![7; 64]].concat();
        let standard = base64::engine::general_purpose::STANDARD.encode(&point);
        let keys = json!({ "p256dh": standard, "auth": "AAAAAAAAAAAAAAAAAAAAAA==" });
        let keys = keys.as_object();

        assert_eq!(
            key(keys, "p256dh", P256DH_BYTES).unwrap(),
            BASE64URL.encode(&point)
        );
        assert_eq!(key(keys, "auth", AUTH_BYTES).unwrap().len(), 22);

        let short = json!({ "p256dh": BASE64URL.encode([4_u8; 33]), "auth": "AAAA" });
        assert!(key(short.as_object(), "p256dh", P256DH_BYTES).is_err());
        assert!(key(short.as_object(), "auth", AUTH_BYTES).is_err());
    }
}
