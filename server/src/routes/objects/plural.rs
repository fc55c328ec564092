//! A set of objects: GET (a listing, filtered, sorted and paged as
//! `listing.rs` reads it), POST (create) and DELETE (delete all) on
//! `/buckets`, `.../collections` or `.../records`.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::listing::{ListQuery, PageToken};
use super::preconditions::Preconditions;
use super::single::{check_id, check_write, may_create, tombstone_json};
use super::{
    Location, ObjectBody, add_writer, envelope, load_ancestry, parse_permissions, respond,
};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::events::ChangeAction;
use crate::permissions::Action;
use crate::session::Session;
use crate::storage::{
    Entry, Field, Filter, Operator, ResourceName, Scope, StorageError, Timestamp, Transaction,
};

/// Header holding the URL of the next page of a listing.
const NEXT_PAGE: HeaderName = HeaderName::from_static("next-page");
/// Length of the ids generated for buckets, collections and groups.
const SHORT_ID_CHARS: usize = 8;

pub(crate) async fn list_objects(
    state: &AppState,
    session: &Session,
    location: &Location,
    listing: &ListQuery,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let caller = &session.caller;
    let preconditions = Preconditions::from_headers(headers)?;
    let now = Timestamp::now();
    let mut tx = session.begin_read(state.storage.as_ref()).await?;
    let caller = &caller.with_groups(&mut *tx).await?;
    let ancestry = load_ancestry(&mut *tx, caller, location).await?;
    let scope = location.scope();
    let timestamp = tx.timestamp(&scope, now).await?;

    let principals = caller.principals();
    let sees_all = ancestry.parent_chain().allows(Action::Read, &principals);
    let page = if sees_all {
        read_page(&mut *tx, &scope, listing).await?
    } else {
        // Limitation: for callers who may not read the whole set, objects
        // are checked one by one in the server, then paged.
        let entries = tx.query(&scope, &listing.query).await?;
        let readable =
            permitted_entries(&mut *tx, &ancestry, caller, location, entries, Action::Read).await?;
        if readable.is_empty() && location.kind != ResourceName::Bucket {
            return Err(ApiError::denied(caller.user_id.is_some()));
        }
        page_in_memory(readable, listing)
    };
    // Persists the timestamp of a set read for the first time.
    session.commit(tx, state).await?;

    if !preconditions.allow_write(Some(timestamp)) {
        return Err(ApiError::precondition_failed(None));
    }
    let data: Vec<Value> = page.entries.iter().map(|e| listing.entry_json(e)).collect();
    let mut response = respond(StatusCode::OK, &json!({ "data": data }), timestamp);
    if preconditions.is_not_modified(timestamp) {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.body_mut() = axum::body::Body::empty();
    }
    add_totals(response.headers_mut(), page.total);
    if let Some(token) = page.next {
        add_next_page(&mut response, listing, token, uri, headers);
    }
    Ok(response)
}

/// Adds the absolute URL of the page after `response`'s.
fn add_next_page(
    response: &mut Response,
    listing: &ListQuery,
    token: PageToken,
    uri: &Uri,
    headers: &HeaderMap,
) {
    let Some(limit) = listing.limit else {
        return;
    };
    let url = format!(
        "{}{}?{}",
        super::super::public_origin(uri, headers),
        uri.path(),
        listing.next_page_query(limit, token)
    );
    if let Ok(value) = HeaderValue::from_str(&url) {
        response.headers_mut().insert(NEXT_PAGE, value);
    }
}

/// One page of a listing, how many objects match in all, and where the next
/// page starts when there is one.
struct Page {
    entries: Vec<Entry>,
    total: u64,
    next: Option<PageToken>,
}

/// A page read by the database: one more row than asked tells whether
/// another page follows.
async fn read_page(
    tx: &mut dyn Transaction,
    scope: &Scope,
    listing: &ListQuery,
) -> Result<Page, ApiError> {
    let total = tx.count(scope, &listing.query).await?;
    let token = listing.token.unwrap_or_default();
    let mut query = listing.query.clone();
    if let Some(before) = token.before {
        query.filters.push(Filter {
            field: Field::LastModified,
            operator: Operator::Lt,
            value: Value::from(before),
        });
    }
    query.offset = token.offset;
    query.limit = listing.limit.map(|limit| limit + 1);
    let entries = tx.query(scope, &query).await?;
    Ok(cut_page(entries, total, listing, token))
}

/// The same page, from every readable entry.
fn page_in_memory(entries: Vec<Entry>, listing: &ListQuery) -> Page {
    let total = u64::try_from(entries.len()).unwrap_or(u64::MAX);
    let token = listing.token.unwrap_or_default();
    let skip = usize::try_from(token.offset).unwrap_or(usize::MAX);
    let entries = entries
        .into_iter()
        .filter(|entry| {
            token
                .before
                .is_none_or(|before| entry.last_modified().as_millis() < before)
        })
        .skip(skip)
        .take(listing.limit.map_or(usize::MAX, |limit| {
            usize::try_from(limit + 1).unwrap_or(usize::MAX)
        }))
        .collect();
    cut_page(entries, total, listing, token)
}

/// Drops the extra row a page read to learn whether more follow, and says
/// where the next page starts: keyset on the timestamp in the default
/// order, an offset in any other.
fn cut_page(mut entries: Vec<Entry>, total: u64, listing: &ListQuery, token: PageToken) -> Page {
    let Some(limit) = listing.limit else {
        return Page {
            entries,
            total,
            next: None,
        };
    };
    let limit_rows = usize::try_from(limit).unwrap_or(usize::MAX);
    if entries.len() <= limit_rows {
        return Page {
            entries,
            total,
            next: None,
        };
    }
    entries.truncate(limit_rows);
    let next = if listing.query.sort.is_empty() {
        PageToken {
            before: entries
                .last()
                .map(|entry| entry.last_modified().as_millis()),
            offset: 0,
        }
    } else {
        PageToken {
            before: None,
            offset: token.offset + limit,
        }
    };
    Page {
        entries,
        total,
        next: Some(next),
    }
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
    let mut data = super::parse_data(&body, &id)?;
    super::check_data(location.kind, &mut data)?;
    let requested = super::requested_timestamp(&body)?;
    let mut permissions = body
        .permissions
        .as_ref()
        .map(|value| parse_permissions(location.kind, value))
        .transpose()?
        .unwrap_or_default();
    let now = Timestamp::now();
    let mut tx = session.begin_write(state.storage.as_ref()).await?;
    let caller = &caller.with_groups(&mut *tx).await?;
    let ancestry = load_ancestry(&mut *tx, caller, location).await?;
    tx.lock(&location.scope(), now).await?;

    if !may_create(state, caller, &ancestry, location.kind) {
        return Err(ApiError::denied(caller.user_id.is_some()));
    }
    super::check_record(location.kind, &ancestry, &data)?;
    add_writer(&mut permissions, caller);
    let clock = super::write_clock(&mut *tx, &location.scope(), requested, now).await?;
    let created = tx.create(&location.scope(), &id, data, clock).await;
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
    let new = super::object_json(&object);
    let created = super::change(
        location,
        ChangeAction::Create,
        None,
        new,
        object.last_modified,
    );
    session.record(created);
    session.commit(tx, state).await?;

    let body = envelope(&object, Some(&permissions));
    Ok(respond(StatusCode::CREATED, &body, object.last_modified))
}

/// Deletes the live objects that match the listing's filters, a page at a
/// time when it has a `_limit`.
pub(crate) async fn delete_objects(
    state: &AppState,
    session: &Session,
    location: &Location,
    mut listing: ListQuery,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let caller = &session.caller;
    let preconditions = Preconditions::from_headers(headers)?;
    let now = Timestamp::now();
    let mut tx = session.begin_write(state.storage.as_ref()).await?;
    let caller = &caller.with_groups(&mut *tx).await?;
    let ancestry = load_ancestry(&mut *tx, caller, location).await?;
    let scope = location.scope();
    tx.lock(&scope, now).await?;
    let timestamp = tx.timestamp(&scope, now).await?;
    if !preconditions.allow_write(Some(timestamp)) {
        return Err(ApiError::precondition_failed(None));
    }

    // Tombstones are deleted already, whatever the filters say.
    listing.query.include_deleted = false;
    let principals = caller.principals();
    let page = if ancestry.parent_chain().allows(Action::Write, &principals) {
        read_page(&mut *tx, &scope, &listing).await?
    } else {
        let entries = tx.query(&scope, &listing.query).await?;
        let writable = permitted_entries(
            &mut *tx,
            &ancestry,
            caller,
            location,
            entries,
            Action::Write,
        )
        .await?;
        page_in_memory(writable, &listing)
    };
    let mut tombstones = Vec::new();
    for entry in &page.entries {
        let uri = location.object_uri(entry.id());
        let tombstone = tx.delete(&scope, entry.id(), now).await?;
        let old = match entry {
            Entry::Live(object) => Some(super::object_json(object)),
            Entry::Deleted(_) => None,
        };
        let new = tombstone_json(&tombstone.id, tombstone.last_modified);
        let deleted = super::change(
            location,
            ChangeAction::Delete,
            old,
            new,
            tombstone.last_modified,
        );
        session.record(deleted);
        tombstones.push(tombstone);
        tx.purge_descendants(&uri, now).await?;
        tx.purge_permissions(&uri).await?;
    }
    let timestamp = tx.timestamp(&scope, now).await?;
    session.commit(tx, state).await?;

    let data: Vec<Value> = tombstones
        .iter()
        .map(|tombstone| tombstone_json(&tombstone.id, tombstone.last_modified))
        .collect();
    let mut response = respond(StatusCode::OK, &json!({ "data": data }), timestamp);
    if page.next.is_some() {
        // What this page deleted no longer matches: the next page is
        // whatever still does, from the start.
        add_next_page(&mut response, &listing, PageToken::default(), uri, headers);
    }
    Ok(response)
}

/// The live entries whose own permissions, with their parents', grant the
/// caller `action`; tombstones carry no permissions, so they stay out.
async fn permitted_entries(
    tx: &mut dyn Transaction,
    ancestry: &super::Ancestry,
    caller: &Caller,
    location: &Location,
    entries: Vec<Entry>,
    action: Action,
) -> Result<Vec<Entry>, ApiError> {
    let principals = caller.principals();
    let mut permitted = Vec::new();
    for entry in entries {
        let Entry::Live(object) = &entry else {
            continue;
        };
        let own = tx.permissions(&location.object_uri(&object.id)).await?;
        if ancestry.chain(&own).allows(action, &principals) {
            permitted.push(entry);
        }
    }
    Ok(permitted)
}

fn add_totals(headers: &mut HeaderMap, total: u64) {
    let value = HeaderValue::from(total);
    for name in ["total-objects", "total-records"] {
        headers.insert(HeaderName::from_static(name), value.clone());
    }
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
    fn generated_ids_follow_the_id_rule() {
        for _ in 0..200 {
            let id = generate_id(ResourceName::Collection);
            assert_eq!(id.len(), SHORT_ID_CHARS);
            assert!(super::super::is_valid_id(&id), "{id}");
        }
        assert_eq!(generate_id(ResourceName::Record).len(), 36);
    }
}
