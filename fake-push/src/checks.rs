//! What a strict push service checks in a push before it accepts it: the
//! headers, the VAPID token and, unless in fast mode, the encryption.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use jwt_simple::prelude::{ECDSAP256PublicKeyLike, ES256PublicKey, VerificationOptions};
use serde_json::Value;

use crate::{Received, Shared, lock};

/// The largest body a push service must accept.
const MAX_BODY_BYTES: usize = 4_096;
/// The furthest in the future a VAPID token may expire.
const MAX_TOKEN_LIFETIME_SECS: u64 = 24 * 60 * 60;

/// Everything a strict push service checks; the reason when one fails.
pub(crate) fn check(
    shared: &Shared,
    token: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Received, String> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let ttl = text("ttl")
        .ok_or("TTL is missing")?
        .parse::<u64>()
        .map_err(|_| "TTL is not a number of seconds")?;
    let topic = text("topic").map(str::to_owned);
    if let Some(topic) = &topic {
        let is_base64url = topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if topic.is_empty() || topic.len() > 32 || !is_base64url {
            return Err("Topic is not 1 to 32 base64url characters".to_owned());
        }
    }
    let urgency = text("urgency").map(str::to_owned);
    if let Some(urgency) = &urgency
        && !matches!(urgency.as_str(), "very-low" | "low" | "normal" | "high")
    {
        return Err("Urgency is not very-low, low, normal or high".to_owned());
    }
    if text("content-encoding") != Some("aes128gcm") {
        return Err("Content-Encoding is not aes128gcm".to_owned());
    }
    if headers.contains_key("encryption") || headers.contains_key("crypto-key") {
        return Err("aes128gcm takes no Encryption or Crypto-Key header".to_owned());
    }
    if body.len() > MAX_BODY_BYTES {
        return Err("the body is over 4096 bytes".to_owned());
    }
    let claims = check_vapid(shared, text("authorization").ok_or("no Authorization")?)?;

    if shared.is_fast {
        return Ok(Received {
            token: token.to_owned(),
            payload: Value::Null,
            ttl,
            topic,
            urgency,
            claims,
        });
    }
    let (components, auth) = {
        let subscriptions = lock(&shared.subscriptions);
        let minted = subscriptions.get(token).ok_or("no such subscription")?;
        (minted.components.clone(), minted.auth)
    };
    let plaintext = ece::decrypt(&components, &auth, body).map_err(|_| "cannot decrypt")?;
    let payload = serde_json::from_slice(&plaintext).map_err(|_| "the payload is not JSON")?;
    Ok(Received {
        token: token.to_owned(),
        payload,
        ttl,
        topic,
        urgency,
        claims,
    })
}

/// Checks `vapid t=<JWT>, k=<key>` and returns the token's claims.
fn check_vapid(shared: &Shared, authorization: &str) -> Result<Value, String> {
    let rest = authorization
        .strip_prefix("vapid ")
        .ok_or("Authorization is not vapid t=…, k=…")?;
    let mut token = None;
    let mut key = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => token = Some(value),
            Some(("k", value)) => key = Some(value),
            _ => {}
        }
    }
    let (token, key) = token.zip(key).ok_or("Authorization lacks t or k")?;
    let key = BASE64URL.decode(key).map_err(|_| "k is not base64url")?;
    if key.len() != 65 {
        return Err("k is not a 65-byte P-256 point".to_owned());
    }
    let payload = token.split('.').nth(1).ok_or("the token is not a JWT")?;
    let claims: Value = BASE64URL
        .decode(payload)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or("the token's claims are not JSON")?;

    if !shared.is_fast {
        let public_key = ES256PublicKey::from_bytes(&key).map_err(|_| "k is not a P-256 key")?;
        let options = VerificationOptions {
            time_tolerance: Some(jwt_simple::prelude::Duration::from_secs(60)),
            ..VerificationOptions::default()
        };
        public_key
            .verify_token::<serde_json::Map<String, Value>>(token, Some(options))
            .map_err(|_| "the token's ES256 signature does not match k")?;
    }
    if claims["aud"].as_str() != Some(shared.origin.as_str()) {
        return Err(format!("aud is not {}", shared.origin));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let exp = claims["exp"].as_u64().ok_or("exp is missing")?;
    if exp <= now || exp > now + MAX_TOKEN_LIFETIME_SECS {
        return Err("exp is not within the next 24 hours".to_owned());
    }
    let sub = claims["sub"].as_str().unwrap_or_default();
    if !(sub.starts_with("mailto:") || sub.starts_with("https://")) {
        return Err("sub is not a mailto: or https: contact".to_owned());
    }
    Ok(claims)
}
