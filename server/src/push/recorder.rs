//! The recorder: writes what the send tasks report back to the outbox,
//! many outcomes per transaction.

use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::error;

use crate::storage::{Delivery, DeliveryError, DeliveryOutcome, Storage, StorageError, Timestamp};

/// Most outcomes written in one transaction.
const RECORD_BATCH: usize = 512;
/// What a send task reports to the recorder.
pub(super) enum Report {
    /// Done with, one way or another.
    Finished(DeliveryOutcome),
    /// Try again at `due_at`; a failed attempt when `error` is given.
    Retry {
        due_at: Timestamp,
        error: Option<DeliveryError>,
    },
    /// The push service says the endpoint is gone.
    Gone,
}

/// Writes what the send tasks report, many at a time, until every sender
/// of reports is gone.
pub(super) async fn record(
    storage: Arc<dyn Storage>,
    mut received: mpsc::UnboundedReceiver<(Delivery, Report)>,
) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while received.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        if let Err(error) = record_batch(storage.as_ref(), &batch).await {
            // The leases run out and the deliveries go again.
            error!(error = %error, count = batch.len(), "cannot record push outcomes");
        }
        batch.clear();
    }
}

async fn record_batch(
    storage: &dyn Storage,
    batch: &[(Delivery, Report)],
) -> Result<(), StorageError> {
    let now = Timestamp::now();
    let mut tx = storage.begin_write().await?;
    let mut finished = Vec::with_capacity(batch.len());
    for (delivery, report) in batch {
        match report {
            Report::Finished(outcome) => finished.push((delivery, outcome)),
            Report::Retry { due_at, error } => {
                tx.push()
                    .retry_delivery(delivery, *due_at, error.as_ref())
                    .await?;
            }
            Report::Gone => {
                tx.push().delete_endpoint(&delivery.endpoint).await?;
                finished.push((delivery, &DeliveryOutcome::Skipped));
            }
        }
    }
    tx.push().finish_deliveries(&finished, now).await?;
    tx.commit().await
}
