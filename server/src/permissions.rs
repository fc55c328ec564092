//! Who may do what: the permissions an object carries, how they inherit down
//! the tree (bucket → collection → record), and the checks handlers make.
//!
//! `write` implies `read`. A bucket's `read` and `write` hold for everything
//! in it, a collection's for its records. `collection:create` (on a bucket)
//! and `record:create` (on a collection) let a principal create children.

use std::collections::{BTreeMap, BTreeSet};

use crate::storage::ResourceName;

/// An object's permissions: permission name → principals.
pub type Permissions = BTreeMap<String, BTreeSet<String>>;

pub const READ: &str = "read";
pub const WRITE: &str = "write";

/// The permission names an object of `kind` accepts.
pub fn allowed_names(kind: ResourceName) -> &'static [&'static str] {
    match kind {
        ResourceName::Bucket => &[READ, WRITE, "collection:create", "group:create"],
        ResourceName::Collection => &[READ, WRITE, "record:create"],
        ResourceName::Group | ResourceName::Record => &[READ, WRITE],
    }
}

/// The permission on a parent that lets a principal create a `kind` child.
pub fn create_permission(kind: ResourceName) -> &'static str {
    match kind {
        ResourceName::Bucket => "bucket:create",
        ResourceName::Collection => "collection:create",
        ResourceName::Group => "group:create",
        ResourceName::Record => "record:create",
    }
}

/// What a caller wants to do with an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Write,
}

/// The permissions of one object and of its ancestors, nearest first: a
/// record's chain is the record, its collection, its bucket.
#[derive(Debug, Default)]
pub struct Chain<'a> {
    pub links: Vec<&'a Permissions>,
}

impl Chain<'_> {
    /// Whether any of `principals` may perform `action` on the first object
    /// of the chain, directly or through an ancestor.
    pub fn allows(&self, action: Action, principals: &[String]) -> bool {
        self.links
            .iter()
            .any(|permissions| grants(permissions, action, principals))
    }

    /// Whether any of `principals` holds `permission` on the first object,
    /// or write on it or an ancestor (which includes every create right).
    pub fn allows_create(&self, permission: &str, principals: &[String]) -> bool {
        let direct = self
            .links
            .first()
            .is_some_and(|permissions| holds(permissions, permission, principals));
        direct || self.allows(Action::Write, principals)
    }
}

/// Whether `permissions` lets one of `principals` perform `action`.
fn grants(permissions: &Permissions, action: Action, principals: &[String]) -> bool {
    match action {
        // Whoever may create children may also read the parent.
        Action::Read => permissions
            .iter()
            .filter(|(name, _)| *name == READ || *name == WRITE || name.ends_with(":create"))
            .any(|(_, holders)| principals.iter().any(|p| holders.contains(p))),
        Action::Write => holds(permissions, WRITE, principals),
    }
}

fn holds(permissions: &Permissions, name: &str, principals: &[String]) -> bool {
    permissions
        .get(name)
        .is_some_and(|holders| principals.iter().any(|p| holders.contains(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permissions(entries: &[(&str, &str)]) -> Permissions {
        let mut permissions = Permissions::new();
        for (name, principal) in entries {
            permissions
                .entry((*name).to_owned())
                .or_default()
                .insert((*principal).to_owned());
        }
        permissions
    }

    fn principals(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn write_implies_read() {
        let record = permissions(&[(WRITE, "alice")]);
        let chain = Chain {
            links: vec![&record],
        };

        assert!(chain.allows(Action::Read, &principals(&["alice"])));
        assert!(!chain.allows(Action::Read, &principals(&["bob"])));
    }

    #[test]
    fn bucket_rights_hold_for_everything_below() {
        let record = Permissions::new();
        let collection = Permissions::new();
        let bucket = permissions(&[(READ, "system.Everyone"), (WRITE, "alice")]);
        let chain = Chain {
            links: vec![&record, &collection, &bucket],
        };

        assert!(chain.allows(Action::Read, &principals(&["system.Everyone"])));
        assert!(chain.allows(Action::Write, &principals(&["alice"])));
        assert!(!chain.allows(Action::Write, &principals(&["system.Everyone"])));
    }

    #[test]
    fn create_needs_the_create_right_or_write() {
        let collection = permissions(&[("record:create", "bob")]);
        let bucket = permissions(&[(WRITE, "alice")]);
        let chain = Chain {
            links: vec![&collection, &bucket],
        };

        assert!(chain.allows_create("record:create", &principals(&["bob"])));
        assert!(chain.allows_create("record:create", &principals(&["alice"])));
        assert!(!chain.allows_create("record:create", &principals(&["carol"])));
        assert!(!chain.allows(Action::Write, &principals(&["bob"])));
    }

    #[test]
    fn create_right_lets_the_holder_read_the_parent() {
        let bucket = permissions(&[("collection:create", "bob")]);
        let chain = Chain {
            links: vec![&bucket],
        };

        assert!(chain.allows(Action::Read, &principals(&["bob"])));
    }

    #[test]
    fn each_kind_accepts_its_own_permission_names() {
        assert!(allowed_names(ResourceName::Bucket).contains(&"group:create"));
        assert!(allowed_names(ResourceName::Collection).contains(&"record:create"));
        assert!(!allowed_names(ResourceName::Record).contains(&"record:create"));
    }
}
