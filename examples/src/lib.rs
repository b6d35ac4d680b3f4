//! Shared helpers of the evo-rs examples. Run an example with `cargo run --example NAME`
//! from the workspace root.
