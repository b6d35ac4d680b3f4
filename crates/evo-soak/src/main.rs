//! `evo-soak`: the soak and kill tests of evo-rs (see the library's documentation).
//!
//! - `evo-soak soak [--quick] [--uploads N] [--downloads N] [--max-mib N] [--seed N]`
//! - `evo-soak kill [--quick] [--mib N]`
//! - `evo-soak child upload|download URL PATH BLOCK_SIZE CONCURRENCY` (the kill test's child)

use std::process::ExitCode;

use evo_soak::kill::{self, KillConfig};
use evo_soak::soak::{self, SoakConfig};

fn flag<T: std::str::FromStr>(args: &[String], name: &str) -> Result<Option<T>, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .map(Some)
            .ok_or_else(|| format!("{name} needs a number")),
    }
}

async fn soak_command(args: &[String]) -> Result<(), String> {
    let mut config = if args.iter().any(|a| a == "--quick") {
        SoakConfig::quick()
    } else {
        SoakConfig::full()
    };
    if let Some(n) = flag(args, "--uploads")? {
        config.uploads = n;
    }
    if let Some(n) = flag(args, "--downloads")? {
        config.downloads = n;
    }
    if let Some(n) = flag::<u64>(args, "--max-mib")? {
        config.max_size = n << 20;
    }
    if let Some(n) = flag(args, "--seed")? {
        config.seed = n;
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let report = soak::run(&config, dir.path()).await?;
    println!(
        "{} MiB moved in {:.1} s; faults injected: {}",
        report.bytes >> 20,
        report.elapsed.as_secs_f64(),
        report
            .faults
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for failure in &report.failures {
        println!("FAILED: {failure}");
    }
    println!("{report}");
    if report.passed() {
        Ok(())
    } else {
        Err("the soak failed".into())
    }
}

async fn kill_command(args: &[String]) -> Result<(), String> {
    let mut config = if args.iter().any(|a| a == "--quick") {
        KillConfig::quick()
    } else {
        KillConfig::full()
    };
    if let Some(n) = flag::<u64>(args, "--mib")? {
        config.size = n << 20;
    }
    let program = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let reports = kill::run(&program, &config, dir.path()).await?;
    let mut passed = true;
    for report in &reports {
        println!("{report}");
        passed &= report.passed();
    }
    if passed {
        Ok(())
    } else {
        Err("the kill test failed".into())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("soak") => soak_command(&args[1..]).await,
        Some("kill") => kill_command(&args[1..]).await,
        Some("child") => kill::child(&args[1..]).await,
        _ => Err("usage: evo-soak soak|kill|child ...".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("evo-soak: {message}");
            ExitCode::FAILURE
        }
    }
}
