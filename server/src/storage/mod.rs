//! Storage: every bucket, collection, group and record, with the timestamps
//! and tombstones that sync relies on.
//!
//! [`Storage`] is the seam: SQLite (`sqlite.rs`, embedded, the default) and
//! PostgreSQL (`postgres.rs`) implement it, chosen by the database URL. Work
//! happens in a [`Transaction`]: a request reads and writes through one and
//! commits it at the end, so a failure leaves nothing half-written. Both
//! backends run the same SQL and transaction code (`sql.rs`) and pass the same conformance
//! suite.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::config::{Backend, DatabaseUrl};
pub use crate::permissions::Permissions;

#[cfg(test)]
mod conformance;
mod postgres;
mod push;
mod push_sql;
mod push_transaction;
mod query;
mod sql;
mod sqlite;
mod timestamp;

pub use postgres::PostgresStorage;
pub use push::{
    Delivery, DeliveryError, DeliveryOutcome, DeliveryStats, NewNotification, PushTransaction,
    Subscription,
};
pub use query::{Dialect, Field, Filter, Operator, Query, SortKey};
pub use sqlite::SqliteStorage;
pub use timestamp::Timestamp;

/// The JSON fields of an object, without `id` and `last_modified`, which
/// storage keeps in columns of their own.
pub type Data = Map<String, Value>;

/// Failures of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database could not be reached or answered with an error.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date at startup.
    #[error("database migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The folder for a SQLite file could not be created.
    #[error("cannot create the database folder {path}")]
    Folder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// No live object has that id.
    #[error("object not found")]
    NotFound,
    /// A live object already has that id; it is returned unchanged.
    #[error("object already exists")]
    AlreadyExists(Box<StoredObject>),
}

/// The kinds of object the API stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceName {
    Bucket,
    Collection,
    Group,
    Record,
}

impl ResourceName {
    /// The name stored in the `resource_name` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bucket => "bucket",
            Self::Collection => "collection",
            Self::Group => "group",
            Self::Record => "record",
        }
    }
}

/// One set of objects: the children of one kind under one parent, such as
/// the records of a collection. Each set has its own timestamp.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// URI of the parent object (`/buckets/b/collections/c`), empty for
    /// buckets.
    pub parent_id: String,
    pub resource_name: ResourceName,
}

impl Scope {
    /// The set of all buckets.
    pub fn buckets() -> Self {
        Self {
            parent_id: String::new(),
            resource_name: ResourceName::Bucket,
        }
    }

    /// The `resource_name` children of the object at `parent_id`.
    pub fn children(parent_id: impl Into<String>, resource_name: ResourceName) -> Self {
        Self {
            parent_id: parent_id.into(),
            resource_name,
        }
    }
}

/// A live object as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    pub id: String,
    pub last_modified: Timestamp,
    pub data: Data,
}

/// What remains of a deleted object, so that clients can sync the deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub id: String,
    pub last_modified: Timestamp,
}

/// One entry of a listing: a live object or, when the listing asks for
/// changes since a timestamp, a tombstone.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Live(StoredObject),
    Deleted(Tombstone),
}

impl Entry {
    pub fn id(&self) -> &str {
        match self {
            Self::Live(object) => &object.id,
            Self::Deleted(tombstone) => &tombstone.id,
        }
    }

    pub fn last_modified(&self) -> Timestamp {
        match self {
            Self::Live(object) => object.last_modified,
            Self::Deleted(tombstone) => tombstone.last_modified,
        }
    }
}

/// Whether a `put` created the object or replaced an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Replaced,
}

/// A database holding the API's objects.
#[async_trait]
pub trait Storage: Send + Sync {
    /// Starts a transaction that only reads (it may still fix a set's first
    /// timestamp).
    async fn begin_read(&self) -> Result<Box<dyn Transaction>, StorageError>;

    /// Starts a transaction that writes. Writers to one set run one after
    /// the other, so their timestamps are strictly increasing.
    async fn begin_write(&self) -> Result<Box<dyn Transaction>, StorageError>;

    /// Proves that the database answers.
    async fn ping(&self) -> Result<(), StorageError>;

    /// Waits for checked-out connections to return, then closes the pool.
    async fn close(&self);
}

/// Reads and writes inside one database transaction. Dropping it without
/// `commit` rolls everything back.
///
/// Backends implement the primitives; the object operations (`create`,
/// `put`, `delete`) are built on them once, here.
///
/// # Errors
///
/// Every method fails with `StorageError::Database` when the database does;
/// the object operations document their other failures.
#[async_trait]
pub trait Transaction: Send {
    /// The newest timestamp issued in `scope`. A set that was never written
    /// gets `now`, stored, so that later reads agree.
    async fn timestamp(&mut self, scope: &Scope, now: Timestamp)
    -> Result<Timestamp, StorageError>;

    /// Makes other writers of `scope` wait until this transaction ends, so
    /// that what it reads of the set stays true while it writes. A set with
    /// no timestamp yet gets the millisecond before `now`, which leaves `now`
    /// to the write that follows.
    async fn lock(&mut self, scope: &Scope, now: Timestamp) -> Result<(), StorageError>;

    /// Issues the timestamp of a write in `scope`: the clock, or one more than
    /// the newest timestamp when the clock has not moved past it.
    async fn next_timestamp(
        &mut self,
        scope: &Scope,
        now: Timestamp,
    ) -> Result<Timestamp, StorageError>;

    /// The live object `id` of `scope`.
    async fn get(&mut self, scope: &Scope, id: &str) -> Result<Option<StoredObject>, StorageError>;

    /// Stores `id` with `data` at `last_modified`, live when `data` is some
    /// and as a tombstone otherwise, whatever the row held before.
    async fn write(
        &mut self,
        scope: &Scope,
        id: &str,
        last_modified: Timestamp,
        data: Option<&Data>,
    ) -> Result<(), StorageError>;

    /// The objects of `scope`, newest first. With `since`, only those written
    /// after it, tombstones included; without, live objects only.
    async fn list(
        &mut self,
        scope: &Scope,
        since: Option<Timestamp>,
    ) -> Result<Vec<Entry>, StorageError>;

    /// The objects of `scope` that `query` selects, in its order and page.
    async fn query(&mut self, scope: &Scope, query: &Query) -> Result<Vec<Entry>, StorageError>;

    /// How many objects of `scope` `query` selects, whatever its page.
    async fn count(&mut self, scope: &Scope, query: &Query) -> Result<u64, StorageError>;

    /// Every `(object_id, permission)` granted directly to one of
    /// `principals`, by object.
    async fn permissions_of(
        &mut self,
        principals: &[String],
    ) -> Result<Vec<(String, String)>, StorageError>;

    /// The URIs (`/buckets/b/groups/g`) of the live groups whose members
    /// include one of `principals`.
    async fn groups_with_member(
        &mut self,
        principals: &[String],
    ) -> Result<Vec<String>, StorageError>;

    /// Removes, without tombstones, every object under the object at
    /// `parent_id`: its children, theirs, and so on. The timestamps of those
    /// sets move forward (to `now` or the next millisecond) instead of going,
    /// so a client that synced them sees a change, and a re-created parent's
    /// sets never go back in time. Returns how many objects went.
    async fn purge_descendants(
        &mut self,
        parent_id: &str,
        now: Timestamp,
    ) -> Result<u64, StorageError>;

    /// The permissions set on the object at `object_id` itself (not those
    /// it inherits).
    async fn permissions(&mut self, object_id: &str) -> Result<Permissions, StorageError>;

    /// Replaces the permissions of the object at `object_id` whole.
    async fn set_permissions(
        &mut self,
        object_id: &str,
        permissions: &Permissions,
    ) -> Result<(), StorageError>;

    /// Removes the permissions of the object at `object_id` and of every
    /// object under it. Returns how many entries went.
    async fn purge_permissions(&mut self, object_id: &str) -> Result<u64, StorageError>;

    /// The value of setting `name`, storing `candidate` first when it has
    /// none: whoever commits first wins, and everyone reads the same value.
    async fn setting_or_insert(
        &mut self,
        name: &str,
        candidate: &str,
    ) -> Result<String, StorageError>;

    /// Makes every write of the transaction durable.
    async fn commit(self: Box<Self>) -> Result<(), StorageError>;

    /// The push tables, in this same transaction.
    fn push(&mut self) -> &mut dyn PushTransaction;

    /// Creates `id` in `scope`.
    ///
    /// # Errors
    ///
    /// `StorageError::AlreadyExists` with the current object when a live
    /// object has that id; a tombstone does not count.
    async fn create(
        &mut self,
        scope: &Scope,
        id: &str,
        data: Data,
        now: Timestamp,
    ) -> Result<StoredObject, StorageError> {
        self.lock(scope, now).await?;
        if let Some(existing) = self.get(scope, id).await? {
            return Err(StorageError::AlreadyExists(Box::new(existing)));
        }
        let last_modified = self.next_timestamp(scope, now).await?;
        self.write(scope, id, last_modified, Some(&data)).await?;
        Ok(StoredObject {
            id: id.to_owned(),
            last_modified,
            data,
        })
    }

    /// Creates `id` in `scope`, or replaces its data whole.
    async fn put(
        &mut self,
        scope: &Scope,
        id: &str,
        data: Data,
        now: Timestamp,
    ) -> Result<(Written, StoredObject), StorageError> {
        self.lock(scope, now).await?;
        let written = match self.get(scope, id).await? {
            Some(_) => Written::Replaced,
            None => Written::Created,
        };
        let last_modified = self.next_timestamp(scope, now).await?;
        self.write(scope, id, last_modified, Some(&data)).await?;
        let object = StoredObject {
            id: id.to_owned(),
            last_modified,
            data,
        };
        Ok((written, object))
    }

    /// Deletes `id` from `scope`, leaving a tombstone with a new timestamp.
    ///
    /// # Errors
    ///
    /// `StorageError::NotFound` when no live object has that id.
    async fn delete(
        &mut self,
        scope: &Scope,
        id: &str,
        now: Timestamp,
    ) -> Result<Tombstone, StorageError> {
        self.lock(scope, now).await?;
        if self.get(scope, id).await?.is_none() {
            return Err(StorageError::NotFound);
        }
        let last_modified = self.next_timestamp(scope, now).await?;
        self.write(scope, id, last_modified, None).await?;
        Ok(Tombstone {
            id: id.to_owned(),
            last_modified,
        })
    }
}

/// Opens the database `url` names and brings its schema up to date.
///
/// # Errors
///
/// `StorageError::Folder` when a SQLite file's folder cannot be created,
/// `StorageError::Database` when the database cannot be opened and
/// `StorageError::Migration` when its schema cannot be migrated.
pub async fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<Arc<dyn Storage>, StorageError> {
    let storage: Arc<dyn Storage> = match url.backend() {
        Backend::Sqlite => Arc::new(SqliteStorage::connect(url.expose(), pool_size).await?),
        Backend::Postgres => Arc::new(PostgresStorage::connect(url.expose(), pool_size).await?),
    };
    Ok(storage)
}

fn create_folder(folder: &Path) -> Result<(), StorageError> {
    std::fs::create_dir_all(folder).map_err(|source| StorageError::Folder {
        path: folder.display().to_string(),
        source,
    })
}
