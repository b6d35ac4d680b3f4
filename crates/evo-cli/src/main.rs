//! `evo`: a command-line tool for Seequent Evo on the evo-rs SDK.
//!
//! `evo --help` lists the commands and the exit codes; `evo --emulator COMMAND` runs any of
//! them against a fresh in-process emulator.

mod cli;
mod commands;
mod config;
mod copy;
mod error;
mod journal;
mod output;
mod progress;
mod remote;
mod session;
mod tables;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::error::{CliError, CliResult, Kind};
use crate::session::Session;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose);
    let json = cli.global.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return report(&CliError::failure(format!("starting: {e}")), json),
    };
    if let Command::Emulator(args) = cli.command {
        // Ctrl-C is how the emulator ends: a success.
        let served = runtime.block_on(evo_emulator::cli::serve(args));
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => report(&CliError::failure(format!("the emulator: {e}")), json),
        };
    }
    let result = runtime.block_on(async {
        tokio::select! {
            result = run(cli) => result,
            _ = tokio::signal::ctrl_c() => Err(CliError::new(Kind::Interrupted, "interrupted")
                .hint("run the same command again: copies continue where they stopped")),
        }
    });
    // Transfers still running in the background are abandoned (their partial files stay).
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e, json),
    }
}

/// Prints an error (human or JSON) to stderr and returns its exit code.
fn report(error: &CliError, json: bool) -> ExitCode {
    if json {
        eprintln!("{}", error.to_json());
    } else {
        eprintln!("{error}");
    }
    error.exit_code()
}

/// `--verbose` logs the SDK's debug events; `RUST_LOG` overrides the filter.
fn init_tracing(verbose: bool) {
    let default = if verbose {
        "info,evo_core=debug,evo_auth=debug,evo_io=debug,evo_files=debug,evo_objects=debug,evo_sync=debug,evo_hyper=debug"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run(cli: Cli) -> CliResult<()> {
    if let Command::Completions { shell } = cli.command {
        let mut command = Cli::command();
        clap_complete::generate(shell, &mut command, "evo", &mut std::io::stdout());
        return Ok(());
    }
    let mut session = Session::open(cli.global).await?;
    let result = commands::run(&mut session, cli.command).await;
    if let Some(emu) = session.emulator.take() {
        emu.shutdown().await;
    }
    result
}
