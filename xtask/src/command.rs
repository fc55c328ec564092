//! Running external commands with their command line echoed first.

use std::ffi::OsStr;
use std::process::Command;

use anyhow::{Context, bail};

/// A `cargo` command, using the same cargo that runs this tool.
pub(crate) fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(cargo)
}

/// Runs `command` to completion, failing unless it exits successfully.
pub(crate) fn run(command: &mut Command) -> anyhow::Result<()> {
    let line = describe(command);
    println!("$ {line}");
    let status = command
        .status()
        .with_context(|| format!("cannot start `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed ({status})");
    }
    Ok(())
}

/// Runs `command` and returns its standard output, or `None` when it cannot
/// start or fails.
pub(crate) fn output(command: &mut Command) -> Option<String> {
    let output = command.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn describe(command: &Command) -> String {
    let program = command.get_program().to_string_lossy().into_owned();
    let program = program.rsplit('/').next().unwrap_or_default().to_owned();
    std::iter::once(program)
        .chain(
            command
                .get_args()
                .map(OsStr::to_string_lossy)
                .map(Into::into),
        )
        .collect::<Vec<String>>()
        .join(" ")
}
