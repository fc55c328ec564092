//! Pieces several pages share.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::SignOut;
use crate::model::{FormOutcome, Me, SaveOutcome};

pub mod notifications;
pub mod sharing;

pub use notifications::NotificationsPanel;
pub use sharing::SharingPanel;

/// A form field's error, read out by screen readers when it appears.
#[component]
pub fn FieldError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <p class="field-error" role="alert" hidden=move || message.get().is_none()>
            {move || message.get().unwrap_or_default()}
        </p>
    }
}

/// An outcome that may refuse one of a form's fields.
pub trait Refusal {
    /// The refused field and why.
    fn refusal(&self) -> Option<(&str, &str)>;
}

impl<T> Refusal for FormOutcome<T> {
    fn refusal(&self) -> Option<(&str, &str)> {
        match self {
            Self::Invalid { field, message } => Some((field, message)),
            Self::Done(_) => None,
        }
    }
}

impl Refusal for SaveOutcome {
    fn refusal(&self) -> Option<(&str, &str)> {
        match self {
            Self::Invalid { field, message } => Some((field, message)),
            _ => None,
        }
    }
}

/// The error to show next to `field`, from the latest outcome of a form's
/// action. Failures that name no field show next to `failures_at`.
pub fn field_error<T, S>(
    outcome: S,
    field: &'static str,
    failures_at: &'static str,
) -> Signal<Option<String>>
where
    T: Refusal,
    S: Get<Value = Option<Result<T, ServerFnError>>> + Send + Sync + 'static,
{
    Signal::derive(move || match outcome.get() {
        Some(Ok(done)) => done
            .refusal()
            .filter(|(refused, _)| *refused == field)
            .map(|(_, message)| message.to_owned()),
        Some(Err(error)) if field == failures_at => Some(error.to_string()),
        _ => None,
    })
}

/// Who is signed in, their user id to share with, and the way out.
#[component]
pub fn SignedInBar(me: Me) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move || {
        if let Some(Ok(())) = sign_out.value().get() {
            leptos::task::spawn_local(async {
                // The worker must not keep acting for a user who left.
                if let Err(error) = crate::browser::session::forget_for_worker().await {
                    let reason = crate::browser::describe(&error);
                    leptos::logging::warn!("credentials not removed: {reason}");
                }
                crate::browser::reload();
            });
        }
    });

    view! {
        <header class="signed-in">
            <a class="brand" href=crate::paths::HOME>"kinto-push"</a>
            <div class="who">
                <span>"Signed in as " <strong class="user-name">{me.name}</strong></span>
                <span class="user-id">
                    "Your user id: " <code data-testid="user-id">{me.user_id}</code>
                </span>
            </div>
            <ActionForm action=sign_out>
                <button type="submit" class="button quiet">"Sign out"</button>
            </ActionForm>
        </header>
    }
}
