//! Installs what the build and the tests need, skipping what is present:
//! the wasm target, the npm packages (wasm-opt, Playwright, kinto.js),
//! Chromium, and a Python environment with kinto-http.py.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::command;
use crate::workspace::Workspace;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const MIN_NODE_MAJOR: u32 = 20;
/// The kinto-http.py release the client checks run.
const KINTO_HTTP_VERSION: &str = "11.11.0";
/// Debian's Chromium; `CHROMIUM_PATH` points elsewhere.
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// Everything: build tools and the browser.
pub(crate) fn run(workspace: &Workspace) -> anyhow::Result<()> {
    ensure_build_tools(workspace)?;
    let chromium = ensure_chromium()?;
    println!("setup: ready (browser {})", chromium.display());
    Ok(())
}

/// The wasm target and the npm packages.
pub(crate) fn ensure_build_tools(workspace: &Workspace) -> anyhow::Result<()> {
    ensure_wasm_target()?;
    ensure_node()?;
    ensure_npm_packages(&workspace.root)
}

fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = command::output(Command::new("rustup").args(["target", "list", "--installed"]));
    match installed {
        Some(list) if list.lines().any(|line| line.trim() == WASM_TARGET) => Ok(()),
        Some(_) => command::run(Command::new("rustup").args(["target", "add", WASM_TARGET])),
        None => {
            println!("setup: rustup not found; assuming the {WASM_TARGET} target is installed");
            Ok(())
        }
    }
}

fn ensure_node() -> anyhow::Result<()> {
    let version = command::output(Command::new("node").arg("--version"))
        .context("Node.js is required: install Node.js 20 or later")?;
    let major = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok())
        .unwrap_or(0);
    if major < MIN_NODE_MAJOR {
        bail!(
            "Node.js {MIN_NODE_MAJOR} or later is required, found {}",
            version.trim()
        );
    }
    Ok(())
}

/// `npm ci` unless `node_modules` already matches the lockfile.
fn ensure_npm_packages(root: &Path) -> anyhow::Result<()> {
    let lockfile = root.join("package-lock.json");
    let installed = root.join("node_modules").join(".package-lock.json");
    if is_newer_or_same(&installed, &lockfile) {
        return Ok(());
    }
    command::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(root)
            // Playwright drives Debian's Chromium; never download a browser.
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )
}

fn is_newer_or_same(path: &Path, than: &Path) -> bool {
    let modified = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .ok()
    };
    match (modified(path), modified(than)) {
        (Some(path), Some(than)) => path >= than,
        _ => false,
    }
}

/// The browser for the end-to-end tests, installed from Debian's packages
/// when missing.
pub(crate) fn ensure_chromium() -> anyhow::Result<PathBuf> {
    let path = chromium_path();
    if path.exists() {
        return Ok(path);
    }
    if std::env::var_os("CHROMIUM_PATH").is_some() {
        bail!(
            "CHROMIUM_PATH points to {}, which does not exist",
            path.display()
        );
    }

    println!("setup: installing Debian's chromium package");
    apt_install(&["chromium"]).context(
        "installing chromium needs root or password-less sudo: \
         run `sudo apt-get install chromium`, or set CHROMIUM_PATH to a Chromium",
    )?;

    if !path.exists() {
        bail!("the chromium package did not provide {}", path.display());
    }
    Ok(path)
}

/// A Python environment with the real kinto-http.py client, made in the
/// target directory on first use; returns its interpreter.
pub(crate) fn ensure_python_client(workspace: &Workspace) -> anyhow::Result<PathBuf> {
    let venv = workspace.target_dir.join("clients-venv");
    let python = venv.join("bin").join("python");
    let wanted = format!(
        "import kinto_http.client; import importlib.metadata as m; \
        assert m.version('kinto-http') == '{KINTO_HTTP_VERSION}'"
    );
    if command::output(Command::new(&python).args(["-c", &wanted])).is_some() {
        return Ok(python);
    }

    let has_venv = command::output(Command::new("python3").args(["-c", "import venv, ensurepip"]));
    if has_venv.is_none() {
        println!("setup: installing Debian's python3-venv package");
        apt_install(&["python3", "python3-venv"])
            .context("installing python3-venv needs root or password-less sudo")?;
    }
    command::run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    command::run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(format!("kinto-http=={KINTO_HTTP_VERSION}")),
    )?;
    Ok(python)
}

/// `apt-get install` of Debian packages, as root or through password-less
/// sudo.
fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    let is_root = command::output(Command::new("id").arg("-u")).is_some_and(|id| id.trim() == "0");
    let apt = |args: &[&str]| {
        // `sudo -n` fails at once instead of waiting for a password nobody
        // types; `env` keeps the variable that sudo would drop.
        let mut apt = if is_root {
            Command::new("env")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", "env"]);
            sudo
        };
        apt.arg("DEBIAN_FRONTEND=noninteractive")
            .arg("apt-get")
            .args(args);
        command::run(&mut apt)
    };
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", "--no-install-recommends"]
        .into_iter()
        .chain(packages.iter().copied())
        .collect::<Vec<_>>())
}

pub(crate) fn chromium_path() -> PathBuf {
    std::env::var_os("CHROMIUM_PATH").map_or_else(|| PathBuf::from(DEFAULT_CHROMIUM), PathBuf::from)
}
