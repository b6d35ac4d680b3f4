//! `cargo xtask lint`, `cargo xtask test` and `cargo xtask ci`.
//!
//! Each step runs a cargo command from the workspace root with `std::process::Command`, prints
//! it first, and stops at the first failure.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs every check CI runs: [`lint`] then [`test()`].
pub fn ci(args: &[String]) -> Result<(), String> {
    lint(args)?;
    test(args)
}

/// Formatting check, clippy with warnings denied, generated-code freshness and docs with
/// warnings denied.
pub fn lint(_args: &[String]) -> Result<(), String> {
    let root = workspace_root();
    run(cargo(&root).args(["fmt", "--all", "--", "--check"]))?;
    run(cargo(&root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    println!("xtask: codegen --check");
    crate::codegen::run(&["--check".into()]).map_err(|e| format!("codegen --check: {e}"))?;
    run(cargo(&root).env("RUSTDOCFLAGS", "-D warnings").args([
        "doc",
        "--workspace",
        "--no-deps",
        "--all-features",
    ]))?;
    Ok(())
}

/// Installs the third-party test peers (scripts/install-peers.sh), then runs every test of
/// the workspace with all features, reporting every failing suite rather than stopping at
/// the first. Extra arguments go to `cargo test`.
pub fn test(args: &[String]) -> Result<(), String> {
    let root = workspace_root();
    let mut install = Command::new("bash");
    install
        .arg(root.join("scripts").join("install-peers.sh"))
        .current_dir(&root);
    run(&mut install)?;
    run(cargo(&root)
        .args(["test", "--workspace", "--all-features", "--no-fail-fast"])
        .args(args))
}

/// The workspace root: the parent of this crate's folder.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_dir.to_path_buf())
}

/// A `cargo` command (the cargo that runs xtask, when known) in `root`.
fn cargo(root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root);
    command
}

/// Prints and runs a command, failing when it does not exit successfully.
fn run(command: &mut Command) -> Result<(), String> {
    let shown = describe(command);
    println!("xtask: {shown}");
    let status = command
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

fn describe(command: &Command) -> String {
    let mut parts: Vec<String> = command
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_str()?, v?.to_str()?)))
        .collect();
    parts.push(command.get_program().to_string_lossy().into_owned());
    parts.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}
