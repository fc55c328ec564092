//! What buckets, collections, groups and records share: where an object
//! lives, the JSON envelopes, the precondition headers and the permission
//! checks. Each resource module routes its URLs to `handlers.rs` with a type
//! that turns its path into a [`Location`]; the handlers call the operations
//! in `single.rs` (one object) and `plural.rs` (a set).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::events::{Change, ChangeAction, ImpactedObject};
use crate::permissions::{self, Action, Chain, Permissions};
use crate::storage::{ResourceName, Scope, StoredObject, Timestamp, Transaction};

pub(crate) mod handlers;
mod listing;
mod patch;
mod plural;
mod preconditions;
mod schema;
mod single;

/// A set of objects in the tree: its kind and the ancestors above it, from
/// the bucket down to the parent.
#[derive(Debug, Clone)]
pub(crate) struct Location {
    ancestors: Vec<(ResourceName, String)>,
    kind: ResourceName,
}

impl Location {
    pub(crate) fn buckets() -> Self {
        Self {
            ancestors: Vec::new(),
            kind: ResourceName::Bucket,
        }
    }

    pub(crate) fn collections(bucket_id: String) -> Self {
        Self {
            ancestors: vec![(ResourceName::Bucket, bucket_id)],
            kind: ResourceName::Collection,
        }
    }

    pub(crate) fn groups(bucket_id: String) -> Self {
        Self {
            ancestors: vec![(ResourceName::Bucket, bucket_id)],
            kind: ResourceName::Group,
        }
    }

    pub(crate) fn records(bucket_id: String, collection_id: String) -> Self {
        Self {
            ancestors: vec![
                (ResourceName::Bucket, bucket_id),
                (ResourceName::Collection, collection_id),
            ],
            kind: ResourceName::Record,
        }
    }

    /// The URI of the parent object, empty for buckets.
    fn parent_uri(&self) -> String {
        self.ancestors
            .iter()
            .map(|(kind, id)| format!("/{}/{id}", plural_name(*kind)))
            .collect()
    }

    pub(crate) fn scope(&self) -> Scope {
        Scope::children(self.parent_uri(), self.kind)
    }

    pub(crate) fn object_uri(&self, id: &str) -> String {
        format!("{}/{}/{id}", self.parent_uri(), plural_name(self.kind))
    }
}

/// The request body of a write: `{"data": {...}, "permissions": {...}}`,
/// both optional.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ObjectBody {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    permissions: Option<Value>,
}

/// The parent's permissions, nearest first, once the caller is known to be
/// allowed to see the parent.
struct Ancestry {
    links: Vec<Permissions>,
    /// The parent object itself, `None` for buckets.
    parent: Option<StoredObject>,
}

impl Ancestry {
    /// The chain of an object: its own permissions, then its ancestors'.
    fn chain<'a>(&'a self, own: &'a Permissions) -> Chain<'a> {
        let mut links = vec![own];
        links.extend(self.links.iter());
        Chain { links }
    }

    /// The chain of the parent itself.
    fn parent_chain(&self) -> Chain<'_> {
        Chain {
            links: self.links.iter().collect(),
        }
    }
}

/// Checks that every ancestor of `location` exists, and returns their
/// permissions. A missing bucket is indistinguishable from a forbidden one;
/// a missing collection in a bucket the caller can read is a 404.
async fn load_ancestry(
    tx: &mut dyn Transaction,
    caller: &Caller,
    location: &Location,
) -> Result<Ancestry, ApiError> {
    let principals = caller.principals();
    let mut links: Vec<Permissions> = Vec::new();
    let mut parent_uri = String::new();
    let mut parent = None;

    for (kind, id) in &location.ancestors {
        if !is_valid_id(id) {
            return Err(ApiError::denied(caller.user_id.is_some()));
        }
        let scope = Scope::children(parent_uri.clone(), *kind);
        parent = tx.get(&scope, id).await?;
        parent_uri = format!("{parent_uri}/{}/{id}", plural_name(*kind));
        if parent.is_none() {
            let can_see_parent = !links.is_empty()
                && Chain {
                    links: links.iter().collect(),
                }
                .allows(Action::Read, &principals);
            return Err(if can_see_parent {
                ApiError::missing_parent(kind.as_str(), id)
            } else {
                ApiError::denied(caller.user_id.is_some())
            });
        }
        links.insert(0, tx.permissions(&parent_uri).await?);
    }
    Ok(Ancestry { links, parent })
}

/// A permission map from a request body, checked against the names `kind`
/// accepts.
fn parse_permissions(kind: ResourceName, value: &Value) -> Result<Permissions, ApiError> {
    let invalid = |name: &str, description: &str| {
        ApiError::invalid("body", &format!("permissions.{name}"), description)
    };
    let Some(entries) = value.as_object() else {
        return Err(invalid("", "expected an object"));
    };
    let allowed = permissions::allowed_names(kind);
    let mut parsed = Permissions::new();
    for (name, principals) in entries {
        if !allowed.contains(&name.as_str()) {
            let expected = allowed.join(", ");
            return Err(invalid(
                name,
                &format!("\"{name}\" is not one of {expected}"),
            ));
        }
        let Some(principals) = principals.as_array() else {
            return Err(invalid(name, "expected a list of principals"));
        };
        let holders = parsed.entry(name.clone()).or_default();
        for principal in principals {
            let Some(principal) = principal.as_str() else {
                return Err(invalid(name, "principals are strings"));
            };
            holders.insert(principal.to_owned());
        }
    }
    Ok(parsed)
}

/// The object's data from a request body: a JSON object whose `id`, if
/// given, matches the URL; `id` and `last_modified` are storage's own.
fn parse_data(body: &ObjectBody, id: &str) -> Result<Map<String, Value>, ApiError> {
    let mut data = match &body.data {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(data)) => data.clone(),
        Some(_) => return Err(ApiError::invalid("body", "data", "expected an object")),
    };
    if let Some(given) = data.remove("id")
        && given.as_str() != Some(id)
    {
        return Err(ApiError::invalid(
            "body",
            "data.id",
            "does not match the URL",
        ));
    }
    data.remove("last_modified");
    Ok(data)
}

/// Beyond this, a timestamp would lose precision in JavaScript clients.
const MAX_REQUESTED_TIMESTAMP: i64 = (1 << 53) - 1;

/// The `last_modified` a client gives on a create or a replace, as a
/// replica keeping its source's timestamps does.
fn requested_timestamp(body: &ObjectBody) -> Result<Option<Timestamp>, ApiError> {
    let given = body
        .data
        .as_ref()
        .and_then(|data| data.get("last_modified"));
    match given {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value.as_i64() {
            Some(millis) if (0..=MAX_REQUESTED_TIMESTAMP).contains(&millis) => {
                Ok(Some(Timestamp::from_millis(millis)))
            }
            _ => Err(ApiError::invalid(
                "body",
                "data.last_modified",
                "expected a timestamp in epoch milliseconds",
            )),
        },
    }
}

/// The clock a create or a replace in `scope` runs on: the timestamp the
/// client asked for when it is newer than everything issued in the set, so
/// the set's timestamp still only moves forward; the real clock otherwise.
async fn write_clock(
    tx: &mut dyn Transaction,
    scope: &Scope,
    requested: Option<Timestamp>,
    now: Timestamp,
) -> Result<Timestamp, ApiError> {
    let Some(requested) = requested else {
        return Ok(now);
    };
    tx.lock(scope, now).await?;
    let newest = tx.timestamp(scope, now).await?;
    Ok(if requested > newest { requested } else { now })
}

/// Checks what a kind of object requires of its data: a collection's
/// `schema` is a JSON Schema, a group's `members` is a list of principals,
/// empty when not given.
fn check_data(kind: ResourceName, data: &mut Map<String, Value>) -> Result<(), ApiError> {
    if kind == ResourceName::Collection {
        return schema::check_schema(data);
    }
    if kind != ResourceName::Group {
        return Ok(());
    }
    let members = data
        .entry("members")
        .or_insert_with(|| Value::Array(Vec::new()));
    let is_valid = members
        .as_array()
        .is_some_and(|members| members.iter().all(Value::is_string));
    if is_valid {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "body",
            "data.members",
            "expected a list of principals",
        ))
    }
}

/// Checks a record's data against the schema of its collection, the parent
/// in `ancestry`.
fn check_record(
    kind: ResourceName,
    ancestry: &Ancestry,
    data: &Map<String, Value>,
) -> Result<(), ApiError> {
    if kind != ResourceName::Record {
        return Ok(());
    }
    schema::check_record(ancestry.parent.as_ref(), data)
}

/// Adds the caller to the object's `write` permission: whoever creates or
/// changes an object may keep changing it.
fn add_writer(permissions: &mut Permissions, caller: &Caller) {
    if let Some(user_id) = &caller.user_id {
        permissions
            .entry(permissions::WRITE.to_owned())
            .or_default()
            .insert(user_id.as_str().to_owned());
    }
}

/// A change to report once the request commits.
fn change(
    location: &Location,
    action: ChangeAction,
    old: Option<Value>,
    new: Value,
    timestamp: Timestamp,
) -> Change {
    Change {
        action,
        resource_name: location.kind,
        parent_id: location.parent_uri(),
        timestamp,
        object: ImpactedObject { old, new },
    }
}

/// The JSON of an object, `id` and `last_modified` included.
fn object_json(object: &StoredObject) -> Value {
    let mut data = object.data.clone();
    data.insert("id".to_owned(), Value::from(object.id.clone()));
    data.insert(
        "last_modified".to_owned(),
        Value::from(object.last_modified.as_millis()),
    );
    Value::Object(data)
}

/// The object envelope. Permissions are shown only to callers who may
/// write the object.
fn envelope(object: &StoredObject, permissions: Option<&Permissions>) -> Value {
    let permissions = permissions.map_or_else(|| json!({}), |p| json!(p));
    json!({ "data": object_json(object), "permissions": permissions })
}

/// A JSON response with `ETag` and `Last-Modified` for `timestamp`.
pub(crate) fn respond(status: StatusCode, body: &Value, timestamp: Timestamp) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    add_timestamp_headers(response.headers_mut(), timestamp);
    response
}

fn add_timestamp_headers(headers: &mut HeaderMap, timestamp: Timestamp) {
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{timestamp}\"")) {
        headers.insert(header::ETAG, etag);
    }
    let seconds = u64::try_from(timestamp.as_millis() / 1000).unwrap_or_default();
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(time)) {
        headers.insert(header::LAST_MODIFIED, date);
    }
}

/// Kinto's id rule: a letter or digit, then letters, digits, `_` or `-`.
pub(crate) fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn plural_name(kind: ResourceName) -> &'static str {
    match kind {
        ResourceName::Bucket => "buckets",
        ResourceName::Collection => "collections",
        ResourceName::Group => "groups",
        ResourceName::Record => "records",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_kinto_rule() {
        for id in ["a", "A9", "9-z", "with_under-score"] {
            assert!(is_valid_id(id), "{id}");
        }
        for id in ["", "-a", "_a", "a.b", "a b", "é"] {
            assert!(!is_valid_id(id), "{id}");
        }
    }

    #[test]
    fn locations_name_their_parent_and_objects() {
        let records = Location::records("b".to_owned(), "c".to_owned());

        assert_eq!(records.parent_uri(), "/buckets/b/collections/c");
        assert_eq!(
            records.object_uri("r"),
            "/buckets/b/collections/c/records/r"
        );
        assert_eq!(Location::buckets().object_uri("b"), "/buckets/b");
    }

    #[test]
    fn permission_names_are_checked_per_kind() {
        let good = json!({"read": ["system.Everyone"], "record:create": ["alice"]});
        let bad = json!({"collection:create": ["alice"]});

        assert!(parse_permissions(ResourceName::Collection, &good).is_ok());
        assert!(parse_permissions(ResourceName::Record, &bad).is_err());
        assert!(parse_permissions(ResourceName::Record, &json!({"read": "x"})).is_err());
    }

    #[test]
    fn data_id_must_match_the_url() {
        let body = ObjectBody {
            data: Some(json!({"id": "other", "title": "x"})),
            permissions: None,
        };

        assert!(parse_data(&body, "mine").is_err());
        let body = ObjectBody {
            data: Some(json!({"id": "mine", "last_modified": 1, "title": "x"})),
            permissions: None,
        };
        assert_eq!(
            parse_data(&body, "mine").unwrap(),
            json!({"title": "x"}).as_object().unwrap().clone()
        );
    }
}
