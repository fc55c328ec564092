//! What the push pipeline keeps: subscriptions, the channels they follow,
//! and the outbox of notifications still to deliver.
//!
//! The outbox is written in the transaction of the change it announces, so
//! a change that commits always has its deliveries, and a crash between the
//! commit and the send loses nothing: the rows wait for the next sender.

use async_trait::async_trait;

use super::{StorageError, Timestamp};

/// A browser's push subscription, as its owner gave it, with what happened
/// to the messages sent to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub user_id: String,
    /// Where messages are posted. It works as a credential: never log it.
    pub endpoint: String,
    /// Scheme, host and port of the endpoint: the push service.
    pub origin: String,
    /// The browser's P-256 public key, base64url.
    pub p256dh: String,
    /// The browser's authentication secret, base64url.
    pub auth: String,
    /// When the browser said the subscription expires, in epoch
    /// milliseconds.
    pub expiration_time: Option<i64>,
    pub channels: Vec<String>,
    pub last_modified: Timestamp,
    pub stats: DeliveryStats,
}

/// How deliveries to one subscription went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    pub sent: i64,
    pub failed: i64,
    pub last_success: Option<Timestamp>,
    pub last_error: Option<DeliveryError>,
}

/// The last failure of a delivery: the push service's status (none for a
/// network failure), when, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    pub status: Option<u16>,
    pub at: Timestamp,
    pub reason: String,
}

/// A message for the followers of `channel`, with the principals that may
/// read it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub channel: String,
    /// The channels whose followers get it: `channel` and, for a
    /// collection, its bucket.
    pub audience: Vec<String>,
    /// The JSON the browser receives.
    pub payload: String,
    pub ttl_secs: i64,
    pub readers: Vec<String>,
    pub created_at: Timestamp,
}

/// One message to one subscription, taken from the outbox by a sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    /// Earlier attempts that failed in a way worth retrying.
    pub attempts: i64,
    pub notification_id: i64,
    pub channel: String,
    pub payload: String,
    pub ttl_secs: i64,
    pub readers: Vec<String>,
    pub created_at: Timestamp,
    pub subscription_id: String,
    pub user_id: String,
    pub endpoint: String,
    pub origin: String,
    pub p256dh: String,
    pub auth: String,
}

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Sent,
    Failed(DeliveryError),
    /// The owner may no longer read the channel: nothing was sent.
    Skipped,
}

/// The push tables, in the transaction of a [`super::Transaction`].
///
/// # Errors
///
/// Every method fails with `StorageError::Database` when the database does.
#[async_trait]
pub trait PushTransaction: Send {
    /// The newest timestamp issued among `user_id`'s subscriptions; `now`,
    /// stored, when there was none.
    async fn subscriptions_timestamp(
        &mut self,
        user_id: &str,
        now: Timestamp,
    ) -> Result<Timestamp, StorageError>;

    /// Issues the timestamp of a change to `user_id`'s subscriptions.
    async fn next_subscriptions_timestamp(
        &mut self,
        user_id: &str,
        now: Timestamp,
    ) -> Result<Timestamp, StorageError>;

    /// Stores `subscription` and its channels, keeping the delivery stats
    /// of the one it replaces. Returns whether it is new.
    async fn put_subscription(&mut self, subscription: &Subscription)
    -> Result<bool, StorageError>;

    async fn get_subscription(
        &mut self,
        user_id: &str,
        id: &str,
    ) -> Result<Option<Subscription>, StorageError>;

    /// `user_id`'s subscriptions, newest first.
    async fn list_subscriptions(
        &mut self,
        user_id: &str,
    ) -> Result<Vec<Subscription>, StorageError>;

    /// Deletes one of `user_id`'s subscriptions, with what it still had to
    /// receive. Returns whether it existed.
    async fn delete_subscription(&mut self, user_id: &str, id: &str) -> Result<bool, StorageError>;

    /// Deletes every subscription of `user_id`; returns their ids.
    async fn delete_subscriptions_of(&mut self, user_id: &str)
    -> Result<Vec<String>, StorageError>;

    /// Deletes every subscription with exactly this endpoint, whoever owns
    /// it: the push service said it is gone. Returns how many went.
    async fn delete_endpoint(&mut self, endpoint: &str) -> Result<u64, StorageError>;

    /// Whether any subscription follows one of `channels`.
    async fn has_followers(&mut self, channels: &[String]) -> Result<bool, StorageError>;

    /// Queues `notification` for every subscription following one of its
    /// audience channels, once each. Returns how many deliveries it made;
    /// none stores nothing.
    async fn enqueue_notification(
        &mut self,
        notification: &NewNotification,
    ) -> Result<u64, StorageError>;

    /// Leases up to `limit` deliveries due at `now` until `leased_until`,
    /// oldest due first, leaving out those to `skipped_origins`. Other
    /// senders do not get them until the lease runs out.
    async fn claim_deliveries(
        &mut self,
        now: Timestamp,
        leased_until: Timestamp,
        limit: u32,
        skipped_origins: &[String],
    ) -> Result<Vec<Delivery>, StorageError>;

    /// Ends each delivery with its outcome: removes it from the outbox and
    /// counts it in its subscription's stats, a few statements for the
    /// whole lot.
    async fn finish_deliveries(
        &mut self,
        finished: &[(&Delivery, &DeliveryOutcome)],
        now: Timestamp,
    ) -> Result<(), StorageError>;

    /// Makes `delivery` due again at `due_at`, its lease over; `error`,
    /// when given, is counted as a failed attempt.
    async fn retry_delivery(
        &mut self,
        delivery: &Delivery,
        due_at: Timestamp,
        error: Option<&DeliveryError>,
    ) -> Result<(), StorageError>;

    /// Removes the notifications left with no delivery to make (their
    /// subscriptions went). Returns how many went.
    async fn purge_notifications(&mut self) -> Result<u64, StorageError>;

    /// How many deliveries wait in the outbox, leased or not.
    async fn count_deliveries(&mut self) -> Result<u64, StorageError>;
}
