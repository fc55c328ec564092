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

/// The parent id under which the timestamps of a user's subscriptions are
/// kept, beside the object sets'.
pub(super) fn timestamps_parent(user_id: &str) -> String {
    format!("/push/{user_id}")
}

/// The resource name of subscriptions in `timestamps`.
pub(super) const SUBSCRIPTIONS: &str = "subscription";

pub(super) const UPSERT_SUBSCRIPTION: &str = "\
    INSERT INTO push_subscriptions \
        (id, user_id, endpoint, origin, p256dh, auth, expiration_time, channels, last_modified) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
    ON CONFLICT (id) DO UPDATE SET \
        endpoint = excluded.endpoint, \
        origin = excluded.origin, \
        p256dh = excluded.p256dh, \
        auth = excluded.auth, \
        expiration_time = excluded.expiration_time, \
        channels = excluded.channels, \
        last_modified = excluded.last_modified";

pub(super) const SUBSCRIPTION_EXISTS: &str = "\
    SELECT COUNT(*) FROM push_subscriptions WHERE id = $1";

pub(super) const DELETE_CHANNELS: &str = "\
    DELETE FROM push_channels WHERE subscription_id = $1";

pub(super) const INSERT_CHANNEL: &str = "\
    INSERT INTO push_channels (channel, subscription_id) VALUES ($1, $2) \
    ON CONFLICT DO NOTHING";

const SUBSCRIPTION_COLUMNS: &str = "\
    id, user_id, endpoint, origin, p256dh, auth, expiration_time, channels, last_modified, \
    sent, failed, last_success, last_error_status, last_error_at, last_error";

pub(super) fn select_subscription() -> String {
    format!("SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE user_id = $1 AND id = $2")
}

pub(super) fn list_subscriptions() -> String {
    format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE user_id = $1 \
         ORDER BY last_modified DESC, id"
    )
}

pub(super) const DELETE_SUBSCRIPTION: &str = "\
    DELETE FROM push_subscriptions WHERE user_id = $1 AND id = $2";

pub(super) const DELETE_SUBSCRIPTIONS_OF: &str = "\
    DELETE FROM push_subscriptions WHERE user_id = $1 RETURNING id";

pub(super) const DELETE_ENDPOINT: &str = "\
    DELETE FROM push_subscriptions WHERE endpoint = $1";

pub(super) const INSERT_NOTIFICATION: &str = "\
    INSERT INTO push_notifications (channel, payload, ttl_secs, readers, created_at) \
    VALUES ($1, $2, $3, $4, $5) RETURNING id";

pub(super) const DELETE_NOTIFICATION_IF_DONE: &str = "\
    DELETE FROM push_notifications WHERE id = $1 \
    AND NOT EXISTS (SELECT 1 FROM push_deliveries WHERE notification_id = $1)";

/// Whether the channels bound from `$1` on have a follower.
pub(super) fn has_followers(channels: usize) -> String {
    let listed: Vec<String> = (0..channels).map(|n| format!("${}", n + 1)).collect();
    format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM push_channels WHERE channel IN ({}) LIMIT 1) AS followers",
        listed.join(", ")
    )
}

/// Queues notification `$1`, due at `$2`, for the followers of the channels
/// bound from `$3` on.
pub(super) fn enqueue_deliveries(channels: usize) -> String {
    let listed: Vec<String> = (0..channels).map(|n| format!("${}", n + 3)).collect();
    format!(
        "INSERT INTO push_deliveries (notification_id, subscription_id, due_at) \
         SELECT DISTINCT $1, subscription_id, $2 FROM push_channels \
         WHERE channel IN ({}) ON CONFLICT DO NOTHING",
        listed.join(", ")
    )
}

/// Due, unleased deliveries with what sending them takes, bound as `$1`
/// (now), `$2` (the limit) and the skipped origins from `$3` on; `locking`
/// ends the query (`FOR UPDATE … SKIP LOCKED` where the database has it).
pub(super) fn claim_deliveries(skipped_origins: usize, locking: &str) -> String {
    let skipped = if skipped_origins == 0 {
        String::new()
    } else {
        let listed: Vec<String> = (0..skipped_origins)
            .map(|n| format!("${}", n + 3))
            .collect();
        format!(" AND s.origin NOT IN ({})", listed.join(", "))
    };
    format!(
        "SELECT d.id, d.attempts, n.id, n.channel, n.payload, n.ttl_secs, n.readers, \
            n.created_at, s.id, s.user_id, s.endpoint, s.origin, s.p256dh, s.auth \
         FROM push_deliveries d \
         JOIN push_notifications n ON n.id = d.notification_id \
         JOIN push_subscriptions s ON s.id = d.subscription_id \
         WHERE d.due_at <= $1 AND (d.leased_until IS NULL OR d.leased_until <= $1){skipped} \
         ORDER BY d.due_at, d.id LIMIT $2{locking}"
    )
}

/// Most values bound to one statement that lists ids.
pub(super) const MAX_LISTED: usize = 500;

/// `$first, $first+1, …` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    let listed: Vec<String> = (first..first + count).map(|n| format!("${n}")).collect();
    listed.join(", ")
}

/// Leases until `$1` the deliveries whose ids are bound from `$2` on.
pub(super) fn lease_deliveries(count: usize) -> String {
    format!(
        "UPDATE push_deliveries SET leased_until = $1 WHERE id IN ({})",
        placeholders(2, count)
    )
}

/// Removes the deliveries whose ids are bound from `$1` on.
pub(super) fn delete_deliveries(count: usize) -> String {
    format!(
        "DELETE FROM push_deliveries WHERE id IN ({})",
        placeholders(1, count)
    )
}

/// Counts `$1` more messages sent, the last at `$2`, for the subscriptions
/// bound from `$3` on.
pub(super) fn count_sent(count: usize) -> String {
    format!(
        "UPDATE push_subscriptions SET sent = sent + $1, last_success = $2 WHERE id IN ({})",
        placeholders(3, count)
    )
}

/// Removes the notifications bound from `$1` on that have no delivery left.
pub(super) fn delete_notifications_if_done(count: usize) -> String {
    format!(
        "DELETE FROM push_notifications WHERE id IN ({}) AND NOT EXISTS \
         (SELECT 1 FROM push_deliveries WHERE notification_id = push_notifications.id)",
        placeholders(1, count)
    )
}

pub(super) const COUNT_FAILED: &str = "\
    UPDATE push_subscriptions SET failed = failed + 1, \
        last_error_status = $2, last_error_at = $3, last_error = $4 \
    WHERE id = $1";

pub(super) const NOTE_ERROR: &str = "\
    UPDATE push_subscriptions SET \
        last_error_status = $2, last_error_at = $3, last_error = $4 \
    WHERE id = $1";

pub(super) const RESCHEDULE_DELIVERY: &str = "\
    UPDATE push_deliveries SET due_at = $2, attempts = $3, leased_until = NULL WHERE id = $1";

pub(super) const PURGE_NOTIFICATIONS: &str = "\
    DELETE FROM push_notifications WHERE NOT EXISTS \
        (SELECT 1 FROM push_deliveries WHERE notification_id = push_notifications.id)";

pub(super) const COUNT_DELIVERIES: &str = "SELECT COUNT(*) FROM push_deliveries";

/// A row of `push_subscriptions` as the `SELECT`s above return it.
#[derive(sqlx::FromRow)]
pub(super) struct SubscriptionRow {
    id: String,
    user_id: String,
    endpoint: String,
    origin: String,
    p256dh: String,
    auth: String,
    expiration_time: Option<i64>,
    channels: String,
    last_modified: Timestamp,
    sent: i64,
    failed: i64,
    last_success: Option<Timestamp>,
    last_error_status: Option<i64>,
    last_error_at: Option<Timestamp>,
    last_error: Option<String>,
}

impl SubscriptionRow {
    pub(super) fn into_subscription(self) -> Subscription {
        let last_error = self.last_error_at.map(|at| DeliveryError {
            status: self
                .last_error_status
                .and_then(|status| u16::try_from(status).ok()),
            at,
            reason: self.last_error.unwrap_or_default(),
        });
        Subscription {
            id: self.id,
            user_id: self.user_id,
            endpoint: self.endpoint,
            origin: self.origin,
            p256dh: self.p256dh,
            auth: self.auth,
            expiration_time: self.expiration_time,
            channels: serde_json::from_str(&self.channels).unwrap_or_default(),
            last_modified: self.last_modified,
            stats: DeliveryStats {
                sent: self.sent,
                failed: self.failed,
                last_success: self.last_success,
                last_error,
            },
        }
    }
}

/// A row of the claim query.
pub(super) type DeliveryRow = (
    i64,
    i64,
    i64,
    String,
    String,
    i64,
    String,
    Timestamp,
    String,
    String,
    String,
    String,
    String,
    String,
);

pub(super) fn into_delivery(row: DeliveryRow) -> Delivery {
    let (id, attempts, notification_id, channel, payload, ttl_secs, readers, created_at) =
        (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7);
    Delivery {
        id,
        attempts,
        notification_id,
        channel,
        payload,
        ttl_secs,
        readers: serde_json::from_str(&readers).unwrap_or_default(),
        created_at,
        subscription_id: row.8,
        user_id: row.9,
        endpoint: row.10,
        origin: row.11,
        p256dh: row.12,
        auth: row.13,
    }
}

/// Implements [`PushTransaction`] for `$name`, the transaction type of a
/// backend (see `sql_transaction!`); `$locking` ends the claim query.
macro_rules! push_transaction {
    ($name:ident, $locking:expr) => {
        #[async_trait::async_trait]
        impl $crate::storage::PushTransaction for $name {
            async fn subscriptions_timestamp(
                &mut self,
                user_id: &str,
                now: Timestamp,
            ) -> Result<Timestamp, StorageError> {
                let parent = push::timestamps_parent(user_id);
                let stored = sqlx::query_scalar(sql::SELECT_TIMESTAMP)
                    .bind(&parent)
                    .bind(push::SUBSCRIPTIONS)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                if let Some(timestamp) = stored {
                    return Ok(timestamp);
                }
                let fixed = sqlx::query(sql::LOCK_TIMESTAMP)
                    .bind(&parent)
                    .bind(push::SUBSCRIPTIONS)
                    .bind(now)
                    .execute(&mut *self.tx)
                    .await;
                match fixed {
                    Ok(_) => Ok(now),
                    // As for the object sets: a SQLite read that cannot
                    // write now reads `now` without keeping it.
                    Err(error) if sql::is_busy(&error) => Ok(now),
                    Err(error) => Err(error.into()),
                }
            }

            async fn next_subscriptions_timestamp(
                &mut self,
                user_id: &str,
                now: Timestamp,
            ) -> Result<Timestamp, StorageError> {
                let timestamp = sqlx::query_scalar(sql::NEXT_TIMESTAMP)
                    .bind(push::timestamps_parent(user_id))
                    .bind(push::SUBSCRIPTIONS)
                    .bind(now)
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(timestamp)
            }

            async fn put_subscription(
                &mut self,
                subscription: &Subscription,
            ) -> Result<bool, StorageError> {
                let existing: i64 = sqlx::query_scalar(push::SUBSCRIPTION_EXISTS)
                    .bind(&subscription.id)
                    .fetch_one(&mut *self.tx)
                    .await?;
                let channels = serde_json::to_string(&subscription.channels)
                    .unwrap_or_else(|_| "[]".to_owned());
                sqlx::query(push::UPSERT_SUBSCRIPTION)
                    .bind(&subscription.id)
                    .bind(&subscription.user_id)
                    .bind(&subscription.endpoint)
                    .bind(&subscription.origin)
                    .bind(&subscription.p256dh)
                    .bind(&subscription.auth)
                    .bind(subscription.expiration_time)
                    .bind(channels)
                    .bind(subscription.last_modified)
                    .execute(&mut *self.tx)
                    .await?;
                sqlx::query(push::DELETE_CHANNELS)
                    .bind(&subscription.id)
                    .execute(&mut *self.tx)
                    .await?;
                for channel in &subscription.channels {
                    sqlx::query(push::INSERT_CHANNEL)
                        .bind(channel)
                        .bind(&subscription.id)
                        .execute(&mut *self.tx)
                        .await?;
                }
                Ok(existing == 0)
            }

            async fn get_subscription(
                &mut self,
                user_id: &str,
                id: &str,
            ) -> Result<Option<Subscription>, StorageError> {
                let row: Option<push::SubscriptionRow> =
                    sqlx::query_as(&push::select_subscription())
                        .bind(user_id)
                        .bind(id)
                        .fetch_optional(&mut *self.tx)
                        .await?;
                Ok(row.map(push::SubscriptionRow::into_subscription))
            }

            async fn list_subscriptions(
                &mut self,
                user_id: &str,
            ) -> Result<Vec<Subscription>, StorageError> {
                let rows: Vec<push::SubscriptionRow> = sqlx::query_as(&push::list_subscriptions())
                    .bind(user_id)
                    .fetch_all(&mut *self.tx)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(push::SubscriptionRow::into_subscription)
                    .collect())
            }

            async fn delete_subscription(
                &mut self,
                user_id: &str,
                id: &str,
            ) -> Result<bool, StorageError> {
                let result = sqlx::query(push::DELETE_SUBSCRIPTION)
                    .bind(user_id)
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(result.rows_affected() > 0)
            }

            async fn delete_subscriptions_of(
                &mut self,
                user_id: &str,
            ) -> Result<Vec<String>, StorageError> {
                let ids = sqlx::query_scalar(push::DELETE_SUBSCRIPTIONS_OF)
                    .bind(user_id)
                    .fetch_all(&mut *self.tx)
                    .await?;
                Ok(ids)
            }

            async fn delete_endpoint(&mut self, endpoint: &str) -> Result<u64, StorageError> {
                let result = sqlx::query(push::DELETE_ENDPOINT)
                    .bind(endpoint)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(result.rows_affected())
            }

            async fn has_followers(&mut self, channels: &[String]) -> Result<bool, StorageError> {
                if channels.is_empty() {
                    return Ok(false);
                }
                let text = push::has_followers(channels.len());
                let mut query = sqlx::query_scalar::<_, i64>(&text);
                for channel in channels {
                    query = query.bind(channel);
                }
                Ok(query.fetch_one(&mut *self.tx).await? > 0)
            }

            async fn enqueue_notification(
                &mut self,
                notification: &NewNotification,
            ) -> Result<u64, StorageError> {
                let readers = serde_json::to_string(&notification.readers)
                    .unwrap_or_else(|_| "[]".to_owned());
                let id: i64 = sqlx::query_scalar(push::INSERT_NOTIFICATION)
                    .bind(&notification.channel)
                    .bind(&notification.payload)
                    .bind(notification.ttl_secs)
                    .bind(readers)
                    .bind(notification.created_at)
                    .fetch_one(&mut *self.tx)
                    .await?;
                let text = push::enqueue_deliveries(notification.audience.len());
                let mut query = sqlx::query(&text).bind(id).bind(notification.created_at);
                for channel in &notification.audience {
                    query = query.bind(channel);
                }
                let queued = query.execute(&mut *self.tx).await?.rows_affected();
                if queued == 0 {
                    sqlx::query(push::DELETE_NOTIFICATION_IF_DONE)
                        .bind(id)
                        .execute(&mut *self.tx)
                        .await?;
                }
                Ok(queued)
            }

            async fn claim_deliveries(
                &mut self,
                now: Timestamp,
                leased_until: Timestamp,
                limit: u32,
                skipped_origins: &[String],
            ) -> Result<Vec<Delivery>, StorageError> {
                let text = push::claim_deliveries(skipped_origins.len(), $locking);
                let mut query = sqlx::query_as::<_, push::DeliveryRow>(&text)
                    .bind(now)
                    .bind(i64::from(limit));
                for origin in skipped_origins {
                    query = query.bind(origin);
                }
                let rows = query.fetch_all(&mut *self.tx).await?;
                for chunk in rows.chunks(push::MAX_LISTED) {
                    let text = push::lease_deliveries(chunk.len());
                    let mut query = sqlx::query(&text).bind(leased_until);
                    for row in chunk {
                        query = query.bind(row.0);
                    }
                    query.execute(&mut *self.tx).await?;
                }
                Ok(rows.into_iter().map(push::into_delivery).collect())
            }

            async fn finish_deliveries(
                &mut self,
                finished: &[(&Delivery, &DeliveryOutcome)],
                now: Timestamp,
            ) -> Result<(), StorageError> {
                let ids: Vec<i64> = finished.iter().map(|(delivery, _)| delivery.id).collect();
                for chunk in ids.chunks(push::MAX_LISTED) {
                    let text = push::delete_deliveries(chunk.len());
                    let mut query = sqlx::query(&text);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    query.execute(&mut *self.tx).await?;
                }

                // Subscriptions by how many of their messages went out, so
                // that one statement counts each group.
                let mut sent: std::collections::HashMap<&str, i64> = Default::default();
                for (delivery, outcome) in finished {
                    match outcome {
                        DeliveryOutcome::Sent => {
                            *sent.entry(delivery.subscription_id.as_str()).or_default() += 1;
                        }
                        DeliveryOutcome::Failed(error) => {
                            sqlx::query(push::COUNT_FAILED)
                                .bind(&delivery.subscription_id)
                                .bind(error.status.map(i64::from))
                                .bind(error.at)
                                .bind(&error.reason)
                                .execute(&mut *self.tx)
                                .await?;
                        }
                        DeliveryOutcome::Skipped => {}
                    }
                }
                let mut by_count: std::collections::BTreeMap<i64, Vec<&str>> = Default::default();
                for (subscription_id, count) in sent {
                    by_count.entry(count).or_default().push(subscription_id);
                }
                for (count, subscriptions) in by_count {
                    for chunk in subscriptions.chunks(push::MAX_LISTED) {
                        let text = push::count_sent(chunk.len());
                        let mut query = sqlx::query(&text).bind(count).bind(now);
                        for subscription_id in chunk {
                            query = query.bind(*subscription_id);
                        }
                        query.execute(&mut *self.tx).await?;
                    }
                }

                let mut notifications: Vec<i64> = finished
                    .iter()
                    .map(|(delivery, _)| delivery.notification_id)
                    .collect();
                notifications.sort_unstable();
                notifications.dedup();
                for chunk in notifications.chunks(push::MAX_LISTED) {
                    let text = push::delete_notifications_if_done(chunk.len());
                    let mut query = sqlx::query(&text);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    query.execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            async fn retry_delivery(
                &mut self,
                delivery: &Delivery,
                due_at: Timestamp,
                error: Option<&DeliveryError>,
            ) -> Result<(), StorageError> {
                let attempts = delivery.attempts + i64::from(error.is_some());
                sqlx::query(push::RESCHEDULE_DELIVERY)
                    .bind(delivery.id)
                    .bind(due_at)
                    .bind(attempts)
                    .execute(&mut *self.tx)
                    .await?;
                if let Some(error) = error {
                    sqlx::query(push::NOTE_ERROR)
                        .bind(&delivery.subscription_id)
                        .bind(error.status.map(i64::from))
                        .bind(error.at)
                        .bind(&error.reason)
                        .execute(&mut *self.tx)
                        .await?;
                }
                Ok(())
            }

            async fn purge_notifications(&mut self) -> Result<u64, StorageError> {
                let result = sqlx::query(push::PURGE_NOTIFICATIONS)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(result.rows_affected())
            }

            async fn count_deliveries(&mut self) -> Result<u64, StorageError> {
                let count: i64 = sqlx::query_scalar(push::COUNT_DELIVERIES)
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(u64::try_from(count).unwrap_or_default())
            }
        }
    };
}

pub(super) use push_transaction;
