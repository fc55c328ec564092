//! A fresh database for each backend's run: a new SQLite file in an emptied
//! folder, or a PostgreSQL database created for the run and dropped after it.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};
use clap::ValueEnum;

use crate::workspace::Workspace;

/// The PostgreSQL database the benchmark creates, and drops when done.
const POSTGRES_DATABASE: &str = "kinto_push_bench";
/// A database every PostgreSQL server has, to connect to while creating and
/// dropping the benchmark's own.
const POSTGRES_ADMIN_DATABASE: &str = "postgres";

/// Which backends to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BackendChoice {
    Sqlite,
    Postgres,
    All,
}

/// A storage backend of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Backend {
    Sqlite,
    Postgres,
}

impl BackendChoice {
    pub(super) fn backends(self) -> &'static [Backend] {
        match self {
            Self::Sqlite => &[Backend::Sqlite],
            Self::Postgres => &[Backend::Postgres],
            Self::All => &[Backend::Sqlite, Backend::Postgres],
        }
    }
}

impl Backend {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A database created for one run.
pub(super) struct Database {
    pub(super) backend: Backend,
    /// What the server gets as `KINTO_PUSH_DATABASE_URL`.
    pub(super) url: String,
    /// The run's folder: the server's log, and the SQLite file.
    pub(super) folder: PathBuf,
    /// The PostgreSQL server's URL without a database, to drop ours.
    postgres_server: Option<String>,
}

impl Database {
    /// A new SQLite file in `<target>/bench/sqlite`, emptied first.
    pub(super) fn sqlite(workspace: &Workspace) -> anyhow::Result<Self> {
        let folder = run_folder(workspace, Backend::Sqlite)?;
        let url = format!("sqlite://{}", folder.join("bench.sqlite3").display());
        Ok(Self {
            backend: Backend::Sqlite,
            url,
            folder,
            postgres_server: None,
        })
    }

    /// A new database on the PostgreSQL server at `server`
    /// (`postgres://user@host:port`), after dropping what a previous run
    /// left there.
    pub(super) fn postgres(workspace: &Workspace, server: &str) -> anyhow::Result<Self> {
        let server = server.trim_end_matches('/').to_owned();
        let drop = format!("DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)");
        let create = format!("CREATE DATABASE {POSTGRES_DATABASE}");
        psql(&admin_url(&server), &[&drop, &create])
            .context("creating the benchmark's database")?;
        Ok(Self {
            backend: Backend::Postgres,
            url: format!("{server}/{POSTGRES_DATABASE}"),
            folder: run_folder(workspace, Backend::Postgres)?,
            postgres_server: Some(server),
        })
    }

    /// Gathers the planner's statistics on PostgreSQL, as autovacuum does
    /// on its own a while after a bulk load (when it is on): without them
    /// the planner may pick a worse index for the seeded tables.
    pub(super) fn analyze(&self) -> anyhow::Result<()> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        psql(&self.url, &["ANALYZE"]).context("analyzing the seeded database")
    }

    /// Drops the PostgreSQL database. The SQLite file stays, with the server's
    /// log, until the next run.
    pub(super) fn remove(self) -> anyhow::Result<()> {
        let Some(server) = &self.postgres_server else {
            return Ok(());
        };
        let drop = format!("DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)");
        psql(&admin_url(server), &[&drop]).context("dropping the benchmark's database")
    }
}

/// Why the PostgreSQL server at `server` cannot be used, or `None` when it
/// answers.
pub(super) fn postgres_unreachable(server: &str) -> Option<String> {
    match psql(&admin_url(server.trim_end_matches('/')), &["SELECT 1"]) {
        Ok(()) => None,
        Err(error) => Some(format!("{error:#}")),
    }
}

/// `<target>/bench/<backend>`, emptied.
fn run_folder(workspace: &Workspace, backend: Backend) -> anyhow::Result<PathBuf> {
    let folder = workspace.target_dir.join("bench").join(backend.name());
    // A previous run's data would change what this one measures.
    if folder.exists() {
        std::fs::remove_dir_all(&folder)
            .with_context(|| format!("clearing {}", folder.display()))?;
    }
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    Ok(folder)
}

/// The URL of the admin database of the PostgreSQL server at `server`.
fn admin_url(server: &str) -> String {
    format!("{server}/{POSTGRES_ADMIN_DATABASE}")
}

/// Runs each of `statements` with `psql` on the database at `url`.
fn psql(url: &str, statements: &[&str]) -> anyhow::Result<()> {
    let mut psql = Command::new("psql");
    psql.args(["--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1"])
        .arg(format!("--dbname={url}"));
    for statement in statements {
        psql.arg(format!("--command={statement}"));
    }
    let output = psql
        .output()
        .context("cannot run psql (Debian's postgresql-client)")?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("psql failed ({}): {}", output.status, stderr.trim());
    }
    Ok(())
}
