//! The integration tests of evo-sync, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod common;

mod bounded_memory;
mod engine_props;
mod evo_emulator;
mod live_objects;
mod poll_fake;
mod socketio;
mod socketio_connection;
mod socketio_harness;
mod socketio_props;
mod wire_fuzz;
