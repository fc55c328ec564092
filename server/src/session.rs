//! Where a request's reads and writes go: a transaction of its own, or the
//! one a batch shares among its sub-requests, so that the batch commits or
//! rolls back as one.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::AppState;
use crate::auth::Caller;
use crate::events::{Change, ChangeLog};
use crate::storage::{Storage, StorageError, Timestamp, Transaction};

/// The transaction of a batch, handed to each sub-request as an extension,
/// with the log of the changes they make.
#[derive(Clone)]
pub struct BatchTransaction {
    tx: Arc<Mutex<Box<dyn Transaction>>>,
    changes: ChangeLog,
}

impl BatchTransaction {
    pub fn new(tx: Box<dyn Transaction>) -> Self {
        Self {
            tx: Arc::new(Mutex::new(tx)),
            changes: ChangeLog::default(),
        }
    }

    /// Commits the batch once every sub-request has finished with it, with
    /// the push notifications of its changes, then publishes the changes
    /// as made by `user_id`.
    ///
    /// # Errors
    ///
    /// `StorageError::Database` when the commit fails, or when a
    /// sub-request still holds the transaction.
    pub async fn commit(self, state: &AppState, user_id: Option<&str>) -> Result<(), StorageError> {
        let mut tx = Arc::try_unwrap(self.tx)
            .map_err(|_| StorageError::Database(sqlx::Error::PoolClosed))?
            .into_inner();
        let changes = self.changes.take();
        let has_queued = state
            .push
            .enqueue_changes(tx.as_mut(), &changes, Timestamp::now())
            .await?;
        tx.commit().await?;

        if has_queued {
            state.push.wake();
        }
        state.events.publish(changes, user_id);
        Ok(())
    }
}

/// A handler's transaction.
pub enum Tx {
    Own(Box<dyn Transaction>),
    Shared(OwnedMutexGuard<Box<dyn Transaction>>),
}

impl Tx {
    /// Commits a transaction of the handler's own; a batch's commits at the
    /// end of the batch.
    ///
    /// # Errors
    ///
    /// `StorageError::Database` when the commit fails.
    pub async fn commit(self) -> Result<(), StorageError> {
        match self {
            Self::Own(tx) => tx.commit().await,
            Self::Shared(_) => Ok(()),
        }
    }
}

impl Deref for Tx {
    type Target = dyn Transaction;

    fn deref(&self) -> &Self::Target {
        match self {
            Self::Own(tx) => tx.as_ref(),
            Self::Shared(guard) => guard.as_ref(),
        }
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Self::Own(tx) => tx.as_mut(),
            Self::Shared(guard) => guard.as_mut(),
        }
    }
}

/// Who makes a request, where its transaction comes from, and the changes
/// it has made.
pub struct Session {
    pub caller: Caller,
    batch: Option<BatchTransaction>,
    changes: ChangeLog,
}

impl Session {
    /// Notes a change, published once the request's transaction commits.
    pub fn record(&self, change: Change) {
        self.changes.record(change);
    }

    /// Commits a transaction of the request's own, with the push
    /// notifications of its changes, then publishes the changes; a batch's
    /// sub-request leaves all of it to the batch.
    ///
    /// # Errors
    ///
    /// `StorageError::Database` when the commit fails; nothing is published
    /// then.
    pub async fn commit(&self, mut tx: Tx, state: &AppState) -> Result<(), StorageError> {
        let Tx::Own(_) = &tx else {
            return Ok(());
        };
        let changes = self.changes.take();
        let has_queued = state
            .push
            .enqueue_changes(&mut *tx, &changes, Timestamp::now())
            .await?;
        tx.commit().await?;

        if has_queued {
            state.push.wake();
        }
        let user_id = self.caller.user_id.as_ref().map(|id| id.as_str());
        state.events.publish(changes, user_id);
        Ok(())
    }

    /// A transaction that reads.
    ///
    /// # Errors
    ///
    /// `StorageError::Database` when no transaction can be started.
    pub async fn begin_read(&self, storage: &dyn Storage) -> Result<Tx, StorageError> {
        match &self.batch {
            Some(batch) => Ok(Tx::Shared(Arc::clone(&batch.tx).lock_owned().await)),
            None => Ok(Tx::Own(storage.begin_read().await?)),
        }
    }

    /// A transaction that writes.
    ///
    /// # Errors
    ///
    /// `StorageError::Database` when no transaction can be started.
    pub async fn begin_write(&self, storage: &dyn Storage) -> Result<Tx, StorageError> {
        match &self.batch {
            Some(batch) => Ok(Tx::Shared(Arc::clone(&batch.tx).lock_owned().await)),
            None => Ok(Tx::Own(storage.begin_write().await?)),
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let batch = parts.extensions.get::<BatchTransaction>().cloned();
        let changes = batch
            .as_ref()
            .map_or_else(ChangeLog::default, |batch| batch.changes.clone());
        Ok(Self {
            caller: state.auth.caller(&parts.headers),
            batch,
            changes,
        })
    }
}
