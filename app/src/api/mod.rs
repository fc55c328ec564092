//! The app's server functions: every read and write the pages make. Each
//! runs on the server, as the signed-in user, against the kinto-push HTTP
//! API; the browser calls them over HTTP, and forms post to them directly
//! when the page's code has not loaded.
//!
//! Each answers at `/api/<name>`. Expected refusals (a field the server
//! rejects, a conflict) come back as values the pages show; `ServerFnError`
//! is for everything else.

use leptos::prelude::*;

use crate::model::{
    Board, CollectionSummary, Device, FormOutcome, NotesSync, NotesView, Role, SaveOutcome, Sharing,
};

#[cfg(feature = "ssr")]
pub mod ssr;

#[cfg(feature = "ssr")]
use self::ssr::convert::{
    self, collection_path, device_of, invalid_field, me, note_draft, note_of, notes_sync,
    records_path, saved, sharing_of, summary_of,
};
#[cfg(feature = "ssr")]
use self::ssr::kinto::{self, Kinto};
#[cfg(feature = "ssr")]
use http::Method;
#[cfg(feature = "ssr")]
use serde_json::{Value, json};

/// Most notes a page loads; older ones are not shown.
#[cfg(feature = "ssr")]
const MAX_NOTES: usize = 500;
/// Most shared collections the board lists.
#[cfg(feature = "ssr")]
const MAX_SHARED: usize = 50;

/// Registers every server function with the server's router. Automatic
/// registration depends on the linker keeping code nothing calls, which
/// test binaries do not always do.
#[cfg(feature = "ssr")]
pub fn register_server_functions() {
    use leptos::server_fn::axum::register_explicit;

    register_explicit::<SignIn>();
    register_explicit::<SignOut>();
    register_explicit::<LoadBoard>();
    register_explicit::<CreateCollection>();
    register_explicit::<LoadNotes>();
    register_explicit::<SyncNotes>();
    register_explicit::<AddNote>();
    register_explicit::<EditNote>();
    register_explicit::<SetDone>();
    register_explicit::<DeleteNote>();
    register_explicit::<LoadSharing>();
    register_explicit::<Share>();
    register_explicit::<Revoke>();
    register_explicit::<ListDevices>();
    register_explicit::<RegisterDevice>();
    register_explicit::<RemoveDevice>();
    register_explicit::<Follow>();
}

/// Starts a browser session for `name` and `password`.
#[server(endpoint = "sign_in")]
pub async fn sign_in(name: String, password: String) -> Result<FormOutcome<()>, ServerFnError> {
    Ok(match kinto::start_session(&name, &password) {
        Ok(()) => FormOutcome::Done(()),
        Err((field, message)) => FormOutcome::Invalid { field, message },
    })
}

/// Ends the browser session.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    kinto::end_session();
    Ok(())
}

/// The signed-in user's board; `None` when nobody is signed in.
#[server(endpoint = "load_board")]
pub async fn load_board() -> Result<Option<Board>, ServerFnError> {
    let Some(kinto) = Kinto::for_request()? else {
        return Ok(None);
    };
    let me = me(&kinto).await?;

    let listing = kinto.get("/buckets/default/collections").await?;
    let mut own: Vec<CollectionSummary> = listing.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|collection| summary_of(&me.bucket, collection, false))
        .collect();
    own.sort_by_key(|collection| collection.title.to_lowercase());

    // Collections of other buckets the user holds a permission on.
    let granted = kinto.get("/permissions").await?;
    let mut shared = Vec::new();
    for entry in granted.body["data"].as_array().into_iter().flatten() {
        let (Some("collection"), Some(bucket), Some(id)) = (
            entry["resource_name"].as_str(),
            entry["bucket_id"].as_str(),
            entry["collection_id"].as_str(),
        ) else {
            continue;
        };
        if bucket == me.bucket || shared.len() == MAX_SHARED {
            continue;
        }
        let answer = kinto.get(&collection_path(bucket, id)).await?;
        if let Some(summary) = summary_of(bucket, &answer.body["data"], true) {
            shared.push(summary);
        }
    }
    shared.sort_by_key(|collection| collection.title.to_lowercase());

    Ok(Some(Board { me, own, shared }))
}

/// Creates a collection of notes in the user's bucket.
#[server(endpoint = "create_collection")]
pub async fn create_collection(
    title: String,
) -> Result<FormOutcome<CollectionSummary>, ServerFnError> {
    let kinto = Kinto::signed_in()?;
    let title = title.trim().to_owned();
    if let Err(message) = convert::check_title(&title, convert::MAX_COLLECTION_TITLE) {
        return Ok(FormOutcome::Invalid {
            field: "title".to_owned(),
            message,
        });
    }
    let me = me(&kinto).await?;
    // Reading `default` creates the user's bucket on first use.
    let bucket = kinto.get("/buckets/default").await?;
    if !bucket.is_success() {
        return Err(bucket.into_error());
    }
    let body = json!({ "data": { "title": title, "schema": convert::note_schema() } });
    // The id comes from the title; a taken one gets a number.
    let slug = convert::slug(&title);
    for attempt in 1..=20 {
        let id = match attempt {
            1 => slug.clone(),
            n => format!("{slug}-{n}"),
        };
        let path = collection_path(&me.bucket, &id);
        let answer = kinto.create(&path, &body).await?;
        match answer.status {
            201 => {
                let summary = summary_of(&me.bucket, &answer.body["data"], false);
                return summary
                    .map(FormOutcome::Done)
                    .ok_or_else(|| ServerFnError::new("the server answered no collection"));
            }
            412 => continue,
            _ => {
                return match invalid_field(&answer, "title") {
                    Some(invalid) => Ok(invalid),
                    None => Err(answer.into_error()),
                };
            }
        }
    }
    Ok(FormOutcome::Invalid {
        field: "title".to_owned(),
        message: "You already have many collections of that name.".to_owned(),
    })
}

/// A collection's page; `None` when nobody is signed in.
#[server(endpoint = "load_notes")]
pub async fn load_notes(
    bucket: String,
    collection: String,
) -> Result<Option<NotesView>, ServerFnError> {
    let Some(kinto) = Kinto::for_request()? else {
        return Ok(None);
    };
    let me = me(&kinto).await?;
    let answer = kinto.get(&collection_path(&bucket, &collection)).await?;
    if !answer.is_success() {
        return Err(answer.into_error());
    }
    let shared = bucket != me.bucket;
    let summary = summary_of(&bucket, &answer.body["data"], shared)
        .ok_or_else(|| ServerFnError::new("the server answered no collection"))?;
    let can_share = convert::may_write(&answer.body, &me.user_id) || !shared;

    let listing = format!(
        "{}?_sort=-last_modified&_limit={MAX_NOTES}",
        records_path(&bucket, &collection)
    );
    let records = kinto.get(&listing).await?;
    if !records.is_success() {
        return Err(records.into_error());
    }
    let notes = records.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(note_of)
        .collect();
    Ok(Some(NotesView {
        me,
        collection: summary,
        notes,
        timestamp: records.etag.unwrap_or_default(),
        can_share,
    }))
}

/// What changed in a collection after `since`, deletions included.
#[server(endpoint = "sync_notes")]
pub async fn sync_notes(
    bucket: String,
    collection: String,
    since: u64,
) -> Result<NotesSync, ServerFnError> {
    let kinto = Kinto::signed_in()?;
    let path = format!(
        "{}?_since={since}&_sort=-last_modified",
        records_path(&bucket, &collection)
    );
    let answer = kinto.get(&path).await?;
    if !answer.is_success() {
        return Err(answer.into_error());
    }
    Ok(notes_sync(&answer, since))
}

/// Adds a note to a collection.
#[server(endpoint = "add_note")]
pub async fn add_note(
    bucket: String,
    collection: String,
    title: String,
    text: String,
) -> Result<SaveOutcome, ServerFnError> {
    let kinto = Kinto::signed_in()?;
    let draft = match note_draft(&title, &text) {
        Ok(draft) => draft,
        Err(invalid) => return Ok(invalid),
    };
    let body = json!({ "data": { "title": draft.title, "text": draft.text, "done": false } });
    let answer = kinto
        .send(
            Method::POST,
            &records_path(&bucket, &collection),
            &body,
            None,
        )
        .await?;
    saved(answer, &draft)
}

/// Changes a note's title and text, if nobody changed it since
/// `last_modified`.
#[server(endpoint = "edit_note")]
pub async fn edit_note(
    bucket: String,
    collection: String,
    id: String,
    title: String,
    text: String,
    last_modified: u64,
) -> Result<SaveOutcome, ServerFnError> {
    let kinto = Kinto::signed_in()?;
    let draft = match note_draft(&title, &text) {
        Ok(draft) => draft,
        Err(invalid) => return Ok(invalid),
    };
    let path = format!("{}/{id}", records_path(&bucket, &collection));
    let body = json!({ "data": { "title": draft.title, "text": draft.text } });
    let answer = kinto
        .send(Method::PATCH, &path, &body, Some(last_modified))
        .await?;
    saved(answer, &draft)
}

/// Marks a note done or not. A single flag, so the last click wins.
#[server(endpoint = "set_done")]
pub async fn set_done(
    bucket: String,
    collection: String,
    id: String,
    done: bool,
) -> Result<SaveOutcome, ServerFnError> {
    let kinto = Kinto::signed_in()?;
    let path = format!("{}/{id}", records_path(&bucket, &collection));
    let body = json!({ "data": { "done": done } });
    let answer = kinto.send(Method::PATCH, &path, &body, None).await?;
    let draft = convert::NO_DRAFT.clone();
    saved(answer, &draft)
}

/// Deletes a note.
#[server(endpoint = "delete_note")]
pub async fn delete_note(
    bucket: String,
    collection: String,
    id: String,
) -> Result<SaveOutcome, ServerFnError> {
    let kinto = Kinto::signed_in()?;
    let path = format!("{}/{id}", records_path(&bucket, &collection));
    let answer = kinto.delete(&path, None).await?;
    match answer.status {
        200 | 404 => Ok(SaveOutcome::Gone),
        _ => Err(answer.into_error()),
    }
}

/// Who a collection is shared with.
#[server(endpoint = "load_sharing")]
pub async fn load_sharing(bucket: String, collection: String) -> Result<Sharing, ServerFnError> {
    let kinto = Kinto::signed_in()?;
    let me = me(&kinto).await?;
    let answer = kinto.get(&collection_path(&bucket, &collection)).await?;
    if !answer.is_success() {
        return Err(answer.into_error());
    }
    Ok(sharing_of(&answer.body, &me.user_id))
}

/// Gives `user_id` the `role` on a collection.
#[server(endpoint = "share")]
pub async fn share(
    bucket: String,
    collection: String,
    user_id: String,
    role: Role,
) -> Result<FormOutcome<Sharing>, ServerFnError> {
    let user_id = user_id.trim().to_owned();
    if let Err(message) = convert::check_principal(&user_id) {
        return Ok(FormOutcome::Invalid {
            field: "user_id".to_owned(),
            message,
        });
    }
    change_sharing(&bucket, &collection, &user_id, role, "add")
        .await
        .map(FormOutcome::Done)
}

/// Takes the `role` on a collection back from `user_id`.
#[server(endpoint = "revoke")]
pub async fn revoke(
    bucket: String,
    collection: String,
    user_id: String,
    role: Role,
) -> Result<Sharing, ServerFnError> {
    change_sharing(&bucket, &collection, &user_id, role, "remove").await
}

#[cfg(feature = "ssr")]
async fn change_sharing(
    bucket: &str,
    collection: &str,
    user_id: &str,
    role: Role,
    op: &str,
) -> Result<Sharing, ServerFnError> {
    let kinto = Kinto::signed_in()?;
    let me = me(&kinto).await?;
    let pointer = format!(
        "/permissions/{}/{}",
        role.permission(),
        convert::escape_pointer(user_id)
    );
    let patch = Value::Array(vec![json!({ "op": op, "path": pointer })]);
    let answer = kinto
        .send(
            Method::PATCH,
            &collection_path(bucket, collection),
            &patch,
            None,
        )
        .await?;
    match answer.status {
        200 => Ok(sharing_of(&answer.body, &me.user_id)),
        403 => Err(ServerFnError::new(
            "Only those who may change this collection can share it.",
        )),
        _ => Err(answer.into_error()),
    }
}

/// The user's devices: their push subscriptions, with delivery figures.
#[server(endpoint = "list_devices")]
pub async fn list_devices() -> Result<Vec<Device>, ServerFnError> {
    let Some(kinto) = Kinto::for_request()? else {
        return Ok(Vec::new());
    };
    let answer = kinto.get("/push/subscriptions").await?;
    if !answer.is_success() {
        return Err(answer.into_error());
    }
    Ok(answer.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(device_of)
        .collect())
}

/// Stores this browser's push subscription (`PushSubscription.toJSON()`
/// as text). `replaces` names the endpoint of the subscription it renews,
/// whose followed channels it keeps.
#[server(endpoint = "register_device")]
pub async fn register_device(
    subscription: String,
    replaces: Option<String>,
) -> Result<Device, ServerFnError> {
    let kinto = Kinto::signed_in()?;
    let browser: Value = serde_json::from_str(&subscription)
        .map_err(|_| ServerFnError::new("the browser's subscription is not JSON"))?;
    let mut data = json!({
        "endpoint": browser["endpoint"],
        "expirationTime": browser["expirationTime"],
        "keys": browser["keys"],
    });
    if let Some(replaces) =
        replaces.filter(|old| Some(old.as_str()) != browser["endpoint"].as_str())
    {
        data["replaces"] = json!(replaces);
    }
    let answer = kinto
        .send(
            Method::POST,
            "/push/subscriptions",
            &json!({ "data": data }),
            None,
        )
        .await?;
    if !answer.is_success() {
        return Err(answer.into_error());
    }
    device_of(&answer.body["data"]).ok_or_else(|| ServerFnError::new("no subscription stored"))
}

/// Forgets one of the user's devices: it gets no more notifications.
#[server(endpoint = "remove_device")]
pub async fn remove_device(id: String) -> Result<(), ServerFnError> {
    let kinto = Kinto::signed_in()?;
    let answer = kinto
        .delete(&format!("/push/subscriptions/{id}"), None)
        .await?;
    match answer.status {
        200 | 404 => Ok(()),
        _ => Err(answer.into_error()),
    }
}

/// Follows a channel on one of the user's devices, or stops following it.
#[server(endpoint = "follow")]
pub async fn follow(
    device: String,
    channel: String,
    follow: bool,
) -> Result<Device, ServerFnError> {
    let kinto = Kinto::signed_in()?;
    let path = format!("/push/subscriptions/{device}");
    let current = kinto.get(&path).await?;
    if !current.is_success() {
        return Err(current.into_error());
    }
    let mut channels: Vec<String> = current.body["data"]["channels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|channel| channel.as_str().map(str::to_owned))
        .collect();
    channels.retain(|followed| *followed != channel);
    if follow {
        channels.push(channel);
    }
    let body = json!({ "data": { "channels": channels } });
    let answer = kinto.send(Method::PATCH, &path, &body, None).await?;
    match answer.status {
        200 => device_of(&answer.body["data"])
            .ok_or_else(|| ServerFnError::new("no subscription stored")),
        403 => Err(ServerFnError::new(
            "You may no longer read that collection.",
        )),
        _ => Err(answer.into_error()),
    }
}
