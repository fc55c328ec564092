//! The decrypted payload of a push message, read tolerantly.
//!
//! The server sends one JSON object per changed channel. A push may also
//! arrive with no data, with text that is not JSON, or from an older or newer
//! server with fields missing or shaped differently. Every field is therefore
//! optional and read on its own: one bad field never discards the others,
//! and the worker can always show something.

use serde::{Deserialize, Serialize};

use crate::json::{JsonFields, ObjectWriter, parse_object};

/// What happened on the channel, as the server names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
    /// Several kinds of writes in one request.
    Mixed,
    /// A message someone sent to the channel's followers.
    Message,
}

impl Action {
    /// The action named `name`, as the server spells it.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "create" => Some(Self::Create),
            "update" => Some(Self::Update),
            "delete" => Some(Self::Delete),
            "mixed" => Some(Self::Mixed),
            "message" => Some(Self::Message),
            _ => None,
        }
    }

    /// The action's name, as the server spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Mixed => "mixed",
            Self::Message => "message",
        }
    }
}

/// A push message's payload. Fields the message lacks, or has in an
/// unexpected shape, are `None` (or empty, for `ids`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushPayload {
    /// `/buckets/{bid}` or `/buckets/{bid}/collections/{cid}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// The change's timestamp, in milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// Ids of the records written, when the change was to records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// How many objects the change wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Where the change can be seen, usually a path of this origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl PushPayload {
    /// Reads a push message's data; `None` when the push carried none.
    /// Never fails: whatever cannot be read is left out.
    pub fn parse(data: Option<&str>) -> Self {
        data.and_then(parse_object)
            .map(|fields| Self::read(&fields))
            .unwrap_or_default()
    }

    /// Reads the payload from the fields of its parsed JSON object.
    pub fn read(fields: &impl JsonFields) -> Self {
        Self {
            channel: non_blank(fields, "channel"),
            bucket: non_blank(fields, "bucket"),
            collection: non_blank(fields, "collection"),
            action: fields
                .text("action")
                .and_then(|name| Action::from_name(&name)),
            timestamp: fields.unsigned("timestamp"),
            ids: fields.texts("ids").unwrap_or_default(),
            count: fields.unsigned("count"),
            title: non_blank(fields, "title"),
            body: non_blank(fields, "body"),
            url: non_blank(fields, "url"),
        }
    }

    /// Adds the payload's fields to `writer`, as its `Serialize` does.
    pub(crate) fn write_fields(&self, writer: ObjectWriter) -> ObjectWriter {
        let writer = writer
            .optional_text("channel", self.channel.as_deref())
            .optional_text("bucket", self.bucket.as_deref())
            .optional_text("collection", self.collection.as_deref())
            .optional_text("action", self.action.map(Action::name))
            .optional_unsigned("timestamp", self.timestamp);
        let writer = if self.ids.is_empty() {
            writer
        } else {
            writer.texts("ids", &self.ids)
        };
        writer
            .optional_unsigned("count", self.count)
            .optional_text("title", self.title.as_deref())
            .optional_text("body", self.body.as_deref())
            .optional_text("url", self.url.as_deref())
    }
}

/// A string field that is present and not blank, trimmed.
fn non_blank(fields: &impl JsonFields, name: &str) -> Option<String> {
    let text = fields.text(name)?;
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    const SERVER_PAYLOAD: &str = r#"{
        "channel": "/buckets/b/collections/c", "bucket": "b", "collection": "c",
        "action": "create", "timestamp": 1796320953243, "ids": ["r1"], "count": 1,
        "title": "c was updated", "body": "1 change", "url": "/buckets/b/collections/c"
    }"#;

    #[test]
    fn server_payload_is_read_in_full() {
        let payload = PushPayload::parse(Some(SERVER_PAYLOAD));

        assert_eq!(payload.channel.as_deref(), Some("/buckets/b/collections/c"));
        assert_eq!(payload.bucket.as_deref(), Some("b"));
        assert_eq!(payload.collection.as_deref(), Some("c"));
        assert_eq!(payload.action, Some(Action::Create));
        assert_eq!(payload.timestamp, Some(1_796_320_953_243));
        assert_eq!(payload.ids, ["r1"]);
        assert_eq!(payload.count, Some(1));
        assert_eq!(payload.title.as_deref(), Some("c was updated"));
        assert_eq!(payload.body.as_deref(), Some("1 change"));
        assert_eq!(payload.url.as_deref(), Some("/buckets/b/collections/c"));
    }

    #[test]
    fn push_without_data_gives_an_empty_payload() {
        assert_eq!(PushPayload::parse(None), PushPayload::default());
    }

    #[test]
    fn data_that_is_not_a_json_object_gives_an_empty_payload() {
        for data in [
            "",
            "not json",
            "{\"title\":",
            "[1, 2]",
            "\"text\"",
            "42",
            "null",
        ] {
            assert_eq!(
                PushPayload::parse(Some(data)),
                PushPayload::default(),
                "{data}"
            );
        }
    }

    #[test]
    fn missing_fields_are_none() {
        let payload = PushPayload::parse(Some(r#"{"title": "Hello"}"#));

        assert_eq!(payload.title.as_deref(), Some("Hello"));
        assert_eq!(payload.channel, None);
        assert_eq!(payload.action, None);
        assert!(payload.ids.is_empty());
    }

    #[test]
    fn a_misshapen_field_leaves_the_others_readable() {
        let data = r#"{"channel": "/buckets/b", "count": "three", "action": "launch",
            "timestamp": -5, "ids": ["r1", 2, null, "r3"], "title": 7, "body": "  "}"#;

        let payload = PushPayload::parse(Some(data));

        assert_eq!(payload.channel.as_deref(), Some("/buckets/b"));
        assert_eq!(payload.count, None);
        assert_eq!(payload.action, None);
        assert_eq!(payload.timestamp, None);
        assert_eq!(payload.ids, ["r1", "r3"]);
        assert_eq!(payload.title, None);
        assert_eq!(payload.body, None);
    }

    #[test]
    fn every_action_is_recognised() {
        for (name, action) in [
            ("create", Action::Create),
            ("update", Action::Update),
            ("delete", Action::Delete),
            ("mixed", Action::Mixed),
            ("message", Action::Message),
        ] {
            let data = format!(r#"{{"action": "{name}"}}"#);
            assert_eq!(PushPayload::parse(Some(&data)).action, Some(action));
        }
    }

    #[test]
    fn action_names_round_trip_as_serde_spells_them() {
        for action in [
            Action::Create,
            Action::Update,
            Action::Delete,
            Action::Mixed,
            Action::Message,
        ] {
            let json = serde_json::to_value(action).unwrap();

            assert_eq!(json.as_str(), Some(action.name()));
            assert_eq!(Action::from_name(action.name()), Some(action));
        }
        assert_eq!(Action::from_name("Create"), None);
    }

    #[test]
    fn written_fields_match_serialize() {
        let full = PushPayload::parse(Some(SERVER_PAYLOAD));
        let sparse = PushPayload {
            action: Some(Action::Message),
            ..PushPayload::default()
        };

        for payload in [full, sparse, PushPayload::default()] {
            let written = payload.write_fields(ObjectWriter::new()).finish();

            assert_eq!(written, serde_json::to_string(&payload).unwrap());
        }
    }

    #[test]
    fn payload_serializes_with_the_server_field_names() {
        let payload = PushPayload::parse(Some(SERVER_PAYLOAD));

        let json: Value = serde_json::to_value(&payload).unwrap();

        assert_eq!(json, serde_json::from_str::<Value>(SERVER_PAYLOAD).unwrap());
    }
}
