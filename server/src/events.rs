//! Change events: what each committed request changed, for consumers such
//! as the push pipeline.
//!
//! A request collects its changes in a [`ChangeLog`] while it runs. Once its
//! transaction commits (a batch's, at the end of the batch), the log is
//! merged into one [`ChangeEvent`] per resource kind, parent and action, and
//! published on a broadcast channel. Publishing never waits: a consumer that
//! falls behind misses events (and is told so by its receiver), and a request
//! never fails or slows because of a consumer.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::storage::{ResourceName, Timestamp};

/// Events a slow consumer may fall behind by before it misses some.
const CHANNEL_CAPACITY: usize = 1024;

/// What happened to the objects of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeAction {
    Create,
    Update,
    Delete,
}

/// One object a change touched: its JSON before (none for a creation) and
/// after (the tombstone for a deletion).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImpactedObject {
    pub old: Option<Value>,
    pub new: Value,
}

/// One change of one object, as a handler records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub action: ChangeAction,
    pub resource_name: ResourceName,
    /// URI of the parent (`/buckets/b/collections/c`), empty for buckets.
    pub parent_id: String,
    pub timestamp: Timestamp,
    pub object: ImpactedObject,
}

/// The changes of one committed request for one resource kind, parent and
/// action: a batch writing 30 records of a collection is one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeEvent {
    pub action: ChangeAction,
    pub resource_name: &'static str,
    pub parent_id: String,
    pub bucket_id: Option<String>,
    pub collection_id: Option<String>,
    /// The newest timestamp among the changes.
    pub timestamp: Timestamp,
    /// The user id of whoever made the request, `None` when anonymous.
    pub user_id: Option<String>,
    pub impacted_objects: Vec<ImpactedObject>,
}

/// Where committed changes are published.
#[derive(Debug, Clone)]
pub struct Events {
    sender: broadcast::Sender<Arc<ChangeEvent>>,
}

impl Default for Events {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        Self { sender }
    }
}

impl Events {
    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeEvent>> {
        self.sender.subscribe()
    }

    /// Publishes the merged changes of a committed request.
    pub fn publish(&self, changes: Vec<Change>, user_id: Option<&str>) {
        for event in merge(changes, user_id) {
            // No receiver is not an error: nothing listens yet.
            let _ = self.sender.send(Arc::new(event));
        }
    }
}

/// The changes a request has made so far; cheap to clone, shared by a
/// batch's sub-requests.
#[derive(Debug, Clone, Default)]
pub struct ChangeLog(Arc<Mutex<Vec<Change>>>);

impl ChangeLog {
    pub fn record(&self, change: Change) {
        if let Ok(mut changes) = self.0.lock() {
            changes.push(change);
        }
    }

    /// Empties the log, returning what it held.
    pub fn take(&self) -> Vec<Change> {
        self.0
            .lock()
            .map(|mut changes| std::mem::take(&mut *changes))
            .unwrap_or_default()
    }
}

/// One event per resource kind, parent and action, in the order each first
/// appeared.
fn merge(changes: Vec<Change>, user_id: Option<&str>) -> Vec<ChangeEvent> {
    let mut events: Vec<ChangeEvent> = Vec::new();
    for change in changes {
        let kind = change.resource_name.as_str();
        let existing = events.iter_mut().find(|event| {
            event.action == change.action
                && event.resource_name == kind
                && event.parent_id == change.parent_id
        });
        match existing {
            Some(event) => {
                event.timestamp = event.timestamp.max(change.timestamp);
                event.impacted_objects.push(change.object);
            }
            None => {
                let (bucket_id, collection_id) = parent_ids(&change.parent_id);
                events.push(ChangeEvent {
                    action: change.action,
                    resource_name: kind,
                    bucket_id,
                    collection_id,
                    parent_id: change.parent_id,
                    timestamp: change.timestamp,
                    user_id: user_id.map(str::to_owned),
                    impacted_objects: vec![change.object],
                });
            }
        }
    }
    events
}

/// The bucket and collection ids in a parent URI.
fn parent_ids(parent_id: &str) -> (Option<String>, Option<String>) {
    let segments: Vec<&str> = parent_id.split('/').filter(|s| !s.is_empty()).collect();
    let id_after = |name: &str| {
        segments
            .windows(2)
            .find(|pair| pair[0] == name)
            .map(|pair| pair[1].to_owned())
    };
    (id_after("buckets"), id_after("collections"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn change(action: ChangeAction, parent_id: &str, millis: i64) -> Change {
        Change {
            action,
            resource_name: ResourceName::Record,
            parent_id: parent_id.to_owned(),
            timestamp: Timestamp::from_millis(millis),
            object: ImpactedObject {
                old: None,
                new: json!({"last_modified": millis}),
            },
        }
    }

    #[test]
    fn changes_merge_per_parent_and_action() {
        let shopping = "/buckets/b/collections/shopping";
        let changes = vec![
            change(ChangeAction::Create, shopping, 1),
            change(ChangeAction::Create, "/buckets/b/collections/chores", 2),
            change(ChangeAction::Create, shopping, 3),
            change(ChangeAction::Delete, shopping, 4),
        ];

        let events = merge(changes, Some("basicauth:alice"));

        assert_eq!(events.len(), 3);
        assert_eq!(events[0].impacted_objects.len(), 2);
        assert_eq!(events[0].timestamp, Timestamp::from_millis(3));
        assert_eq!(events[0].bucket_id.as_deref(), Some("b"));
        assert_eq!(events[0].collection_id.as_deref(), Some("shopping"));
        assert_eq!(events[2].action, ChangeAction::Delete);
    }

    #[tokio::test]
    async fn publishing_without_receivers_or_with_a_full_one_never_blocks() {
        let events = Events::default();
        events.publish(vec![change(ChangeAction::Create, "/buckets/b", 1)], None);
        let mut receiver = events.subscribe();

        for n in 0..(CHANNEL_CAPACITY + 10) {
            let millis = i64::try_from(n).unwrap();
            events.publish(
                vec![change(ChangeAction::Create, "/buckets/b", millis)],
                None,
            );
        }

        assert!(matches!(
            receiver.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
    }
}
