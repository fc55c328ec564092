//! Builds the site folder the server serves and the server itself:
//!
//! ```text
//! <site>/pkg/<name>.js, <name>.wasm, <name>.css   the app's hydrate bundle
//! <site>/pkg/worker.js, worker.<hash>.wasm       the service worker's wasm
//! <site>/sw.js                                   the worker's entry script
//! <site>/...                                     everything in public/
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use wasm_bindgen_cli_support::Bindgen;

use crate::command;
use crate::workspace::Workspace;

/// The service worker crate, and the base name of its glue in `pkg/`.
const WORKER_CRATE: &str = "sw";
const WORKER_OUTPUT_NAME: &str = "worker";
/// The worker's entry script template, relative to the workspace root.
const WORKER_SHIM: &str = "sw/shim.js";
/// Name of the server binary.
const SERVER_BIN: &str = "kinto-push";

/// wasm features the browsers we support all have; wasm-opt must be told.
const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-reference-types",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-multivalue",
    "--enable-mutable-globals",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    Debug,
    Release,
}

impl Profile {
    /// Cargo profile of the app's hydrate build.
    fn app_profile(self) -> &'static str {
        match self {
            Self::Debug => "dev",
            Self::Release => "wasm-release",
        }
    }

    /// Cargo profile of the worker's build. The app depends on the worker
    /// crate without its wasm entry points; building the worker itself under
    /// its own profile keeps the two feature sets in separate folders, so
    /// neither build invalidates the other.
    fn worker_profile(self) -> &'static str {
        match self {
            Self::Debug => "worker-dev",
            Self::Release => "worker-release",
        }
    }

    fn server_profile_dir(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Release => "release",
        }
    }

    fn is_release(self) -> bool {
        self == Self::Release
    }
}

/// What a build produced.
pub(crate) struct Build {
    pub(crate) server_binary: PathBuf,
    pub(crate) profile: Profile,
}

/// Output of wasm-bindgen for one crate, in the build tool's work folder.
struct Glue {
    js: PathBuf,
    wasm: PathBuf,
}

/// Builds both wasm crates, assembles the site and builds the server.
pub(crate) fn build(workspace: &Workspace, profile: Profile) -> anyhow::Result<Build> {
    let site = &workspace.site;
    let pkg = site.pkg_path();
    fs::create_dir_all(&pkg).with_context(|| format!("creating {}", pkg.display()))?;

    let app_wasm = build_wasm(
        workspace,
        &site.lib_package,
        &["--features", "hydrate"],
        profile.app_profile(),
    )?;
    let app = bindgen(workspace, &app_wasm, &site.output_name, profile)?;
    // Leptos asks for `<name>.wasm` when the output name is set at compile time.
    let app_wasm_out = pkg.join(format!("{}.wasm", site.output_name));
    copy_file(&app.js, &pkg.join(format!("{}.js", site.output_name)))?;
    copy_file(&app.wasm, &app_wasm_out)?;

    let worker_wasm = build_wasm(workspace, WORKER_CRATE, &[], profile.worker_profile())?;
    let worker = bindgen(workspace, &worker_wasm, WORKER_OUTPUT_NAME, profile)?;
    let worker_wasm_out = install_worker(workspace, &worker)?;

    copy_file(
        &site.style_file,
        &pkg.join(format!("{}.css", site.output_name)),
    )?;
    copy_folder(&site.assets_dir, &site.root)?;

    let server_binary = build_server(workspace, profile)?;

    println!("\nwasm sizes ({profile:?} build):");
    report_size("app", &app_wasm_out)?;
    report_size("service worker", &worker_wasm_out)?;
    println!("site: {}\n", site.root.display());
    Ok(Build {
        server_binary,
        profile,
    })
}

/// Compiles a wasm crate's library and returns cargo's `.wasm` output.
fn build_wasm(
    workspace: &Workspace,
    package: &str,
    features: &[&str],
    cargo_profile: &str,
) -> anyhow::Result<PathBuf> {
    command::run(
        command::cargo()
            .args(["build", "--package", package, "--lib"])
            .args(["--target", "wasm32-unknown-unknown"])
            .args(["--profile", cargo_profile])
            .args(features)
            .current_dir(&workspace.root),
    )?;
    Ok(workspace.wasm_artifact(cargo_profile, package))
}

/// Generates the JavaScript glue and the final wasm for `input`, then shrinks
/// release builds with wasm-opt. Both steps are skipped when `input` is the
/// same as last time.
fn bindgen(
    workspace: &Workspace,
    input: &Path,
    out_name: &str,
    profile: Profile,
) -> anyhow::Result<Glue> {
    let work = workspace
        .target_dir
        .join("xtask")
        .join(format!("{out_name}-{profile:?}").to_lowercase());
    let glue = Glue {
        js: work.join(format!("{out_name}.js")),
        wasm: work.join(format!("{out_name}_bg.wasm")),
    };
    let stamp = work.join("input.sha256");
    let input_hash = hash_file(input)?;
    let is_fresh = fs::read_to_string(&stamp).is_ok_and(|hash| hash == input_hash);
    if is_fresh && glue.js.exists() && glue.wasm.exists() {
        println!("{out_name}: wasm unchanged, glue is up to date");
        return Ok(glue);
    }

    fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    Bindgen::new()
        .input_path(input)
        .out_name(out_name)
        .web(true)?
        .typescript(false)
        .debug(!profile.is_release())
        .remove_name_section(profile.is_release())
        .remove_producers_section(profile.is_release())
        .generate(&work)
        .with_context(|| format!("wasm-bindgen on {}", input.display()))?;

    if profile.is_release() {
        command::run(
            Command::new(workspace.node_bin("wasm-opt"))
                .arg("-Oz")
                .args(WASM_OPT_FEATURES)
                .arg(&glue.wasm)
                .arg("-o")
                .arg(&glue.wasm),
        )?;
    }
    fs::write(&stamp, input_hash).context("writing the bindgen stamp")?;
    Ok(glue)
}

/// Puts the worker's glue and content-hashed wasm into `pkg/` and writes the
/// entry script `sw.js` that loads them. Returns the installed wasm path.
fn install_worker(workspace: &Workspace, worker: &Glue) -> anyhow::Result<PathBuf> {
    let pkg = workspace.site.pkg_path();
    let hash = hash_file(&worker.wasm)?;
    let short_hash = &hash[..16];
    let wasm_name = format!("{WORKER_OUTPUT_NAME}.{short_hash}.wasm");

    // Old builds' wasm files are never requested again.
    let prefix = format!("{WORKER_OUTPUT_NAME}.");
    for entry in fs::read_dir(&pkg).context("listing the pkg folder")? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".wasm") && name != wasm_name {
            fs::remove_file(pkg.join(&name)).with_context(|| format!("removing {name}"))?;
        }
    }
    let wasm_out = pkg.join(&wasm_name);
    copy_file(&worker.wasm, &wasm_out)?;
    copy_file(&worker.js, &pkg.join(format!("{WORKER_OUTPUT_NAME}.js")))?;

    let shim_path = workspace.root.join(WORKER_SHIM);
    let shim = fs::read_to_string(&shim_path)
        .with_context(|| format!("reading {}", shim_path.display()))?;
    let script = shim
        .replace("__WORKER_WASM__", &wasm_name)
        .replace("__WORKER_HASH__", short_hash);
    write_if_changed(&workspace.site.root.join("sw.js"), script.as_bytes())?;
    Ok(wasm_out)
}

/// Builds the server alone, without the site: enough for the `/v1` API.
pub(crate) fn build_server_only(workspace: &Workspace, profile: Profile) -> anyhow::Result<Build> {
    let server_binary = build_server(workspace, profile)?;
    Ok(Build {
        server_binary,
        profile,
    })
}

fn build_server(workspace: &Workspace, profile: Profile) -> anyhow::Result<PathBuf> {
    let mut cargo = command::cargo();
    cargo
        .args(["build", "--package", "server", "--bin", SERVER_BIN])
        .current_dir(&workspace.root);
    if profile.is_release() {
        cargo.arg("--release");
    }
    command::run(&mut cargo)?;
    Ok(workspace
        .target_dir
        .join(profile.server_profile_dir())
        .join(SERVER_BIN))
}

fn report_size(label: &str, path: &Path) -> anyhow::Result<()> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
    gzip.write_all(&bytes)?;
    let gzipped = gzip.finish()?.len();
    println!(
        "  {label:<16} {:>9} bytes raw, {:>8} bytes gzip  ({})",
        bytes.len(),
        gzipped,
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    Ok(())
}

fn hash_file(path: &Path) -> anyhow::Result<String> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let digest = Sha256::digest(&bytes);
    Ok(digest.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Copies a file unless the destination already has the same bytes, so the
/// server's file timestamps (and the browser's caches) stay put.
fn copy_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    write_if_changed(to, &bytes)
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if fs::read(path).is_ok_and(|existing| existing == bytes) {
        return Ok(());
    }
    fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn copy_folder(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_folder(&entry.path(), &target)?;
        } else {
            copy_file(&entry.path(), &target)?;
        }
    }
    Ok(())
}
