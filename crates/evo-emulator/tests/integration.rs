//! The integration tests of evo-emulator, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod common;

mod api;
mod blob_checksums;
mod block_expiry;
mod discovery_accounts;
mod faults;
mod faults_soak;
mod files_blob;
mod large_blob;
mod oauth_logout;
mod objects;
mod python_sdk;
mod tls_and_binary;
mod wan_profile;
