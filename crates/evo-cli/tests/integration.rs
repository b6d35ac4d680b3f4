//! The integration tests of evo-cli, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod support;

mod blockmodels;
mod files;
mod login;
mod objects;
mod watch;
mod workspaces;
