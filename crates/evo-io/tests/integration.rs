//! The integration tests of evo-io, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod support;

mod adaptive;
mod azurite;
mod cache;
mod cancel;
mod crc64;
mod direct_io;
mod emulator;
mod hostile_server;
mod progress;
mod read_timeout;
mod upload_resume;
