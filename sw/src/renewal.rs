//! What the worker does when the browser replaces a push subscription
//! (`pushsubscriptionchange`): where the new subscription comes from, and
//! the request that registers it with the server in place of the old one.
//!
//! The server carries the old subscription's channels over to the new one
//! when the registration names the old endpoint in `replaces` and lists no
//! `channels`, so the worker needs to know nothing of what was followed.

use crate::json::{JsonFields, ObjectWriter};

/// The server's hello, which holds its VAPID public key.
pub const HELLO_PATH: &str = "/v1/";
/// Where subscriptions are registered (`POST`).
pub const SUBSCRIPTIONS_PATH: &str = "/v1/push/subscriptions";

/// Where the subscription that replaces the old one comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewal<S, K> {
    /// The browser made it already: the event's `newSubscription`.
    Register(S),
    /// Subscribe again with this application server key, the old
    /// subscription's.
    SubscribeWith(K),
    /// Subscribe again with the server's key, read from [`HELLO_PATH`]: the
    /// old subscription is gone, or does not say which key it used.
    SubscribeWithServerKey,
}

/// Chooses how to renew, given the event's new subscription and the old
/// subscription's application server key, when there are.
pub fn plan_renewal<S, K>(new_subscription: Option<S>, old_key: Option<K>) -> Renewal<S, K> {
    match (new_subscription, old_key) {
        (Some(subscription), _) => Renewal::Register(subscription),
        (None, Some(key)) => Renewal::SubscribeWith(key),
        (None, None) => Renewal::SubscribeWithServerKey,
    }
}

/// The server's VAPID public key from its hello
/// (`capabilities.webpush.vapid_public_key`), decoded from base64url.
pub fn read_vapid_key(hello: &impl JsonFields) -> Option<Vec<u8>> {
    let webpush = hello.object("capabilities")?.object("webpush")?;
    let key = decode_base64url(&webpush.text("vapid_public_key")?)?;
    (!key.is_empty()).then_some(key)
}

/// A push subscription as the browser describes it: what
/// `PushSubscription.toJSON()` gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSubscription {
    pub endpoint: String,
    /// The browser's public key, base64url.
    pub p256dh: String,
    /// The authentication secret, base64url.
    pub auth: String,
    /// When the subscription expires, in milliseconds since the epoch.
    pub expiration_time: Option<u64>,
}

impl BrowserSubscription {
    /// Reads the subscription from the fields of its JSON description;
    /// `None` when the endpoint or a key is missing.
    pub fn read(fields: &impl JsonFields) -> Option<Self> {
        let keys = fields.object("keys")?;
        Some(Self {
            endpoint: fields.text("endpoint")?,
            p256dh: keys.text("p256dh")?,
            auth: keys.text("auth")?,
            expiration_time: fields.unsigned("expirationTime"),
        })
    }

    /// The body of the `POST` to [`SUBSCRIPTIONS_PATH`] that registers this
    /// subscription in place of the one at the endpoint `replaces`. It lists
    /// no channels, so the server keeps the old subscription's. Without an
    /// old endpoint the subscription is registered following nothing.
    pub fn registration_body(&self, replaces: Option<&str>) -> String {
        let keys = ObjectWriter::new()
            .text("p256dh", &self.p256dh)
            .text("auth", &self.auth);
        let data = ObjectWriter::new()
            .text("endpoint", &self.endpoint)
            .object("keys", keys);
        let data = match self.expiration_time {
            Some(time) => data.unsigned("expirationTime", time),
            None => data.null("expirationTime"),
        };
        let data = data.optional_text("replaces", replaces);
        ObjectWriter::new().object("data", data).finish()
    }
}

/// Decodes base64url text, with or without `=` padding.
pub fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    let symbols = text.trim_end_matches('=');
    // One symbol on its own carries six bits, less than a byte.
    if symbols.len() % 4 == 1 {
        return None;
    }

    let mut bytes = Vec::with_capacity(symbols.len() * 3 / 4);
    let mut pending: u32 = 0;
    let mut pending_bits = 0;
    for symbol in symbols.bytes() {
        let value = match symbol {
            b'A'..=b'Z' => symbol - b'A',
            b'a'..=b'z' => symbol - b'a' + 26,
            b'0'..=b'9' => symbol - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        pending = (pending << 6) | u32::from(value);
        pending_bits += 6;
        if pending_bits >= 8 {
            pending_bits -= 8;
            bytes.push((pending >> pending_bits) as u8);
            pending &= (1 << pending_bits) - 1;
        }
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::json::parse_object;

    /// An uncompressed P-256 point's shape: 65 bytes, the first 4.
    const VAPID_KEY: &str =
        "BAswVXqfxOkOM1h9osfsETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T-B1CZ4yx1vsgRWqPtNn-I0htkrfcASY";

    fn subscription() -> BrowserSubscription {
        BrowserSubscription {
            endpoint: "https://push.example/new".to_owned(),
            p256dh: "BNc".to_owned(),
            auth: "tBH".to_owned(),
            expiration_time: None,
        }
    }

    #[test]
    fn the_browsers_new_subscription_is_registered_as_it_is() {
        assert_eq!(
            plan_renewal(Some("new"), Some("old key")),
            Renewal::Register("new")
        );
        assert_eq!(
            plan_renewal::<_, &str>(Some("new"), None),
            Renewal::Register("new")
        );
    }

    #[test]
    fn without_one_the_worker_subscribes_with_the_old_key() {
        assert_eq!(
            plan_renewal::<&str, _>(None, Some("old key")),
            Renewal::SubscribeWith("old key")
        );
    }

    #[test]
    fn without_an_old_key_the_worker_subscribes_with_the_servers() {
        assert_eq!(
            plan_renewal::<&str, &str>(None, None),
            Renewal::SubscribeWithServerKey
        );
    }

    #[test]
    fn vapid_key_is_read_from_the_hello() {
        let hello = json!({
            "project_name": "kinto-push",
            "capabilities": {"webpush": {"description": "Web Push", "vapid_public_key": VAPID_KEY}},
        });

        let key = read_vapid_key(hello.as_object().unwrap()).unwrap();

        assert_eq!(key.len(), 65);
        assert_eq!(key[0], 4);
    }

    #[test]
    fn hello_without_webpush_has_no_key() {
        for hello in [
            r#"{}"#,
            r#"{"capabilities": {}}"#,
            r#"{"capabilities": {"webpush": {}}}"#,
            r#"{"capabilities": {"webpush": {"vapid_public_key": ""}}}"#,
            r#"{"capabilities": {"webpush": {"vapid_public_key": "not base64!"}}}"#,
        ] {
            assert_eq!(
                read_vapid_key(&parse_object(hello).unwrap()),
                None,
                "{hello}"
            );
        }
    }

    #[test]
    fn subscription_is_read_from_its_json_description() {
        let described = parse_object(
            r#"{"endpoint": "https://push.example/new", "expirationTime": 1796320953243,
                "keys": {"p256dh": "BNc", "auth": "tBH"}}"#,
        )
        .unwrap();

        let read = BrowserSubscription::read(&described).unwrap();

        assert_eq!(
            read,
            BrowserSubscription {
                expiration_time: Some(1_796_320_953_243),
                ..subscription()
            }
        );
    }

    #[test]
    fn subscription_without_endpoint_or_keys_is_not_read() {
        for described in [
            r#"{"keys": {"p256dh": "BNc", "auth": "tBH"}}"#,
            r#"{"endpoint": "https://push.example/new"}"#,
            r#"{"endpoint": "https://push.example/new", "keys": {"p256dh": "BNc"}}"#,
        ] {
            let fields = parse_object(described).unwrap();
            assert_eq!(BrowserSubscription::read(&fields), None, "{described}");
        }
    }

    #[test]
    fn registration_replaces_the_old_endpoint_and_lists_no_channels() {
        let body = subscription().registration_body(Some("https://push.example/old"));

        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body,
            json!({"data": {
                "endpoint": "https://push.example/new",
                "keys": {"p256dh": "BNc", "auth": "tBH"},
                "expirationTime": null,
                "replaces": "https://push.example/old",
            }})
        );
    }

    #[test]
    fn registration_carries_the_expiration_time() {
        let expiring = BrowserSubscription {
            expiration_time: Some(1_796_320_953_243),
            ..subscription()
        };

        let body: Value = serde_json::from_str(&expiring.registration_body(None)).unwrap();

        assert_eq!(body["data"]["expirationTime"], 1_796_320_953_243_u64);
        assert!(body["data"].get("replaces").is_none());
    }

    #[test]
    fn base64url_decodes_with_or_without_padding() {
        for (text, bytes) in [
            ("", &b""[..]),
            ("YQ", b"a"),
            ("YQ==", b"a"),
            ("YWI", b"ab"),
            ("YWJj", b"abc"),
            ("-_8", &[0xfb, 0xff]),
        ] {
            assert_eq!(decode_base64url(text).as_deref(), Some(bytes), "{text}");
        }
    }

    #[test]
    fn base64url_refuses_other_alphabets_and_lone_symbols() {
        for text in ["+/8", "a b", "Y", "YWJjZ"] {
            assert_eq!(decode_base64url(text), None, "{text}");
        }
    }
}
