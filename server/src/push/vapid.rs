//! The server's VAPID identity: its P-256 key pair, and the signed tokens
//! (`Authorization: vapid t=…, k=…`) push services check.
//!
//! A token is valid for one push-service origin until it expires, so one is
//! signed per origin and reused for every message to it until it nears its
//! end, which saves an ECDSA signature per message.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use web_push::{PartialVapidSignatureBuilder, SubscriptionInfo, VapidSignature};

use crate::config::{Secret, VapidSubject};
use crate::storage::{Storage, StorageError};

use super::PushError;

/// The setting that keeps a generated private key across restarts.
const PRIVATE_KEY_SETTING: &str = "vapid_private_key";
/// How long a signed token is valid; push services refuse more than 24 h.
const TOKEN_LIFETIME_SECS: u64 = 12 * 60 * 60;
/// A token this close to its expiry is signed again.
const TOKEN_RENEWAL_SECS: u64 = 60 * 60;

/// The key pair and the tokens signed with it.
pub struct Vapid {
    signer: PartialVapidSignatureBuilder,
    public_key: String,
    subject: Option<VapidSubject>,
    tokens: Mutex<HashMap<String, Token>>,
}

#[derive(Clone)]
struct Token {
    signature: VapidSignature,
    expires_at: u64,
}

impl Vapid {
    /// The configured key, or the one kept in the database, generated and
    /// stored on first start.
    ///
    /// # Errors
    ///
    /// `PushError::InvalidVapidKey` when the key is not a base64url P-256
    /// private key, `PushError::Storage` when the database fails.
    pub async fn load(
        configured: Option<&Secret>,
        subject: Option<VapidSubject>,
        storage: &dyn Storage,
    ) -> Result<Self, PushError> {
        let private_key = match configured {
            Some(key) => key.expose().trim().to_owned(),
            None => stored_or_generated_key(storage).await?,
        };
        let private_key = normalized_private_key(&private_key)?;
        let signer = web_push::VapidSignatureBuilder::from_base64_no_sub(&private_key)
            .map_err(|_| PushError::InvalidVapidKey)?;
        let public_key = BASE64URL.encode(signer.get_public_key());
        Ok(Self {
            signer,
            public_key,
            subject,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// The public key, base64url of the 65-byte uncompressed point: what
    /// browsers take as `applicationServerKey`.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// A token for `origin` (`https://host[:port]`, the audience), valid for
    /// at least another hour.
    ///
    /// # Errors
    ///
    /// `PushError::Signing` when the token cannot be signed.
    pub fn token_for(&self, origin: &str) -> Result<VapidSignature, PushError> {
        let now = unix_now();
        if let Ok(tokens) = self.tokens.lock()
            && let Some(token) = tokens.get(origin)
            && token.expires_at > now + TOKEN_RENEWAL_SECS
        {
            return Ok(token.signature.clone());
        }

        let expires_at = now + TOKEN_LIFETIME_SECS;
        // The builder wants a subscription only to guess the audience, which
        // is given here (with the port, which its guess drops).
        let any_subscription = SubscriptionInfo::new(origin, "", "");
        let mut builder = self.signer.clone().add_sub_info(&any_subscription);
        builder.add_claim("aud", origin);
        builder.add_claim("exp", expires_at);
        if let Some(subject) = &self.subject {
            builder.add_claim("sub", subject.as_str());
        }
        let signature = builder.build().map_err(|_| PushError::Signing)?;
        if let Ok(mut tokens) = self.tokens.lock() {
            let token = Token {
                signature: signature.clone(),
                expires_at,
            };
            tokens.insert(origin.to_owned(), token);
        }
        Ok(signature)
    }
}

/// The key as 32 bytes of unpadded base64url, whatever base64 it came in;
/// a scalar with leading zero bytes may have been written shorter.
fn normalized_private_key(encoded: &str) -> Result<String, PushError> {
    let bytes = super::decode_any_base64(encoded).ok_or(PushError::InvalidVapidKey)?;
    if bytes.is_empty() || bytes.len() > 32 {
        return Err(PushError::InvalidVapidKey);
    }
    let mut scalar = [0_u8; 32];
    scalar[32 - bytes.len()..].copy_from_slice(&bytes);
    Ok(BASE64URL.encode(scalar))
}

async fn stored_or_generated_key(storage: &dyn Storage) -> Result<String, PushError> {
    let candidate = generate_private_key()?;
    let mut tx = storage.begin_write().await?;
    let key = tx
        .setting_or_insert(PRIVATE_KEY_SETTING, &candidate)
        .await?;
    tx.commit().await?;
    if key == candidate {
        tracing::warn!(
            "KINTO_PUSH_VAPID_PRIVATE_KEY is not set: generated a VAPID key and kept it in \
             the database; keep it, since every subscription is bound to it"
        );
    }
    Ok(key)
}

/// A fresh private key, base64url of 32 random bytes that make a valid
/// P-256 scalar.
fn generate_private_key() -> Result<String, PushError> {
    for _ in 0..8 {
        let mut bytes = [0_u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| PushError::Signing)?;
        let encoded = BASE64URL.encode(bytes);
        if web_push::VapidSignatureBuilder::from_base64_no_sub(&encoded).is_ok() {
            return Ok(encoded);
        }
    }
    Err(PushError::Signing)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

impl From<StorageError> for PushError {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vapid() -> Vapid {
        let key = generate_private_key().unwrap();
        Vapid {
            signer: web_push::VapidSignatureBuilder::from_base64_no_sub(&key).unwrap(),
            public_key: String::new(),
            subject: Some("mailto:ops@example.com".parse().unwrap()),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    fn claims(signature: &VapidSignature) -> serde_json::Value {
        let payload = signature.auth_t.split('.').nth(1).unwrap();
        serde_json::from_slice(&BASE64URL.decode(payload).unwrap()).unwrap()
    }

    #[test]
    fn tokens_name_the_exact_origin_and_expire_within_a_day() {
        let vapid = vapid();

        let signature = vapid.token_for("http://127.0.0.1:9000").unwrap();

        let claims = claims(&signature);
        assert_eq!(claims["aud"], "http://127.0.0.1:9000");
        assert_eq!(claims["sub"], "mailto:ops@example.com");
        let exp = claims["exp"].as_u64().unwrap();
        assert!(exp > unix_now() && exp <= unix_now() + 24 * 60 * 60);
        assert_eq!(signature.auth_k.len(), 65);
    }

    #[test]
    fn private_keys_are_read_in_any_base64_and_padded_to_32_bytes() {
        let short = BASE64URL.encode([9_u8; 31]);
        let padded = base64::engine::general_purpose::STANDARD.encode([9_u8; 32]);

        let normalized = BASE64URL
            .decode(normalized_private_key(&short).unwrap())
            .unwrap();

        assert_eq!(normalized.len(), 32);
        assert_eq!(normalized[0], 0);
        assert_eq!(
            normalized_private_key(&padded).unwrap(),
            BASE64URL.encode([9_u8; 32])
        );
        assert!(normalized_private_key(&BASE64URL.encode([1_u8; 33])).is_err());
        assert!(normalized_private_key("not base64!").is_err());
    }

    #[test]
    fn one_token_serves_an_origin_until_it_nears_expiry() {
        let vapid = vapid();

        let first = vapid.token_for("https://fcm.googleapis.com").unwrap();
        let again = vapid.token_for("https://fcm.googleapis.com").unwrap();
        let other = vapid
            .token_for("https://updates.push.services.mozilla.com")
            .unwrap();

        assert_eq!(first, again);
        assert_ne!(first.auth_t, other.auth_t);
    }
}
