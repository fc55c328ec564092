//! Channels, and the notifications a request's changes make for them.
//!
//! A channel is the URI of a bucket (`/buckets/b`: everything in it) or of a
//! collection (`/buckets/b/collections/c`: its records and metadata). A
//! request makes one notification per channel it changed, however many
//! objects it wrote there: a batch of 30 record writes is one message.

use serde_json::{Value, json};

use crate::events::{Change, ChangeAction};
use crate::routes::is_valid_id;
use crate::storage::{ResourceName, Timestamp};

/// Room the ids may take in a payload, in bytes of JSON. Push services
/// accept about 4 KB; some routes to mobile devices less.
const MAX_IDS_BYTES: usize = 2_048;

/// A followable object: a bucket or a collection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel {
    pub bucket_id: String,
    pub collection_id: Option<String>,
}

impl Channel {
    /// Reads `/buckets/{bid}` or `/buckets/{bid}/collections/{cid}`.
    pub fn parse(uri: &str) -> Option<Self> {
        let segments: Vec<&str> = uri.strip_prefix('/')?.split('/').collect();
        let channel = match segments.as_slice() {
            ["buckets", bucket_id] => Self {
                bucket_id: (*bucket_id).to_owned(),
                collection_id: None,
            },
            ["buckets", bucket_id, "collections", collection_id] => Self {
                bucket_id: (*bucket_id).to_owned(),
                collection_id: Some((*collection_id).to_owned()),
            },
            _ => return None,
        };
        let ids_are_valid = is_valid_id(&channel.bucket_id)
            && channel.collection_id.as_deref().is_none_or(is_valid_id);
        ids_are_valid.then_some(channel)
    }

    pub fn bucket_uri(&self) -> String {
        format!("/buckets/{}", self.bucket_id)
    }

    pub fn uri(&self) -> String {
        match &self.collection_id {
            Some(collection_id) => {
                format!("/buckets/{}/collections/{collection_id}", self.bucket_id)
            }
            None => self.bucket_uri(),
        }
    }

    /// The channels whose followers hear of this one: itself and, for a
    /// collection, its bucket.
    pub fn audience(&self) -> Vec<String> {
        let mut audience = vec![self.uri()];
        if self.collection_id.is_some() {
            audience.push(self.bucket_uri());
        }
        audience
    }

    /// The `Topic` of its messages: a push service keeps only the newest
    /// undelivered message per topic, so an offline device finds one per
    /// channel. Topics are at most 32 base64url characters: a hash of the
    /// URI, which keeps them distinct and reveals nothing.
    pub fn topic(&self) -> String {
        use base64::Engine;
        use sha2::{Digest, Sha256};

        let digest = Sha256::digest(self.uri().as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..24])
    }
}

/// What one request changed in one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelChanges {
    pub channel: Channel,
    action: Option<ChangeAction>,
    is_mixed: bool,
    timestamp: Timestamp,
    ids: Vec<String>,
}

impl ChannelChanges {
    /// The JSON the browser receives: where, what and when, never the data.
    pub fn payload(&self) -> Value {
        let action = match (self.is_mixed, self.action) {
            (false, Some(action)) => json!(action),
            _ => json!("mixed"),
        };
        let count = self.ids.len();
        let mut ids = Vec::new();
        let mut ids_bytes = 0;
        for id in &self.ids {
            ids_bytes += id.len() + 3;
            if ids_bytes > MAX_IDS_BYTES {
                break;
            }
            ids.push(id.as_str());
        }
        let place = self
            .channel
            .collection_id
            .as_deref()
            .unwrap_or(&self.channel.bucket_id);
        let body = match count {
            1 => "1 change".to_owned(),
            count => format!("{count} changes"),
        };
        json!({
            "channel": self.channel.uri(),
            "bucket": self.channel.bucket_id,
            "collection": self.channel.collection_id,
            "action": action,
            "timestamp": self.timestamp,
            "ids": ids,
            "count": count,
            "title": format!("{place} was updated"),
            "body": body,
            // The app's page of what changed, where a click on the
            // notification leads.
            "url": app::paths::page_of_channel(&self.channel.uri()),
        })
    }
}

/// The changes of one request, grouped by the channel they belong to, in
/// the order each channel first appears.
pub fn group_by_channel(changes: &[Change]) -> Vec<ChannelChanges> {
    let mut grouped: Vec<ChannelChanges> = Vec::new();
    for change in changes {
        let Some((channel, id)) = channel_of(change) else {
            continue;
        };
        match grouped.iter_mut().find(|group| group.channel == channel) {
            Some(group) => {
                group.is_mixed |= group.action != Some(change.action);
                group.timestamp = group.timestamp.max(change.timestamp);
                group.ids.push(id);
            }
            None => grouped.push(ChannelChanges {
                channel,
                action: Some(change.action),
                is_mixed: false,
                timestamp: change.timestamp,
                ids: vec![id],
            }),
        }
    }
    grouped
}

/// The channel a change belongs to, and the id of the object it changed.
fn channel_of(change: &Change) -> Option<(Channel, String)> {
    let id = change.object.new.get("id")?.as_str()?.to_owned();
    let parent = change.parent_id.as_str();
    let uri = match change.resource_name {
        ResourceName::Bucket => format!("/buckets/{id}"),
        ResourceName::Group => parent.to_owned(),
        ResourceName::Collection => format!("{parent}/collections/{id}"),
        ResourceName::Record => parent.to_owned(),
    };
    Some((Channel::parse(&uri)?, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ImpactedObject;

    fn change(resource_name: ResourceName, parent_id: &str, id: &str, millis: i64) -> Change {
        Change {
            action: ChangeAction::Create,
            resource_name,
            parent_id: parent_id.to_owned(),
            timestamp: Timestamp::from_millis(millis),
            object: ImpactedObject {
                old: None,
                new: json!({"id": id, "last_modified": millis}),
            },
        }
    }

    #[test]
    fn channels_are_bucket_or_collection_uris_with_valid_ids() {
        let collection = Channel::parse("/buckets/b/collections/c").unwrap();

        assert_eq!(
            collection.audience(),
            ["/buckets/b/collections/c", "/buckets/b"]
        );
        assert_eq!(
            Channel::parse("/buckets/b").unwrap().audience(),
            ["/buckets/b"]
        );
        for bad in [
            "buckets/b",
            "/buckets/",
            "/buckets/b/groups/g",
            "/buckets/b/collections/c/records/r",
            "/buckets/b.x",
            "/buckets/b/collections/",
        ] {
            assert!(Channel::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn topics_are_short_base64url_and_differ_per_channel() {
        let one = Channel::parse("/buckets/b/collections/c").unwrap().topic();
        let other = Channel::parse("/buckets/b").unwrap().topic();

        assert_eq!(one.len(), 32);
        assert!(
            one.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(one, other);
    }

    #[test]
    fn a_request_makes_one_notification_per_channel() {
        let records = "/buckets/b/collections/c";
        let mut changes: Vec<Change> = (0..30)
            .map(|n| change(ResourceName::Record, records, &format!("r{n}"), n))
            .collect();
        changes.push(change(ResourceName::Collection, "/buckets/b", "c", 40));
        changes.push(change(ResourceName::Group, "/buckets/b", "g", 41));

        let grouped = group_by_channel(&changes);

        assert_eq!(grouped.len(), 2);
        let payload = grouped[0].payload();
        assert_eq!(payload["channel"], records);
        assert_eq!(payload["count"], 31);
        assert_eq!(payload["timestamp"], 40);
        assert_eq!(payload["action"], "create");
        assert_eq!(grouped[1].payload()["channel"], "/buckets/b");
    }

    #[test]
    fn payloads_cut_the_ids_and_stay_small() {
        let changes: Vec<Change> = (0..500)
            .map(|n| {
                let id = format!("{n:036}");
                change(ResourceName::Record, "/buckets/b/collections/c", &id, n)
            })
            .collect();

        let payload = group_by_channel(&changes)[0].payload();

        assert_eq!(payload["count"], 500);
        assert!(payload["ids"].as_array().unwrap().len() < 500);
        assert!(payload.to_string().len() < 3_000);
    }
}
