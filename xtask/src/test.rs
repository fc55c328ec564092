//! The test run: the workspace's cargo tests, then the browser tests and the
//! real Kinto clients against a release build that this command starts and
//! stops itself, together with the fake push service it sends to.

use std::fs::File;
use std::path::Path;
use std::process::Command;

use anyhow::Context;

use crate::server::{self, RunningServer};
use crate::site::{self, Profile};
use crate::workspace::Workspace;
use crate::{command, setup};

/// The contact the server gives the push services in its VAPID tokens.
const VAPID_SUBJECT: &str = "mailto:e2e@kinto-push.example";

/// Everything, in order of cost: cargo tests first, browsers last.
pub(crate) fn run_all(workspace: &Workspace) -> anyhow::Result<()> {
    setup::run(workspace)?;
    report_database();

    // Native tests of every crate, including the worker's plain logic.
    command::run(
        command::cargo()
            .args(["test", "--workspace", "--all-targets"])
            .current_dir(&workspace.root),
    )?;

    end_to_end(workspace)
}

/// The Playwright specs against a fresh release build and a fresh database.
pub(crate) fn run_end_to_end(workspace: &Workspace) -> anyhow::Result<()> {
    setup::run(workspace)?;
    end_to_end(workspace)
}

fn end_to_end(workspace: &Workspace) -> anyhow::Result<()> {
    with_browser_stack(workspace, |stack| {
        stack
            .playwright(workspace, &[])
            .and_then(|()| run_clients(workspace, &stack.server.url()))
    })
}

/// The browser benchmarks (`end2end/bench`) against a fresh release build:
/// the time from one user's write to another's page, through the whole
/// push loop, and the server-rendered pages' time to first byte.
pub(crate) fn run_browser_bench(workspace: &Workspace) -> anyhow::Result<()> {
    setup::run(workspace)?;
    with_browser_stack(workspace, |stack| {
        stack.playwright(workspace, &["--config", "bench.config.ts"])
    })
}

/// A release server on a fresh database, and the fake push service it
/// sends to, both on loopback.
struct BrowserStack {
    server: RunningServer,
    fake_push: RunningServer,
}

impl BrowserStack {
    /// Runs Playwright in `end2end/` against the stack, with `args`.
    fn playwright(&self, workspace: &Workspace, args: &[&str]) -> anyhow::Result<()> {
        command::run(
            Command::new(workspace.node_bin("playwright"))
                .arg("test")
                .args(args)
                .current_dir(workspace.root.join("end2end"))
                .env("KINTO_PUSH_E2E_URL", self.server.url())
                .env("FAKE_PUSH_URL", self.fake_push.url())
                .env("CHROMIUM_PATH", setup::chromium_path()),
        )
    }
}

/// Builds the release site, starts the stack, runs `body` and stops the
/// stack whatever `body` returned.
fn with_browser_stack(
    workspace: &Workspace,
    body: impl FnOnce(&BrowserStack) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let build = site::build(workspace, Profile::Release)?;

    let data = workspace.target_dir.join("e2e-data");
    // A previous run's data would leak users and buckets into this one.
    if data.exists() {
        std::fs::remove_dir_all(&data).context("clearing the e2e database")?;
    }
    std::fs::create_dir_all(&data).context("creating the e2e folder")?;
    let database_url = format!("sqlite://{}", data.join("e2e.sqlite3").display());

    // The fake push service starts first: the server only accepts
    // subscriptions on origins it is told about at startup.
    let fake_push = start_fake_push(workspace, &data)?;
    // The browsers under test reach no real push service: the fake is the
    // only origin their subscriptions need.
    let push_origins = fake_push.url();

    // The server's log goes to a file, so Playwright's report stays readable.
    let log_path = data.join("server.log");
    let log = File::create(&log_path).context("creating the server log")?;
    let mut server_command = server::command(workspace, &build);
    server_command
        .env("KINTO_PUSH_DATABASE_URL", database_url)
        .env("KINTO_PUSH_PUSH_ALLOWED_ORIGINS", push_origins)
        .env("KINTO_PUSH_VAPID_SUBJECT", VAPID_SUBJECT)
        .stdout(log.try_clone().context("sharing the server log")?)
        .stderr(log);
    let server = RunningServer::start(server_command, server::free_loopback_address()?)
        .with_context(|| format!("the server's log: {}", log_path.display()))?;
    println!(
        "e2e: server at {} (log: {})",
        server.url(),
        log_path.display()
    );

    let stack = BrowserStack { server, fake_push };
    let outcome = body(&stack);
    // The server stops first: it may still be sending to the fake.
    let stopped = stack.server.stop().and_then(|()| stack.fake_push.stop());
    outcome.and(stopped)
}

/// Builds and starts the fake push service, with its log in `data`.
fn start_fake_push(workspace: &Workspace, data: &Path) -> anyhow::Result<RunningServer> {
    let binary = server::build_fake_push(workspace)?;
    let log_path = data.join("fake-push.log");
    let log = File::create(&log_path).context("creating the fake push service's log")?;
    let mut fake = Command::new(binary);
    fake.stdout(log.try_clone().context("sharing the fake push log")?)
        .stderr(log);
    let fake_push = RunningServer::start_fake_push(fake, server::free_loopback_address()?)
        .with_context(|| format!("the fake push service's log: {}", log_path.display()))?;
    println!(
        "e2e: fake push service at {} (log: {})",
        fake_push.url(),
        log_path.display()
    );
    Ok(fake_push)
}

/// The real Kinto clients, kinto.js and kinto-http.py, against `url`.
fn run_clients(workspace: &Workspace, url: &str) -> anyhow::Result<()> {
    let clients = workspace.root.join("end2end").join("clients");
    command::run(
        Command::new("node")
            .arg(clients.join("kinto-js.mjs"))
            .env("KINTO_PUSH_URL", url),
    )?;
    let python = setup::ensure_python_client(workspace)?;
    command::run(
        Command::new(python)
            .arg(clients.join("kinto_http_check.py"))
            .env("KINTO_PUSH_URL", url),
    )
}

/// Says whether the PostgreSQL tests will run or be skipped.
fn report_database() {
    match std::env::var("KINTO_PUSH_TEST_DATABASE_URL") {
        Ok(_) => println!("test: PostgreSQL tests enabled (KINTO_PUSH_TEST_DATABASE_URL)"),
        Err(_) => println!(
            "test: KINTO_PUSH_TEST_DATABASE_URL is not set: PostgreSQL tests will be skipped"
        ),
    }
}
