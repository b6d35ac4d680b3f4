//! # evo-io
//!
//! Fast, bounded, resumable and verified blob transfers on pre-signed (SAS) URLs, the way the
//! Evo APIs hand them out.
//!
//! - **Upload** to an Azure block blob: one `Put Blob` for a small source; otherwise `Put Block`
//!   per block with deterministic, equal-length block ids (from the byte offset) and a
//!   `Content-MD5` each, in parallel, then `Put Block List` with the whole-blob MD5
//!   (`x-ms-blob-content-md5`). The block size grows so no blob needs more than 50,000 blocks.
//! - **Download**: size and ETag from `HEAD` (or a first ranged `GET`), parallel ranged `GET`s
//!   pinned with `If-Match`, every `206` and `Content-Range` checked, positional writes into a
//!   partial file beside the target, fsync, atomic rename; a server that ignores `Range` still
//!   works; optional MD5/SHA-256 verification.
//! - **Retries per block** (5xx, 429 with `Retry-After`, resets, truncated bodies) without
//!   restarting the transfer; **URL renewal** through an async callback on 401/403, shared by
//!   parallel blocks.
//! - **Resume**: uploads skip blocks the server already holds; downloads continue from their
//!   partial file, never mixing two versions of a blob.
//! - **Bounded memory**: about `concurrency × block size` per transfer, whatever the size.
//! - Byte-based progress through [`evo_core::Feedback`]; cancellation by dropping the future;
//!   a download cache on [`evo_core::Cache`].
//!
//! ```no_run
//! # async fn demo(transport: evo_core::SharedTransport, url: url::Url) -> Result<(), evo_io::Error> {
//! use evo_io::{BlobClient, Destination, Source};
//!
//! let client = BlobClient::new(transport);
//! let renew = || async { Ok::<url::Url, evo_core::Error>("https://fresh.example/c/b?sig=x".parse().unwrap()) };
//! let report = client
//!     .upload(url.clone(), Source::file("big.bin"))
//!     .renew_with(renew)
//!     .await?;
//! let data = client.download(url, Destination::memory()).await?.into_bytes();
//! assert_eq!(data.len() as u64, report.size);
//! # Ok(()) }
//! ```

mod blocks;
mod cache;
mod client;
mod digest;
mod download;
mod dual_md5;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod positional;
mod request;
mod state;
mod upload;
mod url;

pub use blocks::{
    DEFAULT_BLOCK_SIZE, MAX_BLOB_SIZE, MAX_BLOCK_SIZE, MAX_BLOCKS, block_id, block_size_for,
};
pub use cache::CachedDownload;
pub use client::{BlobClient, BlobClientBuilder, DEFAULT_MAX_MEMORY_DOWNLOAD, Destination, Source};
pub use digest::Digest;
pub use download::{Download, DownloadReport};
pub use error::{BlockRef, Committed, Error, ErrorKind, Step};
pub use upload::{Upload, UploadReport};
pub use url::RenewUrl;
