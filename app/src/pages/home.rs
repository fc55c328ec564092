//! The start page.

use leptos::prelude::*;

use crate::worker::{WorkerStatus, use_worker_status};

/// Says what the app is, proves hydration with a counter and shows the
/// service worker's state.
#[component]
pub fn HomePage() -> impl IntoView {
    let clicks = RwSignal::new(0_u32);
    // Effects run only in the browser, so this turns true once hydrated.
    let is_hydrated = RwSignal::new(false);
    Effect::new(move || is_hydrated.set(true));
    let worker = use_worker_status();

    view! {
        <main class="page">
            <header class="masthead">
                <h1>"kinto-push"</h1>
                <p class="tagline">
                    "A JSON store that syncs your data between devices and tells every "
                    "open page the moment something changes."
                </p>
            </header>

            <section class="card" aria-labelledby="hydration-heading">
                <h2 id="hydration-heading">"Interactive"</h2>
                <p>"The button below works once the page has loaded its code."</p>
                <button
                    type="button"
                    class="button"
                    data-hydrated=move || is_hydrated.get().to_string()
                    disabled=move || !is_hydrated.get()
                    on:click=move |_| clicks.update(|n| *n += 1)
                >
                    {move || click_label(clicks.get())}
                </button>
            </section>

            <p class="status" role="status" data-state=move || worker.get().state()>
                <span class="status-dot" aria-hidden="true"></span>
                {move || worker.get().describe()}
            </p>
        </main>
    }
}

fn click_label(clicks: u32) -> String {
    match clicks {
        1 => "Clicked once".to_owned(),
        n => format!("Clicked {n} times"),
    }
}

impl WorkerStatus {
    /// A sentence for the status line.
    fn describe(&self) -> String {
        match self {
            Self::Waiting => "Service worker: starts once the page has loaded".to_owned(),
            Self::Unsupported => "Service worker: not supported by this browser".to_owned(),
            Self::Registering => "Service worker: installing…".to_owned(),
            Self::Active => "Service worker: active, opening a channel…".to_owned(),
            Self::Connected { version } => {
                format!("Service worker: active and connected (worker {version})")
            }
            Self::Failed(reason) => format!("Service worker: failed ({reason})"),
        }
    }
}
