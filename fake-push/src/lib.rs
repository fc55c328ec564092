//! A Web Push service on loopback that checks what a sender does as strictly
//! as the real ones, for tests and benchmarks.
//!
//! It mints subscriptions (a P-256 key pair and an auth secret each, like a
//! browser), or registers keys a test made itself, receives pushes at their
//! endpoints, checks the headers (`TTL`, `Topic`, `Urgency`,
//! `Content-Encoding`), the VAPID token (an ES256 signature by the `k` key,
//! `aud` equal to its own origin, port included, `exp` within 24 hours, a
//! `sub` contact) and decrypts the `aes128gcm` body. Each subscription can be
//! told to answer with an error, to rate limit, or to answer slowly. In fast
//! mode it skips the decryption and the signature check, to measure a sender
//! rather than itself.
//!
//! Besides the endpoints, it serves a JSON control API for tests in another
//! process (the `fake-push` binary runs the service on its own for the
//! Playwright specs):
//!
//! - `POST /control/subscriptions` mints a subscription, or, with a body
//!   `{"p256dh", "private_key", "auth"}` (base64url), registers those keys;
//!   it answers `{"token", "endpoint", "expirationTime", "keys": {"p256dh",
//!   "auth"}}`.
//! - `GET /control/subscriptions/{token}/messages` lists what the endpoint
//!   accepted: `[{"payload", "ttl", "topic", "urgency"}]`, oldest first.
//! - `PUT /control/subscriptions/{token}/behavior` sets what the endpoint
//!   answers: `{"accept": true}`, `{"status": 410}`, `{"fail_times":
//!   {"status": 500, "times": 2}}`, `{"rate_limit": {"retry_after_secs": 1,
//!   "times": 1}}` or `{"slow_ms": 200}`.
//! - `GET /control/stats` counts the pushes: `{"accepted", "refused",
//!   "refusals": [{"token", "status", "reason"}]}`.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use ece::EcKeyComponents;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;

mod checks;
mod control;
mod endpoint;
mod keys;
#[cfg(test)]
mod sender;

pub use keys::RegisterError;

/// What a subscription's endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behavior {
    /// 201, after the checks.
    Accept,
    /// This status, every time.
    Status(u16),
    /// 429 with this `Retry-After` (in seconds; none when `None`), this many
    /// times, then `Accept`.
    RateLimit {
        retry_after_secs: Option<u64>,
        times: u32,
    },
    /// This status this many times, then `Accept`.
    FailTimes { status: u16, times: u32 },
    /// `Accept`, after waiting this long.
    Slow(Duration),
}

/// A subscription the service minted: what a browser would hand its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeSubscription {
    pub token: String,
    pub endpoint: String,
    /// The public key, base64url of the 65-byte point.
    pub p256dh: String,
    /// The auth secret, base64url of 16 bytes.
    pub auth: String,
}

/// One push that passed the checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub token: String,
    /// The decrypted payload, as JSON (`Value::Null` in fast mode).
    pub payload: Value,
    pub ttl: u64,
    pub topic: Option<String>,
    pub urgency: Option<String>,
    /// The VAPID claims.
    pub claims: Value,
}

/// How [`FakePushService::listen`] runs the service.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Fast mode: the checks of the headers stay, the decryption and the
    /// signature check go.
    pub is_fast: bool,
    /// Print one line per push to standard error: the token, the status
    /// answered and why a push was refused.
    pub logs_pushes: bool,
}

/// A running fake push service; it stops when dropped.
pub struct FakePushService {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    origin: String,
    is_fast: bool,
    logs_pushes: bool,
    subscriptions: Mutex<HashMap<String, Minted>>,
    received: Mutex<Vec<Received>>,
    /// Pushes accepted, in fast mode too.
    accepted: AtomicU64,
    /// Pushes answered with something else than 201.
    refused: Mutex<Vec<(String, u16, String)>>,
    arrived: Notify,
    next_token: AtomicU64,
}

struct Minted {
    components: EcKeyComponents,
    auth: [u8; 16],
    behavior: Behavior,
}

impl FakePushService {
    /// Starts the service on a free loopback port.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start() -> Self {
        Self::start_on_free_port(Options::default()).await
    }

    /// Starts the service in fast mode: the checks of the headers stay, the
    /// decryption and the signature check go.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start_fast() -> Self {
        let options = Options {
            is_fast: true,
            ..Options::default()
        };
        Self::start_on_free_port(options).await
    }

    async fn start_on_free_port(options: Options) -> Self {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        Self::listen(loopback, options)
            .await
            .expect("a free loopback port")
    }

    /// Starts the service on `address` (port 0 picks a free one).
    ///
    /// # Errors
    ///
    /// When `address` cannot be bound.
    pub async fn listen(address: SocketAddr, options: Options) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            origin: format!("http://{address}"),
            is_fast: options.is_fast,
            logs_pushes: options.logs_pushes,
            subscriptions: Mutex::new(HashMap::new()),
            received: Mutex::new(Vec::new()),
            accepted: AtomicU64::new(0),
            refused: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            next_token: AtomicU64::new(1),
        });
        let router = Router::new()
            .route("/push/{token}", post(endpoint::receive))
            .merge(control::router())
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            address,
            shared,
            server,
        })
    }

    /// `http://127.0.0.1:<port>`: what the sender must put in `aud`, and
    /// what to allow in its push origins.
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A new subscription, as a browser's `PushManager.subscribe` makes.
    ///
    /// # Panics
    ///
    /// When the key pair cannot be generated.
    pub fn mint(&self) -> FakeSubscription {
        self.mint_with(Behavior::Accept)
    }

    /// A new subscription whose endpoint answers as `behavior` says.
    ///
    /// # Panics
    ///
    /// When the key pair cannot be generated.
    pub fn mint_with(&self, behavior: Behavior) -> FakeSubscription {
        self.shared.mint(behavior).expect("a P-256 key pair")
    }

    /// A new subscription for keys made elsewhere, the way a test that
    /// plays the browser holds them: `p256dh` (the 65-byte public point),
    /// `private_key` (the 32-byte private scalar) and `auth` (16 bytes), all
    /// base64url. Its endpoint accepts pushes and decrypts them with these
    /// keys.
    ///
    /// # Errors
    ///
    /// [`RegisterError`] when a field does not decode to what it must hold,
    /// or when the private key is not the public key's.
    pub fn register(
        &self,
        p256dh: &str,
        private_key: &str,
        auth: &str,
    ) -> Result<FakeSubscription, RegisterError> {
        let keys = keys::parse_keys(p256dh, private_key, auth)?;
        Ok(self
            .shared
            .insert(keys.components, keys.auth, Behavior::Accept))
    }

    /// Sets how the endpoint of `token` answers from now on; an unknown
    /// token is ignored.
    pub fn set_behavior(&self, token: &str, behavior: Behavior) {
        self.shared.set_behavior(token, behavior);
    }

    /// Every push that passed the checks so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared.received).clone()
    }

    /// The pushes `token` received.
    pub fn received_by(&self, token: &str) -> Vec<Received> {
        self.shared.received_by(token)
    }

    /// How many pushes each subscription received, by token.
    pub fn received_counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for push in lock(&self.shared.received).iter() {
            *counts.entry(push.token.clone()).or_default() += 1;
        }
        counts
    }

    /// How many pushes were accepted with a 201.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// The pushes answered otherwise: token, status and why.
    pub fn refused(&self) -> Vec<(String, u16, String)> {
        lock(&self.shared.refused).clone()
    }

    /// Waits until `accepted()` reaches `count`; false on timeout.
    pub async fn wait_for_accepted(&self, count: u64, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            if self.accepted() >= count {
                return true;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.accepted() >= count;
            }
        }
    }
}

impl Drop for FakePushService {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Shared {
    /// A subscription with fresh keys.
    fn mint(&self, behavior: Behavior) -> Result<FakeSubscription, ece::Error> {
        let (keys, auth) = ece::generate_keypair_and_auth_secret()?;
        let components = keys.raw_components()?;
        Ok(self.insert(components, auth, behavior))
    }

    /// Stores keys under a new token and describes their subscription.
    fn insert(
        &self,
        components: EcKeyComponents,
        auth: [u8; 16],
        behavior: Behavior,
    ) -> FakeSubscription {
        let number = self.next_token.fetch_add(1, Ordering::SeqCst);
        let token = format!("sub{number}");
        let subscription = FakeSubscription {
            endpoint: format!("{}/push/{token}", self.origin),
            token: token.clone(),
            p256dh: BASE64URL.encode(components.public_key()),
            auth: BASE64URL.encode(auth),
        };
        let minted = Minted {
            components,
            auth,
            behavior,
        };
        lock(&self.subscriptions).insert(token, minted);
        subscription
    }

    /// Sets the behavior of `token`; false when there is no such token.
    fn set_behavior(&self, token: &str, behavior: Behavior) -> bool {
        let mut subscriptions = lock(&self.subscriptions);
        let Some(minted) = subscriptions.get_mut(token) else {
            return false;
        };
        minted.behavior = behavior;
        true
    }

    fn has_subscription(&self, token: &str) -> bool {
        lock(&self.subscriptions).contains_key(token)
    }

    fn received_by(&self, token: &str) -> Vec<Received> {
        let received = lock(&self.received);
        received
            .iter()
            .filter(|push| push.token == token)
            .cloned()
            .collect()
    }
}

/// Locks `mutex`, also after a panic in another holder: every update here
/// leaves the data whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn registered_keys_decrypt_what_is_sent_to_them() {
        let fake = FakePushService::start().await;
        let (keys, auth) = ece::generate_keypair_and_auth_secret().unwrap();
        let components = keys.raw_components().unwrap();
        let subscription = fake
            .register(
                &BASE64URL.encode(components.public_key()),
                &BASE64URL.encode(components.private_key()),
                &BASE64URL.encode(auth),
            )
            .unwrap();
        let payload = json!({"channel": "/buckets/b/collections/c"});

        let status = sender::send(
            fake.origin(),
            &subscription.endpoint,
            &subscription.p256dh,
            &subscription.auth,
            &payload,
        )
        .await;

        assert_eq!(status, 201, "{:?}", fake.refused());
        let received = fake.received_by(&subscription.token);
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].payload, payload);
        assert_eq!(received[0].ttl, 60);
    }

    #[tokio::test]
    async fn a_push_signed_for_another_origin_is_refused() {
        let fake = FakePushService::start().await;
        let subscription = fake.mint();

        let status = sender::send(
            "http://127.0.0.1:1",
            &subscription.endpoint,
            &subscription.p256dh,
            &subscription.auth,
            &json!({}),
        )
        .await;

        assert_eq!(status, 400);
        assert_eq!(fake.accepted(), 0);
        assert!(fake.refused()[0].2.starts_with("aud is not"));
    }

    #[tokio::test]
    async fn register_refuses_keys_that_are_not_one_pair() {
        let fake = FakePushService::start().await;
        let minted = fake.mint();
        let (other, _) = ece::generate_keypair_and_auth_secret().unwrap();
        let other_private_key = other.raw_components().unwrap().private_key().to_vec();

        let registered = fake.register(
            &minted.p256dh,
            &BASE64URL.encode(other_private_key),
            &minted.auth,
        );

        assert_eq!(registered.err(), Some(RegisterError::Mismatched));
    }
}
