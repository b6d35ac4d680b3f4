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
