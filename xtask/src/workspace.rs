//! Where things are: the workspace root, the cargo target directory and the
//! Leptos site options from `[workspace.metadata.leptos]`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::command;

/// The workspace as `cargo metadata` describes it.
pub(crate) struct Workspace {
    pub(crate) root: PathBuf,
    pub(crate) target_dir: PathBuf,
    pub(crate) site: SiteOptions,
}

/// The Leptos site options shared by this tool and the server.
pub(crate) struct SiteOptions {
    /// Base name of the hydrate bundle: `pkg/<name>.{js,wasm,css}`.
    pub(crate) output_name: String,
    /// The folder the server serves, under the cargo target directory.
    pub(crate) root: PathBuf,
    /// Folder of the bundle inside the site root.
    pub(crate) pkg_dir: String,
    pub(crate) style_file: PathBuf,
    pub(crate) assets_dir: PathBuf,
    pub(crate) lib_package: String,
}

impl Workspace {
    pub(crate) fn load() -> anyhow::Result<Self> {
        let json = command::output(command::cargo().args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
        ]))
        .context("`cargo metadata` failed")?;
        let metadata: Value = serde_json::from_str(&json).context("parsing `cargo metadata`")?;

        let root = PathBuf::from(text(&metadata, "workspace_root")?);
        let target_dir = PathBuf::from(text(&metadata, "target_directory")?);
        let leptos = metadata
            .pointer("/metadata/leptos/0")
            .context("[[workspace.metadata.leptos]] is missing from Cargo.toml")?;
        let site = SiteOptions::from_metadata(leptos, &root, &target_dir)?;
        Ok(Self {
            root,
            target_dir,
            site,
        })
    }

    /// `<target>/<triple>/<profile>/<crate>.wasm`, as cargo writes it (the
    /// `dev` profile writes to `debug`).
    pub(crate) fn wasm_artifact(&self, cargo_profile: &str, crate_name: &str) -> PathBuf {
        let profile_dir = match cargo_profile {
            "dev" => "debug",
            other => other,
        };
        self.target_dir
            .join("wasm32-unknown-unknown")
            .join(profile_dir)
            .join(format!("{}.wasm", crate_name.replace('-', "_")))
    }

    pub(crate) fn node_bin(&self, tool: &str) -> PathBuf {
        self.root.join("node_modules").join(".bin").join(tool)
    }
}

impl SiteOptions {
    fn from_metadata(leptos: &Value, root: &Path, target_dir: &Path) -> anyhow::Result<Self> {
        let output_name = text(leptos, "name")?.to_owned();
        // Leptos reads the name at compile time from `.cargo/config.toml`.
        let compiled_name = env!("LEPTOS_OUTPUT_NAME");
        if output_name != compiled_name {
            bail!(
                "the leptos metadata names the site `{output_name}` but \
                 .cargo/config.toml sets LEPTOS_OUTPUT_NAME = `{compiled_name}`: make them equal"
            );
        }

        // `target/...` means the cargo target directory, wherever it is.
        let site_root = text(leptos, "site-root")?;
        let site_root = match site_root.strip_prefix("target/") {
            Some(rest) => target_dir.join(rest),
            None => root.join(site_root),
        };
        Ok(Self {
            output_name,
            root: site_root,
            pkg_dir: text(leptos, "site-pkg-dir")?.to_owned(),
            style_file: root.join(text(leptos, "style-file")?),
            assets_dir: root.join(text(leptos, "assets-dir")?),
            lib_package: text(leptos, "lib-package")?.to_owned(),
        })
    }

    pub(crate) fn pkg_path(&self) -> PathBuf {
        self.root.join(&self.pkg_dir)
    }
}

fn text<'a>(value: &'a Value, key: &str) -> anyhow::Result<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .with_context(|| format!("`{key}` is missing from the workspace metadata"))
}
