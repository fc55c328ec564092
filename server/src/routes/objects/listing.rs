//! The query string of a listing: filters (`[op_]field=value`, `_since`,
//! `_before`), `_sort`, `_fields`, and pages (`_limit`, `_token`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::storage::{Entry, Field, Filter, Operator, Query, SortKey};

/// Filter prefixes and their operators; no prefix means `eq_`.
const OPERATORS: &[(&str, Operator)] = &[
    ("eq_", Operator::Eq),
    ("not_", Operator::Not),
    ("lt_", Operator::Lt),
    ("gt_", Operator::Gt),
    ("min_", Operator::Min),
    ("max_", Operator::Max),
    ("in_", Operator::In),
    ("exclude_", Operator::Exclude),
    ("like_", Operator::Like),
    ("has_", Operator::Has),
    // Longest first: `contains_any_` also starts with `contains_`.
    ("contains_any_", Operator::ContainsAny),
    ("contains_", Operator::Contains),
];

/// What a listing asks for.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ListQuery {
    pub(super) query: Query,
    /// `_fields`: the data fields to return, besides `id` and
    /// `last_modified`.
    fields: Option<Vec<Vec<String>>>,
    pub(super) limit: Option<u64>,
    pub(super) token: Option<PageToken>,
    /// The parameters as given, but the page ones, for `Next-Page`.
    params: Vec<(String, String)>,
}

/// Where the next page starts. Clients treat it as opaque.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct PageToken {
    /// Newest first (the default order): the page holds what is older than
    /// this timestamp, so writes between two pages shift nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) before: Option<i64>,
    /// Any other order: how many objects earlier pages held.
    #[serde(default)]
    pub(super) offset: u64,
}

impl PageToken {
    pub(super) fn encode(self) -> String {
        BASE64.encode(serde_json::to_vec(&self).unwrap_or_default())
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes = BASE64.decode(text.trim_end_matches('=')).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

impl ListQuery {
    /// Reads the query string.
    ///
    /// # Errors
    ///
    /// A 400 naming the parameter that is malformed or not supported.
    pub(crate) fn parse(query_string: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query_string.unwrap_or_default()).map_err(|_| {
                ApiError::invalid("querystring", "", "The query string is malformed")
            })?;
        let mut parsed = Self::default();
        for (name, value) in pairs {
            let invalid = |description: &str| ApiError::invalid("querystring", &name, description);
            match name.as_str() {
                "_since" | "_before" => {
                    let operator = if name == "_since" {
                        Operator::Gt
                    } else {
                        Operator::Lt
                    };
                    if let Some(millis) =
                        timestamp(&value).map_err(|()| invalid("expected a timestamp"))?
                    {
                        parsed.add_filter(Field::LastModified, operator, Value::from(millis));
                    }
                }
                "_sort" => parsed.query.sort = sort_keys(&value),
                "_fields" => {
                    let fields = value.split(',').filter(|f| !f.is_empty());
                    parsed.fields = Some(
                        fields
                            .map(|f| f.split('.').map(str::to_owned).collect())
                            .collect(),
                    );
                }
                "_limit" => {
                    let limit: u64 = value
                        .parse()
                        .map_err(|_| invalid("expected a whole number"))?;
                    parsed.limit = (limit > 0).then_some(limit);
                }
                "_token" => {
                    let token =
                        PageToken::decode(&value).ok_or_else(|| invalid("is not a page token"))?;
                    parsed.token = Some(token);
                    continue;
                }
                // Cache busting, meaningless here.
                "_expected" => {}
                other if other.starts_with('_') => return Err(invalid("is not a known parameter")),
                other => {
                    let (operator, field) = split_operator(other);
                    if field.is_empty() {
                        return Err(invalid("names no field"));
                    }
                    let field = Field::parse(field);
                    let value = filter_value(operator, &field, &value).map_err(invalid)?;
                    parsed.add_filter(field, operator, value);
                }
            }
            if name != "_limit" {
                parsed.params.push((name, value));
            }
        }
        Ok(parsed)
    }

    fn add_filter(&mut self, field: Field, operator: Operator, value: Value) {
        // A listing filtered on time is a sync: it shows deletions too.
        if field == Field::LastModified && operator != Operator::Eq {
            self.query.include_deleted = true;
        }
        self.query.filters.push(Filter {
            field,
            operator,
            value,
        });
    }

    /// The query string of the page after this one.
    pub(super) fn next_page_query(&self, limit: u64, token: PageToken) -> String {
        let mut params = self.params.clone();
        params.push(("_limit".to_owned(), limit.to_string()));
        params.push(("_token".to_owned(), token.encode()));
        serde_urlencoded::to_string(params).unwrap_or_default()
    }

    /// The JSON of a listed entry, cut to `_fields` when given.
    pub(super) fn entry_json(&self, entry: &Entry) -> Value {
        let full = match entry {
            Entry::Live(object) => super::object_json(object),
            Entry::Deleted(tombstone) => {
                super::single::tombstone_json(&tombstone.id, tombstone.last_modified)
            }
        };
        let (Some(fields), Value::Object(full)) = (&self.fields, &full) else {
            return full;
        };
        let mut kept = Map::new();
        for always in ["id", "last_modified", "deleted"] {
            if let Some(value) = full.get(always) {
                kept.insert(always.to_owned(), value.clone());
            }
        }
        for path in fields {
            copy_path(full, &mut kept, path);
        }
        Value::Object(kept)
    }
}

/// Copies the value at `path` (`a.b.c`) from `from` into the same place in
/// `into`, when it exists.
fn copy_path(from: &Map<String, Value>, into: &mut Map<String, Value>, path: &[String]) {
    let Some((key, rest)) = path.split_first() else {
        return;
    };
    let Some(value) = from.get(key) else {
        return;
    };
    if rest.is_empty() {
        into.insert(key.clone(), value.clone());
        return;
    }
    if let Value::Object(inner) = value {
        let slot = into
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(slot) = slot {
            copy_path(inner, slot, rest);
        }
    }
}

fn split_operator(name: &str) -> (Operator, &str) {
    OPERATORS
        .iter()
        .find_map(|(prefix, operator)| name.strip_prefix(prefix).map(|field| (*operator, field)))
        .unwrap_or((Operator::Eq, name))
}

/// A filter's value: JSON when it parses, else the text itself; a list for
/// `in_`, `exclude_`, `contains_` and `contains_any_`, a boolean for `has_`.
fn filter_value(operator: Operator, field: &Field, text: &str) -> Result<Value, &'static str> {
    match operator {
        Operator::In | Operator::Exclude => {
            let items = text.split(',').filter(|item| !item.is_empty());
            Ok(Value::Array(
                items.map(|item| scalar(field, item)).collect(),
            ))
        }
        Operator::Has => match text {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err("expected true or false"),
        },
        Operator::Like => Ok(Value::String(text.to_owned())),
        Operator::Contains | Operator::ContainsAny => match scalar(field, text) {
            list @ Value::Array(_) => Ok(list),
            single => Ok(Value::Array(vec![single])),
        },
        _ if *field == Field::LastModified => text
            .trim_matches('"')
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "expected a timestamp"),
        _ => Ok(scalar(field, text)),
    }
}

/// One value: ids are always text; anything else is JSON when it parses.
fn scalar(field: &Field, text: &str) -> Value {
    if *field == Field::Id {
        return Value::String(text.trim_matches('"').to_owned());
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn sort_keys(value: &str) -> Vec<SortKey> {
    value
        .split(',')
        .filter(|key| !key.is_empty())
        .map(|key| match key.strip_prefix('-') {
            Some(name) => SortKey {
                field: Field::parse(name),
                is_descending: true,
            },
            None => SortKey {
                field: Field::parse(key.trim_start_matches('+')),
                is_descending: false,
            },
        })
        .collect()
}

/// A `_since`/`_before` value: a timestamp, bare or quoted like an ETag, or
/// `null` for none.
fn timestamp(value: &str) -> Result<Option<i64>, ()> {
    let value = value.trim();
    if value == "null" {
        return Ok(None);
    }
    value
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(drop)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(query: &str) -> ListQuery {
        ListQuery::parse(Some(query)).unwrap()
    }

    #[test]
    fn since_is_a_sync_that_includes_tombstones() {
        let listing = parse("_since=%22100%22&_sort=-last_modified");

        assert!(listing.query.include_deleted);
        assert_eq!(listing.query.filters[0].operator, Operator::Gt);
        assert_eq!(listing.query.filters[0].value, json!(100));
    }

    #[test]
    fn filter_values_are_json_when_they_parse() {
        let listing = parse(
            "n=2&not_title=milk&in_id=a,b,&has_meta.k=false\
             &contains_tags=%5B%22x%22,1%5D&contains_any_tags=y",
        );
        let values: Vec<&Value> = listing.query.filters.iter().map(|f| &f.value).collect();
        let operators: Vec<Operator> = listing.query.filters.iter().map(|f| f.operator).collect();

        assert_eq!(
            values,
            [
                &json!(2),
                &json!("milk"),
                &json!(["a", "b"]),
                &json!(false),
                &json!(["x", 1]),
                &json!(["y"]),
            ]
        );
        assert_eq!(operators[4..], [Operator::Contains, Operator::ContainsAny]);
        assert_eq!(listing.query.filters[3].field, Field::parse("meta.k"));
        assert!(!listing.query.include_deleted);
    }

    #[test]
    fn malformed_parameters_are_a_400() {
        for query in [
            "_since=abc",
            "_limit=-1",
            "_token=zzz",
            "_unknown=1",
            "has_x=maybe",
        ] {
            let error = ListQuery::parse(Some(query)).unwrap_err();
            assert_eq!(error.status(), 400, "{query}");
        }
    }

    #[test]
    fn page_tokens_round_trip_and_keep_the_other_parameters() {
        let listing = parse("title=milk&_limit=2");
        let token = PageToken {
            before: Some(42),
            offset: 0,
        };

        let next = listing.next_page_query(2, token);

        assert!(next.starts_with("title=milk&_limit=2&_token="), "{next}");
        let encoded = next.rsplit('=').next().unwrap();
        assert_eq!(PageToken::decode(encoded), Some(token));
    }

    #[test]
    fn fields_keep_ids_timestamps_and_the_named_paths() {
        let listing = parse("_fields=title,meta.k");
        let object = crate::storage::StoredObject {
            id: "r".to_owned(),
            last_modified: crate::storage::Timestamp::from_millis(5),
            data: json!({"title": "t", "meta": {"k": 1, "j": 2}, "x": 3})
                .as_object()
                .unwrap()
                .clone(),
        };

        let cut = listing.entry_json(&Entry::Live(object));

        assert_eq!(
            cut,
            json!({"id": "r", "last_modified": 5, "title": "t", "meta": {"k": 1}})
        );
    }
}
