//! The integration tests of unicat, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod emulator_rest;
mod emulator_sync;
mod python_server;
