//! `evo-emulator`: run the local Evo emulator from the command line.

use clap::Parser;
use evo_emulator::cli::EmulatorArgs;

/// A local Evo-compatible server (discovery, IMS OAuth, Workspaces, File API v2, blob storage).
#[derive(Debug, Parser)]
#[command(name = "evo-emulator", version)]
struct Cli {
    #[command(flatten)]
    args: EmulatorArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match evo_emulator::cli::serve(Cli::parse().args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Display is this step only; the causes follow, as the Rust convention has it.
            let mut shown = format!("evo-emulator: {e}");
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                shown.push_str(&format!(": {c}"));
                cause = c.source();
            }
            eprintln!("{shown}");
            std::process::ExitCode::FAILURE
        }
    }
}
