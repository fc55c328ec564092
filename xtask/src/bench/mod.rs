//! `cargo xtask bench`: the release server's throughput and latency under a
//! closed-loop load, on SQLite and on PostgreSQL.
//!
//! The server runs pinned to CPU 0 and the load generator, on one thread,
//! pinned to CPU 1, so the server's figures are per core; PostgreSQL's own
//! processes are not pinned, and their CPU use is reported apart. For each
//! backend the command starts the server on a fresh database, seeds it (and
//! has PostgreSQL gather its planner statistics), then runs each scenario for
//! a warmup and a measurement, and prints one table at the end.

use std::fs::File;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::command;
use crate::server::{self, RunningServer};
use crate::site::{self, Profile};
use crate::workspace::Workspace;

mod api;
mod cpu;
mod database;
mod http;
mod load;
mod report;
mod scenario;
mod seed;

use cpu::CpuMeter;
use database::{Backend, BackendChoice, Database};
use http::Target;
use load::{Limits, Measurement};
use report::{Outcome, Row};
use scenario::Scenario;

/// The CPU the server runs on.
const SERVER_CPU: usize = 0;
/// The CPU the load generator runs on.
const CLIENT_CPU: usize = 1;

/// The benchmark's settings.
#[derive(Debug, clap::Args)]
pub(crate) struct Options {
    /// Backends to measure.
    #[arg(long, value_enum, default_value_t = BackendChoice::All)]
    backend: BackendChoice,
    /// Concurrent clients, each on its own keep-alive connection.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds each scenario is measured, after its warmup.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds each scenario runs before it is measured.
    #[arg(long, default_value_t = 2)]
    warmup_seconds: u64,
    /// Most requests one scenario sends, warmup included; the measurement
    /// ends early when they are used up.
    #[arg(long, default_value_t = 1_000_000)]
    max_requests: u64,
    /// Scenarios to run, comma-separated; all of them by default.
    #[arg(long, value_enum, value_delimiter = ',')]
    scenario: Vec<Scenario>,
    /// The PostgreSQL server, without a database name: the benchmark creates
    /// its own database there and drops it afterwards.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres_url: String,
    /// Print the results as a Markdown table.
    #[arg(long)]
    markdown: bool,
}

impl Options {
    fn scenarios(&self) -> Vec<Scenario> {
        if self.scenario.is_empty() {
            Scenario::ALL.to_vec()
        } else {
            self.scenario.clone()
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            clients: self.clients,
            warmup: Duration::from_secs(self.warmup_seconds),
            measure: Duration::from_secs(self.seconds),
            max_requests: self.max_requests,
        }
    }
}

/// Builds the release server, measures every chosen backend and prints the
/// results.
pub(crate) fn run(workspace: &Workspace, options: &Options) -> anyhow::Result<()> {
    if options.clients == 0 || options.seconds == 0 || options.max_requests == 0 {
        bail!("--clients, --seconds and --max-requests must be at least 1");
    }
    if cfg!(debug_assertions) {
        return run_optimised(workspace);
    }

    let build = site::build_server_only(workspace, Profile::Release)?;
    // After the build, which uses every core; the server is pinned apart.
    cpu::pin_current_thread(CLIENT_CPU)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the load generator's runtime")?;
    println!(
        "bench: server on CPU {SERVER_CPU}, {} clients on CPU {CLIENT_CPU}, \
         {}s warmup + {}s per scenario",
        options.clients, options.warmup_seconds, options.seconds
    );
    report_load_average();

    let mut rows = Vec::new();
    for &backend in options.backend.backends() {
        rows.extend(measure_backend(
            workspace, &build, backend, options, &runtime,
        )?);
    }

    println!("\n{}", report::table(&rows, options.markdown));
    let errors = report::errors(&rows);
    if !errors.is_empty() {
        println!("errors:\n{errors}");
    }
    Ok(())
}

/// Builds this tool in release mode and runs the benchmark with it, with the
/// same arguments. Unoptimised, the load generator spends about three times
/// the CPU per request and fills its core near 20,000 requests per second.
fn run_optimised(workspace: &Workspace) -> anyhow::Result<()> {
    println!("bench: building the load generator in release mode");
    command::run(
        command::cargo()
            .args(["build", "--release", "--package", "xtask"])
            .current_dir(&workspace.root),
    )?;
    let optimised = workspace.target_dir.join("release").join("xtask");
    command::run(Command::new(optimised).args(std::env::args_os().skip(1)))
}

/// The rows of one backend: its measurements on a fresh database, or a
/// skipped row per scenario when PostgreSQL is unreachable.
fn measure_backend(
    workspace: &Workspace,
    build: &site::Build,
    backend: Backend,
    options: &Options,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Vec<Row>> {
    let scenarios = options.scenarios();
    if backend == Backend::Postgres
        && let Some(why) = database::postgres_unreachable(&options.postgres_url)
    {
        let server = &options.postgres_url;
        println!("bench: PostgreSQL at {server} is unreachable, skipped: {why}");
        return Ok(skipped(backend, &scenarios));
    }

    let database = match backend {
        Backend::Sqlite => Database::sqlite(workspace)?,
        Backend::Postgres => Database::postgres(workspace, &options.postgres_url)?,
    };
    let measured = measure_database(
        workspace,
        build,
        &database,
        &scenarios,
        options.limits(),
        runtime,
    );
    database.remove()?;
    Ok(measured?
        .into_iter()
        .map(|measurement| Row {
            backend: backend.name(),
            outcome: Outcome::Measured(measurement),
        })
        .collect())
}

/// Starts the server on `database`, seeds it and runs every scenario.
fn measure_database(
    workspace: &Workspace,
    build: &site::Build,
    database: &Database,
    scenarios: &[Scenario],
    limits: Limits,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Vec<Measurement>> {
    let backend = database.backend.name();
    let log_path = database.folder.join("server.log");
    let log = File::create(&log_path).context("creating the server log")?;
    let mut command = server::pinned_command(workspace, build, SERVER_CPU);
    command
        .env("KINTO_PUSH_DATABASE_URL", &database.url)
        .env("KINTO_PUSH_LOG_FORMAT", "json")
        .stdout(log.try_clone().context("sharing the server log")?)
        .stderr(log);
    let server = RunningServer::start(command, server::free_loopback_address()?)
        .with_context(|| format!("the server's log: {}", log_path.display()))?;
    println!(
        "bench: {backend}: server at {} (log: {})",
        server.url(),
        log_path.display()
    );

    let meter = CpuMeter::new(server.pid(), database.backend == Backend::Postgres);
    let measured = runtime.block_on(async {
        let target = Target::new(server.address)?;
        let seeding = Instant::now();
        let fixture = seed::prepare(&target, limits.clients).await?;
        database.analyze()?;
        println!("bench: {backend}: seeded in {:.1?}", seeding.elapsed());
        let mut measurements = Vec::with_capacity(scenarios.len());
        for &scenario in scenarios {
            let measurement = load::run(&target, &fixture, scenario, limits, &meter).await?;
            println!(
                "bench: {backend}: {:<22} {:>8.0} req/s, {} errors",
                scenario.label(),
                measurement.rate(),
                measurement.errors
            );
            measurements.push(measurement);
        }
        anyhow::Ok(measurements)
    });
    server.stop()?;
    measured.with_context(|| format!("the server's log: {}", log_path.display()))
}

fn skipped(backend: Backend, scenarios: &[Scenario]) -> Vec<Row> {
    scenarios
        .iter()
        .map(|scenario| Row {
            backend: backend.name(),
            outcome: Outcome::Skipped {
                scenario: scenario.label(),
            },
        })
        .collect()
}

/// Other work on the machine would take CPU time from the measurement.
fn report_load_average() {
    let Ok(loadavg) = std::fs::read_to_string("/proc/loadavg") else {
        return;
    };
    let one_minute = loadavg.split_whitespace().next().unwrap_or("?");
    println!("bench: load average over the last minute: {one_minute}");
}
