//! The integration tests of evo-files, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod common;

mod emulator;
mod emulator_transfers;
mod fixtures;
mod lost_answers;
mod python_interop;
mod untrusted;
mod user_agent;
