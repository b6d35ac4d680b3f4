//! The integration tests of evo-auth, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod common;

mod emulator;
mod loopback;
mod mock_server;
mod scripted;
mod secrets;
mod token_cache;
