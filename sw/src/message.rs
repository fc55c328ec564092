//! Messages between the app's pages and the service worker.
//!
//! Both directions travel as JSON text through `postMessage`, tagged by a
//! `type` field, so either side can ignore what it does not understand.
//!
//! This module needs no wasm dependency: the app's pages use it through the
//! crate without its `worker` feature, and the worker itself.

use serde::{Deserialize, Serialize};

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
}

impl PageMessage {
    /// Parses a page's message; `None` for anything that is not one.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

impl WorkerMessage {
    /// Parses a worker's message; `None` for anything that is not one.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
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
    fn unknown_or_malformed_messages_are_ignored() {
        assert_eq!(PageMessage::parse(r#"{"type":"launch"}"#), None);
        assert_eq!(PageMessage::parse("not json"), None);
        assert_eq!(PageMessage::parse(""), None);
    }
}
