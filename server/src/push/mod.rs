//! The push pipeline: every committed change becomes an encrypted Web Push
//! message to each subscription that follows its channel and may read it.
//!
//! - `channel`: channels, and the notifications a request's changes make.
//! - `access`: who may follow a channel, and who still receives it.
//! - `endpoint`: which push services subscriptions may point at.
//! - `vapid`: the server's VAPID key pair and the tokens signed with it.
//! - `sender`: encrypting and posting one message, reading the answer.
//! - `dispatcher`: the background task that empties the outbox.
//! - `recorder`: writes what each send did back to the outbox.
//!
//! A request's notifications are queued in its own transaction
//! ([`Push::enqueue_changes`]), so what commits is always delivered, even
//! across a crash; the dispatcher sends them after the commit.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::config::PushConfig;
use crate::events::Change;
use crate::storage::{
    NewNotification, ResourceName, Scope, Storage, StorageError, Timestamp, Transaction,
};

mod access;
mod channel;
mod dispatcher;
mod endpoint;
mod recorder;
mod sender;
mod vapid;

pub use access::{channel_permissions, is_allowed, principals_of, readers};
pub use channel::{Channel, ChannelChanges, group_by_channel};
pub use dispatcher::Dispatcher;
pub use endpoint::{AllowedOrigins, CheckedEndpoint, EndpointRefusal, PublicResolver};
pub use sender::{Answer, Sender};
pub use vapid::Vapid;

/// The collection metadata field that sets the `TTL` of its messages, in
/// seconds.
const COLLECTION_TTL_FIELD: &str = "push_ttl";
/// The longest `TTL` push services keep (autopush clamps to 60 days).
const MAX_TTL_SECS: i64 = 60 * 24 * 60 * 60;

/// Failures of the push pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the VAPID private key is not a base64url P-256 private key")]
    InvalidVapidKey,
    #[error("cannot sign a VAPID token")]
    Signing,
    #[error("cannot encrypt the message for this subscription")]
    Encryption,
    #[error("cannot set up the HTTP client")]
    Client,
    #[error("the allowed push origins are malformed: {0}")]
    AllowedOrigins(String),
    #[error("storage failed")]
    Storage(#[source] StorageError),
}

/// The push pipeline's settings and shared parts. Cheap to share.
pub struct Push {
    pub vapid: Vapid,
    pub allowed_origins: AllowedOrigins,
    pub sender: Sender,
    pub config: PushConfig,
    /// Woken when deliveries are queued, so they go out at once.
    wake: Notify,
}

impl Push {
    /// Loads the VAPID key (generating it on first start) and sets up the
    /// HTTP client.
    ///
    /// # Errors
    ///
    /// `PushError::InvalidVapidKey`, `PushError::AllowedOrigins`,
    /// `PushError::Client` or `PushError::Storage`.
    pub async fn new(config: &PushConfig, storage: &dyn Storage) -> Result<Self, PushError> {
        let allowed_origins = AllowedOrigins::parse(&config.push_allowed_origins)
            .map_err(PushError::AllowedOrigins)?;
        let vapid = Vapid::load(
            config.vapid_private_key.as_ref(),
            config.vapid_subject.clone(),
            storage,
        )
        .await?;
        if config.vapid_subject.is_none() {
            tracing::warn!(
                "KINTO_PUSH_VAPID_SUBJECT is not set: some push services (Apple's) refuse \
                 messages that carry no contact"
            );
        }
        let timeout = Duration::from_secs(u64::from(config.push_timeout_secs.max(1)));
        let sender = Sender::new(timeout, allowed_origins.resolver())?;
        Ok(Self {
            vapid,
            allowed_origins,
            sender,
            config: config.clone(),
            wake: Notify::new(),
        })
    }

    /// Queues, in `tx`, one notification per channel that `changes` touched
    /// and someone follows. Returns whether anything was queued; call
    /// [`Push::wake`] once `tx` has committed.
    ///
    /// # Errors
    ///
    /// `StorageError::Database` when the database fails: the request fails
    /// with it, since its changes would otherwise go unannounced.
    pub async fn enqueue_changes(
        &self,
        tx: &mut dyn Transaction,
        changes: &[Change],
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut has_queued = false;
        for changed in group_by_channel(changes) {
            let channel = &changed.channel;
            if !tx.push().has_followers(&channel.audience()).await? {
                continue;
            }
            let payload = changed.payload().to_string();
            has_queued |= self.enqueue_message(tx, channel, payload, now).await? > 0;
        }
        Ok(has_queued)
    }

    /// Queues a message of `payload` to the followers of `channel`, who may
    /// read it. Returns how many deliveries it made.
    ///
    /// # Errors
    ///
    /// `StorageError::Database` when the database fails.
    pub async fn enqueue_message(
        &self,
        tx: &mut dyn Transaction,
        channel: &Channel,
        payload: String,
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        let links = channel_permissions(tx, channel).await?.unwrap_or_default();
        let notification = NewNotification {
            channel: channel.uri(),
            audience: channel.audience(),
            payload,
            ttl_secs: self.ttl_of(tx, channel).await?,
            readers: readers(&links),
            created_at: now,
        };
        tx.push().enqueue_notification(&notification).await
    }

    /// Tells the dispatcher that deliveries were queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The hello's `capabilities.webpush`.
    pub fn capability(&self) -> serde_json::Value {
        serde_json::json!({
            "description": "Web Push notifications of the changes in buckets and collections",
            "url": "https://www.rfc-editor.org/rfc/rfc8030",
            "vapid_public_key": self.vapid.public_key(),
        })
    }

    /// The `TTL` of `channel`'s messages: its collection's `push_ttl` when
    /// set, the configured one otherwise.
    async fn ttl_of(
        &self,
        tx: &mut dyn Transaction,
        channel: &Channel,
    ) -> Result<i64, StorageError> {
        let configured = i64::from(self.config.push_ttl_secs);
        let Some(collection_id) = &channel.collection_id else {
            return Ok(configured);
        };
        let collections = Scope::children(channel.bucket_uri(), ResourceName::Collection);
        let collection = tx.get(&collections, collection_id).await?;
        let chosen = collection
            .and_then(|collection| collection.data.get(COLLECTION_TTL_FIELD)?.as_i64())
            .filter(|ttl| *ttl >= 0);
        Ok(chosen.unwrap_or(configured).min(MAX_TTL_SECS))
    }
}

/// Shared by the handlers and the dispatcher.
pub type SharedPush = Arc<Push>;

/// Decodes key material given in either base64 alphabet, padded or not:
/// browsers and key tools disagree, the protocol wants unpadded base64url.
pub fn decode_any_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;

    let url_safe: String = text
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(url_safe)
        .ok()
}
