//! The page for URLs the app does not know.

use leptos::prelude::*;

/// Answers unknown URLs with a 404 and a way back.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }

    view! {
        <main class="page">
            <h1>"Page not found"</h1>
            <p>
                "There is nothing at this address. "
                <a href="/">"Go to the start page"</a>
                "."
            </p>
        </main>
    }
}
