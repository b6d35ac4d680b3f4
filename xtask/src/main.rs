//! Project automation for evo-rs: `cargo xtask <command>`.
//!
//! - `lint`: formatting check, clippy with warnings denied, generated code freshness, docs with
//!   warnings denied.
//! - `ci`: `lint`, then `test`.
//! - `test`: installs the third-party test peers (scripts/install-peers.sh), then runs every test.
//! - `codegen [--check]`: regenerates `crates/*/src/generated/` from `specs/`.
//! - `bench [io] [files] [objects]`: benchmarks, reported as ratios against a peer measured in the same run
//!   (`io`: evo-io beside bare hyper; `files`: evo-files beside the official Python SDK).

mod bench;
mod ci;
mod codegen;

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
        "codegen" => codegen::run(rest),
        "bench" => bench::run(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | lint | test | codegen [--check] | bench [io] [files] [objects]>"
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
