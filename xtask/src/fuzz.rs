//! `cargo xtask fuzz [--seconds N] [--stable] [TARGET...]`: fuzzing of every parser of server
//! input, each target for N seconds (default 60): `block_list`, `content_range` (evo-io),
//! `engine_io`, `socket_io` (evo-sync), `token_response`, `oauth_error` (evo-auth),
//! `problem_details`, `redaction` (evo-core).
//!
//! With a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`), each target runs
//! coverage-guided (libFuzzer) from `fuzz/` (outside the workspace); corpora and crashes stay in
//! `fuzz/corpus/` and `fuzz/artifacts/`. Without them (or with `--stable`), it says so and runs
//! the stable property tests of the same parsers over and over, with many cases each
//! (`PROPTEST_CASES`, default 20000) and a fresh random seed each round, until the time is up.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every fuzz target, in the order they run, with the package and test filter of the
/// property tests of the same parser (the stable fallback).
pub const TARGETS: [(&str, &str, &str); 8] = [
    ("block_list", "evo-io", "fuzzing::tests::block_list"),
    ("content_range", "evo-io", "fuzzing::tests::content_range"),
    ("engine_io", "evo-sync", "socketio::packet"),
    ("socket_io", "evo-sync", "socketio::packet"),
    ("token_response", "evo-auth", "token::tests"),
    ("oauth_error", "evo-auth", "token::tests"),
    ("problem_details", "evo-core", "error::tests"),
    ("redaction", "evo-core", "redact::tests"),
];

/// Runs the targets named in `args` (default: all) for the seconds given (default 60) each.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut seconds = 60u64;
    let mut stable = false;
    let mut targets = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seconds needs a number")?;
            }
            "--stable" => stable = true,
            name => match TARGETS.iter().find(|t| t.0 == name) {
                Some(target) => targets.push(*target),
                None => {
                    let known: Vec<&str> = TARGETS.iter().map(|t| t.0).collect();
                    return Err(format!(
                        "unknown fuzz target {name:?} (known: {})",
                        known.join(", ")
                    ));
                }
            },
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("xtask sits in the workspace root")?;
    let fuzzer = if stable {
        Err("--stable".to_owned())
    } else {
        cargo_fuzz()
    };
    let mut failed = Vec::new();
    match fuzzer {
        Ok(version) => {
            println!("fuzz: {version} on nightly; each target {seconds} s");
            for (target, _, _) in &targets {
                println!("fuzz: {target} for {seconds} s");
                let status = Command::new("cargo")
                    .current_dir(root)
                    .env_remove("CARGO")
                    .env_remove("RUSTUP_TOOLCHAIN")
                    .env_remove("CARGO_TARGET_DIR")
                    .args(["+nightly", "fuzz", "run", target, "--"])
                    .arg(format!("-max_total_time={seconds}"))
                    .arg("-rss_limit_mb=2048")
                    .arg("-max_len=65536")
                    .status()
                    .map_err(|e| format!("starting cargo +nightly fuzz: {e}"))?;
                if !status.success() {
                    failed.push(*target);
                }
            }
        }
        Err(why) => {
            println!(
                "fuzz: no coverage-guided fuzzing ({why}); running the stable property tests \
                 of each parser for {seconds} s instead"
            );
            let cases = std::env::var("PROPTEST_CASES").unwrap_or_else(|_| "20000".to_owned());
            for (target, package, filter) in &targets {
                let (rounds, ok) = properties(root, package, filter, &cases, seconds)?;
                println!("fuzz: {target}: {rounds} rounds of {cases} cases ({package} {filter})");
                if !ok {
                    failed.push(*target);
                }
            }
        }
    }
    if failed.is_empty() {
        println!("fuzz: every target ran {seconds} s without a finding");
        Ok(())
    } else {
        Err(format!(
            "findings (or a build failure) in {}; see the output above (fuzz/artifacts/ for libFuzzer)",
            failed.join(", ")
        ))
    }
}

/// The cargo-fuzz version, when a nightly toolchain and cargo-fuzz are installed; otherwise why not.
fn cargo_fuzz() -> Result<String, String> {
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !nightly.is_ok_and(|s| s.success()) {
        return Err("no nightly toolchain".into());
    }
    let output = Command::new("cargo")
        .env_remove("CARGO")
        .env_remove("RUSTUP_TOOLCHAIN")
        .args(["+nightly", "fuzz", "--version"])
        .stderr(Stdio::null())
        .output();
    match output {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).trim().to_owned()),
        _ => Err("cargo-fuzz is not installed: cargo install cargo-fuzz".into()),
    }
}

/// Runs the property tests matching `filter` in `package` round after round until `seconds`
/// pass (at least once); returns the rounds run and whether all passed.
fn properties(
    root: &std::path::Path,
    package: &str,
    filter: &str,
    cases: &str,
    seconds: u64,
) -> Result<(u64, bool), String> {
    let started = Instant::now();
    let mut rounds = 0;
    loop {
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(root)
            .env("PROPTEST_CASES", cases)
            .args([
                "test",
                "-q",
                "-p",
                package,
                "--all-features",
                "--lib",
                filter,
            ])
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("starting cargo test: {e}"))?;
        rounds += 1;
        if !status.success() {
            return Ok((rounds, false));
        }
        if started.elapsed() >= Duration::from_secs(seconds) {
            return Ok((rounds, true));
        }
    }
}
