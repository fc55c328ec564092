//! Messages between the app's pages and the service worker.
//!
//! Both directions travel as JSON text through `postMessage`, tagged by a
//! `type` field, so either side can ignore what it does not understand.
//!
//! This module needs no wasm dependency: the app's pages use it through the
//! crate without its `worker` feature, and the worker itself.

use serde::{Deserialize, Serialize};

use crate::json::{JsonFields, ObjectWriter};
use crate::payload::PushPayload;

/// What a page sends to the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PageMessage {
    /// Asks for a `Pong` over the `MessagePort` sent along, proving the
    /// channel between the page and the worker works.
    Ping,
    /// Asks the worker to keep the `MessagePort` sent along and post every
    /// [`WorkerMessage::Change`] on it too.
    ///
    /// # Limitations
    ///
    /// The worker keeps ports in memory only, so they are gone once it
    /// stops (after about 30 s idle). A page that wants them must send
    /// `Listen` again on every load and every `controllerchange`. Every
    /// window also hears changes through `navigator.serviceWorker`'s
    /// `message` event, which needs no setup.
    Listen,
}

/// What the worker sends to a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkerMessage {
    /// Answer to `Ping`, naming the worker's build.
    Pong { version: String },
    /// A push message arrived: its payload's fields, next to `type`.
    /// Posted to every open window of the origin and on every port handed
    /// over with [`PageMessage::Listen`].
    Change(PushPayload),
    /// The browser replaced this device's push subscription and the worker
    /// registered the new one for the signed-in user, so a page's list of
    /// the user's devices is out of date. Posted to every open window of
    /// the origin.
    SubscriptionChanged,
}

impl PageMessage {
    /// Parses a page's message; `None` for anything that is not one.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// Reads a page's message from the fields of its parsed JSON object,
    /// as [`PageMessage::parse`] does from its text.
    pub fn read(fields: &impl JsonFields) -> Option<Self> {
        match fields.text("type")?.as_str() {
            "ping" => Some(Self::Ping),
            "listen" => Some(Self::Listen),
            _ => None,
        }
    }
}

impl WorkerMessage {
    /// Parses a worker's message; `None` for anything that is not one.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// The same text as [`encode`] gives, written without serde_json: the
    /// worker's wasm carries no serializer.
    pub fn to_json(&self) -> String {
        let writer = ObjectWriter::new();
        match self {
            Self::Pong { version } => writer.text("type", "pong").text("version", version),
            Self::Change(payload) => payload.write_fields(writer.text("type", "change")),
            Self::SubscriptionChanged => writer.text("type", "subscription_changed"),
        }
        .finish()
    }
}

/// Encodes a message as the JSON text posted to the other side.
pub fn encode<T: Serialize>(message: &T) -> String {
    // Serialising these enums cannot fail: every field is a string, a
    // number or a list of strings.
    serde_json::to_string(message).unwrap_or_default()
}

/// The worker's answer to a page's message, if it has one.
pub fn reply_to(message: &PageMessage) -> Option<WorkerMessage> {
    match message {
        PageMessage::Ping => Some(WorkerMessage::Pong {
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }),
        PageMessage::Listen => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_object;

    #[test]
    fn ping_round_trips_as_tagged_json() {
        let text = encode(&PageMessage::Ping);

        assert_eq!(text, r#"{"type":"ping"}"#);
        assert_eq!(PageMessage::parse(&text), Some(PageMessage::Ping));
    }

    #[test]
    fn ping_is_answered_with_pong() {
        let reply = reply_to(&PageMessage::Ping).unwrap();

        let WorkerMessage::Pong { version } = &reply else {
            panic!("expected a pong, got {reply:?}");
        };
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
        assert_eq!(WorkerMessage::parse(&encode(&reply)), Some(reply));
    }

    #[test]
    fn listen_has_no_reply() {
        assert_eq!(
            PageMessage::parse(r#"{"type":"listen"}"#),
            Some(PageMessage::Listen)
        );
        assert_eq!(reply_to(&PageMessage::Listen), None);
    }

    #[test]
    fn change_carries_the_payload_fields_next_to_its_type() {
        let payload = PushPayload::parse(Some(
            r#"{"channel":"/buckets/b","action":"delete","ids":["r1"],"count":1}"#,
        ));

        let text = encode(&WorkerMessage::Change(payload.clone()));

        assert_eq!(
            text,
            r#"{"type":"change","channel":"/buckets/b","action":"delete","ids":["r1"],"count":1}"#
        );
        assert_eq!(
            WorkerMessage::parse(&text),
            Some(WorkerMessage::Change(payload))
        );
    }

    #[test]
    fn change_of_an_unreadable_push_is_only_its_type() {
        let text = encode(&WorkerMessage::Change(PushPayload::default()));

        assert_eq!(text, r#"{"type":"change"}"#);
    }

    #[test]
    fn subscription_changed_is_only_its_type() {
        let text = encode(&WorkerMessage::SubscriptionChanged);

        assert_eq!(text, r#"{"type":"subscription_changed"}"#);
        assert_eq!(
            WorkerMessage::parse(&text),
            Some(WorkerMessage::SubscriptionChanged)
        );
    }

    #[test]
    fn unknown_or_malformed_messages_are_ignored() {
        assert_eq!(PageMessage::parse(r#"{"type":"launch"}"#), None);
        assert_eq!(PageMessage::parse("not json"), None);
        assert_eq!(PageMessage::parse(""), None);
    }

    #[test]
    fn read_agrees_with_parse() {
        for text in [
            r#"{"type":"ping"}"#,
            r#"{"type":"listen","extra":1}"#,
            r#"{"type":"launch"}"#,
            r#"{"type":1}"#,
            r#"{}"#,
        ] {
            let fields = parse_object(text).unwrap();

            assert_eq!(
                PageMessage::read(&fields),
                PageMessage::parse(text),
                "{text}"
            );
        }
    }

    #[test]
    fn to_json_writes_what_encode_writes() {
        let messages = [
            reply_to(&PageMessage::Ping).unwrap(),
            WorkerMessage::Pong {
                version: "1.2.3 \"beta\"".to_owned(),
            },
            WorkerMessage::Change(PushPayload::parse(Some(
                r#"{"channel":"/buckets/b","action":"mixed","ids":["r1","r2"],"count":2,
                "timestamp":1796320953243,"title":"t","body":"b","url":"/buckets/b"}"#,
            ))),
            WorkerMessage::Change(PushPayload::default()),
            WorkerMessage::SubscriptionChanged,
        ];

        for message in messages {
            assert_eq!(message.to_json(), encode(&message), "{message:?}");
        }
    }
}
