//! The workspace's build tool, run as `cargo xtask <command>`.
//!
//! It builds the two wasm crates (the app's hydrate bundle and the service
//! worker) with cargo, generates their JavaScript glue with the
//! `wasm-bindgen` library pinned to the crate's exact version, shrinks release
//! builds with `wasm-opt` from npm's `binaryen`, assembles the site folder and
//! builds the server. Nothing is downloaded except from the package
//! registries.

use clap::{Parser, Subcommand};

mod bench;
mod command;
mod dev;
mod server;
mod setup;
mod site;
mod test;
mod workspace;

use site::Profile;
use workspace::Workspace;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Build, run and test kinto-push")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install what the build and the tests need (idempotent).
    Setup,
    /// Build the site and the server.
    Build {
        /// Optimised build: size-optimised wasm and a release server.
        #[arg(long)]
        release: bool,
    },
    /// Build in release mode and run the app (SQLite by default).
    Run,
    /// Debug build and run; rebuild and restart on every source change.
    Dev,
    /// Run every test: cargo tests, the wasm builds, and the browser tests
    /// against a release build.
    Test,
    /// Run only the browser tests against a fresh release build.
    E2e,
    /// Measure the release server's throughput and latency under load, on
    /// SQLite and PostgreSQL.
    Bench(bench::Options),
    /// Measure the app in a browser: a write's time to another user's page
    /// through the push loop, and the pages' time to first byte.
    BenchApp,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let workspace = Workspace::load()?;

    match cli.command {
        Command::Setup => setup::run(&workspace),
        Command::Build { release } => {
            setup::ensure_build_tools(&workspace)?;
            let profile = if release {
                Profile::Release
            } else {
                Profile::Debug
            };
            site::build(&workspace, profile).map(drop)
        }
        Command::Run => {
            setup::ensure_build_tools(&workspace)?;
            let build = site::build(&workspace, Profile::Release)?;
            server::run_foreground(&workspace, &build)
        }
        Command::Dev => {
            setup::ensure_build_tools(&workspace)?;
            dev::run(&workspace)
        }
        Command::Test => test::run_all(&workspace),
        Command::E2e => test::run_end_to_end(&workspace),
        Command::Bench(options) => bench::run(&workspace, &options),
        Command::BenchApp => test::run_browser_bench(&workspace),
    }
}
