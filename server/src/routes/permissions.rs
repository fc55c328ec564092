//! `GET /v1/permissions`: every object the caller holds a permission on
//! directly, with those permissions.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::permissions::{READ, WRITE};
use crate::session::Session;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/permissions", get(list_permissions))
}

// Limitation: the list takes no filters, sorts or pages, and does not
// expand rights inherited from a parent.
async fn list_permissions(
    State(state): State<AppState>,
    session: Session,
) -> Result<ApiJson<Value>, ApiError> {
    let mut tx = session.begin_read(state.storage.as_ref()).await?;
    let caller = session.caller.with_groups(&mut *tx).await?;
    let grants = tx.permissions_of(&caller.principals()).await?;

    let mut objects: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (object_id, permission) in grants {
        let held = objects.entry(object_id).or_default();
        if permission == WRITE && !held.iter().any(|p| p == READ) {
            held.push(READ.to_owned());
        }
        if !held.contains(&permission) {
            held.push(permission);
        }
    }
    let data: Vec<Value> = objects
        .into_iter()
        .filter_map(|(uri, mut permissions)| {
            permissions.sort();
            describe(&uri, permissions)
        })
        .collect();
    Ok(ApiJson(json!({ "data": data })))
}

/// An entry of the list: the URI, the kind, the ids it names and the
/// permissions held; `None` for a URI that names no object.
fn describe(uri: &str, permissions: Vec<String>) -> Option<Value> {
    let segments: Vec<&str> = uri.split('/').filter(|s| !s.is_empty()).collect();
    if !segments.len().is_multiple_of(2) || segments.is_empty() {
        return None;
    }
    let mut entry = Map::new();
    let mut resource_name = "";
    for pair in segments.chunks(2) {
        let (name, key) = match pair[0] {
            "buckets" => ("bucket", "bucket_id"),
            "collections" => ("collection", "collection_id"),
            "groups" => ("group", "group_id"),
            "records" => ("record", "record_id"),
            _ => return None,
        };
        entry.insert(key.to_owned(), Value::from(pair[1]));
        resource_name = name;
    }
    entry.insert("id".to_owned(), Value::from(*segments.last()?));
    entry.insert("uri".to_owned(), Value::from(uri));
    entry.insert("resource_name".to_owned(), Value::from(resource_name));
    entry.insert("permissions".to_owned(), json!(permissions));
    Some(Value::Object(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_name_the_object_and_its_parents() {
        let entry = describe("/buckets/b/collections/c", vec!["read".to_owned()]).unwrap();

        assert_eq!(entry["resource_name"], "collection");
        assert_eq!(entry["id"], "c");
        assert_eq!(entry["bucket_id"], "b");
        assert_eq!(entry["collection_id"], "c");
        assert!(describe("/buckets/b/collections", Vec::new()).is_none());
    }
}
