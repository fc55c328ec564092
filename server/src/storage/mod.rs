//! The database behind the API: SQLite (embedded, the default) or PostgreSQL,
//! chosen by the URL scheme.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use tracing::instrument;

use crate::config::{Backend, DatabaseUrl};

/// How long a request waits for a pooled connection before giving up.
const ACQUIRE_TIMEOUT_SECS: u64 = 5;
/// How long SQLite waits for a competing writer before reporting "busy".
const SQLITE_BUSY_TIMEOUT_SECS: u64 = 5;

/// Failures of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database could not be reached or answered with an error.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The folder for a SQLite file could not be created.
    #[error("cannot create the database folder {path}")]
    Folder {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A pool of connections to one of the supported backends.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Database {
    /// Opens a pool. A SQLite file is created, with its folder, when missing.
    ///
    /// # Errors
    ///
    /// `StorageError::Folder` when the SQLite folder cannot be created, and
    /// `StorageError::Database` when the database cannot be opened.
    #[instrument(skip_all, fields(backend = ?url.backend()))]
    pub async fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<Self, StorageError> {
        match url.backend() {
            Backend::Sqlite => Self::connect_sqlite(url.expose(), pool_size).await,
            Backend::Postgres => {
                let pool = PgPoolOptions::new()
                    .max_connections(pool_size)
                    .acquire_timeout(Duration::from_secs(ACQUIRE_TIMEOUT_SECS))
                    .connect(url.expose())
                    .await?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    async fn connect_sqlite(url: &str, pool_size: u32) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(SQLITE_BUSY_TIMEOUT_SECS));

        let folder = options
            .get_filename()
            .parent()
            .filter(|p| !p.as_os_str().is_empty());
        if let Some(folder) = folder {
            create_folder(folder)?;
        }

        let pool = SqlitePoolOptions::new()
            .max_connections(pool_size)
            .acquire_timeout(Duration::from_secs(ACQUIRE_TIMEOUT_SECS))
            .connect_with(options)
            .await?;
        Ok(Self::Sqlite(pool))
    }

    /// Runs a trivial query to prove the database answers.
    ///
    /// # Errors
    ///
    /// `StorageError::Database` when the query fails or times out.
    #[instrument(skip_all)]
    pub async fn ping(&self) -> Result<(), StorageError> {
        match self {
            Self::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
            Self::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
        }
        Ok(())
    }

    /// Waits for checked-out connections to return, then closes the pool.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

fn create_folder(folder: &Path) -> Result<(), StorageError> {
    std::fs::create_dir_all(folder).map_err(|source| StorageError::Folder {
        path: folder.display().to_string(),
        source,
    })
}
