//! `cargo xtask lint`, `cargo xtask test` and `cargo xtask ci`.
//!
//! Each step runs a cargo command from the workspace root with `std::process::Command`, prints
//! it first, and stops at the first failure.
//!
//! Builds run lean (see [`lean`]): CI builds every target of the workspace once from a clean
//! clone, where incremental caches and debug info only cost disk and time.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs every check CI runs: [`lint`] then [`test()`].
pub fn ci(args: &[String]) -> Result<(), String> {
    lint(args)?;
    test(args)
}

/// Formatting check, clippy with warnings denied, the Windows check of evo-io,
/// generated-code freshness and docs with warnings denied.
pub fn lint(_args: &[String]) -> Result<(), String> {
    let root = workspace_root();
    run(cargo(&root).args(["fmt", "--all", "--", "--check"]))?;
    run(lean(&mut cargo(&root)).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    windows_check(&root)?;
    println!("xtask: codegen --check");
    crate::codegen::run(&["--check".into()]).map_err(|e| format!("codegen --check: {e}"))?;
    run(lean(&mut cargo(&root))
        .env("RUSTDOCFLAGS", "-D warnings")
        .args(["doc", "--workspace", "--no-deps", "--all-features"]))?;
    Ok(())
}

/// The Windows target whose check proves evo-io compiles there (its file I/O has Unix and
/// Windows variants).
const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";

/// `cargo check -p evo-io --target x86_64-pc-windows-gnu`, after `rustup target add` (the
/// standard library of that target; no linker is needed for a check). When rustup cannot
/// install the target (no rustup, no network), the check is skipped with a warning saying so,
/// rather than failing the lint for a reason that is not in the code.
fn windows_check(root: &Path) -> Result<(), String> {
    let mut add = Command::new("rustup");
    add.args(["target", "add", WINDOWS_TARGET])
        .current_dir(root);
    let installed = match add.status() {
        Ok(status) => status.success(),
        Err(_) => false,
    };
    if !installed {
        println!(
            "xtask: warning: the {WINDOWS_TARGET} target could not be installed with rustup; \
             the Windows check of evo-io is skipped"
        );
        return Ok(());
    }
    run(lean(&mut cargo(root)).args(["check", "-p", "evo-io", "--target", WINDOWS_TARGET]))
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
    let tests = run(lean(&mut cargo(&root))
        .args(["test", "--workspace", "--all-features", "--no-fail-fast"])
        .args(args));
    // After the tests, so that a packaging problem does not hide a failing test (and the
    // other way round): both are reported.
    let packaging = package(&root);
    tests.and(packaging)
}

/// `cargo publish --dry-run --workspace --no-verify`: packages every publishable crate of the
/// workspace (those without `publish = false`) in dependency order, each against the packages
/// of the ones before it, as a real publish would. It catches missing metadata, files left out
/// of a package, dependencies without a version, and names or versions crates.io already has
/// (cargo only warns of those; this fails). It does not build the packages from their packaged
/// sources (`cargo xtask package --verify` does): that builds every dependency once more and
/// does not fit CI's time budget. `--allow-dirty` lets it run on a work tree with uncommitted
/// changes; CI's clone is clean.
pub fn package(root: &Path) -> Result<(), String> {
    package_with(root, false)
}

/// `cargo xtask package [--verify]`.
pub fn package_command(args: &[String]) -> Result<(), String> {
    match args {
        [] => package_with(&workspace_root(), false),
        [flag] if flag == "--verify" => package_with(&workspace_root(), true),
        _ => Err("usage: cargo xtask package [--verify]".into()),
    }
}

/// `cargo publish --dry-run` of the workspace; `verify` builds each package from its sources.
pub fn package_with(root: &Path, verify: bool) -> Result<(), String> {
    let mut command = cargo(root);
    command.args(["publish", "--dry-run", "--workspace", "--allow-dirty"]);
    if !verify {
        command.arg("--no-verify");
    }
    let output = command
        .output()
        .map_err(|e| format!("could not start `cargo publish --dry-run`: {e}"))?;
    let log = String::from_utf8_lossy(&output.stderr);
    eprint!("{log}");
    if !output.status.success() {
        return Err(format!(
            "`cargo publish --dry-run` failed ({})",
            output.status
        ));
    }
    let taken: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("already exists on crates.io index"))
        .collect();
    if !taken.is_empty() {
        return Err(format!(
            "crates.io already has these crate versions (rename the crate or bump the version):\n{}",
            taken.join("\n")
        ));
    }
    Ok(())
}

/// Builds without incremental compilation caches and without debug info, unless the caller's
/// environment says otherwise (`CARGO_INCREMENTAL`, `CARGO_PROFILE_{DEV,TEST}_DEBUG`). A
/// workspace test build links dozens of binaries: with both it outgrew the disk of a
/// CI machine; without them it is about a third of the size and links faster. Panic messages
/// keep their file and line (they do not come from debug info); only backtraces lose lines.
fn lean(command: &mut Command) -> &mut Command {
    for (key, value) in [
        ("CARGO_INCREMENTAL", "0"),
        ("CARGO_PROFILE_DEV_DEBUG", "false"),
        ("CARGO_PROFILE_TEST_DEBUG", "false"),
    ] {
        if std::env::var_os(key).is_none() {
            command.env(key, value);
        }
    }
    command
}

/// `cargo run --release -p <package> -- <args>` from the workspace root (benchmarks and the
/// soak run optimised); `what` names the run in the error.
pub(crate) fn run_release(package: &str, args: &[&str], what: &str) -> Result<(), String> {
    let status = cargo(&workspace_root())
        .args(["run", "--release", "-p", package, "--"])
        .args(args)
        .status()
        .map_err(|e| format!("starting cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
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
