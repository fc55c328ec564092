//! The test run: the workspace's cargo tests, then the browser tests against
//! a release build that this command starts and stops itself.

use std::process::Command;

use anyhow::Context;

use crate::server::{self, RunningServer};
use crate::site::{self, Profile};
use crate::workspace::Workspace;
use crate::{command, setup};

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

    run_end_to_end(workspace)
}

/// The Playwright specs against a fresh release build and a fresh database.
pub(crate) fn run_end_to_end(workspace: &Workspace) -> anyhow::Result<()> {
    setup::run(workspace)?;
    let build = site::build(workspace, Profile::Release)?;

    let data = workspace.target_dir.join("e2e-data");
    // A previous run's data would leak users and buckets into this one.
    if data.exists() {
        std::fs::remove_dir_all(&data).context("clearing the e2e database")?;
    }
    let database_url = format!("sqlite://{}", data.join("e2e.sqlite3").display());
    let mut server_command = server::command(workspace, &build);
    server_command.env("KINTO_PUSH_DATABASE_URL", database_url);
    let server = RunningServer::start(server_command, server::free_loopback_address()?)?;
    println!("e2e: server at {}", server.url());

    let outcome = command::run(
        Command::new(workspace.node_bin("playwright"))
            .arg("test")
            .current_dir(workspace.root.join("end2end"))
            .env("KINTO_PUSH_E2E_URL", server.url())
            .env("CHROMIUM_PATH", setup::chromium_path()),
    );
    server.stop()?;
    outcome
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
