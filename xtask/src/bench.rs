//! `cargo xtask bench` (owned by the evo-io work).

/// Runs the benchmarks.
pub fn run(_args: &[String]) -> Result<(), String> {
    Err("not written yet".into())
}
