//! Messages between the app's pages and the service worker.
//!
//! Both directions travel as JSON text through `postMessage`, tagged by a
//! `type` field, so either side can ignore what it does not understand.

use serde::{Deserialize, Serialize};

/// What a page sends to the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PageMessage {
    /// Asks for a `Pong` over the `MessagePort` sent along, proving the
    /// channel between the page and the worker works.
    Ping,
}

/// What the worker sends to a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkerMessage {
    /// Answer to `Ping`, naming the worker's build.
    Pong { version: String },
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
    // Serialising these enums cannot fail: every field is a plain string.
    serde_json::to_string(message).unwrap_or_default()
}

/// The worker's answer to a page's message, if it has one.
pub fn reply_to(message: &PageMessage) -> Option<WorkerMessage> {
    match message {
        PageMessage::Ping => Some(WorkerMessage::Pong {
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }),
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

        let WorkerMessage::Pong { version } = &reply;
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
        assert_eq!(WorkerMessage::parse(&encode(&reply)), Some(reply));
    }

    #[test]
    fn unknown_or_malformed_messages_are_ignored() {
        assert_eq!(PageMessage::parse(r#"{"type":"launch"}"#), None);
        assert_eq!(PageMessage::parse("not json"), None);
        assert_eq!(PageMessage::parse(""), None);
    }
}
