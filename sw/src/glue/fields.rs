//! [`JsonFields`] over JavaScript objects: the worker reads JSON with the
//! browser's `JSON.parse` instead of carrying a parser in its wasm.

use js_sys::{Array, JSON, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::json::{JsonFields, unsigned_from_number};

/// A JavaScript object, read field by field.
pub(super) struct JsObject(JsValue);

impl JsObject {
    /// `value`, when it is an object. Arrays are objects too, with no
    /// named field to read.
    pub(super) fn new(value: JsValue) -> Option<Self> {
        value.is_object().then_some(Self(value))
    }

    /// Parses `text` with `JSON.parse`; `None` unless it is an object's JSON.
    pub(super) fn parse(text: &str) -> Option<Self> {
        Self::new(JSON::parse(text).ok()?)
    }

    /// The field's value; `undefined` when it is missing or its getter
    /// throws.
    fn get(&self, name: &str) -> JsValue {
        Reflect::get(&self.0, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }
}

impl JsonFields for JsObject {
    fn text(&self, name: &str) -> Option<String> {
        self.get(name).as_string()
    }

    fn unsigned(&self, name: &str) -> Option<u64> {
        unsigned_from_number(self.get(name).as_f64()?)
    }

    fn texts(&self, name: &str) -> Option<Vec<String>> {
        let value = self.get(name);
        if !Array::is_array(&value) {
            return None;
        }
        let values: Array = value.unchecked_into();
        Some(
            values
                .iter()
                .filter_map(|value| value.as_string())
                .collect(),
        )
    }

    fn object(&self, name: &str) -> Option<Self> {
        Self::new(self.get(name))
    }
}
