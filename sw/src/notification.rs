//! The notification the worker shows for a push message.
//!
//! Every push shows one, even when its payload is unreadable: Chrome requires
//! it of subscriptions made with `userVisibleOnly`. The notification's `tag`
//! is its channel, so a newer change to a collection replaces the older
//! notification instead of piling up next to it.

use serde::{Deserialize, Serialize};

use crate::json::{JsonFields, ObjectWriter, parse_object};
use crate::payload::PushPayload;

/// Title of a notification whose payload names nothing.
pub const GENERIC_TITLE: &str = "kinto-push";
/// Body of a notification whose payload says nothing about the change.
pub const GENERIC_BODY: &str = "Something changed. Open the app to see it.";
/// Tag of notifications without a channel: they replace each other too.
pub const GENERIC_TAG: &str = "kinto-push";
/// The app's icon, a path of the worker's origin.
const ICON_PATH: &str = "/icons/icon-192.png";

/// What `registration.showNotification` is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
    /// The channel, or [`GENERIC_TAG`].
    pub tag: String,
    /// Absolute URL of the icon.
    pub icon: String,
    /// Kept on the notification and read back when it is clicked.
    pub data: NoticeData,
}

/// The notification's `data`: where a click leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeData {
    /// Absolute URL on the worker's origin.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

impl NoticeData {
    /// Parses the `data` of a clicked notification, as JSON text.
    pub fn parse(text: &str) -> Option<Self> {
        Self::read(&parse_object(text)?)
    }

    /// Reads the `data` of a clicked notification from its fields.
    pub fn read(fields: &impl JsonFields) -> Option<Self> {
        Some(Self {
            url: fields.text("url")?,
            channel: fields.text("channel"),
        })
    }

    /// The JSON text stored as the notification's `data`.
    pub fn encode(&self) -> String {
        ObjectWriter::new()
            .text("url", &self.url)
            .optional_text("channel", self.channel.as_deref())
            .finish()
    }
}

/// Builds the notification for `payload`. `origin` is the worker's origin,
/// such as `https://example.com`, without a trailing slash.
pub fn build_notice(payload: &PushPayload, origin: &str) -> Notice {
    let title = payload
        .title
        .clone()
        .or_else(|| {
            let name = payload.collection.as_ref().or(payload.bucket.as_ref())?;
            Some(format!("{name} changed"))
        })
        .unwrap_or_else(|| GENERIC_TITLE.to_owned());
    let body = payload
        .body
        .clone()
        .or_else(|| payload.count.map(describe_count))
        .unwrap_or_else(|| GENERIC_BODY.to_owned());

    // The server's `url` first; else the channel, whose path is also the
    // page of its bucket or collection; else the app's start page.
    let url = [payload.url.as_deref(), payload.channel.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|url| resolve_url(url, origin))
        .unwrap_or_else(|| format!("{origin}/"));

    Notice {
        title,
        body,
        tag: payload
            .channel
            .clone()
            .unwrap_or_else(|| GENERIC_TAG.to_owned()),
        icon: format!("{origin}{ICON_PATH}"),
        data: NoticeData {
            url,
            channel: payload.channel.clone(),
        },
    }
}

/// Resolves `url` against `origin` and returns it when it stays on that
/// origin. Anything that would lead elsewhere, or that a browser might read
/// as another host, is refused: a message's sender chooses its URL, and a
/// click must not take the reader off the app.
pub fn resolve_url(url: &str, origin: &str) -> Option<String> {
    let url = url.trim();
    if url.is_empty() || url.chars().any(|c| c == '\\' || c.is_control()) {
        return None;
    }

    if let Some(rest) = url.strip_prefix(origin) {
        return match rest.chars().next() {
            None => Some(format!("{origin}/")),
            Some('/') if !rest.starts_with("//") => Some(url.to_owned()),
            Some('?' | '#') => Some(format!("{origin}/{rest}")),
            Some(_) => None,
        };
    }
    if url.starts_with("//") || has_scheme(url) {
        return None;
    }
    match url.strip_prefix('/') {
        Some(path) => Some(format!("{origin}/{path}")),
        None => Some(format!("{origin}/{url}")),
    }
}

/// Whether `url` starts with a scheme (`https:`, `javascript:`...), which
/// makes it absolute.
fn has_scheme(url: &str) -> bool {
    let Some((scheme, _)) = url.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn describe_count(count: u64) -> String {
    match count {
        1 => "1 change".to_owned(),
        _ => format!("{count} changes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://app.example";

    fn server_payload() -> PushPayload {
        PushPayload {
            channel: Some("/buckets/b/collections/c".to_owned()),
            bucket: Some("b".to_owned()),
            collection: Some("c".to_owned()),
            count: Some(1),
            title: Some("c was updated".to_owned()),
            body: Some("1 change".to_owned()),
            url: Some("/buckets/b/collections/c".to_owned()),
            ..PushPayload::default()
        }
    }

    #[test]
    fn notice_takes_its_text_from_the_payload() {
        let notice = build_notice(&server_payload(), ORIGIN);

        assert_eq!(notice.title, "c was updated");
        assert_eq!(notice.body, "1 change");
        assert_eq!(notice.icon, "https://app.example/icons/icon-192.png");
    }

    #[test]
    fn notice_is_tagged_with_its_channel() {
        let notice = build_notice(&server_payload(), ORIGIN);

        assert_eq!(notice.tag, "/buckets/b/collections/c");
        assert_eq!(
            notice.data.channel.as_deref(),
            Some("/buckets/b/collections/c")
        );
    }

    #[test]
    fn notice_data_holds_the_absolute_collection_url() {
        let notice = build_notice(&server_payload(), ORIGIN);

        assert_eq!(
            notice.data.url,
            "https://app.example/buckets/b/collections/c"
        );
    }

    #[test]
    fn empty_payload_gives_a_generic_notice() {
        let notice = build_notice(&PushPayload::default(), ORIGIN);

        assert_eq!(notice.title, GENERIC_TITLE);
        assert_eq!(notice.body, GENERIC_BODY);
        assert_eq!(notice.tag, GENERIC_TAG);
        assert_eq!(notice.data.url, "https://app.example/");
        assert_eq!(notice.data.channel, None);
    }

    #[test]
    fn missing_text_is_made_from_the_names_and_the_count() {
        let payload = PushPayload {
            title: None,
            body: None,
            count: Some(3),
            ..server_payload()
        };

        let notice = build_notice(&payload, ORIGIN);

        assert_eq!(notice.title, "c changed");
        assert_eq!(notice.body, "3 changes");
    }

    #[test]
    fn missing_url_falls_back_to_the_channel() {
        let payload = PushPayload {
            url: None,
            channel: Some("/buckets/b".to_owned()),
            ..PushPayload::default()
        };

        let notice = build_notice(&payload, ORIGIN);

        assert_eq!(notice.data.url, "https://app.example/buckets/b");
    }

    #[test]
    fn url_off_the_origin_falls_back_to_the_channel() {
        let payload = PushPayload {
            url: Some("https://elsewhere.example/".to_owned()),
            ..server_payload()
        };

        let notice = build_notice(&payload, ORIGIN);

        assert_eq!(
            notice.data.url,
            "https://app.example/buckets/b/collections/c"
        );
    }

    #[test]
    fn relative_urls_resolve_against_the_origin() {
        for (url, resolved) in [
            ("/buckets/b", "https://app.example/buckets/b"),
            ("buckets/b", "https://app.example/buckets/b"),
            ("/", "https://app.example/"),
            ("?q=1", "https://app.example/?q=1"),
            ("  /b#top ", "https://app.example/b#top"),
        ] {
            assert_eq!(resolve_url(url, ORIGIN).as_deref(), Some(resolved), "{url}");
        }
    }

    #[test]
    fn absolute_urls_on_the_origin_are_kept() {
        for (url, resolved) in [
            (
                "https://app.example/buckets/b",
                "https://app.example/buckets/b",
            ),
            ("https://app.example", "https://app.example/"),
            ("https://app.example?x", "https://app.example/?x"),
        ] {
            assert_eq!(resolve_url(url, ORIGIN).as_deref(), Some(resolved), "{url}");
        }
    }

    #[test]
    fn urls_that_could_leave_the_origin_are_refused() {
        for url in [
            "",
            "https://elsewhere.example/",
            "http://app.example/",
            "https://app.example.elsewhere.example/",
            "https://app.example@elsewhere.example/",
            "https://app.example:8443/",
            "https://app.example//elsewhere.example/",
            "//elsewhere.example/",
            "/\\elsewhere.example/",
            "javascript:alert(1)",
            "data:text/html,hi",
            "/a\nb",
        ] {
            assert_eq!(resolve_url(url, ORIGIN), None, "{url}");
        }
    }

    #[test]
    fn notice_data_round_trips_as_json() {
        let data = build_notice(&server_payload(), ORIGIN).data;

        assert_eq!(NoticeData::parse(&data.encode()), Some(data));
        assert_eq!(NoticeData::parse("null"), None);
    }

    #[test]
    fn notice_data_is_encoded_as_serde_would() {
        let data = build_notice(&server_payload(), ORIGIN).data;
        let without_channel = build_notice(&PushPayload::default(), ORIGIN).data;

        for data in [data, without_channel] {
            assert_eq!(data.encode(), serde_json::to_string(&data).unwrap());
        }
    }
}
