//! The development loop: a debug build served at once, rebuilt and restarted
//! whenever a source file changes.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;
use notify::{RecursiveMode, Watcher};

use crate::server::{self, RunningServer};
use crate::site::{self, Profile};
use crate::workspace::Workspace;

/// Folders whose changes trigger a rebuild.
const WATCHED: &[&str] = &["app", "server", "sw", "style", "public", "Cargo.toml"];
/// Changes closer together than this are one rebuild.
const SETTLE: Duration = Duration::from_millis(300);

pub(crate) fn run(workspace: &Workspace) -> anyhow::Result<()> {
    let address: SocketAddr = std::env::var("KINTO_PUSH_LISTEN")
        .unwrap_or_else(|_| "127.0.0.1:8888".into())
        .parse()
        .context("KINTO_PUSH_LISTEN is not an address:port")?;

    let (changes, changed) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|event| !event.kind.is_access()) {
            let _ = changes.send(());
        }
    })
    .context("starting the file watcher")?;
    for path in WATCHED {
        watcher
            .watch(&workspace.root.join(path), RecursiveMode::Recursive)
            .with_context(|| format!("watching {path}"))?;
    }

    loop {
        let server = build_and_start(workspace, address);
        println!("dev: watching {} for changes", WATCHED.join(", "));
        changed.recv().context("the file watcher stopped")?;
        // Let a burst of saves settle into one rebuild.
        while changed.recv_timeout(SETTLE).is_ok() {}
        if let Some(server) = server {
            server.stop()?;
        }
    }
}

/// Builds and serves; on failure prints why and returns `None`, so the loop
/// waits for the next change.
fn build_and_start(workspace: &Workspace, address: SocketAddr) -> Option<RunningServer> {
    let started = site::build(workspace, Profile::Debug)
        .and_then(|build| RunningServer::start(server::command(workspace, &build), address));
    match started {
        Ok(server) => {
            println!("dev: serving http://{}/", server.address);
            Some(server)
        }
        Err(error) => {
            eprintln!("dev: {error:#}");
            None
        }
    }
}
