//! Sharing a collection: who else may read or change it, and the forms
//! that grant and revoke.

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::{FieldError, field_error};
use crate::api::{Revoke, Share, load_sharing};
use crate::model::{Role, Sharing};

/// Lists who a collection is shared with; grants and revokes access.
#[component]
pub fn SharingPanel(bucket: String, collection: String) -> impl IntoView {
    let share = ServerAction::<Share>::new();
    let revoke = ServerAction::<Revoke>::new();
    let sharing = {
        let (bucket, collection) = (bucket.clone(), collection.clone());
        Resource::new(
            move || (share.version().get(), revoke.version().get()),
            move |_| load_sharing(bucket.clone(), collection.clone()),
        )
    };
    let revoke_error = Signal::derive(move || match revoke.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    });
    let target = (bucket, collection);
    let listed = {
        let target = target.clone();
        move |sharing: Sharing| {
            let rows = sharing
                .writers
                .into_iter()
                .map(|principal| (principal, Role::Write))
                .chain(
                    sharing
                        .readers
                        .into_iter()
                        .map(|principal| (principal, Role::Read)),
                )
                .collect::<Vec<_>>();
            if rows.is_empty() {
                return view! { <p class="empty">"Only you can see this collection."</p> }
                    .into_any();
            }
            let target = target.clone();
            view! {
                <ul class="grants">
                    {rows
                        .into_iter()
                        .map(|(principal, role)| {
                            view! { <Grant principal role target=target.clone() revoke /> }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any()
        }
    };
    let (bucket, collection) = target;

    view! {
        <section class="card" aria-labelledby="sharing-heading">
            <h2 id="sharing-heading">"Sharing"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let listed = listed.clone();
                    Suspend::new(async move {
                        match sharing.await {
                            Ok(sharing) => listed(sharing),
                            Err(error) => view! {
                                <p class="error">{error.to_string()}</p>
                            }
                            .into_any(),
                        }
                    })
                }}
            </Transition>
            <FieldError message=revoke_error />
            <ActionForm action=share>
                <input type="hidden" name="bucket" value=bucket />
                <input type="hidden" name="collection" value=collection />
                <div class="field">
                    <label for="share-user">"Share with (user id)"</label>
                    <input
                        id="share-user"
                        name="user_id"
                        placeholder="basicauth:…"
                        autocomplete="off"
                        required
                    />
                    <FieldError message=field_error(share.value(), "user_id", "user_id") />
                </div>
                <div class="field inline">
                    <label for="share-role">"Access"</label>
                    <select id="share-role" name="role">
                        <option value="read">"Can read"</option>
                        <option value="write">"Can edit"</option>
                    </select>
                    <button type="submit" class="button primary">"Share"</button>
                </div>
            </ActionForm>
        </section>
    }
}

/// One principal's access, with the button that takes it back.
#[component]
fn Grant(
    principal: String,
    role: Role,
    target: (String, String),
    revoke: ServerAction<Revoke>,
) -> impl IntoView {
    let (bucket, collection) = target;
    let access = match role {
        Role::Read => "can read",
        Role::Write => "can edit",
    };
    let label = format!("Revoke {principal}'s access");
    view! {
        <li class="grant">
            <code>{principal.clone()}</code>
            <span class="access">{access}</span>
            <ActionForm action=revoke>
                <input type="hidden" name="bucket" value=bucket />
                <input type="hidden" name="collection" value=collection />
                <input type="hidden" name="user_id" value=principal />
                <input type="hidden" name="role" value=role.permission() />
                <button type="submit" class="button quiet" aria-label=label>"Revoke"</button>
            </ActionForm>
        </li>
    }
}
