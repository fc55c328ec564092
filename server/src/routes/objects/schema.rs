//! Collection schemas: a collection whose data holds a JSON Schema under
//! `schema` takes only records that match it.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::storage::StoredObject;

/// The field of a collection's data that holds its records' schema.
const SCHEMA_FIELD: &str = "schema";

/// Checks that a collection's `schema`, when given, is a JSON Schema.
///
/// # Errors
///
/// A 400 on `data.schema` saying what is wrong with it.
pub(super) fn check_schema(collection: &Map<String, Value>) -> Result<(), ApiError> {
    let Some(schema) = collection.get(SCHEMA_FIELD) else {
        return Ok(());
    };
    jsonschema::validator_for(schema)
        .map(drop)
        .map_err(|error| ApiError::invalid("body", "data.schema", error.to_string()))
}

/// Checks a record's data against its collection's schema, if it has one.
///
/// # Errors
///
/// A 400 naming the first field that does not match, such as
/// `data.title`.
// Limitation: the schema is compiled again for every record written.
pub(super) fn check_record(
    collection: Option<&StoredObject>,
    record: &Map<String, Value>,
) -> Result<(), ApiError> {
    let Some(schema) = collection.and_then(|collection| collection.data.get(SCHEMA_FIELD)) else {
        return Ok(());
    };
    let Ok(validator) = jsonschema::validator_for(schema) else {
        // Stored schemas were checked when written; one that no longer
        // compiles validates nothing rather than refusing every record.
        return Ok(());
    };
    let instance = Value::Object(record.clone());
    let Err(error) = validator.validate(&instance) else {
        return Ok(());
    };
    let pointer = error.instance_path().to_string();
    let field = pointer
        .split('/')
        .filter(|segment| !segment.is_empty())
        .fold(String::from("data"), |name, segment| {
            format!("{name}.{segment}")
        });
    Err(ApiError::invalid("body", &field, error.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::storage::Timestamp;

    fn collection(schema: Value) -> StoredObject {
        StoredObject {
            id: "c".to_owned(),
            last_modified: Timestamp::from_millis(1),
            data: json!({ "schema": schema }).as_object().unwrap().clone(),
        }
    }

    fn record(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn records_must_match_the_schema_and_the_error_names_the_field() {
        let notes = collection(json!({
            "type": "object",
            "properties": { "title": { "type": "string" } },
            "required": ["title"],
        }));

        assert!(check_record(Some(&notes), &record(json!({"title": "milk"}))).is_ok());
        let error = check_record(Some(&notes), &record(json!({"title": 3}))).unwrap_err();
        assert_eq!(error.status(), 400);
        let body = format!("{error:?}");
        assert!(body.contains("data.title"), "{body}");
    }

    #[test]
    fn collections_without_a_schema_take_anything() {
        assert!(check_record(None, &record(json!({"any": "thing"}))).is_ok());
    }

    #[test]
    fn an_invalid_schema_is_refused() {
        let data = record(json!({ "schema": { "type": "no-such-type" } }));

        assert!(check_schema(&data).is_err());
    }
}
