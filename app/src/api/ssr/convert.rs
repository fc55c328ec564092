//! Between the API's JSON and the pages' model: reading objects, checking
//! what users type, and naming the API's paths.

use std::sync::LazyLock;

use leptos::prelude::ServerFnError;
use serde_json::{Value, json};

use super::kinto::{Answer, Kinto};
use crate::model::{
    CollectionSummary, Device, FormOutcome, Me, Note, NoteDraft, NotesSync, SaveOutcome, Sharing,
};

/// Longest title of a collection.
pub(in crate::api) const MAX_COLLECTION_TITLE: usize = 80;
/// Longest title of a note.
const MAX_NOTE_TITLE: usize = 200;
/// Longest text of a note.
const MAX_NOTE_TEXT: usize = 10_000;
/// Longest id a collection gets from its title.
const MAX_SLUG: usize = 40;
/// Longest principal a collection can be shared with.
const MAX_PRINCIPAL: usize = 200;

/// The draft of writes that change no title or text.
pub(in crate::api) static NO_DRAFT: LazyLock<NoteDraft> = LazyLock::new(|| NoteDraft {
    title: String::new(),
    text: String::new(),
});

pub(in crate::api) fn collection_path(bucket: &str, collection: &str) -> String {
    format!("/buckets/{bucket}/collections/{collection}")
}

pub(in crate::api) fn records_path(bucket: &str, collection: &str) -> String {
    format!("{}/records", collection_path(bucket, collection))
}

/// The signed-in user, from the API's hello.
pub(in crate::api) async fn me(kinto: &Kinto) -> Result<Me, ServerFnError> {
    let hello = kinto.get("/").await?;
    let user = &hello.body["user"];
    let (Some(user_id), Some(bucket)) = (user["id"].as_str(), user["bucket"].as_str()) else {
        return Err(ServerFnError::new(
            "the server did not recognise the session",
        ));
    };
    Ok(Me {
        name: kinto.name().to_owned(),
        user_id: user_id.to_owned(),
        bucket: bucket.to_owned(),
        vapid_key: hello.body["capabilities"]["webpush"]["vapid_public_key"]
            .as_str()
            .map(str::to_owned),
    })
}

/// A collection object as the board lists it.
pub(in crate::api) fn summary_of(
    bucket: &str,
    data: &Value,
    shared: bool,
) -> Option<CollectionSummary> {
    let id = data["id"].as_str()?;
    let title = data["title"]
        .as_str()
        .filter(|title| !title.trim().is_empty())
        .unwrap_or(id);
    Some(CollectionSummary {
        bucket: bucket.to_owned(),
        id: id.to_owned(),
        title: title.to_owned(),
        shared,
    })
}

/// A record as a note; `None` for a tombstone or a record without an id.
pub(in crate::api) fn note_of(data: &Value) -> Option<Note> {
    if data["deleted"].as_bool() == Some(true) {
        return None;
    }
    Some(Note {
        id: data["id"].as_str()?.to_owned(),
        title: data["title"].as_str().unwrap_or_default().to_owned(),
        text: data["text"].as_str().unwrap_or_default().to_owned(),
        done: data["done"].as_bool().unwrap_or(false),
        last_modified: data["last_modified"].as_u64().unwrap_or_default(),
    })
}

/// A `_since` listing as changes and deletions.
pub(in crate::api) fn notes_sync(answer: &Answer, since: u64) -> NotesSync {
    let mut sync = NotesSync {
        changed: Vec::new(),
        deleted: Vec::new(),
        timestamp: answer.etag.unwrap_or(since).max(since),
    };
    for record in answer.body["data"].as_array().into_iter().flatten() {
        match note_of(record) {
            Some(note) => sync.changed.push(note),
            None => {
                if let Some(id) = record["id"].as_str() {
                    sync.deleted.push(id.to_owned());
                }
            }
        }
    }
    sync
}

/// Whether `user_id` is named in the object's own `write` permission.
pub(in crate::api) fn may_write(object: &Value, user_id: &str) -> bool {
    principals(object, "write").any(|principal| principal == user_id)
}

/// A collection's sharing: every principal but the user's own.
pub(in crate::api) fn sharing_of(object: &Value, user_id: &str) -> Sharing {
    let others = |permission| {
        principals(object, permission)
            .filter(|principal| *principal != user_id)
            .map(str::to_owned)
            .collect()
    };
    Sharing {
        readers: others("read"),
        writers: others("write"),
    }
}

fn principals<'a>(object: &'a Value, permission: &str) -> impl Iterator<Item = &'a str> {
    object["permissions"][permission]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// A subscription as one of the user's devices.
pub(in crate::api) fn device_of(data: &Value) -> Option<Device> {
    let endpoint = data["endpoint"].as_str()?;
    let host = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    let stats = &data["stats"];
    let last_error = stats["last_error"]["status"].as_u64().map(|status| {
        match stats["last_error"]["reason"].as_str() {
            Some(reason) => format!("{status} {reason}"),
            None => status.to_string(),
        }
    });
    Some(Device {
        id: data["id"].as_str()?.to_owned(),
        endpoint: endpoint.to_owned(),
        host: host.to_owned(),
        channels: data["channels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|channel| channel.as_str().map(str::to_owned))
            .collect(),
        sent: stats["sent"].as_u64().unwrap_or_default(),
        failed: stats["failed"].as_u64().unwrap_or_default(),
        last_success: stats["last_success"].as_u64(),
        last_error,
    })
}

/// Checks a title: something to show, not too long.
pub(in crate::api) fn check_title(title: &str, max_chars: usize) -> Result<(), String> {
    if title.trim().is_empty() {
        return Err("Give it a title.".to_owned());
    }
    if title.chars().count() > max_chars {
        return Err(format!("At most {max_chars} characters."));
    }
    Ok(())
}

/// A note as typed, trimmed and checked.
pub(in crate::api) fn note_draft(title: &str, text: &str) -> Result<NoteDraft, SaveOutcome> {
    let title = title.trim();
    let invalid = |field: &str, message: String| SaveOutcome::Invalid {
        field: field.to_owned(),
        message,
    };
    check_title(title, MAX_NOTE_TITLE).map_err(|message| invalid("title", message))?;
    if text.chars().count() > MAX_NOTE_TEXT {
        return Err(invalid(
            "text",
            format!("At most {MAX_NOTE_TEXT} characters."),
        ));
    }
    Ok(NoteDraft {
        title: title.to_owned(),
        text: text.trim_end().to_owned(),
    })
}

/// Checks what was typed as someone to share with.
pub(in crate::api) fn check_principal(principal: &str) -> Result<(), String> {
    let looks_right = principal.contains(':') || principal.starts_with("system.");
    if principal.is_empty() {
        return Err("Enter the user id they see on their board.".to_owned());
    }
    if !looks_right || principal.chars().any(char::is_whitespace) {
        return Err("A user id looks like basicauth:4d1f… (without spaces).".to_owned());
    }
    if principal.chars().count() > MAX_PRINCIPAL {
        return Err(format!("At most {MAX_PRINCIPAL} characters."));
    }
    Ok(())
}

/// An id for a collection, from its title: lowercase letters, digits and
/// dashes.
pub(in crate::api) fn slug(title: &str) -> String {
    let mut slug = String::new();
    for c in title.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(MAX_SLUG).collect();
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "notes".to_owned()
    } else {
        slug.to_owned()
    }
}

/// A principal as a JSON Pointer segment.
pub(in crate::api) fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The JSON Schema of a collection's notes, which the server enforces.
pub(in crate::api) fn note_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "title": { "type": "string", "minLength": 1, "maxLength": MAX_NOTE_TITLE },
            "text": { "type": "string", "maxLength": MAX_NOTE_TEXT },
            "done": { "type": "boolean" },
        },
        "required": ["title"],
    })
}

/// A `400` naming a `data.<name>` field, as a refusal of the form's
/// `fallback` input unless the name is one of the form's.
pub(in crate::api) fn invalid_field<T>(answer: &Answer, fallback: &str) -> Option<FormOutcome<T>> {
    let (field, message) = refused_field(answer, fallback)?;
    Some(FormOutcome::Invalid { field, message })
}

fn refused_field(answer: &Answer, fallback: &str) -> Option<(String, String)> {
    if answer.status != 400 {
        return None;
    }
    let detail = &answer.body["details"][0];
    let name = detail["name"].as_str().unwrap_or_default();
    let field = match name.strip_prefix("data.") {
        Some(field @ ("title" | "text")) => field,
        _ => fallback,
    };
    let message = detail["description"]
        .as_str()
        .map_or_else(|| answer.message(), str::to_owned);
    Some((field.to_owned(), message))
}

/// The outcome of writing a note.
pub(in crate::api) fn saved(
    answer: Answer,
    draft: &NoteDraft,
) -> Result<SaveOutcome, ServerFnError> {
    match answer.status {
        200 | 201 => note_of(&answer.body["data"])
            .map(SaveOutcome::Saved)
            .ok_or_else(|| ServerFnError::new("the server answered no note")),
        412 => Ok(match note_of(&answer.body["details"]["existing"]) {
            Some(theirs) => SaveOutcome::Conflict {
                theirs: Box::new(theirs),
                mine: draft.clone(),
            },
            None => SaveOutcome::Gone,
        }),
        404 => Ok(SaveOutcome::Gone),
        403 => Err(ServerFnError::new(
            "You may read these notes but not change them.",
        )),
        _ => match refused_field(&answer, "title") {
            Some((field, message)) => Ok(SaveOutcome::Invalid { field, message }),
            None => Err(answer.into_error()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body,
            etag: Some(20),
        }
    }

    #[test]
    fn titles_make_short_readable_ids() {
        assert_eq!(slug("Groceries"), "groceries");
        assert_eq!(slug("  Trip to Köln, 2027!  "), "trip-to-k-ln-2027");
        assert_eq!(slug("???"), "notes");
        let long = slug(&"ab ".repeat(40));
        assert!(long.len() <= MAX_SLUG && !long.ends_with('-'), "{long}");
    }

    #[test]
    fn a_sync_splits_changes_from_deletions() {
        let listing = answer(
            200,
            json!({"data": [
                {"id": "n2", "title": "Milk", "done": true, "last_modified": 20},
                {"id": "n1", "deleted": true, "last_modified": 19},
            ]}),
        );

        let sync = notes_sync(&listing, 10);

        assert_eq!(sync.changed.len(), 1);
        assert!(sync.changed[0].done);
        assert_eq!(sync.deleted, ["n1"]);
        assert_eq!(sync.timestamp, 20);
    }

    #[test]
    fn a_conflict_carries_their_version_and_mine() {
        let refused = answer(
            412,
            json!({"details": {"existing": {"id": "n1", "title": "Theirs", "last_modified": 9}}}),
        );
        let mine = NoteDraft {
            title: "Mine".to_owned(),
            text: String::new(),
        };

        let outcome = saved(refused, &mine).unwrap();

        let SaveOutcome::Conflict { theirs, mine } = outcome else {
            panic!("expected a conflict, got {outcome:?}");
        };
        assert_eq!(theirs.title, "Theirs");
        assert_eq!(theirs.last_modified, 9);
        assert_eq!(mine.title, "Mine");
    }

    #[test]
    fn a_schema_refusal_points_at_the_field() {
        let refused = answer(
            400,
            json!({"message": "bad", "details": [
                {"location": "body", "name": "data.text", "description": "too long"}
            ]}),
        );

        let outcome = saved(refused, &NO_DRAFT).unwrap();

        assert_eq!(
            outcome,
            SaveOutcome::Invalid {
                field: "text".to_owned(),
                message: "too long".to_owned()
            }
        );
    }

    #[test]
    fn drafts_need_a_title_and_a_bounded_text() {
        assert!(matches!(
            note_draft(" ", ""),
            Err(SaveOutcome::Invalid { .. })
        ));
        let long = "x".repeat(MAX_NOTE_TEXT + 1);
        let Err(SaveOutcome::Invalid { field, .. }) = note_draft("ok", &long) else {
            panic!("a long text must be refused");
        };
        assert_eq!(field, "text");
        assert_eq!(note_draft(" Milk ", "2 l\n").unwrap().title, "Milk");
    }

    #[test]
    fn sharing_lists_everyone_but_the_user() {
        let collection = json!({"permissions": {
            "write": ["basicauth:me", "basicauth:bob"],
            "read": ["basicauth:carol"],
        }});

        let sharing = sharing_of(&collection, "basicauth:me");

        assert_eq!(sharing.writers, ["basicauth:bob"]);
        assert_eq!(sharing.readers, ["basicauth:carol"]);
        assert!(may_write(&collection, "basicauth:me"));
        assert!(!may_write(&collection, "basicauth:carol"));
    }

    #[test]
    fn principals_must_look_like_user_ids() {
        assert!(check_principal("basicauth:4d1f").is_ok());
        assert!(check_principal("system.Everyone").is_ok());
        assert!(check_principal("bob").is_err());
        assert!(check_principal("basicauth: x").is_err());
        assert!(check_principal("").is_err());
    }

    #[test]
    fn devices_show_the_push_service_host_and_last_error() {
        let data = json!({
            "id": "d1",
            "endpoint": "https://push.example.net:8443/wpush/abc",
            "channels": ["/buckets/b/collections/c"],
            "stats": {"sent": 3, "failed": 1, "last_success": 5,
                      "last_error": {"status": 410, "reason": "Gone"}},
        });

        let device = device_of(&data).unwrap();

        assert_eq!(device.host, "push.example.net:8443");
        assert_eq!(device.last_error.as_deref(), Some("410 Gone"));
        assert_eq!(device.sent, 3);
    }
}
