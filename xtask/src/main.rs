//! Project automation for evo-rs: `cargo xtask <command>`.
//!
//! - `lint`: formatting check, clippy with warnings denied, the Windows check of evo-io,
//!   generated code freshness, docs with warnings denied.
//! - `ci`: `lint`, then `test`.
//! - `test`: installs the third-party test peers (scripts/install-peers.sh), then runs every test.
//! - `package [--verify]`: `cargo publish --dry-run` of every publishable crate, failing on a
//!   name or version crates.io already has (`test` runs it without `--verify`).
//! - `codegen [--check]`: regenerates `crates/*/src/generated/` from `specs/`.
//! - `bench [io] [files] [objects]`: benchmarks, reported as ratios against a peer measured in the same run
//!   (`io`: evo-io beside bare hyper; `files`: evo-files beside the official Python SDK).
//! - `soak [--quick] [--no-kill]`: the SIGKILL test of 1 GiB transfers, then 200 uploads and 200
//!   downloads through the emulator under injected faults (crates/evo-soak).
//! - `fuzz [--seconds N] [--stable] [TARGET...]`: fuzzing of the parsers of server input, each
//!   target for N seconds: coverage-guided (cargo-fuzz, targets in fuzz/) with a nightly toolchain
//!   and cargo-fuzz, otherwise long runs of the stable property tests of the same parsers.

mod bench;
mod ci;
mod codegen;
mod fuzz;
mod soak;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => ("", &[][..]),
    };
    let result = match command {
        "ci" => ci::ci(rest),
        "lint" => ci::lint(rest),
        "test" => ci::test(rest),
        "package" => ci::package_command(rest),
        "codegen" => codegen::run(rest),
        "bench" => bench::run(rest),
        "soak" => soak::run(rest),
        "fuzz" => fuzz::run(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | lint | test | package [--verify] | codegen [--check] | bench [io] [files] [objects] [api] [blockmodels] [azurite] | soak [--quick] [--no-kill] | fuzz [--seconds N] [--stable] [TARGET...]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {command}: {message}");
            ExitCode::FAILURE
        }
    }
}
