//! The PostgreSQL backend, for more than one machine's worth of load;
//! migrated at startup.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Arguments;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgArguments, PgPoolOptions};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres};
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

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// A pool of connections to one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStorage {
    pool: PgPool,
}

impl PostgresStorage {
    /// Connects to `url` (`postgres://…`) and migrates the database.
    ///
    /// # Errors
    ///
    /// `StorageError::Database` or `StorageError::Migration`, as for
    /// [`super::connect`].
    #[instrument(skip_all)]
    pub async fn connect(url: &str, pool_size: u32) -> Result<Self, StorageError> {
        let pool = PgPoolOptions::new()
            .max_connections(pool_size)
            .acquire_timeout(Duration::from_secs(ACQUIRE_TIMEOUT_SECS))
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Storage for PostgresStorage {
    async fn begin_read(&self) -> Result<Box<dyn Transaction>, StorageError> {
        let tx = self.pool.begin().await?;
        Ok(Box::new(PostgresTransaction { tx }))
    }

    async fn begin_write(&self) -> Result<Box<dyn Transaction>, StorageError> {
        // Writers to one set queue on its row in `timestamps`, which
        // `Transaction::lock` takes before anything is read.
        let tx = self.pool.begin().await?;
        Ok(Box::new(PostgresTransaction { tx }))
    }

    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

sql::sql_transaction!(PostgresTransaction, Postgres, Dialect::Postgres, arguments);
push_transaction::push_transaction!(PostgresTransaction, " FOR UPDATE OF d SKIP LOCKED");

/// The values of a listing query, as Postgres takes them.
fn arguments(binds: Vec<Bind>) -> Result<PgArguments, StorageError> {
    let mut arguments = PgArguments::default();
    for bind in binds {
        let added = match bind {
            Bind::Text(text) => arguments.add(text),
            Bind::Int(number) => arguments.add(number),
            Bind::Real(number) => arguments.add(number),
            Bind::Bool(flag) => arguments.add(flag),
            Bind::Json(value) => arguments.add(Json(value)),
            Bind::Path(path) => arguments.add(path),
        };
        added.map_err(|error| StorageError::Database(sqlx::Error::Encode(error)))?;
    }
    Ok(arguments)
}
