//! JSON for the worker, without a JSON library in its wasm.
//!
//! Reading goes through [`JsonFields`], a view of one parsed object: natively
//! it is serde_json's map, in the worker a JavaScript object from the
//! browser's own `JSON.parse`, so the same reading code runs in both and is
//! tested here. Writing goes through [`ObjectWriter`], which writes the same
//! text serde_json does for the few shapes the worker sends. Either way the
//! worker's download carries no parser or formatter of its own.

use serde_json::{Map, Value};

/// Largest integer a JavaScript number holds exactly, 2^53 - 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Read access to the fields of one parsed JSON object. Every accessor gives
/// `None` when the field is missing or holds another type.
pub trait JsonFields: Sized {
    /// The field, when it is a string.
    fn text(&self, name: &str) -> Option<String>;
    /// The field, when it is a non-negative integer. In the worker, where
    /// numbers are JavaScript's, only up to [`MAX_SAFE_INTEGER`].
    fn unsigned(&self, name: &str) -> Option<u64>;
    /// The strings of the field, when it is an array; elements of other
    /// types are left out.
    fn texts(&self, name: &str) -> Option<Vec<String>>;
    /// The field, when it is an object.
    fn object(&self, name: &str) -> Option<Self>;
}

impl JsonFields for Map<String, Value> {
    fn text(&self, name: &str) -> Option<String> {
        self.get(name)?.as_str().map(str::to_owned)
    }

    fn unsigned(&self, name: &str) -> Option<u64> {
        self.get(name)?.as_u64()
    }

    fn texts(&self, name: &str) -> Option<Vec<String>> {
        let values = self.get(name)?.as_array()?;
        Some(
            values
                .iter()
                .filter_map(|value| value.as_str().map(str::to_owned))
                .collect(),
        )
    }

    fn object(&self, name: &str) -> Option<Self> {
        self.get(name)?.as_object().cloned()
    }
}

/// Parses `text` when it is a JSON object; `None` for anything else.
pub fn parse_object(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(text).ok()? {
        Value::Object(fields) => Some(fields),
        _ => None,
    }
}

/// The integer a JavaScript number holds, when it is one from 0 to
/// [`MAX_SAFE_INTEGER`].
pub fn unsigned_from_number(number: f64) -> Option<u64> {
    // NaN is not whole, and the range leaves out the infinities; within it
    // the cast is exact.
    let is_whole = number.trunc() == number;
    (is_whole && (0.0..=MAX_SAFE_INTEGER as f64).contains(&number)).then_some(number as u64)
}

/// Writes one JSON object, its fields in the order they are given.
///
/// ```
/// use sw::json::ObjectWriter;
///
/// let text = ObjectWriter::new()
///     .text("type", "change")
///     .unsigned("count", 2)
///     .finish();
/// assert_eq!(text, r#"{"type":"change","count":2}"#);
/// ```
#[derive(Debug, Clone)]
pub struct ObjectWriter {
    text: String,
    has_fields: bool,
}

impl Default for ObjectWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl ObjectWriter {
    pub fn new() -> Self {
        Self {
            text: String::from("{"),
            has_fields: false,
        }
    }

    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.name(name);
        push_string(&mut self.text, value);
        self
    }

    /// Writes the field only when there is a value.
    pub fn optional_text(self, name: &str, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.text(name, value),
            None => self,
        }
    }

    pub fn unsigned(mut self, name: &str, value: u64) -> Self {
        self.name(name);
        push_unsigned(&mut self.text, value);
        self
    }

    /// Writes the field only when there is a value.
    pub fn optional_unsigned(self, name: &str, value: Option<u64>) -> Self {
        match value {
            Some(value) => self.unsigned(name, value),
            None => self,
        }
    }

    pub fn texts(mut self, name: &str, values: &[String]) -> Self {
        self.name(name);
        self.text.push('[');
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                self.text.push(',');
            }
            push_string(&mut self.text, value);
        }
        self.text.push(']');
        self
    }

    pub fn null(mut self, name: &str) -> Self {
        self.name(name);
        self.text.push_str("null");
        self
    }

    /// Writes another writer's object as the field's value.
    pub fn object(mut self, name: &str, value: Self) -> Self {
        self.name(name);
        self.text.push_str(&value.finish());
        self
    }

    /// The object's JSON text.
    pub fn finish(mut self) -> String {
        self.text.push('}');
        self.text
    }

    fn name(&mut self, name: &str) {
        if self.has_fields {
            self.text.push(',');
        }
        self.has_fields = true;
        push_string(&mut self.text, name);
        self.text.push(':');
    }
}

fn push_unsigned(out: &mut String, value: u64) {
    if value >= 10 {
        push_unsigned(out, value / 10);
    }
    let digit = u32::try_from(value % 10).unwrap_or_default();
    out.push(char::from_digit(digit, 10).unwrap_or('0'));
}

/// Appends `text` as a JSON string, escaped the way serde_json escapes it:
/// quotes, backslashes and control characters only.
fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let code = u32::from(c);
                out.push_str("\\u00");
                out.push(char::from_digit(code >> 4, 16).unwrap_or('0'));
                out.push(char::from_digit(code & 0xf, 16).unwrap_or('0'));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn fields_of_the_wrong_type_read_as_none() {
        let object = fields(json!({"n": "1", "s": 1, "a": "x", "o": [1]}));

        assert_eq!(object.unsigned("n"), None);
        assert_eq!(object.text("s"), None);
        assert_eq!(object.texts("a"), None);
        assert!(object.object("o").is_none());
        assert_eq!(object.text("missing"), None);
    }

    #[test]
    fn texts_skip_elements_that_are_not_strings() {
        let object = fields(json!({"ids": ["a", 1, null, "b"]}));

        assert_eq!(object.texts("ids").unwrap(), ["a", "b"]);
    }

    #[test]
    fn nested_objects_are_read() {
        let object = fields(json!({"outer": {"inner": {"name": "x"}}}));

        let inner = object.object("outer").unwrap().object("inner").unwrap();

        assert_eq!(inner.text("name").as_deref(), Some("x"));
    }

    #[test]
    fn only_objects_parse_as_objects() {
        assert!(parse_object(r#"{"a": 1}"#).is_some());
        for text in ["", "[]", "null", "\"a\"", "{"] {
            assert!(parse_object(text).is_none(), "{text}");
        }
    }

    #[test]
    fn javascript_numbers_are_unsigned_when_whole_and_in_range() {
        assert_eq!(unsigned_from_number(0.0), Some(0));
        assert_eq!(
            unsigned_from_number(1_796_320_953_243.0),
            Some(1_796_320_953_243)
        );
        assert_eq!(
            unsigned_from_number(9_007_199_254_740_991.0),
            Some(MAX_SAFE_INTEGER)
        );
        for number in [-1.0, 1.5, 9_007_199_254_740_992.0, f64::NAN, f64::INFINITY] {
            assert_eq!(unsigned_from_number(number), None, "{number}");
        }
    }

    #[test]
    fn writer_writes_every_kind_of_field_in_order() {
        let ids = ["r1".to_owned(), "r\"2".to_owned()];
        let keys = ObjectWriter::new().text("k", "v");

        let text = ObjectWriter::new()
            .text("text", "a")
            .optional_text("absent", None)
            .optional_text("present", Some("b"))
            .unsigned("zero", 0)
            .optional_unsigned("big", Some(u64::MAX))
            .texts("ids", &ids)
            .texts("none", &[])
            .null("nothing")
            .object("keys", keys)
            .finish();

        let expected = json!({
            "text": "a", "present": "b", "zero": 0, "big": u64::MAX,
            "ids": ids, "none": [], "nothing": null, "keys": {"k": "v"},
        });
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
        assert!(text.starts_with(r#"{"text":"a","present":"b","zero":0,"big":"#));
    }

    #[test]
    fn empty_writer_is_an_empty_object() {
        assert_eq!(ObjectWriter::new().finish(), "{}");
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let controls: String = (0_u8..0x20).map(char::from).collect();
        for text in [
            "plain",
            "quote \" and backslash \\",
            "slash / stays",
            "é, 漢字 and 🦀 stay",
            "\u{7f} stays",
            &controls,
        ] {
            let written = ObjectWriter::new().text("t", text).finish();

            assert_eq!(written, serde_json::to_string(&json!({"t": text})).unwrap());
        }
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for value in [0, 7, 10, 99, 1_000_000_007, u64::MAX] {
            let written = ObjectWriter::new().unsigned("n", value).finish();

            assert_eq!(written, format!(r#"{{"n":{value}}}"#));
        }
    }
}
