//! Changes the service worker relays to the page, as a signal the pages
//! react to. The browser fills it (see `worker`); on the server it never
//! changes.

use leptos::prelude::*;
use sw::payload::PushPayload;

/// Something the worker told the page.
// Only the browser build hears the worker.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Relayed {
    /// A push arrived for a channel.
    Change(Box<PushPayload>),
    /// The browser renewed the push subscription.
    SubscriptionChanged,
}

/// The latest relayed message, numbered so that two equal messages in a
/// row still notify.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LiveChanges(RwSignal<Option<(u64, Relayed)>>);

impl LiveChanges {
    /// Creates the signal and provides it to the app below.
    pub(crate) fn provide() -> Self {
        let changes = Self(RwSignal::new(None));
        provide_context(changes);
        changes
    }

    /// The latest relayed message; tracks it when read in an effect.
    pub(crate) fn latest(self) -> Option<Relayed> {
        self.0.get().map(|(_, relayed)| relayed)
    }

    /// Publishes a message the worker relayed.
    // Only the browser build publishes.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub(crate) fn publish(self, relayed: Relayed) {
        self.0.update(|latest| {
            let number = latest.as_ref().map_or(0, |(number, _)| number + 1);
            *latest = Some((number, relayed));
        });
    }
}

/// The app's relayed messages.
pub(crate) fn use_live_changes() -> LiveChanges {
    use_context::<LiveChanges>().unwrap_or_else(LiveChanges::provide)
}

impl Relayed {
    /// Whether this change concerns `channel`: the channel itself, or the
    /// bucket it is in.
    pub(crate) fn concerns(&self, channel: &str) -> bool {
        let Self::Change(payload) = self else {
            return false;
        };
        match payload.channel.as_deref() {
            Some(changed) => {
                channel == changed || channel.starts_with(&format!("{changed}/collections/"))
            }
            // A push that names no channel may concern anything.
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(channel: Option<&str>) -> Relayed {
        Relayed::Change(Box::new(PushPayload {
            channel: channel.map(str::to_owned),
            ..PushPayload::default()
        }))
    }

    #[test]
    fn a_change_concerns_its_collection_and_those_of_its_bucket() {
        let collection = "/buckets/b/collections/c";

        assert!(change(Some(collection)).concerns(collection));
        assert!(change(Some("/buckets/b")).concerns(collection));
        assert!(change(None).concerns(collection));
        assert!(!change(Some("/buckets/b/collections/other")).concerns(collection));
        assert!(!change(Some("/buckets/bb")).concerns(collection));
        assert!(!Relayed::SubscriptionChanged.concerns(collection));
    }
}
