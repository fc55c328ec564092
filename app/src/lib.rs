//! The kinto-push web app, rendered on the server (`ssr`) and hydrated in the
//! browser (`hydrate`).
//!
//! - [`shell`] is the HTML document the server renders around [`App`].
//! - [`paths`]: the app's URLs, which the server's notifications point to.
//! - [`model`]: what the pages show; [`api`]: the server functions that
//!   read and write it through the kinto-push HTTP API.
//! - `pages`: one module per page; `components`: pieces they share.
//! - `live`: the changes the service worker relays, as a signal.
//! - `worker`: the service worker's status, and (in the browser) its
//!   registration and the page's channel to it.
//! - `browser` (browser only): push subscriptions, notification permission
//!   and the credentials kept for the worker.

// Leptos views are deeply nested types; release builds need room for them.
#![recursion_limit = "256"]

use leptos::prelude::*;
use leptos_meta::{Link, Meta, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

pub mod api;
pub mod model;
pub mod pages;
pub mod paths;

#[cfg(feature = "hydrate")]
mod browser;
pub mod components;
mod live;
mod worker;

#[cfg(feature = "ssr")]
pub use api::ssr::kinto::{ApiTransport, LocalApi};

/// The HTML document around the app: head, hydration scripts, stylesheet.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="stylesheet" href=stylesheet />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The app's root component: metadata and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    live::LiveChanges::provide();
    let worker = worker::use_worker_status();

    view! {
        <Title text="kinto-push" />
        <Meta name="description" content="Shared notes that update live on every device." />
        <Meta name="theme-color" content="#1d4ed8" />
        <Link rel="manifest" href="/manifest.webmanifest" />
        <Link rel="icon" href="/icons/icon.svg" type_="image/svg+xml" />
        <Router>
            // Whole pages are sent once their data is loaded, so that they
            // read right before (or without) the page's code.
            <Routes fallback=pages::NotFound>
                <Route path=path!("") view=pages::HomePage ssr=SsrMode::Async />
                <Route
                    path=path!("/collections/:bucket/:collection")
                    view=pages::CollectionPage
                    ssr=SsrMode::Async
                />
            </Routes>
        </Router>
        <footer class="footer">
            <p
                class="worker-status"
                data-testid="worker-status"
                data-state=move || worker.get().state()
            >
                <span class="status-dot" aria-hidden="true"></span>
                {move || worker.get().describe()}
            </p>
        </footer>
    }
}

/// The browser entry point: attaches the server-rendered HTML to the app.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
