//! The kinto-push web app, rendered on the server (`ssr`) and hydrated in the
//! browser (`hydrate`).
//!
//! - [`shell`] is the HTML document the server renders around [`App`].
//! - `pages`: one module per page.
//! - `worker`: the service worker's status, and (in the browser) its
//!   registration and the page's channel to it.

use leptos::prelude::*;
use leptos_meta::{Link, Meta, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

pub mod pages;
mod worker;

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

    view! {
        <Title text="kinto-push" />
        <Meta name="description" content="Shared notes that update live on every device." />
        <Meta name="theme-color" content="#1d4ed8" />
        <Link rel="manifest" href="/manifest.webmanifest" />
        <Link rel="icon" href="/icons/icon.svg" type_="image/svg+xml" />
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=path!("") view=pages::HomePage />
            </Routes>
        </Router>
    }
}

/// The browser entry point: attaches the server-rendered HTML to the app.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
