//! The integration tests of evo-emulator, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod common;

mod blob_checksums;
mod block_expiry;
mod discovery_accounts;
mod discovery_oauth_api;
mod faults;
mod faults_soak;
mod files_blob;
mod files_versions;
mod large_blob;
mod oauth_logout;
mod objects;
mod objects_access;
mod objects_fixture;
mod objects_listing;
mod python_sdk;
mod tls_and_binary;
mod wan_profile;
mod workspaces_api;
mod workspaces_instance_api;
