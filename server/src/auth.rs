//! Who is calling: Basic auth credentials turned into a user id, and the
//! principals a request acts as.
//!
//! Any `user:password` pair is accepted and names a user of its own:
//! `basicauth:<hex HMAC-SHA256(key, "user:password")>`. A different password
//! is a different user, and the server never stores either.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::AppState;
use crate::config::Secret;
use crate::storage::{Storage, StorageError, Transaction};

/// The principal of every request, signed in or not.
pub const EVERYONE: &str = "system.Everyone";
/// The principal of every signed-in request.
pub const AUTHENTICATED: &str = "system.Authenticated";

/// The setting that keeps a generated HMAC key across restarts.
const HMAC_KEY_SETTING: &str = "userid_hmac_secret";
/// Size of a generated HMAC key.
const HMAC_KEY_BYTES: usize = 32;

/// A signed-in user's id, such as `basicauth:0fa2…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Derives user ids from credentials with the server's HMAC key.
#[derive(Clone)]
pub struct Authenticator {
    mac: Hmac<Sha256>,
}

impl Authenticator {
    pub fn new(key: &Secret) -> Self {
        let mac = Hmac::new_from_slice(key.expose().as_bytes())
            .expect("HMAC-SHA256 accepts keys of any length");
        Self { mac }
    }

    /// The id of the user who signs in with `user` and `password`.
    pub fn user_id(&self, user: &str, password: &str) -> UserId {
        let mut mac = self.mac.clone();
        mac.update(user.as_bytes());
        mac.update(b":");
        mac.update(password.as_bytes());
        let digest = mac.finalize().into_bytes();
        UserId(format!("basicauth:{}", hex::encode(digest)))
    }

    /// The id of `user_id`'s own bucket (`/buckets/default`): a UUID made of
    /// the first 128 bits of a keyed hash of the user id, stable and not
    /// guessable by other users.
    pub fn default_bucket_id(&self, user_id: &UserId) -> String {
        let mut mac = self.mac.clone();
        mac.update(b"default-bucket:");
        mac.update(user_id.as_str().as_bytes());
        let hex = hex::encode(&mac.finalize().into_bytes()[..16]);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    /// The caller a request's headers describe. Anything but Basic
    /// credentials with a user name (no header, another scheme, bad base64,
    /// an empty user name) is an anonymous caller.
    pub fn caller(&self, headers: &HeaderMap) -> Caller {
        let user_id = basic_credentials(headers)
            .filter(|(user, _)| !user.is_empty())
            .map(|(user, password)| self.user_id(&user, &password));
        Caller {
            user_id,
            groups: Vec::new(),
        }
    }
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authenticator([redacted])")
    }
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `None` for an anonymous caller.
    pub user_id: Option<UserId>,
    /// URIs of the groups the caller is a member of, once looked up.
    pub groups: Vec<String>,
}

impl Caller {
    /// Everything the caller acts as: their user id, `system.Everyone`,
    /// `system.Authenticated` when signed in, and their groups.
    pub fn principals(&self) -> Vec<String> {
        let mut principals = match &self.user_id {
            Some(user_id) => vec![
                user_id.as_str().to_owned(),
                EVERYONE.to_owned(),
                AUTHENTICATED.to_owned(),
            ],
            None => vec![EVERYONE.to_owned()],
        };
        principals.extend(self.groups.iter().cloned());
        principals
    }

    /// The caller with the groups whose members include them.
    ///
    /// # Errors
    ///
    /// `StorageError::Database` when the groups cannot be read.
    pub async fn with_groups(&self, tx: &mut dyn Transaction) -> Result<Self, StorageError> {
        let groups = tx.groups_with_member(&self.principals()).await?;
        Ok(Self {
            user_id: self.user_id.clone(),
            groups,
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(state.auth.caller(&parts.headers))
    }
}

/// The HMAC key: the configured one, else the one stored in the database,
/// generated on first start.
///
/// # Errors
///
/// `StorageError::Database` when the stored key cannot be read or written.
pub async fn load_hmac_key(
    configured: Option<&Secret>,
    storage: &dyn Storage,
) -> Result<Secret, StorageError> {
    if let Some(key) = configured {
        return Ok(key.clone());
    }

    let mut bytes = [0_u8; HMAC_KEY_BYTES];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    let candidate = hex::encode(bytes);
    let mut tx = storage.begin_write().await?;
    let key = tx.setting_or_insert(HMAC_KEY_SETTING, &candidate).await?;
    tx.commit().await?;

    tracing::warn!(
        is_new = key == candidate,
        "KINTO_PUSH_USERID_HMAC_SECRET is not set: user ids derive from a key kept in the database"
    );
    Ok(Secret::from(key))
}

/// The user name and password of a `Basic` `Authorization` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = BASE64.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn authenticator() -> Authenticator {
        Authenticator::new(&Secret::from("conformance-suite-not-a-secret".to_owned()))
    }

    fn headers_with(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(authorization).unwrap();
        headers.insert(header::AUTHORIZATION, value);
        headers
    }

    fn basic(credentials: &str) -> HeaderMap {
        headers_with(&format!("Basic {}", BASE64.encode(credentials)))
    }

    #[test]
    fn user_id_is_the_hmac_of_the_credentials() {
        let user_id = authenticator().user_id("alice", "alice-s3cret");

        assert_eq!(
            user_id.as_str(),
            "basicauth:0fa286bb8299112b98642fe264870d70b08258a899838128d36841eba57bb30e"
        );
    }

    #[test]
    fn another_password_is_another_user() {
        let auth = authenticator();

        assert_ne!(auth.user_id("alice", "one"), auth.user_id("alice", "two"));
    }

    #[test]
    fn basic_credentials_sign_the_caller_in() {
        let caller = authenticator().caller(&basic("alice:alice-s3cret"));

        let expected = authenticator().user_id("alice", "alice-s3cret");
        assert_eq!(caller.user_id, Some(expected));
        assert_eq!(caller.principals()[1..], [EVERYONE, AUTHENTICATED]);
    }

    #[test]
    fn password_may_contain_colons() {
        let caller = authenticator().caller(&basic("bob:a:b:c"));

        assert_eq!(
            caller.user_id,
            Some(authenticator().user_id("bob", "a:b:c"))
        );
    }

    #[test]
    fn unusable_credentials_leave_the_caller_anonymous() {
        let auth = authenticator();

        for headers in [
            HeaderMap::new(),
            basic(":password"),
            basic("no-colon"),
            headers_with("Basic !!!not-base64!!!"),
            headers_with("Bearer abc"),
        ] {
            let caller = auth.caller(&headers);
            assert_eq!(caller.user_id, None, "{headers:?}");
            assert_eq!(caller.principals(), [EVERYONE]);
        }
    }

    #[tokio::test]
    async fn generated_key_is_kept_across_restarts() {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("db.sqlite3").display());
        let url = url.parse().unwrap();

        let first = load_hmac_key(
            None,
            crate::storage::connect(&url, 1).await.unwrap().as_ref(),
        )
        .await
        .unwrap();
        let second = load_hmac_key(
            None,
            crate::storage::connect(&url, 1).await.unwrap().as_ref(),
        )
        .await
        .unwrap();

        assert_eq!(first.expose(), second.expose());
        assert_eq!(first.expose().len(), HMAC_KEY_BYTES * 2);
    }

    #[tokio::test]
    async fn configured_key_wins() {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("db.sqlite3").display());
        let storage = crate::storage::connect(&url.parse().unwrap(), 1)
            .await
            .unwrap();
        let configured = Secret::from("from-the-environment".to_owned());

        let key = load_hmac_key(Some(&configured), storage.as_ref())
            .await
            .unwrap();

        assert_eq!(key.expose(), "from-the-environment");
    }

    #[test]
    fn scheme_is_case_insensitive() {
        let headers = headers_with(&format!("basic {}", BASE64.encode("alice:pw")));

        assert!(authenticator().caller(&headers).user_id.is_some());
    }
}
