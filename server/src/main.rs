//! The `kinto-push` binary: read the configuration, start tracing, open the
//! database and serve until SIGINT or SIGTERM.

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use leptos::config::get_configuration;
use tokio::net::TcpListener;

use server::auth::{self, Authenticator};
use server::config::Config;
use server::events::Events;
use server::push::{Dispatcher, Push};
use server::{AppState, app, storage, telemetry};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    load_dotenv()?;
    let config = Config::parse();
    telemetry::init(config.log_format);

    let leptos_options = get_configuration(None)
        .context("reading the LEPTOS_* site options")?
        .leptos_options;
    let storage = storage::connect(&config.database_url, config.database_pool_size)
        .await
        .context("opening the database (KINTO_PUSH_DATABASE_URL)")?;
    let hmac_key = auth::load_hmac_key(config.userid_hmac_secret.as_ref(), storage.as_ref())
        .await
        .context("loading the user id key")?;
    let push = Push::new(&config.push, storage.as_ref())
        .await
        .context("setting up push (KINTO_PUSH_VAPID_*, KINTO_PUSH_PUSH_*)")?;
    let push = Arc::new(push);
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {} (KINTO_PUSH_LISTEN)", config.listen))?;

    let address = listener.local_addr().context("reading the bound address")?;
    tracing::info!(url = %format!("http://{address}/"), "kinto-push is listening");

    let state = AppState {
        config: Arc::new(config),
        storage: Arc::clone(&storage),
        auth: Arc::new(Authenticator::new(&hmac_key)),
        events: Events::default(),
        push: Arc::clone(&push),
        leptos_options,
    };
    let dispatcher = Dispatcher::spawn(Arc::clone(&storage), push);
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;

    tracing::info!("finishing the pushes in flight");
    dispatcher.shutdown().await;
    storage.close().await;
    tracing::info!("kinto-push stopped");
    Ok(())
}

/// Debug builds read a `.env` file in the working folder, for local
/// development; variables already set win. Release builds take their settings
/// from the real environment only.
fn load_dotenv() -> anyhow::Result<()> {
    if !cfg!(debug_assertions) {
        return Ok(());
    }
    match dotenvy::dotenv() {
        Err(error) if !error.not_found() => Err(error).context("reading .env"),
        _ => Ok(()),
    }
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };

    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
