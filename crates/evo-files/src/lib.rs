//! # evo-files
//!
//! The File API v2 client of evo-rs: list, inspect, upload, download, delete and restore the
//! files of an Evo workspace.
//!
//! [`FilesClient`] works on one workspace ([`evo_core::Environment`]) through an
//! [`evo_core::ApiConnector`] (transport and credentials). Metadata calls go to the File API;
//! bytes move between the machine and blob storage through pre-signed URLs with `evo-io`
//! (parallel blocks, retries, verification, resume), and expired URLs are renewed by asking the
//! File API again (`PUT /files/{id}?version_id=` for uploads, `GET /files/{id}?version_id=` for
//! downloads).
//!
//! Paths ([`FilePath`]) are checked before any request: empty paths, `..`, control characters
//! and over-long paths are refused with [`Error::InvalidPath`].
//!
//! The wire models are in [`models`]; they follow `specs/files.yaml` in the repository.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
//! use evo_files::{FilesClient, ListFilesQuery};
//!
//! # let seed = evo_emulator::Seed::from_json(
//! #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
//! # )?;
//! # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
//! # let (hub_url, org_id) = (emulator.hub_url(), emulator.org_id());
//! # let workspace_id = emulator.organizations()[0].workspaces[0].0;
//! # let token = emulator.issue_token(&["evo.file"]);
//! // The hub, organization and workspace come from discovery and evo-workspaces, the token
//! // from evo-auth; here they come from the embedded emulator.
//! let connector = ApiConnector::builder(hub_url.clone())
//!     .transport(Arc::new(evo_hyper::HyperTransport::new()))
//!     .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
//!     .build()?;
//! let files = FilesClient::new(Environment::new(hub_url, org_id, workspace_id), connector)?;
//!
//! let csv = b"hole,x,y\nDH1,10.5,20.25\n".to_vec();
//! let uploaded = files.upload_bytes("surveys/collars.csv", csv.clone()).await?;
//! assert_eq!((uploaded.folder.as_str(), uploaded.full_path()), ("/surveys/", "surveys/collars.csv".into()));
//!
//! let page = files.list_page(&ListFilesQuery::new().limit(10)).await?;
//! assert!(page.items.iter().any(|f| f.file_id == uploaded.file_id));
//!
//! let back = files.download_to_memory(uploaded.file_id, None).await?;
//! assert_eq!(&back[..], &csv[..]);
//! # Ok(()) }
//! ```
//!
//! `cargo run --release -p evo-files --example files [-- PATH]` uploads a file (or a generated
//! 256 MiB one) to the embedded emulator, lists it, downloads it back and compares digests.

mod client;
mod error;
// The layer generated from specs/files.yaml by `cargo xtask codegen`. Kept private: FilesClient
// sends its calls through these endpoint functions where the answers carry no timestamps
// (register upload, delete), and decodes the rest into the hand-written models of [`models`],
// because the File API writes timestamps with a space instead of `T` (which the generated
// RFC 3339 fields reject) and because the generated `Debug` would print pre-signed URLs.
#[allow(dead_code, unreachable_pub)]
mod generated;
pub mod models;
mod path;
mod query;
mod transfer;

pub use client::{
    DEFAULT_VISIBILITY_TIMEOUT, FilesClient, FilesClientBuilder, GetOptions, RestoreOutcome,
};
pub use error::Error;
/// One page of a listing (the same type in every evo-rs service crate).
pub use evo_core::Page;
pub use models::{
    FileLinks, FileMetadata, FileSummary, FileVersion, FilesPage, PageLinks, UploadTarget, UserInfo,
};
pub use path::{FilePath, MAX_PATH_BYTES};
pub use query::{ListFilesQuery, MAX_PAGE_SIZE, OrderBy, SortField, TimeFilter, TimeOp};
pub use transfer::{CACHE_SCOPE, Downloaded, FileDownload, FileUpload};

/// Re-exports of the evo-io types used in this crate's API (sources, destinations, digests,
/// transfer reports and the blob client).
pub use evo_io::{BlobClient, BlobDigest, Destination, DownloadReport, Source, UploadReport};
