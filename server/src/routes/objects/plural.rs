//! A set of objects: GET (list, with `_since` and `_before` for syncs), POST
//! (create) and DELETE (delete all) on `/buckets`, `.../collections` or
//! `.../records`.

use std::collections::BTreeSet;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::preconditions::Preconditions;
use super::single::{check_id, check_write, may_create, tombstone_json};
use super::{
    Location, ObjectBody, add_writer, envelope, load_ancestry, object_json, parse_permissions,
    respond,
};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::permissions::Action;
use crate::session::Session;
use crate::storage::{Entry, ResourceName, StorageError, Timestamp, Transaction};

/// Length of the ids generated for buckets, collections and groups.
const SHORT_ID_CHARS: usize = 8;

/// What a listing asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ListQuery {
    since: Option<Timestamp>,
    before: Option<Timestamp>,
    /// `in_id` (or `id`): only these ids.
    only_ids: Option<BTreeSet<String>>,
    /// `exclude_id`: never these ids.
    excluded_ids: BTreeSet<String>,
}

impl ListQuery {
    /// Reads the query string.
    ///
    /// # Errors
    ///
    /// A 400 naming the parameter that is malformed or not supported.
    pub(crate) fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or_default())
            .map_err(|_| ApiError::invalid("querystring", "", "The query string is malformed"))?;
        let mut parsed = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "_since" | "gt_last_modified" => parsed.since = timestamp(&name, &value)?,
                "_before" | "lt_last_modified" => parsed.before = timestamp(&name, &value)?,
                // Newest first is the only order, and cache busters are
                // meaningless here.
                "_sort" if value == "-last_modified" => {}
                "_expected" => {}
                "in_id" | "id" | "eq_id" => parsed.only_ids = Some(id_list(&value)),
                "exclude_id" | "not_id" => parsed.excluded_ids.extend(id_list(&value)),
                // Limitation: listings filter on time and ids only, and after
                // reading the set; other filters, sorts, `_fields` and
                // pagination get a 400.
                _ => {
                    return Err(ApiError::invalid(
                        "querystring",
                        &name,
                        "is not supported by this server",
                    ));
                }
            }
        }
        Ok(parsed)
    }

    /// Whether the id filters keep `id`.
    fn keeps(&self, id: &str) -> bool {
        let is_listed = self.only_ids.as_ref().is_none_or(|ids| ids.contains(id));
        is_listed && !self.excluded_ids.contains(id)
    }

    /// Whether tombstones belong in the result: only when filtered on time.
    fn is_sync(&self) -> bool {
        self.since.is_some() || self.before.is_some()
    }
}

pub(crate) async fn list_objects(
    state: &AppState,
    session: &Session,
    location: &Location,
    query: &ListQuery,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let caller = &session.caller;
    let preconditions = Preconditions::from_headers(headers)?;
    let now = Timestamp::now();
    let mut tx = session.begin_read(state.storage.as_ref()).await?;
    let ancestry = load_ancestry(&mut *tx, caller, location).await?;
    let scope = location.scope();
    let timestamp = tx.timestamp(&scope, now).await?;

    let since = match (query.since, query.is_sync()) {
        (Some(since), _) => Some(since),
        (None, true) => Some(Timestamp::from_millis(i64::MIN)),
        (None, false) => None,
    };
    let mut entries = tx.list(&scope, since).await?;
    if let Some(before) = query.before {
        entries.retain(|entry| entry.last_modified() < before);
    }
    entries.retain(|entry| query.keeps(entry.id()));

    let principals = caller.principals();
    let sees_all = ancestry.parent_chain().allows(Action::Read, &principals);
    if !sees_all {
        entries = readable_entries(&mut *tx, caller, location, entries).await?;
        if entries.is_empty() && location.kind != ResourceName::Bucket {
            return Err(ApiError::denied(caller.user_id.is_some()));
        }
    }
    // Persists the timestamp of a set read for the first time.
    tx.commit().await?;

    if !preconditions.allow_write(Some(timestamp)) {
        return Err(ApiError::precondition_failed(None));
    }
    let data: Vec<Value> = entries.iter().map(entry_json).collect();
    let mut response = respond(StatusCode::OK, &json!({ "data": data }), timestamp);
    if preconditions.is_not_modified(timestamp) {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.body_mut() = axum::body::Body::empty();
    }
    add_totals(response.headers_mut(), entries.len());
    Ok(response)
}

pub(crate) async fn create_object(
    state: &AppState,
    session: &Session,
    location: &Location,
    headers: &HeaderMap,
    body: ObjectBody,
) -> Result<Response, ApiError> {
    let caller = &session.caller;
    let preconditions = Preconditions::from_headers(headers)?;
    let id = match body.data.as_ref().and_then(|data| data.get("id")) {
        Some(Value::String(id)) => id.clone(),
        Some(_) => return Err(ApiError::invalid("body", "data.id", "expected a string")),
        None => generate_id(location.kind),
    };
    check_id(&id)?;
    let data = super::parse_data(&body, &id)?;
    let mut permissions = body
        .permissions
        .as_ref()
        .map(|value| parse_permissions(location.kind, value))
        .transpose()?
        .unwrap_or_default();
    let now = Timestamp::now();
    let mut tx = session.begin_write(state.storage.as_ref()).await?;
    let ancestry = load_ancestry(&mut *tx, caller, location).await?;
    tx.lock(&location.scope(), now).await?;

    if !may_create(state, caller, &ancestry, location.kind) {
        return Err(ApiError::denied(caller.user_id.is_some()));
    }
    add_writer(&mut permissions, caller);
    let created = tx.create(&location.scope(), &id, data, now).await;
    let object = match created {
        Ok(object) => object,
        // Posting an existing id answers the object as it is.
        Err(StorageError::AlreadyExists(existing)) => {
            check_write(&preconditions, Some(&existing))?;
            let permissions = tx.permissions(&location.object_uri(&id)).await?;
            let body = envelope(&existing, Some(&permissions));
            return Ok(respond(StatusCode::OK, &body, existing.last_modified));
        }
        Err(error) => return Err(error.into()),
    };
    tx.set_permissions(&location.object_uri(&id), &permissions)
        .await?;
    tx.commit().await?;

    let body = envelope(&object, Some(&permissions));
    Ok(respond(StatusCode::CREATED, &body, object.last_modified))
}

pub(crate) async fn delete_objects(
    state: &AppState,
    session: &Session,
    location: &Location,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let caller = &session.caller;
    let preconditions = Preconditions::from_headers(headers)?;
    let now = Timestamp::now();
    let mut tx = session.begin_write(state.storage.as_ref()).await?;
    let ancestry = load_ancestry(&mut *tx, caller, location).await?;
    let scope = location.scope();
    tx.lock(&scope, now).await?;
    let timestamp = tx.timestamp(&scope, now).await?;
    if !preconditions.allow_write(Some(timestamp)) {
        return Err(ApiError::precondition_failed(None));
    }

    let principals = caller.principals();
    let mut targets = tx.list(&scope, None).await?;
    if !ancestry.parent_chain().allows(Action::Write, &principals) {
        let mut writable = Vec::new();
        for entry in targets {
            let own = tx.permissions(&location.object_uri(entry.id())).await?;
            if ancestry.chain(&own).allows(Action::Write, &principals) {
                writable.push(entry);
            }
        }
        targets = writable;
    }
    let mut tombstones = Vec::new();
    for entry in &targets {
        let uri = location.object_uri(entry.id());
        tombstones.push(tx.delete(&scope, entry.id(), now).await?);
        tx.purge_descendants(&uri, now).await?;
        tx.purge_permissions(&uri).await?;
    }
    let timestamp = tx.timestamp(&scope, now).await?;
    tx.commit().await?;

    let data: Vec<Value> = tombstones
        .iter()
        .map(|tombstone| tombstone_json(&tombstone.id, tombstone.last_modified))
        .collect();
    Ok(respond(StatusCode::OK, &json!({ "data": data }), timestamp))
}

/// The live entries the caller may read one by one; tombstones carry no
/// permissions, so they stay hidden.
async fn readable_entries(
    tx: &mut dyn Transaction,
    caller: &Caller,
    location: &Location,
    entries: Vec<Entry>,
) -> Result<Vec<Entry>, ApiError> {
    let principals = caller.principals();
    let mut readable = Vec::new();
    for entry in entries {
        let Entry::Live(object) = &entry else {
            continue;
        };
        let own = tx.permissions(&location.object_uri(&object.id)).await?;
        let chain = crate::permissions::Chain { links: vec![&own] };
        if chain.allows(Action::Read, &principals) {
            readable.push(entry);
        }
    }
    Ok(readable)
}

fn entry_json(entry: &Entry) -> Value {
    match entry {
        Entry::Live(object) => object_json(object),
        Entry::Deleted(tombstone) => tombstone_json(&tombstone.id, tombstone.last_modified),
    }
}

fn add_totals(headers: &mut HeaderMap, total: usize) {
    let value = HeaderValue::from(total);
    for name in ["total-objects", "total-records"] {
        headers.insert(HeaderName::from_static(name), value.clone());
    }
}

/// A `_since`/`_before` value: a timestamp, bare or quoted like an ETag, or
/// `null` for none.
fn timestamp(name: &str, value: &str) -> Result<Option<Timestamp>, ApiError> {
    let value = value.trim();
    if value == "null" {
        return Ok(None);
    }
    let digits = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    digits
        .parse::<i64>()
        .map(|millis| Some(Timestamp::from_millis(millis)))
        .map_err(|_| ApiError::invalid("querystring", name, "expected a timestamp"))
}

/// The ids of an `in_id`/`exclude_id` value: comma-separated, each bare or
/// a JSON string; a trailing comma is allowed.
fn id_list(value: &str) -> BTreeSet<String> {
    value
        .split(',')
        .map(|id| id.trim().trim_matches('"'))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A fresh id: a UUID for records, as Kinto does, and eight characters of
/// `[A-Za-z0-9_-]` starting with a letter or digit for the others.
fn generate_id(kind: ResourceName) -> String {
    if kind == ResourceName::Record {
        return uuid::Uuid::new_v4().to_string();
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    const ALPHANUMERIC: usize = 62;
    let mut bytes = [0_u8; SHORT_ID_CHARS];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    bytes
        .iter()
        .enumerate()
        .map(|(index, byte)| {
            let choices = if index == 0 {
                ALPHANUMERIC
            } else {
                ALPHABET.len()
            };
            char::from(ALPHABET[usize::from(*byte) % choices])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_parameters_accept_quoted_and_bare_timestamps() {
        let query =
            ListQuery::parse(Some("_since=%22100%22&_before=200&_sort=-last_modified")).unwrap();

        assert_eq!(query.since, Some(Timestamp::from_millis(100)));
        assert_eq!(query.before, Some(Timestamp::from_millis(200)));
        assert!(query.is_sync());
    }

    #[test]
    fn malformed_or_unsupported_parameters_are_a_400() {
        for query in ["_since=abc", "title=x", "_limit=10"] {
            let error = ListQuery::parse(Some(query)).unwrap_err();
            assert_eq!(error.status(), 400, "{query}");
        }
        assert_eq!(
            ListQuery::parse(Some("_since=null")).unwrap(),
            ListQuery::default()
        );
    }

    #[test]
    fn id_filters_keep_and_drop_ids() {
        let query = ListQuery::parse(Some("in_id=a,b,c,&exclude_id=b")).unwrap();

        assert!(query.keeps("a"));
        assert!(!query.keeps("b"));
        assert!(!query.keeps("d"));
        assert!(ListQuery::default().keeps("anything"));
    }

    #[test]
    fn generated_ids_follow_the_id_rule() {
        for _ in 0..200 {
            let id = generate_id(ResourceName::Collection);
            assert_eq!(id.len(), SHORT_ID_CHARS);
            assert!(super::super::is_valid_id(&id), "{id}");
        }
        assert_eq!(generate_id(ResourceName::Record).len(), 36);
    }
}
