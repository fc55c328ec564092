//! A Web Push service on loopback that checks what a sender does as strictly
//! as the real ones, for tests and benchmarks.
//!
//! It mints subscriptions (a P-256 key pair and an auth secret each, like a
//! browser), receives pushes at their endpoints, checks the headers (`TTL`,
//! `Topic`, `Urgency`, `Content-Encoding`), the VAPID token (an ES256
//! signature by the `k` key, `aud` equal to its own origin, port included,
//! `exp` within 24 hours, a `sub` contact) and decrypts the `aes128gcm`
//! body. Each subscription can be told to answer with an error, to rate
//! limit, or to answer slowly. In fast mode it skips the decryption and the
//! signature check, to measure a sender rather than itself.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use ece::EcKeyComponents;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;

mod checks;

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

/// A running fake push service; it stops when dropped.
pub struct FakePushService {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    origin: String,
    is_fast: bool,
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
        Self::start_with(false).await
    }

    /// Starts the service in fast mode: the checks of the headers stay, the
    /// decryption and the signature check go.
    pub async fn start_fast() -> Self {
        Self::start_with(true).await
    }

    async fn start_with(is_fast: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let address = listener.local_addr().expect("the bound address");
        let shared = Arc::new(Shared {
            origin: format!("http://{address}"),
            is_fast,
            subscriptions: Mutex::new(HashMap::new()),
            received: Mutex::new(Vec::new()),
            accepted: AtomicU64::new(0),
            refused: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            next_token: AtomicU64::new(1),
        });
        let router = Router::new()
            .route("/push/{token}", post(receive))
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            address,
            shared,
            server,
        }
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
        let (keys, auth) = ece::generate_keypair_and_auth_secret().expect("a P-256 key pair");
        let components = keys.raw_components().expect("the key pair's components");
        let public_key = keys.pub_as_raw().expect("the public key");
        let number = self.shared.next_token.fetch_add(1, Ordering::SeqCst);
        let token = format!("sub{number}");
        let minted = Minted {
            components,
            auth,
            behavior,
        };
        self.lock_subscriptions().insert(token.clone(), minted);
        FakeSubscription {
            endpoint: format!("{}/push/{token}", self.shared.origin),
            token,
            p256dh: BASE64URL.encode(public_key),
            auth: BASE64URL.encode(auth),
        }
    }

    /// Sets how the endpoint of `token` answers from now on.
    pub fn set_behavior(&self, token: &str, behavior: Behavior) {
        if let Some(minted) = self.lock_subscriptions().get_mut(token) {
            minted.behavior = behavior;
        }
    }

    /// Every push that passed the checks so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .map(|received| received.clone())
            .unwrap_or_default()
    }

    /// The pushes `token` received.
    pub fn received_by(&self, token: &str) -> Vec<Received> {
        let mut received = self.received();
        received.retain(|push| push.token == token);
        received
    }

    /// How many pushes each subscription received, by token.
    pub fn received_counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        if let Ok(received) = self.shared.received.lock() {
            for push in received.iter() {
                *counts.entry(push.token.clone()).or_default() += 1;
            }
        }
        counts
    }

    /// How many pushes were accepted with a 201.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// The pushes answered otherwise: token, status and why.
    pub fn refused(&self) -> Vec<(String, u16, String)> {
        self.shared
            .refused
            .lock()
            .map(|refused| refused.clone())
            .unwrap_or_default()
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

    fn lock_subscriptions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Minted>> {
        self.shared
            .subscriptions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for FakePushService {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let behavior = {
        let mut subscriptions = shared
            .subscriptions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(minted) = subscriptions.get_mut(&token) else {
            return refuse(&shared, &token, 404, "no such subscription");
        };
        next_behavior(&mut minted.behavior)
    };
    match behavior {
        Behavior::Accept => {}
        Behavior::Slow(delay) => tokio::time::sleep(delay).await,
        Behavior::Status(status) | Behavior::FailTimes { status, .. } => {
            return refuse(&shared, &token, status, "told to fail");
        }
        Behavior::RateLimit {
            retry_after_secs, ..
        } => {
            let mut response = refuse(&shared, &token, 429, "told to rate limit");
            if let Some(seconds) = retry_after_secs {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            return response;
        }
    }

    match checks::check(&shared, &token, &headers, &body) {
        Ok(received) => {
            if let Ok(mut all) = shared.received.lock() {
                all.push(received);
            }
            shared.accepted.fetch_add(1, Ordering::SeqCst);
            shared.arrived.notify_waiters();
            StatusCode::CREATED.into_response()
        }
        Err(reason) => refuse(&shared, &token, 400, &reason),
    }
}

/// The answer for this push; a behavior that lasts a number of times counts
/// one down, and turns into `Accept` once spent.
fn next_behavior(behavior: &mut Behavior) -> Behavior {
    let now = behavior.clone();
    match behavior {
        Behavior::RateLimit { times, .. } | Behavior::FailTimes { times, .. } => {
            if *times == 0 {
                *behavior = Behavior::Accept;
                return Behavior::Accept;
            }
            *times -= 1;
        }
        Behavior::Accept | Behavior::Status(_) | Behavior::Slow(_) => {}
    }
    now
}

fn refuse(shared: &Shared, token: &str, status: u16, reason: &str) -> Response {
    if let Ok(mut refused) = shared.refused.lock() {
        refused.push((token.to_owned(), status, reason.to_owned()));
    }
    shared.arrived.notify_waiters();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, reason.to_owned()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_behaviors_count_down_then_accept() {
        let mut behavior = Behavior::FailTimes {
            status: 500,
            times: 1,
        };

        assert!(matches!(
            next_behavior(&mut behavior),
            Behavior::FailTimes { .. }
        ));
        assert_eq!(next_behavior(&mut behavior), Behavior::Accept);
        assert_eq!(behavior, Behavior::Accept);
    }
}
