//! The SQL both backends run, and the [`Transaction`](super::Transaction)
//! built on it. The SQL keeps to what SQLite and PostgreSQL share: numbered
//! `$n` parameters, `ON CONFLICT` upserts and `RETURNING`.

use sqlx::types::Json;

use super::{Data, Entry, StoredObject, Timestamp, Tombstone};

pub(super) const SELECT_TIMESTAMP: &str = "\
    SELECT last_modified FROM timestamps \
    WHERE parent_id = $1 AND resource_name = $2";

/// Stores `$3` as the timestamp of a set that has none. On PostgreSQL the
/// no-op update also locks the set's row until the transaction ends.
pub(super) const LOCK_TIMESTAMP: &str = "\
    INSERT INTO timestamps (parent_id, resource_name, last_modified) \
    VALUES ($1, $2, $3) \
    ON CONFLICT (parent_id, resource_name) \
    DO UPDATE SET last_modified = timestamps.last_modified";

/// Issues a write's timestamp: the clock (`$3`) when it is past the newest
/// one, else the next millisecond, so that two writes in one millisecond (or
/// after the clock stepped back) still differ.
pub(super) const NEXT_TIMESTAMP: &str = "\
    INSERT INTO timestamps (parent_id, resource_name, last_modified) \
    VALUES ($1, $2, $3) \
    ON CONFLICT (parent_id, resource_name) DO UPDATE SET last_modified = \
        CASE WHEN excluded.last_modified > timestamps.last_modified \
        THEN excluded.last_modified ELSE timestamps.last_modified + 1 END \
    RETURNING last_modified";

pub(super) const SELECT_OBJECT: &str = "\
    SELECT id, last_modified, is_deleted, data FROM objects \
    WHERE parent_id = $1 AND resource_name = $2 AND id = $3 AND NOT is_deleted";

pub(super) const WRITE_OBJECT: &str = "\
    INSERT INTO objects (parent_id, resource_name, id, last_modified, is_deleted, data) \
    VALUES ($1, $2, $3, $4, $5, $6) \
    ON CONFLICT (parent_id, resource_name, id) DO UPDATE SET \
        last_modified = excluded.last_modified, \
        is_deleted = excluded.is_deleted, \
        data = excluded.data";

/// The objects of a set written after `$3`, newest first; tombstones only
/// when `$4` is true.
pub(super) const LIST_OBJECTS: &str = "\
    SELECT id, last_modified, is_deleted, data FROM objects \
    WHERE parent_id = $1 AND resource_name = $2 AND last_modified > $3 \
        AND (NOT is_deleted OR $4) \
    ORDER BY last_modified DESC";

/// Deletes the children of `$1` and, through the range [`$2`, `$3`), every
/// deeper descendant: URIs are compared byte by byte, and `$1/` and `$10`
/// bound exactly the URIs that start with `$1/`.
pub(super) const PURGE_DESCENDANTS: &str = "\
    DELETE FROM objects \
    WHERE parent_id = $1 OR (parent_id >= $2 AND parent_id < $3)";

pub(super) const SELECT_PERMISSIONS: &str = "\
    SELECT permission, principal FROM permissions WHERE object_id = $1";

pub(super) const DELETE_PERMISSIONS: &str = "DELETE FROM permissions WHERE object_id = $1";

pub(super) const INSERT_PERMISSION: &str = "\
    INSERT INTO permissions (object_id, permission, principal) VALUES ($1, $2, $3) \
    ON CONFLICT DO NOTHING";

/// Deletes the permissions of `$1` and of everything under it, with the
/// range of `descendant_range`.
pub(super) const PURGE_PERMISSIONS: &str = "\
    DELETE FROM permissions \
    WHERE object_id = $1 OR (object_id >= $2 AND object_id < $3)";

/// Stores `$2` as setting `$1` unless it already has a value.
pub(super) const INSERT_SETTING: &str = "\
    INSERT INTO settings (name, value) VALUES ($1, $2) \
    ON CONFLICT (name) DO NOTHING";

pub(super) const SELECT_SETTING: &str = "SELECT value FROM settings WHERE name = $1";

/// Moves the timestamp of every set under `$1` (range as above) past
/// anything it issued, to the clock (`$4`) or the next millisecond, so that
/// clients see the purge as a change.
pub(super) const BUMP_DESCENDANT_TIMESTAMPS: &str = "\
    UPDATE timestamps SET last_modified = \
        CASE WHEN $4 > last_modified THEN $4 ELSE last_modified + 1 END \
    WHERE parent_id = $1 OR (parent_id >= $2 AND parent_id < $3)";

/// Whether SQLite refused a statement because another connection holds the
/// write lock (`SQLITE_BUSY` and its extended codes).
pub(super) fn is_busy(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(error) = error else {
        return false;
    };
    error
        .code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

/// The bounds of `PURGE_DESCENDANTS` for `parent_id`.
pub(super) fn descendant_range(parent_id: &str) -> (String, String) {
    (format!("{parent_id}/"), format!("{parent_id}0"))
}

/// A row of `objects` as the `SELECT`s above return it.
#[derive(sqlx::FromRow)]
pub(super) struct ObjectRow {
    id: String,
    last_modified: Timestamp,
    is_deleted: bool,
    data: Json<Data>,
}

impl ObjectRow {
    pub(super) fn into_object(self) -> StoredObject {
        StoredObject {
            id: self.id,
            last_modified: self.last_modified,
            data: self.data.0,
        }
    }

    pub(super) fn into_entry(self) -> Entry {
        if self.is_deleted {
            Entry::Deleted(Tombstone {
                id: self.id,
                last_modified: self.last_modified,
            })
        } else {
            Entry::Live(self.into_object())
        }
    }
}

/// Implements [`Transaction`](super::Transaction) for `$name`, a wrapper of
/// an sqlx transaction on `$db`. Both backends run this same code; only the
/// sqlx types, the SQL dialect of listing queries and the function that
/// binds their values (`$arguments`) differ.
macro_rules! sql_transaction {
    ($name:ident, $db:ty, $dialect:expr, $arguments:path) => {
        struct $name {
            tx: sqlx::Transaction<'static, $db>,
        }

        #[async_trait::async_trait]
        impl $crate::storage::Transaction for $name {
            async fn timestamp(
                &mut self,
                scope: &Scope,
                now: Timestamp,
            ) -> Result<Timestamp, StorageError> {
                let stored = sqlx::query_scalar(sql::SELECT_TIMESTAMP)
                    .bind(&scope.parent_id)
                    .bind(scope.resource_name.as_str())
                    .fetch_optional(&mut *self.tx)
                    .await?;
                if let Some(timestamp) = stored {
                    return Ok(timestamp);
                }
                let fixed = sqlx::query(sql::LOCK_TIMESTAMP)
                    .bind(&scope.parent_id)
                    .bind(scope.resource_name.as_str())
                    .bind(now)
                    .execute(&mut *self.tx)
                    .await;
                match fixed {
                    Ok(_) => {}
                    // Limitation: a SQLite read cannot take the write lock
                    // while another transaction writes; the set then reads as
                    // `now` without keeping it, and a later read fixes it.
                    Err(error) if sql::is_busy(&error) => return Ok(now),
                    Err(error) => return Err(error.into()),
                }
                let timestamp = sqlx::query_scalar(sql::SELECT_TIMESTAMP)
                    .bind(&scope.parent_id)
                    .bind(scope.resource_name.as_str())
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(timestamp)
            }

            async fn lock(&mut self, scope: &Scope, now: Timestamp) -> Result<(), StorageError> {
                sqlx::query(sql::LOCK_TIMESTAMP)
                    .bind(&scope.parent_id)
                    .bind(scope.resource_name.as_str())
                    .bind(now.previous())
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn next_timestamp(
                &mut self,
                scope: &Scope,
                now: Timestamp,
            ) -> Result<Timestamp, StorageError> {
                let timestamp = sqlx::query_scalar(sql::NEXT_TIMESTAMP)
                    .bind(&scope.parent_id)
                    .bind(scope.resource_name.as_str())
                    .bind(now)
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(timestamp)
            }

            async fn get(
                &mut self,
                scope: &Scope,
                id: &str,
            ) -> Result<Option<StoredObject>, StorageError> {
                let row: Option<ObjectRow> = sqlx::query_as(sql::SELECT_OBJECT)
                    .bind(&scope.parent_id)
                    .bind(scope.resource_name.as_str())
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                Ok(row.map(ObjectRow::into_object))
            }

            async fn write(
                &mut self,
                scope: &Scope,
                id: &str,
                last_modified: Timestamp,
                data: Option<&Data>,
            ) -> Result<(), StorageError> {
                let empty = Data::new();
                sqlx::query(sql::WRITE_OBJECT)
                    .bind(&scope.parent_id)
                    .bind(scope.resource_name.as_str())
                    .bind(id)
                    .bind(last_modified)
                    .bind(data.is_none())
                    .bind(sqlx::types::Json(data.unwrap_or(&empty)))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn list(
                &mut self,
                scope: &Scope,
                since: Option<Timestamp>,
            ) -> Result<Vec<Entry>, StorageError> {
                let after = since.unwrap_or(Timestamp::from_millis(i64::MIN));
                let rows: Vec<ObjectRow> = sqlx::query_as(sql::LIST_OBJECTS)
                    .bind(&scope.parent_id)
                    .bind(scope.resource_name.as_str())
                    .bind(after)
                    .bind(since.is_some())
                    .fetch_all(&mut *self.tx)
                    .await?;
                Ok(rows.into_iter().map(ObjectRow::into_entry).collect())
            }

            async fn query(
                &mut self,
                scope: &Scope,
                query: &Query,
            ) -> Result<Vec<Entry>, StorageError> {
                let sql = query.select_sql($dialect, scope);
                let rows: Vec<ObjectRow> = sqlx::query_as_with(&sql.text, $arguments(sql.binds)?)
                    .fetch_all(&mut *self.tx)
                    .await?;
                Ok(rows.into_iter().map(ObjectRow::into_entry).collect())
            }

            async fn count(&mut self, scope: &Scope, query: &Query) -> Result<u64, StorageError> {
                let sql = query.count_sql($dialect, scope);
                let count: i64 = sqlx::query_scalar_with(&sql.text, $arguments(sql.binds)?)
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(u64::try_from(count).unwrap_or_default())
            }

            async fn permissions_of(
                &mut self,
                principals: &[String],
            ) -> Result<Vec<(String, String)>, StorageError> {
                if principals.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = super::query::permissions_of_sql(principals);
                let rows = sqlx::query_as_with(&sql.text, $arguments(sql.binds)?)
                    .fetch_all(&mut *self.tx)
                    .await?;
                Ok(rows)
            }

            async fn groups_with_member(
                &mut self,
                principals: &[String],
            ) -> Result<Vec<String>, StorageError> {
                if principals.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = super::query::groups_with_member_sql($dialect, principals);
                let rows: Vec<(String, String)> =
                    sqlx::query_as_with(&sql.text, $arguments(sql.binds)?)
                        .fetch_all(&mut *self.tx)
                        .await?;
                let uris = rows
                    .into_iter()
                    .map(|(bucket_uri, id)| format!("{bucket_uri}/groups/{id}"))
                    .collect();
                Ok(uris)
            }

            async fn purge_descendants(
                &mut self,
                parent_id: &str,
                now: Timestamp,
            ) -> Result<u64, StorageError> {
                let (low, high) = sql::descendant_range(parent_id);
                let result = sqlx::query(sql::PURGE_DESCENDANTS)
                    .bind(parent_id)
                    .bind(&low)
                    .bind(&high)
                    .execute(&mut *self.tx)
                    .await?;
                sqlx::query(sql::BUMP_DESCENDANT_TIMESTAMPS)
                    .bind(parent_id)
                    .bind(&low)
                    .bind(&high)
                    .bind(now)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(result.rows_affected())
            }

            async fn permissions(&mut self, object_id: &str) -> Result<Permissions, StorageError> {
                let rows: Vec<(String, String)> = sqlx::query_as(sql::SELECT_PERMISSIONS)
                    .bind(object_id)
                    .fetch_all(&mut *self.tx)
                    .await?;
                let mut permissions = Permissions::new();
                for (name, principal) in rows {
                    permissions.entry(name).or_default().insert(principal);
                }
                Ok(permissions)
            }

            async fn set_permissions(
                &mut self,
                object_id: &str,
                permissions: &Permissions,
            ) -> Result<(), StorageError> {
                sqlx::query(sql::DELETE_PERMISSIONS)
                    .bind(object_id)
                    .execute(&mut *self.tx)
                    .await?;
                for (name, principals) in permissions {
                    for principal in principals {
                        sqlx::query(sql::INSERT_PERMISSION)
                            .bind(object_id)
                            .bind(name)
                            .bind(principal)
                            .execute(&mut *self.tx)
                            .await?;
                    }
                }
                Ok(())
            }

            async fn purge_permissions(&mut self, object_id: &str) -> Result<u64, StorageError> {
                let (low, high) = sql::descendant_range(object_id);
                let result = sqlx::query(sql::PURGE_PERMISSIONS)
                    .bind(object_id)
                    .bind(low)
                    .bind(high)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(result.rows_affected())
            }

            async fn setting_or_insert(
                &mut self,
                name: &str,
                candidate: &str,
            ) -> Result<String, StorageError> {
                sqlx::query(sql::INSERT_SETTING)
                    .bind(name)
                    .bind(candidate)
                    .execute(&mut *self.tx)
                    .await?;
                let value = sqlx::query_scalar(sql::SELECT_SETTING)
                    .bind(name)
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(value)
            }

            async fn commit(self: Box<Self>) -> Result<(), StorageError> {
                self.tx.commit().await?;
                Ok(())
            }

            fn push(&mut self) -> &mut dyn $crate::storage::PushTransaction {
                self
            }
        }
    };
}

pub(super) use sql_transaction;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendant_range_holds_exactly_the_deeper_uris() {
        let (low, high) = descendant_range("/buckets/b");
        let inside = |uri: &str| uri >= low.as_str() && uri < high.as_str();

        assert!(inside("/buckets/b/collections/c"));
        assert!(inside("/buckets/b/groups/g"));
        assert!(!inside("/buckets/b"));
        assert!(!inside("/buckets/b2/collections/c"));
        assert!(!inside("/buckets/b-1/collections/c"));
        assert!(!inside("/buckets/a/collections/c"));
    }
}
