//! The integration tests of evo-workspaces, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod common;

mod emulator;
mod faults;
mod fixtures;
mod paging_guards;
mod send;
