//! Soak and kill tests of evo-rs, as a library (driven by the `evo-soak` program, which
//! `cargo xtask soak` runs, and by this crate's tests in short versions).
//!
//! - [`soak`]: uploads and downloads of random sizes through the File API of the emulator
//!   while it injects faults (503 with `Retry-After`, connections reset mid-body, truncated
//!   bodies, expired blob URLs and bearer tokens); every transfer must come back with the same
//!   SHA-256, in bounded memory.
//! - [`kill`]: a child process uploading (then one downloading) a large blob is killed with
//!   `SIGKILL` half-way; a second run resumes, and the emulator's byte counters show how much
//!   was sent again.

pub mod kill;
pub mod soak;

mod data;

pub use data::{peak_rss, write_random_file};
