//! The background task that empties the outbox.
//!
//! It leases due deliveries from the database, as many as it has free
//! slots, leaving out push services that are paused (429) or already at
//! their own limit, so a slow or dead service never holds up the others.
//! Each delivery is sent by a task of its own; what happened is written
//! back in batches by one recorder. A delivery whose lease runs out (the
//! process died mid-send) is due again, so a crash loses nothing; it may
//! send a message twice, never zero times.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};

use crate::storage::{Delivery, DeliveryError, DeliveryOutcome, Storage, StorageError, Timestamp};

use super::access::RightsCache;
use super::recorder::{Report, record};
use super::sender::Message;
use super::{Answer, Channel, PushError, SharedPush};

/// Most deliveries leased at once.
const CLAIM_BATCH: usize = 256;
/// How often the outbox is looked at when nothing wakes the dispatcher:
/// retries coming due, deliveries queued by another process.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How often notifications left without deliveries are cleared away.
const PURGE_INTERVAL: Duration = Duration::from_secs(60);
/// The longest wait between two retries.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60 * 60);

/// The running dispatcher; stop it with [`Dispatcher::shutdown`].
pub struct Dispatcher {
    is_stopping: Arc<AtomicBool>,
    stop: Arc<Notify>,
    task: JoinHandle<()>,
}

struct Worker {
    storage: Arc<dyn Storage>,
    push: SharedPush,
    slots: Arc<Semaphore>,
    origins: Mutex<HashMap<String, OriginState>>,
    reports: mpsc::UnboundedSender<(Delivery, Report)>,
    /// Woken whenever a send ends, so that its slot is used again.
    slot_freed: Notify,
    is_stopping: Arc<AtomicBool>,
}

/// What the dispatcher knows of one push service.
#[derive(Default)]
struct OriginState {
    in_flight: usize,
    paused_until: Option<Instant>,
    has_reported_credentials: bool,
}

impl Dispatcher {
    /// Starts emptying the outbox of `storage`.
    pub fn spawn(storage: Arc<dyn Storage>, push: SharedPush) -> Self {
        let is_stopping = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(Notify::new());
        let (reports, received) = mpsc::unbounded_channel();
        let concurrency = usize::from(push.config.push_concurrency.max(1));
        let worker = Arc::new(Worker {
            storage: Arc::clone(&storage),
            push,
            slots: Arc::new(Semaphore::new(concurrency)),
            origins: Mutex::new(HashMap::new()),
            reports,
            slot_freed: Notify::new(),
            is_stopping: Arc::clone(&is_stopping),
        });
        let recorder = tokio::spawn(record(storage, received));
        let stopped = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            worker.run(&stopped).await;
            worker.drain(concurrency).await;
            // The last sender of reports goes with the worker.
            drop(worker);
            if recorder.await.is_err() {
                error!("the push recorder stopped abnormally");
            }
        });
        Self {
            is_stopping,
            stop,
            task,
        }
    }

    /// Stops leasing, lets the sends in flight end (each is bounded by the
    /// push timeout) and writes down what they did. Deliveries not sent
    /// stay in the outbox for the next start.
    pub async fn shutdown(self) {
        self.is_stopping.store(true, Ordering::SeqCst);
        self.stop.notify_one();
        if self.task.await.is_err() {
            error!("the push dispatcher stopped abnormally");
        }
    }
}

impl Worker {
    async fn run(self: &Arc<Self>, stop: &Notify) {
        let mut last_purge: Option<Instant> = None;
        while !self.is_stopping.load(Ordering::SeqCst) {
            let free = self.slots.available_permits().min(CLAIM_BATCH);
            let claimed = if free == 0 {
                Vec::new()
            } else {
                match self.claim(free).await {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        error!(error = %error, "cannot read the push outbox");
                        Vec::new()
                    }
                }
            };
            if claimed.is_empty() {
                if last_purge.is_none_or(|at| at.elapsed() > PURGE_INTERVAL) {
                    last_purge = Some(Instant::now());
                    self.purge_notifications().await;
                }
                tokio::select! {
                    () = self.push.wake.notified() => {}
                    () = self.slot_freed.notified() => {}
                    () = stop.notified() => {}
                    () = tokio::time::sleep(POLL_INTERVAL) => {}
                }
                continue;
            }
            for delivery in claimed {
                self.start(delivery);
            }
        }
    }

    /// Waits for every send in flight to end.
    async fn drain(&self, concurrency: usize) {
        let Ok(concurrency) = u32::try_from(concurrency) else {
            return;
        };
        if let Ok(all) = self.slots.acquire_many(concurrency).await {
            all.forget();
        }
    }

    /// Leases due deliveries and drops those whose owner may no longer
    /// read the channel.
    async fn claim(&self, limit: usize) -> Result<Vec<Delivery>, StorageError> {
        let now = Timestamp::now();
        let skipped = self.busy_origins();
        let lease = self.lease_millis();
        let leased_until = Timestamp::from_millis(now.as_millis() + lease);
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);

        let mut tx = self.storage.begin_write().await?;
        let claimed = tx
            .push()
            .claim_deliveries(now, leased_until, limit, &skipped)
            .await?;
        let mut readable = Vec::with_capacity(claimed.len());
        let mut unreadable = Vec::new();
        let mut rights = RightsCache::default();
        for delivery in claimed {
            if rights.may_read(&mut *tx, &delivery).await? {
                readable.push(delivery);
            } else {
                debug!(subscription_id = %delivery.subscription_id, "owner lost read access");
                unreadable.push(delivery);
            }
        }
        let skipped: Vec<(&Delivery, &DeliveryOutcome)> = unreadable
            .iter()
            .map(|delivery| (delivery, &DeliveryOutcome::Skipped))
            .collect();
        tx.push().finish_deliveries(&skipped, now).await?;
        tx.commit().await?;
        Ok(readable)
    }

    async fn purge_notifications(&self) {
        let purged = async {
            let mut tx = self.storage.begin_write().await?;
            let purged = tx.push().purge_notifications().await?;
            tx.commit().await?;
            Ok::<_, StorageError>(purged)
        };
        match purged.await {
            Ok(0) => {}
            Ok(purged) => debug!(purged, "cleared notifications left without deliveries"),
            Err(error) => warn!(error = %error, "cannot clear old notifications"),
        }
    }

    /// Origins not to lease for now: paused, or at their limit.
    fn busy_origins(&self) -> Vec<String> {
        let limit = usize::from(self.push.config.push_origin_concurrency.max(1));
        let now = Instant::now();
        let Ok(origins) = self.origins.lock() else {
            return Vec::new();
        };
        origins
            .iter()
            .filter(|(_, state)| {
                state.in_flight >= limit || state.paused_until.is_some_and(|until| until > now)
            })
            .map(|(origin, _)| origin.clone())
            .collect()
    }

    /// How long a lease lasts: well past the longest a send can take (it is
    /// started at once and bounded by the push timeout), so that only a
    /// sender that died loses its deliveries to another.
    fn lease_millis(&self) -> i64 {
        let timeout = i64::from(self.push.config.push_timeout_secs.max(1)) * 1_000;
        2 * timeout + 5_000
    }

    /// Sends `delivery` in a task of its own, or hands it back when its
    /// push service has no room left.
    fn start(self: &Arc<Self>, delivery: Delivery) {
        let limit = usize::from(self.push.config.push_origin_concurrency.max(1));
        let has_room = self.origins.lock().is_ok_and(|mut origins| {
            let state = origins.entry(delivery.origin.clone()).or_default();
            let has_room = state.in_flight < limit;
            if has_room {
                state.in_flight += 1;
            }
            has_room
        });
        let slot = Arc::clone(&self.slots).try_acquire_owned();
        let Ok(slot) = slot
            .map_err(drop)
            .and_then(|slot| has_room.then_some(slot).ok_or(()))
        else {
            if has_room {
                self.leave_origin(&delivery.origin);
            }
            let due_at = Timestamp::now();
            self.report(
                delivery,
                Report::Retry {
                    due_at,
                    error: None,
                },
            );
            return;
        };
        let worker = Arc::clone(self);
        tokio::spawn(async move {
            let report = worker.deliver(&delivery).await;
            worker.leave_origin(&delivery.origin);
            worker.report(delivery, report);
            drop(slot);
            worker.slot_freed.notify_one();
        });
    }

    fn leave_origin(&self, origin: &str) {
        if let Ok(mut origins) = self.origins.lock()
            && let Some(state) = origins.get_mut(origin)
        {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }

    fn report(&self, delivery: Delivery, report: Report) {
        // The recorder outlives every sender of reports.
        let _ = self.reports.send((delivery, report));
    }

    /// Sends one message and decides what comes next.
    async fn deliver(&self, delivery: &Delivery) -> Report {
        let topic = Channel::parse(&delivery.channel).map(|channel| channel.topic());
        let message = Message {
            endpoint: &delivery.endpoint,
            origin: &delivery.origin,
            p256dh: &delivery.p256dh,
            auth: &delivery.auth,
            payload: delivery.payload.as_bytes(),
            ttl_secs: u32::try_from(delivery.ttl_secs).unwrap_or(u32::MAX),
            topic: topic.as_deref(),
        };
        let host = host_of(&delivery.origin);
        let answer = match self.push.sender.send(&self.push.vapid, &message).await {
            Ok(answer) => answer,
            Err(PushError::Encryption) => {
                return Report::Finished(DeliveryOutcome::Failed(DeliveryError {
                    status: None,
                    at: Timestamp::now(),
                    reason: "the subscription's keys cannot encrypt this message".to_owned(),
                }));
            }
            Err(error) => Answer::Transient {
                status: None,
                reason: error.to_string(),
                retry_after: None,
            },
        };
        match answer {
            Answer::Accepted => {
                debug!(%host, subscription_id = %delivery.subscription_id, "push sent");
                Report::Finished(DeliveryOutcome::Sent)
            }
            Answer::Gone(status) => {
                info!(%host, status, subscription_id = %delivery.subscription_id,
                    "push subscription is gone: deleting it");
                Report::Gone
            }
            Answer::RateLimited(retry_after) => {
                let default_pause =
                    Duration::from_secs(u64::from(self.push.config.push_rate_limit_pause_secs));
                let pause = retry_after.unwrap_or(default_pause);
                warn!(%host, pause_secs = pause.as_secs(), "push service rate limits us: pausing");
                self.pause(&delivery.origin, pause);
                Report::Retry {
                    due_at: Timestamp::from_millis(Timestamp::now().as_millis() + millis(pause)),
                    error: None,
                }
            }
            Answer::Transient {
                status,
                reason,
                retry_after,
            } => self.retry_or_give_up(delivery, status, reason, retry_after),
            Answer::Refused { status, reason } => {
                self.note_refusal(&delivery.origin, status, &reason);
                Report::Finished(DeliveryOutcome::Failed(DeliveryError {
                    status: Some(status),
                    at: Timestamp::now(),
                    reason,
                }))
            }
        }
    }

    /// A passing failure: another try after an exponential, jittered delay,
    /// unless the message has been retried for longer than allowed.
    fn retry_or_give_up(
        &self,
        delivery: &Delivery,
        status: Option<u16>,
        reason: String,
        retry_after: Option<Duration>,
    ) -> Report {
        let now = Timestamp::now();
        let error = DeliveryError {
            status,
            at: now,
            reason,
        };
        let first = Duration::from_millis(self.push.config.push_first_retry_millis);
        let delay = backoff(first, delivery.attempts).max(retry_after.unwrap_or_default());
        let due_at = Timestamp::from_millis(now.as_millis() + millis(delay));
        let retry_window = i64::from(self.push.config.push_retry_secs) * 1_000;
        let host = host_of(&delivery.origin);
        if due_at.as_millis() - delivery.created_at.as_millis() > retry_window {
            warn!(%host, ?status, subscription_id = %delivery.subscription_id,
                attempts = delivery.attempts + 1, "push failed for good");
            return Report::Finished(DeliveryOutcome::Failed(error));
        }
        debug!(%host, ?status, delay_ms = millis(delay), "push failed: retrying later");
        Report::Retry {
            due_at,
            error: Some(error),
        }
    }

    fn pause(&self, origin: &str, pause: Duration) {
        if let Ok(mut origins) = self.origins.lock() {
            let state = origins.entry(origin.to_owned()).or_default();
            let until = Instant::now() + pause;
            state.paused_until = Some(state.paused_until.map_or(until, |old| old.max(until)));
        }
    }

    /// Logs a refusal; one about our credentials (401, 403) is a
    /// configuration error, reported once per push service.
    fn note_refusal(&self, origin: &str, status: u16, reason: &str) {
        let host = host_of(origin);
        if !matches!(status, 401 | 403) {
            warn!(%host, status, reason, "push service refused a message");
            return;
        }
        let is_first = self.origins.lock().is_ok_and(|mut origins| {
            let state = origins.entry(origin.to_owned()).or_default();
            !std::mem::replace(&mut state.has_reported_credentials, true)
        });
        if is_first {
            error!(%host, status, reason,
                "push service refuses our VAPID credentials: check KINTO_PUSH_VAPID_PRIVATE_KEY \
                 and KINTO_PUSH_VAPID_SUBJECT");
        }
    }
}

/// The delay before retry number `attempts + 1`: `first`, doubled for each
/// earlier attempt, capped, then drawn between half of it and all of it so
/// that many failed messages do not come back at once.
fn backoff(first: Duration, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
    let full = first
        .saturating_mul(2_u32.saturating_pow(doublings))
        .min(MAX_RETRY_DELAY);
    let mut random = [0_u8; 8];
    let fraction = if getrandom::fill(&mut random).is_ok() {
        f64::from(u32::from_le_bytes([
            random[0], random[1], random[2], random[3],
        ])) / f64::from(u32::MAX)
    } else {
        1.0
    };
    full.mul_f64(0.5 + fraction / 2.0)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The host of an origin, the only part of an endpoint fit for logs.
fn host_of(origin: &str) -> &str {
    origin.split_once("://").map_or(origin, |(_, host)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_a_cap() {
        let first = Duration::from_secs(10);

        for attempts in 0..5 {
            let full = first * 2_u32.pow(u32::try_from(attempts).unwrap());
            let delay = backoff(first, attempts);
            assert!(delay >= full / 2 && delay <= full, "{attempts}: {delay:?}");
        }
        assert!(backoff(first, 40) <= MAX_RETRY_DELAY);
    }

    #[test]
    fn logs_see_only_the_host() {
        assert_eq!(host_of("https://fcm.googleapis.com"), "fcm.googleapis.com");
        assert_eq!(host_of("http://127.0.0.1:9000"), "127.0.0.1:9000");
    }
}
