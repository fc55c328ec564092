//! A collection's page: its notes, kept in sync live, with the forms that
//! change them, its sharing and the notifications panel.
//!
//! The page syncs with `_since` whenever the worker relays a change of the
//! collection, when the browser comes back online and when the page becomes
//! visible again, so a push that never arrived loses nothing.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{AddNote, DeleteNote, EditNote, SetDone, load_notes, sync_notes};
use crate::components::{FieldError, NotificationsPanel, SharingPanel, SignedInBar, field_error};
use crate::live::use_live_changes;
use crate::model::{Note, NoteDraft, NotesSync, NotesView, SaveOutcome};

/// The page at `/collections/{bucket}/{collection}`.
#[component]
pub fn CollectionPage() -> impl IntoView {
    let params = use_params_map();
    let target = move || {
        let params = params.read();
        (
            params.get("bucket").unwrap_or_default(),
            params.get("collection").unwrap_or_default(),
        )
    };
    let view = Resource::new(target, |(bucket, collection)| {
        load_notes(bucket, collection)
    });

    view! {
        <main class="page">
            <Suspense fallback=|| view! { <p class="loading">"Loading the notes…"</p> }>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(Some(loaded)) => view! { <NotesScreen loaded /> }.into_any(),
                        Ok(None) => view! {
                            <p class="notice">
                                "Sign in to see these notes. " <a href="/">"Go to sign in"</a>
                            </p>
                        }
                        .into_any(),
                        Err(error) => view! {
                            <p class="error" role="alert">
                                "These notes cannot be shown: " {error.to_string()} " "
                                <a href="/">"Back to your board"</a>
                            </p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

/// The list of notes and what surrounds it, once loaded.
#[component]
fn NotesScreen(loaded: NotesView) -> impl IntoView {
    let NotesView {
        me,
        collection,
        notes,
        timestamp,
        can_share,
    } = loaded;
    let notes = RwSignal::new(notes);
    let since = RwSignal::new(timestamp);
    let synced_at = RwSignal::new(None::<String>);
    // When the last sync's changes reached the list, in epoch milliseconds:
    // what measurements of the live loop read.
    let synced_ms = RwSignal::new(None::<f64>);
    let sync_error = RwSignal::new(None::<String>);
    let bucket = collection.bucket.clone();
    let collection_id = collection.id.clone();
    let channel = collection.channel();

    let sync = {
        let (bucket, collection_id) = (bucket.clone(), collection_id.clone());
        move || {
            let (bucket, collection_id) = (bucket.clone(), collection_id.clone());
            leptos::task::spawn_local(async move {
                match sync_notes(bucket, collection_id, since.get_untracked()).await {
                    Ok(changes) => {
                        since.set(changes.timestamp);
                        notes.update(|notes| apply(notes, changes));
                        sync_error.set(None);
                        #[cfg(feature = "hydrate")]
                        {
                            synced_at.set(Some(crate::browser::clock_time()));
                            synced_ms.set(crate::browser::epoch_millis());
                        }
                    }
                    Err(error) => sync_error.set(Some(error.to_string())),
                }
            });
        }
    };

    // Live: a relayed change of this collection (or its bucket), coming
    // back online, or the page becoming visible.
    #[cfg(feature = "hydrate")]
    {
        let on_online = {
            let sync = sync.clone();
            window_event_listener(leptos::ev::online, move |_| sync())
        };
        let on_visible = {
            let sync = sync.clone();
            window_event_listener(leptos::ev::visibilitychange, move |_| {
                if document().visibility_state() == web_sys::VisibilityState::Visible {
                    sync();
                }
            })
        };
        on_cleanup(move || {
            on_online.remove();
            on_visible.remove();
        });
    }
    let live = use_live_changes();
    Effect::new(move |_| {
        if live
            .latest()
            .is_some_and(|relayed| relayed.concerns(&channel))
        {
            sync();
        }
    });

    let on_saved = Callback::new(move |note: Note| {
        notes.update(|notes| upsert(notes, note));
    });
    let on_deleted = Callback::new(move |id: String| {
        notes.update(|notes| notes.retain(|note| note.id != id));
    });
    let target = (bucket.clone(), collection_id.clone());

    view! {
        <SignedInBar me=me.clone() />
        <nav class="breadcrumbs" aria-label="Breadcrumbs">
            <a href="/">"Your board"</a>
            " / "
            <span aria-current="page">{collection.title.clone()}</span>
        </nav>
        <div class="columns">
            <div class="main-column">
                <section class="card" aria-labelledby="notes-heading">
                    <div class="card-head">
                        <h1 id="notes-heading">{collection.title.clone()}</h1>
                        <p
                            class="sync"
                            data-testid="sync-state"
                            data-synced-at=move || synced_ms.get().map(|ms| ms.to_string())
                            aria-live="polite"
                        >
                            {move || match (sync_error.get(), synced_at.get()) {
                                (Some(error), _) => format!("Sync failed: {error}"),
                                (None, Some(time)) => format!("Synced at {time}"),
                                (None, None) => "Up to date as loaded".to_owned(),
                            }}
                        </p>
                    </div>
                    <AddNoteForm target=target.clone() on_saved />
                    <ul class="notes" aria-label="Notes">
                        <For
                            each=move || notes.get()
                            key=|note| (note.id.clone(), note.last_modified)
                            let:note
                        >
                            <NoteItem note target=target.clone() on_saved on_deleted />
                        </For>
                    </ul>
                    <Show when=move || notes.read().is_empty()>
                        <p class="empty">"No notes yet."</p>
                    </Show>
                </section>
            </div>
            <aside class="side-column">
                <NotificationsPanel me collections=vec![collection] />
                {can_share.then(|| view! { <SharingPanel bucket collection=collection_id /> })}
            </aside>
        </div>
    }
}

/// Applies a sync's changes: newer versions replace older ones, deleted
/// notes go, and the newest stay first.
fn apply(notes: &mut Vec<Note>, changes: NotesSync) {
    notes.retain(|note| !changes.deleted.contains(&note.id));
    for note in changes.changed {
        upsert(notes, note);
    }
}

/// Puts `note` in the list unless a newer version is there already.
fn upsert(notes: &mut Vec<Note>, note: Note) {
    match notes.iter_mut().find(|known| known.id == note.id) {
        Some(known) if known.last_modified >= note.last_modified => {}
        Some(known) => *known = note,
        None => notes.push(note),
    }
    notes.sort_by_key(|note| std::cmp::Reverse(note.last_modified));
}

/// The form that adds a note.
#[component]
fn AddNoteForm(target: (String, String), on_saved: Callback<Note>) -> impl IntoView {
    let add = ServerAction::<AddNote>::new();
    let form = NodeRef::<leptos::html::Form>::new();
    let outcome = add.value();
    Effect::new(move || {
        if let Some(Ok(SaveOutcome::Saved(note))) = outcome.get() {
            on_saved.run(note);
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    let (bucket, collection) = target;

    view! {
        <ActionForm action=add node_ref=form>
            <input type="hidden" name="bucket" value=bucket />
            <input type="hidden" name="collection" value=collection />
            <div class="field">
                <label for="new-note-title">"Title"</label>
                <input id="new-note-title" name="title" required maxlength="200" />
                <FieldError message=field_error(outcome, "title", "title") />
            </div>
            <div class="field">
                <label for="new-note-text">"Text"</label>
                <textarea id="new-note-text" name="text" rows="2"></textarea>
                <FieldError message=field_error(outcome, "text", "title") />
            </div>
            <button type="submit" class="button primary">"Add note"</button>
        </ActionForm>
    }
}

/// One note: its done toggle, text, and edit and delete.
#[component]
fn NoteItem(
    note: Note,
    target: (String, String),
    on_saved: Callback<Note>,
    on_deleted: Callback<String>,
) -> impl IntoView {
    let query = use_query_map();
    let editing = RwSignal::new(query.read_untracked().get("edit").as_deref() == Some(&note.id));
    let set_done = ServerAction::<SetDone>::new();
    let delete = ServerAction::<DeleteNote>::new();
    Effect::new(move || match set_done.value().get() {
        Some(Ok(SaveOutcome::Saved(note))) => on_saved.run(note),
        Some(Ok(SaveOutcome::Gone)) => {}
        _ => {}
    });
    {
        let id = note.id.clone();
        Effect::new(move || {
            if let Some(Ok(SaveOutcome::Gone)) = delete.value().get() {
                on_deleted.run(id.clone());
            }
        });
    }
    let shown = note.clone();
    let view_target = target.clone();
    let (is_done, note_id) = (note.done, note.id.clone());

    view! {
        <li class="note" class:done=is_done data-note-id=note_id>
            <Show
                when=move || editing.get()
                fallback=move || {
                    view! {
                        <NoteView
                            note=shown.clone()
                            target=view_target.clone()
                            set_done
                            delete
                            editing
                        />
                    }
                }
            >
                <div class="note-editor">
                    <EditNoteForm
                        note=note.clone()
                        target=target.clone()
                        on_saved
                        on_deleted
                        on_close=Callback::new(move |()| editing.set(false))
                    />
                </div>
            </Show>
        </li>
    }
}

/// A note as read: the done toggle, its text, and the edit and delete
/// controls. Edit is a link, so that it works before the page's code loads.
#[component]
fn NoteView(
    note: Note,
    target: (String, String),
    set_done: ServerAction<SetDone>,
    delete: ServerAction<DeleteNote>,
    editing: RwSignal<bool>,
) -> impl IntoView {
    let (bucket, collection) = target;
    let done_label = if note.done {
        "Mark not done"
    } else {
        "Mark done"
    };
    let done_form = (bucket.clone(), collection.clone(), note.id.clone());
    let toggle_label = format!("{done_label}: {}", note.title);
    let edit_label = format!("Edit {}", note.title);
    let delete_label = format!("Delete {}", note.title);
    let edit_href = format!("?edit={}", note.id);
    let text = (!note.text.is_empty()).then(|| note.text.clone());

    view! {
        <ActionForm action=set_done>
            <input type="hidden" name="bucket" value=done_form.0 />
            <input type="hidden" name="collection" value=done_form.1 />
            <input type="hidden" name="id" value=done_form.2 />
            <input type="hidden" name="done" value=(!note.done).to_string() />
            <button
                type="submit"
                class="check"
                aria-pressed=note.done.to_string()
                aria-label=toggle_label
            >
                {if note.done { "✓" } else { "" }}
            </button>
        </ActionForm>
        <div class="note-body">
            <h3 class="note-title">{note.title}</h3>
            {text.map(|text| view! { <p class="note-text">{text}</p> })}
        </div>
        <div class="note-actions">
            <a
                class="button quiet"
                href=edit_href
                aria-label=edit_label
                on:click=move |event| {
                    event.prevent_default();
                    editing.set(true);
                }
            >
                "Edit"
            </a>
            <ActionForm action=delete>
                <input type="hidden" name="bucket" value=bucket />
                <input type="hidden" name="collection" value=collection />
                <input type="hidden" name="id" value=note.id />
                <button type="submit" class="button quiet" aria-label=delete_label>
                    "Delete"
                </button>
            </ActionForm>
        </div>
    }
}

/// Edits a note's title and text; a conflict shows the other version and
/// lets the user keep theirs or their own.
#[component]
fn EditNoteForm(
    note: Note,
    target: (String, String),
    on_saved: Callback<Note>,
    on_deleted: Callback<String>,
    on_close: Callback<()>,
) -> impl IntoView {
    let edit = ServerAction::<EditNote>::new();
    let outcome = edit.value();
    {
        let id = note.id.clone();
        Effect::new(move || match outcome.get() {
            Some(Ok(SaveOutcome::Saved(saved))) => {
                on_saved.run(saved);
                on_close.run(());
            }
            Some(Ok(SaveOutcome::Gone)) => on_deleted.run(id.clone()),
            _ => {}
        });
    }
    let conflict = move || match outcome.get() {
        Some(Ok(SaveOutcome::Conflict { theirs, mine })) => Some((*theirs, mine)),
        _ => None,
    };
    let (bucket, collection) = target;
    let keep_mine = {
        let (bucket, collection) = (bucket.clone(), collection.clone());
        move |theirs: &Note, mine: &NoteDraft| EditNote {
            bucket: bucket.clone(),
            collection: collection.clone(),
            id: theirs.id.clone(),
            title: mine.title.clone(),
            text: mine.text.clone(),
            last_modified: theirs.last_modified,
        }
    };
    let title_id = format!("edit-title-{}", note.id);
    let text_id = format!("edit-text-{}", note.id);

    view! {
        <ActionForm action=edit>
            <input type="hidden" name="bucket" value=bucket />
            <input type="hidden" name="collection" value=collection />
            <input type="hidden" name="id" value=note.id.clone() />
            <input type="hidden" name="last_modified" value=note.last_modified.to_string() />
            <div class="field">
                <label for=title_id.clone()>"Title"</label>
                <input id=title_id name="title" value=note.title.clone() required maxlength="200" />
                <FieldError message=field_error(outcome, "title", "title") />
            </div>
            <div class="field">
                <label for=text_id.clone()>"Text"</label>
                <textarea id=text_id name="text" rows="3">{note.text.clone()}</textarea>
                <FieldError message=field_error(outcome, "text", "title") />
            </div>
            <div class="row">
                <button type="submit" class="button primary">"Save"</button>
                <a
                    class="button quiet"
                    href=""
                    on:click=move |event| {
                        event.prevent_default();
                        on_close.run(());
                    }
                >
                    "Cancel"
                </a>
            </div>
        </ActionForm>
        {move || {
            conflict()
                .map(|(theirs, mine)| {
                    let keep_mine = keep_mine.clone();
                    let mine_again = keep_mine(&theirs, &mine);
                    let theirs_kept = theirs.clone();
                    view! {
                        <div class="conflict" role="alert">
                            <p>
                                <strong>"Someone else changed this note"</strong>
                                " while you were editing. Their version:"
                            </p>
                            <blockquote>
                                <p class="note-title">{theirs.title.clone()}</p>
                                <p class="note-text">{theirs.text}</p>
                            </blockquote>
                            <div class="row">
                                <button
                                    type="button"
                                    class="button"
                                    on:click=move |_| {
                                        on_saved.run(theirs_kept.clone());
                                        on_close.run(());
                                    }
                                >
                                    "Keep theirs"
                                </button>
                                <button
                                    type="button"
                                    class="button primary"
                                    on:click=move |_| {
                                        edit.dispatch(mine_again.clone());
                                    }
                                >
                                    "Keep mine"
                                </button>
                            </div>
                        </div>
                    }
                })
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(id: &str, last_modified: u64) -> Note {
        Note {
            id: id.to_owned(),
            title: id.to_owned(),
            text: String::new(),
            done: false,
            last_modified,
        }
    }

    #[test]
    fn a_sync_replaces_older_versions_and_drops_deleted_notes() {
        let mut notes = vec![note("b", 2), note("a", 1)];
        let changes = NotesSync {
            changed: vec![note("a", 5), note("c", 4)],
            deleted: vec!["b".to_owned()],
            timestamp: 5,
        };

        apply(&mut notes, changes);

        let order: Vec<(&str, u64)> = notes
            .iter()
            .map(|n| (n.id.as_str(), n.last_modified))
            .collect();
        assert_eq!(order, [("a", 5), ("c", 4)]);
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let mut notes = vec![note("a", 7)];

        upsert(&mut notes, note("a", 3));

        assert_eq!(notes[0].last_modified, 7);
    }
}
