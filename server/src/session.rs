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
use crate::storage::{Storage, StorageError, Transaction};

/// The transaction of a batch, handed to each sub-request as an extension.
#[derive(Clone)]
pub struct BatchTransaction(Arc<Mutex<Box<dyn Transaction>>>);

impl BatchTransaction {
    pub fn new(tx: Box<dyn Transaction>) -> Self {
        Self(Arc::new(Mutex::new(tx)))
    }

    /// Commits the batch once every sub-request has finished with it.
    ///
    /// # Errors
    ///
    /// `StorageError::Database` when the commit fails, or when a
    /// sub-request still holds the transaction.
    pub async fn commit(self) -> Result<(), StorageError> {
        let tx = Arc::try_unwrap(self.0)
            .map_err(|_| StorageError::Database(sqlx::Error::PoolClosed))?
            .into_inner();
        tx.commit().await
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

/// Who makes a request, and where its transaction comes from.
pub struct Session {
    pub caller: Caller,
    batch: Option<BatchTransaction>,
}

impl Session {
    /// A transaction that reads.
    ///
    /// # Errors
    ///
    /// `StorageError::Database` when no transaction can be started.
    pub async fn begin_read(&self, storage: &dyn Storage) -> Result<Tx, StorageError> {
        match &self.batch {
            Some(batch) => Ok(Tx::Shared(Arc::clone(&batch.0).lock_owned().await)),
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
            Some(batch) => Ok(Tx::Shared(Arc::clone(&batch.0).lock_owned().await)),
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
        Ok(Self {
            caller: state.auth.caller(&parts.headers),
            batch: parts.extensions.get::<BatchTransaction>().cloned(),
        })
    }
}
