//! The SQLite backend: one file next to the server, in WAL mode, migrated at
//! startup.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Arguments;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqlitePool};
use tracing::instrument;

use super::push::{Delivery, DeliveryError, DeliveryOutcome, NewNotification, Subscription};
use super::query::Bind;
use super::sql::{self, ObjectRow};
use super::{
    Data, Dialect, Entry, Permissions, Query, Scope, Storage, StorageError, StoredObject,
    Timestamp, Transaction,
};
use super::{push_sql, push_transaction};

/// How long a request waits for a pooled connection before giving up.
const ACQUIRE_TIMEOUT_SECS: u64 = 5;
/// How long a writer waits for another one to finish before reporting "busy".
const BUSY_TIMEOUT_SECS: u64 = 5;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// A pool of connections to one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    pool: SqlitePool,
}

impl SqliteStorage {
    /// Opens `url` (`sqlite://path`), creating the file and its folder when
    /// missing, and migrates it.
    ///
    /// # Errors
    ///
    /// `StorageError::Folder`, `StorageError::Database` or
    /// `StorageError::Migration`, as for [`super::connect`].
    #[instrument(skip_all)]
    pub async fn connect(url: &str, pool_size: u32) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(BUSY_TIMEOUT_SECS));

        let folder = options
            .get_filename()
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty());
        if let Some(folder) = folder {
            super::create_folder(folder)?;
        }

        let pool = SqlitePoolOptions::new()
            .max_connections(pool_size)
            .acquire_timeout(Duration::from_secs(ACQUIRE_TIMEOUT_SECS))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn begin_read(&self) -> Result<Box<dyn Transaction>, StorageError> {
        let tx = self.pool.begin().await?;
        Ok(Box::new(SqliteTransaction { tx }))
    }

    async fn begin_write(&self) -> Result<Box<dyn Transaction>, StorageError> {
        // Take the write lock up front: a deferred transaction that read
        // first could not upgrade once another writer had committed.
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTransaction { tx }))
    }

    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

sql::sql_transaction!(SqliteTransaction, Sqlite, Dialect::Sqlite, arguments);
push_transaction::push_transaction!(SqliteTransaction, "");

/// The values of a listing query, as Sqlite takes them.
fn arguments(binds: Vec<Bind>) -> Result<SqliteArguments<'static>, StorageError> {
    let mut arguments = SqliteArguments::default();
    for bind in binds {
        let added = match bind {
            Bind::Text(text) => arguments.add(text),
            Bind::Int(number) => arguments.add(number),
            Bind::Real(number) => arguments.add(number),
            Bind::Bool(flag) => arguments.add(flag),
            Bind::Json(value) => arguments.add(value.to_string()),
            // Paths are bound as text in SQLite; this never comes up.
            Bind::Path(path) => arguments.add(path.join(".")),
        };
        added.map_err(|error| StorageError::Database(sqlx::Error::Encode(error)))?;
    }
    Ok(arguments)
}
