//! One object: GET, PUT, PATCH and DELETE on a bucket, collection or record.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::patch::{self, PatchFormat};
use super::preconditions::Preconditions;
use super::{
    Ancestry, Location, ObjectBody, add_timestamp_headers, add_writer, change, check_data,
    check_record, envelope, is_valid_id, load_ancestry, object_json, parse_data, parse_permissions,
    requested_timestamp, respond, write_clock,
};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::events::ChangeAction;
use crate::permissions::{self, Action, Permissions};
use crate::session::{Session, Tx};
use crate::storage::{ResourceName, StoredObject, Timestamp, Transaction, Written};

/// An object as loaded for a request: its data, if it lives, and the
/// permissions set on it.
struct Target {
    object: Option<StoredObject>,
    permissions: Permissions,
}

pub(crate) async fn get_object(
    state: &AppState,
    session: &Session,
    location: &Location,
    id: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let caller = &session.caller;
    let preconditions = Preconditions::from_headers(headers)?;
    check_id(id)?;
    let mut tx = session.begin_read(state.storage.as_ref()).await?;
    let caller = &caller.with_groups(&mut *tx).await?;
    let ancestry = load_ancestry(&mut *tx, caller, location).await?;
    let target = load_target(&mut *tx, location, id).await?;

    let object = permitted(caller, &ancestry, &target, location, id, Action::Read)?;
    if !preconditions.allow_write(Some(object.last_modified)) {
        return Err(ApiError::precondition_failed(Some(object_json(object))));
    }
    if preconditions.is_not_modified(object.last_modified) {
        return Ok(not_modified(object.last_modified));
    }

    let can_write = ancestry
        .chain(&target.permissions)
        .allows(Action::Write, &caller.principals());
    let permissions = can_write.then_some(&target.permissions);
    Ok(respond(
        StatusCode::OK,
        &envelope(object, permissions),
        object.last_modified,
    ))
}

pub(crate) async fn put_object(
    state: &AppState,
    session: &Session,
    location: &Location,
    id: &str,
    headers: &HeaderMap,
    body: ObjectBody,
) -> Result<Response, ApiError> {
    let preconditions = Preconditions::from_headers(headers)?;
    check_id(id)?;
    let mut data = parse_data(&body, id)?;
    check_data(location.kind, &mut data)?;
    let requested = requested_timestamp(&body)?;
    let new_permissions = body
        .permissions
        .as_ref()
        .map(|value| parse_permissions(location.kind, value))
        .transpose()?;
    let now = Timestamp::now();
    let ObjectWrite {
        mut tx,
        caller,
        ancestry,
        target,
    } = begin_object_write(state, session, location, id, now).await?;
    let caller = &caller;

    let is_allowed = match &target.object {
        Some(_) => ancestry
            .chain(&target.permissions)
            .allows(Action::Write, &caller.principals()),
        None => may_create(state, caller, &ancestry, location.kind),
    };
    if !is_allowed {
        return Err(ApiError::denied(caller.user_id.is_some()));
    }
    check_write(&preconditions, target.object.as_ref())?;
    check_record(location.kind, &ancestry, &data)?;

    let mut permissions = new_permissions.unwrap_or(target.permissions);
    add_writer(&mut permissions, caller);
    let clock = write_clock(&mut *tx, &location.scope(), requested, now).await?;
    let (written, object) = tx.put(&location.scope(), id, data, clock).await?;
    tx.set_permissions(&location.object_uri(id), &permissions)
        .await?;
    let action = match written {
        Written::Created => ChangeAction::Create,
        Written::Replaced => ChangeAction::Update,
    };
    let old = target.object.as_ref().map(object_json);
    session.record(change(
        location,
        action,
        old,
        object_json(&object),
        object.last_modified,
    ));
    session.commit(tx, state).await?;

    let status = match written {
        Written::Created => StatusCode::CREATED,
        Written::Replaced => StatusCode::OK,
    };
    let body = envelope(&object, Some(&permissions));
    Ok(respond(status, &body, object.last_modified))
}

pub(crate) async fn patch_object(
    state: &AppState,
    session: &Session,
    location: &Location,
    id: &str,
    headers: &HeaderMap,
    body: Value,
) -> Result<Response, ApiError> {
    let format = PatchFormat::from_headers(headers);
    let preconditions = Preconditions::from_headers(headers)?;
    check_id(id)?;
    let now = Timestamp::now();
    let ObjectWrite {
        mut tx,
        caller,
        ancestry,
        target,
    } = begin_object_write(state, session, location, id, now).await?;
    let caller = &caller;

    let existing = permitted(caller, &ancestry, &target, location, id, Action::Write)?;
    check_write(&preconditions, Some(existing))?;

    let patched = patch::apply(
        format,
        body,
        id,
        location.kind,
        &existing.data,
        &target.permissions,
    )?;
    let (mut data, mut permissions) = (patched.data, patched.permissions);
    check_data(location.kind, &mut data)?;
    check_record(location.kind, &ancestry, &data)?;
    add_writer(&mut permissions, caller);
    let old = object_json(existing);
    let (_, object) = tx.put(&location.scope(), id, data, now).await?;
    tx.set_permissions(&location.object_uri(id), &permissions)
        .await?;
    let new = object_json(&object);
    session.record(change(
        location,
        ChangeAction::Update,
        Some(old),
        new,
        object.last_modified,
    ));
    session.commit(tx, state).await?;

    let body = envelope(&object, Some(&permissions));
    Ok(respond(StatusCode::OK, &body, object.last_modified))
}

pub(crate) async fn delete_object(
    state: &AppState,
    session: &Session,
    location: &Location,
    id: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let preconditions = Preconditions::from_headers(headers)?;
    check_id(id)?;
    let now = Timestamp::now();
    let ObjectWrite {
        mut tx,
        caller,
        ancestry,
        target,
    } = begin_object_write(state, session, location, id, now).await?;
    let caller = &caller;

    let existing = permitted(caller, &ancestry, &target, location, id, Action::Write)?;
    check_write(&preconditions, Some(existing))?;

    let uri = location.object_uri(id);
    let old = object_json(existing);
    let tombstone = tx.delete(&location.scope(), id, now).await?;
    let new = tombstone_json(&tombstone.id, tombstone.last_modified);
    session.record(change(
        location,
        ChangeAction::Delete,
        Some(old),
        new,
        tombstone.last_modified,
    ));
    tx.purge_descendants(&uri, now).await?;
    tx.purge_permissions(&uri).await?;
    session.commit(tx, state).await?;

    let body = json!({ "data": tombstone_json(&tombstone.id, tombstone.last_modified) });
    Ok(respond(StatusCode::OK, &body, tombstone.last_modified))
}

/// A write on one object under way: its transaction, with the object's set
/// locked, the caller with their groups, the parent's permissions and the
/// object as it stands.
struct ObjectWrite {
    tx: Tx,
    caller: Caller,
    ancestry: Ancestry,
    target: Target,
}

async fn begin_object_write(
    state: &AppState,
    session: &Session,
    location: &Location,
    id: &str,
    now: Timestamp,
) -> Result<ObjectWrite, ApiError> {
    let mut tx = session.begin_write(state.storage.as_ref()).await?;
    let caller = session.caller.with_groups(&mut *tx).await?;
    let ancestry = load_ancestry(&mut *tx, &caller, location).await?;
    tx.lock(&location.scope(), now).await?;
    let target = load_target(&mut *tx, location, id).await?;
    Ok(ObjectWrite {
        tx,
        caller,
        ancestry,
        target,
    })
}

/// The object with its own permissions.
async fn load_target(
    tx: &mut dyn Transaction,
    location: &Location,
    id: &str,
) -> Result<Target, ApiError> {
    let object = tx.get(&location.scope(), id).await?;
    let permissions = match object {
        Some(_) => tx.permissions(&location.object_uri(id)).await?,
        None => Permissions::new(),
    };
    Ok(Target {
        object,
        permissions,
    })
}

/// The object, when the caller may perform `action` on it. A missing
/// object is a 404 only for callers who may read its parent: others cannot
/// tell it from a forbidden one.
fn permitted<'a>(
    caller: &Caller,
    ancestry: &Ancestry,
    target: &'a Target,
    location: &Location,
    id: &str,
    action: Action,
) -> Result<&'a StoredObject, ApiError> {
    let principals = caller.principals();
    let denied = || ApiError::denied(caller.user_id.is_some());
    let Some(object) = &target.object else {
        let can_read_parent = ancestry.parent_chain().allows(Action::Read, &principals);
        return Err(if can_read_parent {
            ApiError::missing_object(id, location.kind.as_str())
        } else {
            denied()
        });
    };
    if ancestry
        .chain(&target.permissions)
        .allows(action, &principals)
    {
        Ok(object)
    } else {
        Err(denied())
    }
}

/// Whether the caller may create a `kind` object under the parent.
pub(super) fn may_create(
    state: &AppState,
    caller: &Caller,
    ancestry: &Ancestry,
    kind: ResourceName,
) -> bool {
    let principals = caller.principals();
    match kind {
        ResourceName::Bucket => state
            .config
            .bucket_create_principals
            .iter()
            .any(|allowed| principals.contains(allowed)),
        _ => ancestry
            .parent_chain()
            .allows_create(permissions::create_permission(kind), &principals),
    }
}

/// A 412 when the preconditions do not hold for `existing`.
pub(super) fn check_write(
    preconditions: &Preconditions,
    existing: Option<&StoredObject>,
) -> Result<(), ApiError> {
    if preconditions.allow_write(existing.map(|object| object.last_modified)) {
        return Ok(());
    }
    Err(ApiError::precondition_failed(existing.map(object_json)))
}

/// A 400 for an id in the URL that breaks the id rule.
pub(super) fn check_id(id: &str) -> Result<(), ApiError> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(ApiError::invalid("path", "id", "Invalid object id"))
    }
}

fn not_modified(timestamp: Timestamp) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    add_timestamp_headers(response.headers_mut(), timestamp);
    response
}

/// The JSON of a tombstone in listings and deletions.
pub(super) fn tombstone_json(id: &str, last_modified: Timestamp) -> Value {
    json!({ "id": id, "last_modified": last_modified, "deleted": true })
}
