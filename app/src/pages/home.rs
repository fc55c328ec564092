//! The start page: the sign-in form, or the signed-in user's board.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::{CreateCollection, SignIn, load_board};
use crate::components::{FieldError, NotificationsPanel, SignedInBar, field_error};
use crate::model::{Board, CollectionSummary};

/// Shows the board of the signed-in user, or the sign-in form.
#[component]
pub fn HomePage() -> impl IntoView {
    let create = ServerAction::<CreateCollection>::new();
    let board = Resource::new(move || create.version().get(), |_| load_board());

    view! {
        <main class="page">
            <Transition fallback=|| view! { <p class="loading">"Loading your board…"</p> }>
                {move || Suspend::new(async move {
                    match board.await {
                        Ok(Some(board)) => view! { <BoardView board create /> }.into_any(),
                        Ok(None) => view! { <SignInForm /> }.into_any(),
                        Err(error) => view! {
                            <p class="error" role="alert">
                                "The board cannot be shown: " {error.to_string()}
                            </p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}

/// Signs in with a name and a password. With the page's code loaded it
/// also keeps the credentials for the service worker, then reloads.
#[component]
fn SignInForm() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let typed = StoredValue::new((String::new(), String::new()));
    let outcome = sign_in.value();

    #[cfg(feature = "hydrate")]
    Effect::new(move || {
        if let Some(Ok(crate::model::FormOutcome::Done(()))) = outcome.get() {
            let (name, password) = typed.get_value();
            leptos::task::spawn_local(async move {
                if let Err(error) =
                    crate::browser::session::keep_for_worker(name.trim(), &password).await
                {
                    let reason = crate::browser::describe(&error);
                    leptos::logging::warn!("credentials not kept for the worker: {reason}");
                }
                crate::browser::reload();
            });
        }
    });
    let remember = move |event: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        typed.set_value((
            crate::browser::form_value(&event, "name"),
            crate::browser::form_value(&event, "password"),
        ));
        #[cfg(not(feature = "hydrate"))]
        let _ = (event, typed);
    };

    view! {
        <header class="masthead">
            <h1>"kinto-push"</h1>
            <p class="tagline">
                "Shared notes that update live on every device, the moment someone changes them."
            </p>
        </header>
        <section class="card narrow" aria-labelledby="sign-in-heading">
            <h2 id="sign-in-heading">"Sign in"</h2>
            <p class="hint">
                "There is no sign-up: any name and password open a board of their own. "
                "Use the same pair to come back to it."
            </p>
            <ActionForm action=sign_in on:submit=remember>
                <div class="field">
                    <label for="sign-in-name">"User name"</label>
                    <input id="sign-in-name" name="name" autocomplete="username" required />
                    <FieldError message=field_error(outcome, "name", "name") />
                </div>
                <div class="field">
                    <label for="sign-in-password">"Password"</label>
                    <input
                        id="sign-in-password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                    />
                    <FieldError message=field_error(outcome, "password", "name") />
                </div>
                <button type="submit" class="button primary">"Sign in"</button>
            </ActionForm>
        </section>
    }
}

/// The signed-in user's collections, those shared with them, and the form
/// that makes a new one.
#[component]
fn BoardView(board: Board, create: ServerAction<CreateCollection>) -> impl IntoView {
    let outcome = create.value();
    let Board { me, own, shared } = board;
    let followable: Vec<CollectionSummary> = own.iter().chain(&shared).cloned().collect();

    view! {
        <SignedInBar me=me.clone() />
        <div class="columns">
            <div class="main-column">
                <section class="card" aria-labelledby="own-heading">
                    <h2 id="own-heading">"Your collections"</h2>
                    <CollectionList
                        collections=own
                        empty="No collections yet: make the first one below."
                    />
                    <ActionForm action=create>
                        <div class="field inline">
                            <label for="new-collection">"New collection"</label>
                            <input
                                id="new-collection"
                                name="title"
                                placeholder="Groceries"
                                required
                                maxlength="80"
                            />
                            <button type="submit" class="button primary">"Create"</button>
                        </div>
                        <FieldError message=field_error(outcome, "title", "title") />
                    </ActionForm>
                </section>
                <section class="card" aria-labelledby="shared-heading">
                    <h2 id="shared-heading">"Shared with you"</h2>
                    <CollectionList
                        collections=shared
                        empty="Nothing yet. Others share a collection by your user id, above."
                    />
                </section>
            </div>
            <aside class="side-column">
                <NotificationsPanel me collections=followable />
            </aside>
        </div>
    }
}

#[component]
fn CollectionList(collections: Vec<CollectionSummary>, empty: &'static str) -> impl IntoView {
    if collections.is_empty() {
        return view! { <p class="empty">{empty}</p> }.into_any();
    }
    view! {
        <ul class="collections">
            {collections
                .into_iter()
                .map(|collection| {
                    view! {
                        <li>
                            <a href=collection.page()>{collection.title.clone()}</a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
