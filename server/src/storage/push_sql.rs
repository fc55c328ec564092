//! The SQL of the push tables, shared by both backends, and the rows it
//! returns.

use super::Timestamp;
use super::push::{Delivery, DeliveryError, DeliveryStats, Subscription};

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
        "SELECT COUNT(*) FROM \
         (SELECT 1 FROM push_channels WHERE channel IN ({}) LIMIT 1) AS followers",
        listed.join(", ")
    )
}

/// Queues notification `$1`, due at `$2`, for the followers of the channels
/// bound from `$3` on, but those whose browser said they expire before.
pub(super) fn enqueue_deliveries(channels: usize) -> String {
    let listed: Vec<String> = (0..channels).map(|n| format!("${}", n + 3)).collect();
    format!(
        "INSERT INTO push_deliveries (notification_id, subscription_id, due_at) \
         SELECT DISTINCT $1, c.subscription_id, $2 FROM push_channels c \
         JOIN push_subscriptions s ON s.id = c.subscription_id \
         WHERE c.channel IN ({}) AND (s.expiration_time IS NULL OR s.expiration_time > $2) \
         ON CONFLICT DO NOTHING",
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
