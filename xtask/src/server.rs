//! Starting and stopping the `kinto-push` server the build produced, and the
//! fake push service the browser tests send to.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rustix::process::{Pid, Signal, kill_process};

use crate::command;
use crate::site::{Build, Profile};
use crate::workspace::Workspace;

/// How long a freshly started server may take to answer its heartbeat.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a server may take to finish its requests and stop after SIGTERM.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between two checks of a starting or stopping server.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
const DEFAULT_LISTEN: &str = "127.0.0.1:8888";
/// util-linux's CPU affinity tool; it execs the command it is given, so the
/// child's process id is the server's.
const TASKSET: &str = "taskset";
/// The package and binary of the fake push service.
const FAKE_PUSH: &str = "fake-push";
/// What answers 200 once a server is ready.
const HEARTBEAT_PATH: &str = "/v1/__heartbeat__";
const FAKE_PUSH_READY_PATH: &str = "/control/stats";

/// The server command with the site options it needs.
pub(crate) fn command(workspace: &Workspace, build: &Build) -> Command {
    with_site_options(Command::new(&build.server_binary), workspace, build)
}

/// The server command run by `taskset`, so that the server and every thread
/// it starts stay on `cpu`.
pub(crate) fn pinned_command(workspace: &Workspace, build: &Build, cpu: usize) -> Command {
    let mut taskset = Command::new(TASKSET);
    taskset
        .arg("--cpu-list")
        .arg(cpu.to_string())
        .arg(&build.server_binary);
    with_site_options(taskset, workspace, build)
}

fn with_site_options(mut server: Command, workspace: &Workspace, build: &Build) -> Command {
    let site = &workspace.site;
    server
        .current_dir(&workspace.root)
        .env("LEPTOS_OUTPUT_NAME", &site.output_name)
        .env("LEPTOS_SITE_ROOT", &site.root)
        .env("LEPTOS_SITE_PKG_DIR", &site.pkg_dir)
        .env(
            "LEPTOS_ENV",
            if build.profile == Profile::Release {
                "PROD"
            } else {
                "DEV"
            },
        );
    server
}

/// Runs the server in the foreground until it exits (Ctrl-C stops both).
pub(crate) fn run_foreground(workspace: &Workspace, build: &Build) -> anyhow::Result<()> {
    let listen = std::env::var("KINTO_PUSH_LISTEN").unwrap_or_else(|_| DEFAULT_LISTEN.into());
    println!("kinto-push: open http://{listen}/ (Ctrl-C stops the server)\n");
    let status = command(workspace, build)
        .status()
        .context("starting the server")?;
    if !status.success() {
        bail!("the server exited with {status}");
    }
    Ok(())
}

/// Builds the fake push service's binary in release mode and returns its
/// path.
pub(crate) fn build_fake_push(workspace: &Workspace) -> anyhow::Result<PathBuf> {
    command::run(
        command::cargo()
            .args([
                "build",
                "--release",
                "--package",
                FAKE_PUSH,
                "--bin",
                FAKE_PUSH,
            ])
            .current_dir(&workspace.root),
    )?;
    Ok(workspace.target_dir.join("release").join(FAKE_PUSH))
}

/// A server started in the background: the kinto-push server or the fake
/// push service; stopped when dropped.
pub(crate) struct RunningServer {
    child: Child,
    pub(crate) address: SocketAddr,
    /// What messages call it: "the server", "the fake push service".
    name: &'static str,
    /// What answers 200 once it is ready.
    ready_path: &'static str,
}

impl RunningServer {
    /// Starts `server` on `address` and waits until its heartbeat answers.
    pub(crate) fn start(mut server: Command, address: SocketAddr) -> anyhow::Result<Self> {
        server.env("KINTO_PUSH_LISTEN", address.to_string());
        Self::spawn(server, address, "the server", HEARTBEAT_PATH)
    }

    /// Starts the fake push service `fake` (a command of the binary that
    /// [`build_fake_push`] made) on `address` and waits until its control
    /// API answers.
    pub(crate) fn start_fake_push(mut fake: Command, address: SocketAddr) -> anyhow::Result<Self> {
        fake.arg("--listen").arg(address.to_string());
        Self::spawn(fake, address, "the fake push service", FAKE_PUSH_READY_PATH)
    }

    fn spawn(
        mut command: Command,
        address: SocketAddr,
        name: &'static str,
        ready_path: &'static str,
    ) -> anyhow::Result<Self> {
        let child = command
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let mut running = Self {
            child,
            address,
            name,
            ready_path,
        };
        running.wait_until_ready()?;
        Ok(running)
    }

    /// `http://<address>`: the server's URL, or the fake push service's
    /// origin.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> Pid {
        Pid::from_child(&self.child)
    }

    fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        let name = self.name;
        while started.elapsed() < STARTUP_TIMEOUT {
            if let Some(status) = self.child.try_wait()? {
                bail!("{name} exited during startup ({status})");
            }
            // Another server on the same port would answer too: only an
            // answer while our child still runs counts.
            if answers_ok(self.address, self.ready_path) && self.child.try_wait()?.is_none() {
                return Ok(());
            }
            std::thread::sleep(POLL_INTERVAL);
        }
        bail!("{name} did not answer within {STARTUP_TIMEOUT:?}")
    }

    /// Asks the server to shut down gracefully (SIGTERM) and waits for it,
    /// killing it when it takes longer than `SHUTDOWN_TIMEOUT`.
    pub(crate) fn stop(mut self) -> anyhow::Result<()> {
        self.terminate()
    }

    fn terminate(&mut self) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        let pid = Pid::from_child(&self.child);
        if kill_process(pid, Signal::TERM).is_ok() {
            let started = Instant::now();
            while started.elapsed() < SHUTDOWN_TIMEOUT {
                if self.child.try_wait()?.is_some() {
                    return Ok(());
                }
                std::thread::sleep(POLL_INTERVAL);
            }
            let name = self.name;
            eprintln!("{name} still runs {SHUTDOWN_TIMEOUT:?} after SIGTERM: killing it");
        }
        self.child
            .kill()
            .with_context(|| format!("killing {}", self.name))?;
        self.child
            .wait()
            .with_context(|| format!("waiting for {} to stop", self.name))?;
        Ok(())
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // Best effort on error paths; `stop` reports failures.
        let _ = self.terminate();
    }
}

/// A loopback address with a port nobody listens on right now.
pub(crate) fn free_loopback_address() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?)
}

/// True when `GET <path>` answers 200.
fn answers_ok(address: SocketAddr, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}
