//! `cargo xtask codegen [--check]` (owned by the codegen work).

/// Regenerates, or with `--check` verifies, the generated code.
pub fn run(_args: &[String]) -> Result<(), String> {
    Err("not written yet".into())
}
