//! Listing queries: filters, sorts and pages of a set, turned into SQL for
//! each backend so that the database does the filtering, the sorting and
//! the counting, never the server.
//!
//! Filters compare JSON values type by type, as Kinto does: `n=2` matches the
//! number 2, not the string "2". Fields may be dotted (`meta.author`).

use serde_json::Value;

use super::Scope;

/// Which SQL the query is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A field of the objects: a column, or a path into the JSON data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Id,
    LastModified,
    Data(Vec<String>),
}

impl Field {
    /// `id`, `last_modified`, or a dotted path into the data.
    pub fn parse(name: &str) -> Self {
        match name {
            "id" => Self::Id,
            "last_modified" => Self::LastModified,
            path => Self::Data(path.split('.').map(str::to_owned).collect()),
        }
    }
}

/// How a filter compares a field with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Not,
    Lt,
    Gt,
    Min,
    Max,
    In,
    Exclude,
    Like,
    Has,
    /// The field is a list holding every one of the values.
    Contains,
    /// The field is a list holding at least one of the values.
    ContainsAny,
}

/// One condition; a listing keeps the objects that meet all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: Field,
    pub operator: Operator,
    /// The value, parsed as JSON; a list for `In`, `Exclude`, `Contains`
    /// and `ContainsAny`, a boolean for `Has`, a string pattern (`*` for
    /// any text) for `Like`.
    pub value: Value,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub field: Field,
    pub is_descending: bool,
}

/// A listing of one set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub filters: Vec<Filter>,
    /// The caller's order; newest first breaks ties, and is the whole order
    /// when this is empty.
    pub sort: Vec<SortKey>,
    /// Whether tombstones are listed too.
    pub include_deleted: bool,
    pub limit: Option<u64>,
    pub offset: u64,
}

/// A value bound to a query parameter.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Bind {
    Text(String),
    Int(i64),
    Real(f64),
    Bool(bool),
    /// JSON for a PostgreSQL `jsonb` comparison.
    Json(Value),
    /// A PostgreSQL `text[]`: a path into the data, or a list of strings.
    Path(Vec<String>),
}

/// SQL text and the values of its `$n` parameters, in order.
#[derive(Debug, Default)]
pub(super) struct Sql {
    pub(super) text: String,
    pub(super) binds: Vec<Bind>,
}

impl Sql {
    /// Adds `bind` and returns its placeholder.
    fn param(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        format!("${}", self.binds.len())
    }
}

impl Query {
    /// `SELECT` of the matching rows, sorted and paged.
    pub(super) fn select_sql(&self, dialect: Dialect, scope: &Scope) -> Sql {
        let mut sql = Sql::default();
        let condition = self.condition(dialect, scope, &mut sql);
        let mut order = Vec::new();
        for key in &self.sort {
            let expression = value_expression(dialect, &key.field, &mut sql);
            let direction = if key.is_descending { "DESC" } else { "ASC" };
            order.push(format!("{expression} {direction}"));
        }
        order.push("last_modified DESC".to_owned());
        sql.text = format!(
            "SELECT id, last_modified, is_deleted, data FROM objects WHERE {condition} \
             ORDER BY {}",
            order.join(", ")
        );
        if let Some(limit) = self.limit {
            let limit = sql.param(Bind::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
            let offset = sql.param(Bind::Int(i64::try_from(self.offset).unwrap_or(i64::MAX)));
            sql.text
                .push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
        }
        sql
    }

    /// `SELECT COUNT(*)` of the matching rows, ignoring the page.
    pub(super) fn count_sql(&self, dialect: Dialect, scope: &Scope) -> Sql {
        let mut sql = Sql::default();
        let condition = self.condition(dialect, scope, &mut sql);
        sql.text = format!("SELECT COUNT(*) FROM objects WHERE {condition}");
        sql
    }

    fn condition(&self, dialect: Dialect, scope: &Scope, sql: &mut Sql) -> String {
        let parent = sql.param(Bind::Text(scope.parent_id.clone()));
        let kind = sql.param(Bind::Text(scope.resource_name.as_str().to_owned()));
        let mut conditions = vec![
            format!("parent_id = {parent}"),
            format!("resource_name = {kind}"),
        ];
        if !self.include_deleted {
            conditions.push("NOT is_deleted".to_owned());
        }
        for filter in &self.filters {
            conditions.push(filter_condition(dialect, filter, sql));
        }
        conditions.join(" AND ")
    }
}

/// The groups (`parent_id` and `id` rows) whose `members` list holds one of
/// `principals`.
pub(super) fn groups_with_member_sql(dialect: Dialect, principals: &[String]) -> Sql {
    let mut sql = Sql::default();
    let membership = match dialect {
        Dialect::Sqlite => {
            let listed: Vec<String> = principals
                .iter()
                .map(|principal| sql.param(Bind::Text(principal.clone())))
                .collect();
            format!(
                "EXISTS (SELECT 1 FROM json_each(objects.data, '$.members') AS member \
                 WHERE member.value IN ({}))",
                listed.join(", ")
            )
        }
        Dialect::Postgres => {
            let listed = sql.param(Bind::Path(principals.to_vec()));
            format!("(data -> 'members') ?| {listed}")
        }
    };
    sql.text = format!(
        "SELECT parent_id, id FROM objects \
         WHERE resource_name = 'group' AND NOT is_deleted AND {membership}"
    );
    sql
}

/// The `(object_id, permission)` rows granted to one of `principals`.
pub(super) fn permissions_of_sql(principals: &[String]) -> Sql {
    let mut sql = Sql::default();
    let listed: Vec<String> = principals
        .iter()
        .map(|principal| sql.param(Bind::Text(principal.clone())))
        .collect();
    sql.text = format!(
        "SELECT object_id, permission FROM permissions WHERE principal IN ({}) \
         ORDER BY object_id, permission",
        listed.join(", ")
    );
    sql
}

fn filter_condition(dialect: Dialect, filter: &Filter, sql: &mut Sql) -> String {
    let field = &filter.field;
    let value = &filter.value;
    match filter.operator {
        Operator::Eq => equals(dialect, field, value, sql),
        Operator::Not => format!(
            "NOT COALESCE({}, FALSE)",
            equals(dialect, field, value, sql)
        ),
        Operator::In | Operator::Exclude => {
            let values = value
                .as_array()
                .cloned()
                .unwrap_or_else(|| vec![value.clone()]);
            let any: Vec<String> = values
                .iter()
                .map(|value| equals(dialect, field, value, sql))
                .collect();
            let any = if any.is_empty() {
                "FALSE".to_owned()
            } else {
                format!("({})", any.join(" OR "))
            };
            if filter.operator == Operator::In {
                any
            } else {
                format!("NOT COALESCE({any}, FALSE)")
            }
        }
        Operator::Lt => compare(dialect, field, "<", value, sql),
        Operator::Gt => compare(dialect, field, ">", value, sql),
        Operator::Min => compare(dialect, field, ">=", value, sql),
        Operator::Max => compare(dialect, field, "<=", value, sql),
        Operator::Like => like(dialect, field, value, sql),
        Operator::Contains | Operator::ContainsAny => {
            contains(dialect, filter.operator, field, value, sql)
        }
        Operator::Has => {
            let presence = if value.as_bool().unwrap_or(true) {
                "IS NOT NULL"
            } else {
                "IS NULL"
            };
            match field {
                Field::Id | Field::LastModified => if presence == "IS NULL" {
                    "FALSE"
                } else {
                    "TRUE"
                }
                .to_owned(),
                Field::Data(_) => format!("{} {presence}", type_expression(dialect, field, sql)),
            }
        }
    }
}

/// The field's value as the database sorts and compares it.
fn value_expression(dialect: Dialect, field: &Field, sql: &mut Sql) -> String {
    match (field, dialect) {
        (Field::Id, _) => "id".to_owned(),
        (Field::LastModified, _) => "last_modified".to_owned(),
        (Field::Data(path), Dialect::Sqlite) => {
            format!(
                "json_extract(data, {})",
                sql.param(Bind::Text(sqlite_path(path)))
            )
        }
        (Field::Data(path), Dialect::Postgres) => {
            format!("(data #> {})", sql.param(Bind::Path(path.clone())))
        }
    }
}

/// The JSON type of a data field, SQL NULL when it is missing.
fn type_expression(dialect: Dialect, field: &Field, sql: &mut Sql) -> String {
    match (field, dialect) {
        (Field::Data(path), Dialect::Sqlite) => {
            format!(
                "json_type(data, {})",
                sql.param(Bind::Text(sqlite_path(path)))
            )
        }
        (Field::Data(path), Dialect::Postgres) => {
            format!(
                "jsonb_typeof(data #> {})",
                sql.param(Bind::Path(path.clone()))
            )
        }
        (Field::Id, _) => "'string'".to_owned(),
        (Field::LastModified, _) => "'number'".to_owned(),
    }
}

/// Whether the field equals `value`, type included.
fn equals(dialect: Dialect, field: &Field, value: &Value, sql: &mut Sql) -> String {
    match field {
        Field::Id => format!("id = {}", sql.param(Bind::Text(as_text(value)))),
        Field::LastModified => match value.as_i64() {
            Some(millis) => format!("last_modified = {}", sql.param(Bind::Int(millis))),
            None => "FALSE".to_owned(),
        },
        Field::Data(_) => match dialect {
            Dialect::Postgres => {
                let expression = value_expression(dialect, field, sql);
                format!("{expression} = {}", sql.param(Bind::Json(value.clone())))
            }
            Dialect::Sqlite => sqlite_equals(field, value, sql),
        },
    }
}

fn sqlite_equals(field: &Field, value: &Value, sql: &mut Sql) -> String {
    let kind = type_expression(Dialect::Sqlite, field, sql);
    match value {
        Value::Null => format!("{kind} = 'null'"),
        Value::Bool(true) => format!("{kind} = 'true'"),
        Value::Bool(false) => format!("{kind} = 'false'"),
        Value::Number(_) | Value::String(_) => {
            let (types, bind) = sqlite_scalar(value);
            let expression = value_expression(Dialect::Sqlite, field, sql);
            format!(
                "({kind} IN ({types}) AND {expression} = {})",
                sql.param(bind)
            )
        }
        Value::Array(_) | Value::Object(_) => {
            let expression = value_expression(Dialect::Sqlite, field, sql);
            let json = sql.param(Bind::Text(value.to_string()));
            format!("({kind} IN ('array', 'object') AND {expression} = json({json}))")
        }
    }
}

/// `<`, `>`, `<=` or `>=` between the field and a number or a string; other
/// values match nothing.
fn compare(
    dialect: Dialect,
    field: &Field,
    operator: &str,
    value: &Value,
    sql: &mut Sql,
) -> String {
    match field {
        Field::Id => format!("id {operator} {}", sql.param(Bind::Text(as_text(value)))),
        Field::LastModified => match value.as_i64() {
            Some(millis) => format!("last_modified {operator} {}", sql.param(Bind::Int(millis))),
            None => "FALSE".to_owned(),
        },
        Field::Data(_) if !(value.is_number() || value.is_string()) => "FALSE".to_owned(),
        Field::Data(_) => {
            let kind = type_expression(dialect, field, sql);
            let expression = value_expression(dialect, field, sql);
            match dialect {
                Dialect::Sqlite => {
                    let (types, bind) = sqlite_scalar(value);
                    let bound = sql.param(bind);
                    format!("({kind} IN ({types}) AND {expression} {operator} {bound})")
                }
                Dialect::Postgres => {
                    let wanted = if value.is_number() {
                        "number"
                    } else {
                        "string"
                    };
                    let bound = sql.param(Bind::Json(value.clone()));
                    format!("({kind} = '{wanted}' AND {expression} {operator} {bound})")
                }
            }
        }
    }
}

/// Case-insensitive text match: `*` stands for any text, and a pattern
/// without one matches anywhere in the value.
fn like(dialect: Dialect, field: &Field, value: &Value, sql: &mut Sql) -> String {
    let pattern = as_text(value)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = if pattern.contains('*') {
        pattern.replace('*', "%")
    } else {
        format!("%{pattern}%")
    };
    let text = match (field, dialect) {
        (Field::Id, _) => "id".to_owned(),
        (Field::LastModified, Dialect::Sqlite) => "CAST(last_modified AS TEXT)".to_owned(),
        (Field::LastModified, Dialect::Postgres) => "last_modified::text".to_owned(),
        (Field::Data(_), Dialect::Sqlite) => {
            let kind = type_expression(dialect, field, sql);
            let expression = value_expression(dialect, field, sql);
            format!("(CASE WHEN {kind} = 'text' THEN {expression} END)")
        }
        (Field::Data(path), Dialect::Postgres) => {
            format!("(data #>> {})", sql.param(Bind::Path(path.clone())))
        }
    };
    let operator = match dialect {
        Dialect::Sqlite => "LIKE",
        Dialect::Postgres => "ILIKE",
    };
    let bound = sql.param(Bind::Text(pattern));
    format!("{text} {operator} {bound} ESCAPE '\\'")
}

/// Whether the field is a list holding all (`Contains`) or any
/// (`ContainsAny`) of the values, compared type by type.
fn contains(
    dialect: Dialect,
    operator: Operator,
    field: &Field,
    value: &Value,
    sql: &mut Sql,
) -> String {
    let Field::Data(path) = field else {
        return "FALSE".to_owned();
    };
    let wanted = value.as_array().cloned().unwrap_or_default();
    let joiner = if operator == Operator::Contains {
        " AND "
    } else {
        " OR "
    };
    let kind = type_expression(dialect, field, sql);
    let mut held = Vec::new();
    for item in &wanted {
        held.push(match dialect {
            Dialect::Postgres => {
                let list = sql.param(Bind::Path(path.clone()));
                let single = sql.param(Bind::Json(Value::Array(vec![item.clone()])));
                format!("(data #> {list}) @> {single}")
            }
            Dialect::Sqlite => {
                let list = sql.param(Bind::Text(sqlite_path(path)));
                let matches = sqlite_element_equals(item, sql);
                format!(
                    "EXISTS (SELECT 1 FROM json_each(objects.data, {list}) AS element \
                     WHERE {matches})"
                )
            }
        });
    }
    let held = match (held.is_empty(), operator) {
        (true, Operator::Contains) => "TRUE".to_owned(),
        (true, _) => "FALSE".to_owned(),
        (false, _) => format!("({})", held.join(joiner)),
    };
    format!("({kind} = 'array' AND {held})")
}

/// Whether a `json_each` element (SQLite) equals `value`, type included.
fn sqlite_element_equals(value: &Value, sql: &mut Sql) -> String {
    match value {
        Value::Null => "element.type = 'null'".to_owned(),
        Value::Bool(true) => "element.type = 'true'".to_owned(),
        Value::Bool(false) => "element.type = 'false'".to_owned(),
        Value::Number(_) | Value::String(_) => {
            let (types, bind) = sqlite_scalar(value);
            let bound = sql.param(bind);
            format!("(element.type IN ({types}) AND element.value = {bound})")
        }
        Value::Array(_) | Value::Object(_) => {
            let json = sql.param(Bind::Text(value.to_string()));
            format!("(element.type IN ('array', 'object') AND element.value = json({json}))")
        }
    }
}

/// The `json_type` names and the bound value of a number or string.
fn sqlite_scalar(value: &Value) -> (&'static str, Bind) {
    match value {
        Value::String(text) => ("'text'", Bind::Text(text.clone())),
        Value::Number(number) => {
            let bind = number.as_i64().map_or_else(
                || Bind::Real(number.as_f64().unwrap_or_default()),
                Bind::Int,
            );
            ("'integer', 'real'", bind)
        }
        Value::Bool(flag) => ("'true', 'false'", Bind::Bool(*flag)),
        Value::Null | Value::Array(_) | Value::Object(_) => ("'null'", Bind::Text(String::new())),
    }
}

/// A SQLite JSON path with every key quoted, so that any key is safe.
fn sqlite_path(path: &[String]) -> String {
    let mut text = String::from("$");
    for key in path {
        text.push_str(".\"");
        text.push_str(&key.replace('"', "\\\""));
        text.push('"');
    }
    text
}

/// A value as text: a string as it is, anything else as JSON.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::storage::ResourceName;

    fn records() -> Scope {
        Scope::children("/buckets/b/collections/c", ResourceName::Record)
    }

    #[test]
    fn dotted_names_are_paths_into_the_data() {
        assert_eq!(Field::parse("id"), Field::Id);
        assert_eq!(
            Field::parse("meta.author"),
            Field::Data(vec!["meta".to_owned(), "author".to_owned()])
        );
    }

    #[test]
    fn sqlite_paths_quote_every_key() {
        assert_eq!(
            sqlite_path(&["a b".to_owned(), "c".to_owned()]),
            r#"$."a b"."c""#
        );
    }

    #[test]
    fn parameters_are_numbered_in_order() {
        let query = Query {
            filters: vec![Filter {
                field: Field::parse("n"),
                operator: Operator::Min,
                value: json!(2),
            }],
            limit: Some(10),
            ..Query::default()
        };

        let sql = query.select_sql(Dialect::Postgres, &records());

        assert!(sql.text.contains("LIMIT $6 OFFSET $7"), "{}", sql.text);
        assert_eq!(sql.binds.len(), 7);
        assert_eq!(sql.binds[6], Bind::Int(0));
    }
}
