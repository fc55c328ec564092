//! The three `PATCH` bodies Kinto takes, by `Content-Type`: plain JSON
//! (top-level fields merged), JSON Merge Patch (RFC 7396, recursive, `null`
//! deletes) and JSON Patch (RFC 6902, operations on `/data/...` and
//! `/permissions/<name>/<principal>`).

use axum::http::{HeaderMap, header};
use serde_json::{Map, Value, json};

use super::{ObjectBody, parse_data, parse_permissions};
use crate::error::ApiError;
use crate::permissions::Permissions;
use crate::storage::{Data, ResourceName};

/// Which kind of `PATCH` body a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PatchFormat {
    Plain,
    MergePatch,
    JsonPatch,
}

impl PatchFormat {
    pub(super) fn from_headers(headers: &HeaderMap) -> Self {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if content_type.starts_with("application/merge-patch+json") {
            Self::MergePatch
        } else if content_type.starts_with("application/json-patch+json") {
            Self::JsonPatch
        } else {
            Self::Plain
        }
    }
}

/// What an object becomes once `body` is applied to it.
#[derive(Debug)]
pub(super) struct Patched {
    pub(super) data: Data,
    pub(super) permissions: Permissions,
}

/// Applies `body` to the object `id` of `kind`, whose data and permissions
/// are `data` and `permissions`.
///
/// # Errors
///
/// A 400 when the body does not fit its format, or the result is not a
/// valid object.
pub(super) fn apply(
    format: PatchFormat,
    body: Value,
    id: &str,
    kind: ResourceName,
    data: &Data,
    permissions: &Permissions,
) -> Result<Patched, ApiError> {
    match format {
        PatchFormat::Plain => {
            let body = envelope(body)?;
            let mut patched = data.clone();
            patched.extend(parse_data(&body, id)?);
            let mut new_permissions = permissions.clone();
            if let Some(changes) = &body.permissions {
                new_permissions.extend(parse_permissions(kind, changes)?);
            }
            Ok(Patched {
                data: patched,
                permissions: new_permissions,
            })
        }
        PatchFormat::MergePatch => {
            let body = envelope(body)?;
            let mut document = Value::Object(data.clone());
            if let Some(changes) = &body.data {
                json_patch::merge(&mut document, changes);
            }
            let mut acl = json!(permissions);
            if let Some(changes) = &body.permissions {
                json_patch::merge(&mut acl, changes);
            }
            finish(document, &acl, id, kind)
        }
        PatchFormat::JsonPatch => {
            let operations = operations(body)?;
            let mut document = json!({
                "data": Value::Object(data.clone()),
                "permissions": principal_sets(kind, permissions),
            });
            json_patch::patch(&mut document, &operations)
                .map_err(|error| ApiError::invalid("body", "", format!("JSON Patch: {error}")))?;
            let acl = principal_lists(&document["permissions"]);
            finish(document["data"].take(), &acl, id, kind)
        }
    }
}

fn envelope(body: Value) -> Result<ObjectBody, ApiError> {
    serde_json::from_value(body)
        .map_err(|error| ApiError::invalid("body", "", format!("The body {error}")))
}

/// Checks the patched data and permissions like those of a `PUT`.
fn finish(document: Value, acl: &Value, id: &str, kind: ResourceName) -> Result<Patched, ApiError> {
    let body = ObjectBody {
        data: Some(document),
        permissions: None,
    };
    let data = parse_data(&body, id)?;
    let mut permissions = parse_permissions(kind, &without_nulls(acl))?;
    permissions.retain(|_, principals| !principals.is_empty());
    Ok(Patched { data, permissions })
}

/// JSON Patch operations, where those on `/permissions/<name>/<principal>`
/// may leave out their value.
fn operations(body: Value) -> Result<json_patch::Patch, ApiError> {
    let Value::Array(mut operations) = body else {
        return Err(ApiError::invalid(
            "body",
            "",
            "A JSON Patch is a list of operations",
        ));
    };
    for operation in &mut operations {
        let is_permission = operation["path"]
            .as_str()
            .is_some_and(|path| path.starts_with("/permissions/"));
        if let Some(fields) = operation.as_object_mut()
            && is_permission
        {
            fields.entry("value").or_insert(Value::Bool(true));
        }
    }
    serde_json::from_value(Value::Array(operations))
        .map_err(|error| ApiError::invalid("body", "", format!("JSON Patch: {error}")))
}

/// `{"read": {"alice": true}}`: principals as keys, so that JSON Patch paths
/// can name them.
/// Every permission name of `kind` is there, empty or not, so that an `add`
/// can name any of them.
fn principal_sets(kind: ResourceName, permissions: &Permissions) -> Value {
    let sets: Map<String, Value> = crate::permissions::allowed_names(kind)
        .iter()
        .map(|name| {
            let principals = permissions.get(*name).into_iter().flatten();
            let set = principals.map(|p| (p.clone(), Value::Bool(true)));
            ((*name).to_owned(), Value::Object(set.collect()))
        })
        .collect();
    Value::Object(sets)
}

/// Back from `principal_sets` to `{"read": ["alice"]}`.
fn principal_lists(sets: &Value) -> Value {
    let Some(sets) = sets.as_object() else {
        return json!({});
    };
    let lists: Map<String, Value> = sets
        .iter()
        .map(|(name, set)| {
            let principals = match set {
                Value::Object(set) => set.keys().cloned().map(Value::from).collect(),
                Value::Array(list) => list.clone(),
                _ => Vec::new(),
            };
            (name.clone(), Value::Array(principals))
        })
        .collect();
    Value::Object(lists)
}

/// A permission map without the names a merge patch set to `null`.
fn without_nulls(acl: &Value) -> Value {
    match acl {
        Value::Object(entries) => Value::Object(
            entries
                .iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Data {
        json!({"title": "milk", "meta": {"a": 1, "b": 2}})
            .as_object()
            .unwrap()
            .clone()
    }

    fn acl() -> Permissions {
        let mut permissions = Permissions::new();
        permissions
            .entry("read".to_owned())
            .or_default()
            .insert("bob".to_owned());
        permissions
    }

    fn patch(format: PatchFormat, body: Value) -> Result<Patched, ApiError> {
        apply(format, body, "r1", ResourceName::Record, &data(), &acl())
    }

    #[test]
    fn plain_json_replaces_sub_objects() {
        let patched = patch(PatchFormat::Plain, json!({"data": {"meta": {"c": 3}}})).unwrap();

        assert_eq!(Value::Object(patched.data)["meta"], json!({"c": 3}));
    }

    #[test]
    fn merge_patch_merges_deeply_and_deletes_with_null() {
        let body = json!({
            "data": {"meta": {"a": null, "c": 3}, "title": null},
            "permissions": {"read": null, "write": ["alice"]},
        });

        let patched = patch(PatchFormat::MergePatch, body).unwrap();

        assert_eq!(
            Value::Object(patched.data),
            json!({"meta": {"b": 2, "c": 3}})
        );
        assert!(!patched.permissions.contains_key("read"));
        assert!(patched.permissions["write"].contains("alice"));
    }

    #[test]
    fn json_patch_edits_data_and_principals() {
        let body = json!([
            {"op": "replace", "path": "/data/title", "value": "oat milk"},
            {"op": "add", "path": "/permissions/write/alice"},
            {"op": "remove", "path": "/permissions/read/bob"},
        ]);

        let patched = patch(PatchFormat::JsonPatch, body).unwrap();

        assert_eq!(patched.data["title"], "oat milk");
        assert!(patched.permissions["write"].contains("alice"));
        assert!(!patched.permissions.contains_key("read"));
    }

    #[test]
    fn a_failing_json_patch_is_a_400() {
        let body = json!([{"op": "remove", "path": "/data/nothing"}]);

        assert_eq!(
            patch(PatchFormat::JsonPatch, body).unwrap_err().status(),
            400
        );
    }
}
