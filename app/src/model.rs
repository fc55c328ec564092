//! What the pages show, as the server functions return it. Every type
//! crosses the wire between the server and the browser as JSON.

use serde::{Deserialize, Serialize};

/// The signed-in user, as the pages need them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The name they signed in with.
    pub name: String,
    /// Their principal, such as `basicauth:4d1f…`: what others share with.
    pub user_id: String,
    /// The id of their own bucket, which holds their collections.
    pub bucket: String,
    /// The server's VAPID public key (base64url), when push is on.
    pub vapid_key: Option<String>,
}

/// A collection as the board lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionSummary {
    pub bucket: String,
    pub id: String,
    pub title: String,
    /// Whether another user shared it with them.
    pub shared: bool,
}

impl CollectionSummary {
    /// The push channel of this collection.
    pub fn channel(&self) -> String {
        crate::paths::collection_channel(&self.bucket, &self.id)
    }

    /// The app's page for this collection.
    pub fn page(&self) -> String {
        crate::paths::collection_page(&self.bucket, &self.id)
    }
}

/// The start page of a signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Board {
    pub me: Me,
    /// Their own collections, by title.
    pub own: Vec<CollectionSummary>,
    /// Collections other users shared with them, by title.
    pub shared: Vec<CollectionSummary>,
}

/// One note: a record of a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    pub title: String,
    pub text: String,
    pub done: bool,
    /// The record's timestamp: what `If-Match` compares.
    pub last_modified: u64,
}

/// A collection's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotesView {
    pub me: Me,
    pub collection: CollectionSummary,
    /// Newest first.
    pub notes: Vec<Note>,
    /// The collection's records timestamp: where the next sync starts.
    pub timestamp: u64,
    /// Whether the user may change the collection itself (and so share it).
    pub can_share: bool,
}

/// What changed in a collection since a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotesSync {
    /// Notes created or changed.
    pub changed: Vec<Note>,
    /// Ids of notes deleted.
    pub deleted: Vec<String>,
    /// Where the next sync starts.
    pub timestamp: u64,
}

/// Who a collection is shared with, besides its owner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sharing {
    /// Principals that may read the notes.
    pub readers: Vec<String>,
    /// Principals that may also change them.
    pub writers: Vec<String>,
}

/// The access a user can be given to a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Read,
    Write,
}

impl Role {
    /// The Kinto permission that grants it.
    pub fn permission(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

/// The outcome of a form: done, or refused with a reason for one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormOutcome<T> {
    Done(T),
    /// The server refused a field; `field` names the form's input.
    Invalid {
        field: String,
        message: String,
    },
}

/// The outcome of saving a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Saved(Note),
    /// Someone else changed the note first: theirs as stored, and what the
    /// user tried to save.
    Conflict {
        theirs: Box<Note>,
        mine: NoteDraft,
    },
    /// The note is gone.
    Gone,
    Invalid {
        field: String,
        message: String,
    },
}

/// What the user typed for a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteDraft {
    pub title: String,
    pub text: String,
}

/// A browser push subscription of the user: one of their devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: String,
    pub endpoint: String,
    /// The push service's host, which says which browser it is.
    pub host: String,
    pub channels: Vec<String>,
    pub sent: u64,
    pub failed: u64,
    /// Last successful delivery, in milliseconds since the epoch.
    pub last_success: Option<u64>,
    /// The push service's last refusal, such as `410 Gone`.
    pub last_error: Option<String>,
}
