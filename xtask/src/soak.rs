//! `cargo xtask soak [--quick] [--no-kill] [args for evo-soak soak]`: builds crates/evo-soak in
//! release mode and runs the kill test (1 GiB upload and download, each killed with SIGKILL
//! half-way and resumed; `kill upload|download: ...` lines) and then the soak (200 uploads and
//! 200 downloads of random sizes up to 64 MiB through the emulator under faults). The last
//! line printed is `soak: N/N transfers identical, R retries, peak Z MiB`.

/// Runs the kill test and the soak.
pub fn run(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let soak_args: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--no-kill")
        .collect();
    if !args.iter().any(|a| a == "--no-kill") && cfg!(unix) {
        let mut kill = vec!["kill"];
        if quick {
            kill.push("--quick");
        }
        evo_soak(&kill)?;
    }
    let mut soak = vec!["soak"];
    soak.extend(soak_args);
    evo_soak(&soak)
}

fn evo_soak(args: &[&str]) -> Result<(), String> {
    crate::ci::run_release("evo-soak", args, &format!("evo-soak {}", args.join(" ")))
}
