//! Who may follow a channel and who still receives its messages: the
//! `read` right on the channel's object, inherited from its bucket.

use std::collections::HashMap;

use crate::auth::{AUTHENTICATED, EVERYONE};
use crate::permissions::{Action, Chain, Permissions, READ, WRITE};
use crate::storage::{Delivery, ResourceName, Scope, StorageError, Transaction};

use super::Channel;

/// The permissions of a channel's object and of its bucket, nearest first,
/// or `None` when the object does not exist.
///
/// # Errors
///
/// `StorageError::Database` when the database fails.
pub async fn channel_permissions(
    tx: &mut dyn Transaction,
    channel: &Channel,
) -> Result<Option<Vec<Permissions>>, StorageError> {
    if tx
        .get(&Scope::buckets(), &channel.bucket_id)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let mut links = Vec::new();
    if let Some(collection_id) = &channel.collection_id {
        let collections = Scope::children(channel.bucket_uri(), ResourceName::Collection);
        if tx.get(&collections, collection_id).await?.is_none() {
            return Ok(None);
        }
        links.push(tx.permissions(&channel.uri()).await?);
    }
    links.push(tx.permissions(&channel.bucket_uri()).await?);
    Ok(Some(links))
}

/// Whether `principals` may perform `action` on the object of `links`.
pub fn is_allowed(links: &[Permissions], action: Action, principals: &[String]) -> bool {
    let chain = Chain {
        links: links.iter().collect(),
    };
    chain.allows(action, principals)
}

/// Every principal that may read the object of `links`, for a message that
/// outlives the object (it announces its deletion).
pub fn readers(links: &[Permissions]) -> Vec<String> {
    let mut readers: Vec<String> = links
        .iter()
        .flat_map(|permissions| permissions.iter())
        .filter(|(name, _)| *name == READ || *name == WRITE || name.ends_with(":create"))
        .flat_map(|(_, holders)| holders.iter().cloned())
        .collect();
    readers.sort();
    readers.dedup();
    readers
}

/// Everything a stored user acts as: the user id, `system.Everyone`,
/// `system.Authenticated` and the groups that list any of those.
///
/// # Errors
///
/// `StorageError::Database` when the groups cannot be read.
pub async fn principals_of(
    tx: &mut dyn Transaction,
    user_id: &str,
) -> Result<Vec<String>, StorageError> {
    let mut principals = vec![
        user_id.to_owned(),
        EVERYONE.to_owned(),
        AUTHENTICATED.to_owned(),
    ];
    let groups = tx.groups_with_member(&principals).await?;
    principals.extend(groups);
    Ok(principals)
}

/// Who may read what, looked up once per claim for each channel and user.
#[derive(Default)]
pub(super) struct RightsCache {
    channels: HashMap<String, Option<Vec<Permissions>>>,
    principals: HashMap<String, Vec<String>>,
}

impl RightsCache {
    /// Whether the owner of `delivery` may read its channel now; for a
    /// channel whose object is gone, whether they could when the message was
    /// queued.
    pub(super) async fn may_read(
        &mut self,
        tx: &mut dyn Transaction,
        delivery: &Delivery,
    ) -> Result<bool, StorageError> {
        if !self.principals.contains_key(&delivery.user_id) {
            let principals = principals_of(tx, &delivery.user_id).await?;
            self.principals.insert(delivery.user_id.clone(), principals);
        }
        if !self.channels.contains_key(&delivery.channel) {
            let links = match Channel::parse(&delivery.channel) {
                Some(channel) => channel_permissions(tx, &channel).await?,
                None => None,
            };
            self.channels.insert(delivery.channel.clone(), links);
        }
        let principals = &self.principals[&delivery.user_id];
        Ok(match &self.channels[&delivery.channel] {
            Some(links) => is_allowed(links, Action::Read, principals),
            None => principals.iter().any(|p| delivery.readers.contains(p)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_hold_read_write_or_create_rights_anywhere_in_the_chain() {
        let mut collection = Permissions::new();
        collection
            .entry(READ.to_owned())
            .or_default()
            .insert("bob".to_owned());
        let mut bucket = Permissions::new();
        bucket
            .entry(WRITE.to_owned())
            .or_default()
            .insert("alice".to_owned());
        bucket
            .entry("collection:create".to_owned())
            .or_default()
            .insert("carol".to_owned());

        let links = [collection, bucket];

        assert_eq!(readers(&links), ["alice", "bob", "carol"]);
        assert!(is_allowed(&links, Action::Read, &["bob".to_owned()]));
        assert!(!is_allowed(&links, Action::Write, &["bob".to_owned()]));
    }
}
