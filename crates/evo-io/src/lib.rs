//! # evo-io
//!
//! Fast, bounded, resumable and verified blob transfers on pre-signed (SAS) URLs, the way the
//! Evo APIs hand them out.
//!
//! - **Upload** to an Azure block blob: one `Put Blob` for a small source; otherwise `Put Block`
//!   per block with deterministic, equal-length block ids (from the byte offset), in parallel,
//!   then `Put Block List`. The block size grows so no blob needs more than 50,000 blocks. A
//!   file's blocks are read past the page cache where the file system and device allow
//!   ([`BlobClientBuilder::direct_reads`]).
//! - **Integrity, cheap by default** ([`Integrity::Crc64`]): each block carries Azure's CRC-64
//!   (`x-ms-content-crc64`, computed in the block's own task; the service refuses a block that
//!   changed on the way, and it is sent again). The whole blob's CRC-64 is combined from the
//!   block CRCs, without a second pass over the data, and stored as the blob's metadata
//!   `evo_crc64` at commit (Azure keeps no checksum of a blob committed from blocks).
//!   [`Integrity::Md5`] sends `Content-MD5` per block and the whole-blob MD5 as the blob's
//!   `Content-MD5` property instead, for readers that need that property (it costs an MD5 of
//!   every byte, in block order); [`Integrity::Both`] does both.
//! - **Download**: size and ETag from `HEAD` (or a first ranged `GET`), parallel ranged `GET`s
//!   pinned with `If-Match`, every `206` and `Content-Range` checked, positional writes into a
//!   partial file beside the target (past the page cache where the file system and device
//!   allow, [`BlobClientBuilder::direct_writes`]), fsync, atomic rename; a server that ignores
//!   `Range` still works. A blob with the `evo_crc64` metadata is checked against it: each range's CRC-64 is
//!   computed as it arrives and the ranges' values are combined, so the file is not read again;
//!   a mismatch is an [`ErrorKind::Integrity`] error and publishes nothing
//!   ([`Download::verify_crc64`]). Optional MD5/SHA-256 verification
//!   ([`Download::expect_digest`], the stored `Content-MD5` of a blob without CRC-64).
//! - **Retries per block** (5xx, 429 with `Retry-After`, resets, truncated bodies) without
//!   restarting the transfer; **URL renewal** through an async callback on 401/403, shared by
//!   parallel blocks.
//! - **Resume**: uploads skip blocks the server already holds (a file's blocks only while the
//!   CRC-64 its state file recorded still matches the source); downloads continue from their
//!   partial file, never mixing two versions of a blob, and read the ranges they kept once to
//!   checksum them.
//! - **Adaptive concurrency**: a transfer starts at
//!   [`concurrency`](BlobClientBuilder::concurrency) blocks in flight (16, or 4 when the server
//!   answered within 10 ms and the default was kept) and doubles that while
//!   each doubling raises the measured throughput by at least 10%, up to
//!   [`max_concurrency`](BlobClientBuilder::max_concurrency) (32); it goes back to the best
//!   level when a doubling brings less or requests must be retried
//!   ([`BlobClientBuilder::adaptive`]; `false` keeps `concurrency` fixed).
//! - **Bounded memory**: `blocks in flight × block size` per transfer stays within the
//!   [`memory_budget`](BlobClientBuilder::memory_budget) (80 MiB unless set), whatever the size.
//! - Byte-based progress through [`evo_core::Feedback`]; cancellation by dropping the future;
//!   a download cache on [`evo_core::Cache`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = evo_emulator::Emulator::builder().start().await?;
//! # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
//! # let dir = tempfile::tempdir()?;
//! # let big = dir.path().join("big.bin");
//! # std::fs::write(&big, vec![7u8; 3 << 20])?;
//! use evo_io::{BlobClient, Destination, Source};
//!
//! // Pre-signed URLs come from the File, Object or Block Model API; here the embedded
//! // emulator signs them (`rcw`: read, create, write).
//! let url = emulator.blob_url("demo", "big.bin", "rcw");
//! let fresh = emulator.blob_url("demo", "big.bin", "rcw");
//!
//! let client = BlobClient::builder(transport).block_size(1 << 20).build();
//! // Asked for a new URL when the service refuses this one (expired).
//! let renew = move || {
//!     let fresh = fresh.clone();
//!     async move { Ok::<url::Url, evo_core::Error>(fresh) }
//! };
//! let report = client
//!     .upload(url.clone(), Source::file(&big))
//!     .renew_with(renew)
//!     .await?;
//! // The whole blob's CRC-64, stored in its metadata and checked by the download.
//! println!("uploaded {} bytes, CRC-64 {:?}", report.size, report.crc64);
//! let data = client.download(url, Destination::memory()).await?.into_bytes();
//! assert_eq!(data.len() as u64, report.size);
//! assert_eq!(&data[..], &std::fs::read(&big)?[..]);
//! # Ok(()) }
//! ```
//!
//! ## What lives where
//!
//! - `client`: [`BlobClient`] and its builder; `shared`: what the client lends each transfer
//!   (the transport and the settings), below `client`, `upload`, `download` and `request`.
//! - `upload`: uploads ([`Upload`], [`UploadReport`]) of a [`Source`]: `Put Blob`, or blocks
//!   staged in parallel and committed; resume from the server's list or a state file.
//! - `download`: downloads ([`Download`], [`DownloadReport`]) into a [`Destination`]: probe,
//!   ranged `GET`s into a file, memory or a writer; resume from a partial file.
//! - `concurrency`: adaptive concurrency, one rule for every transfer. A controller (a pure
//!   state machine) takes one observation per completed block (time, bytes moved on the wire,
//!   retries so far) and measures the throughput over a window of a round of blocks, after half
//!   a round to settle: while doubling the limit raises it by at least 10% it doubles again
//!   (up to the ceiling: `max_concurrency`, or fewer when the memory budget holds fewer of the
//!   transfer's blocks); a doubling that brings less, or a retried request, sends it back to the
//!   best level measured, which holds and is probed again after a while ([`ConcurrencyReport`]
//!   says how it went). A gate enforces the limit on every scheduler (an upload's reads and
//!   `Put Block`s, a download's ranges) with a semaphore whose permits are added and forgotten,
//!   each block holding one while it holds memory. It also chooses the block size of a transfer
//!   of known size: at most the configured one; small enough that `max_concurrency` blocks fit
//!   the budget, but not below 4 MiB for that; small enough that every connection gets two
//!   blocks of a small blob, but not below 1 MiB. A resumed transfer keeps the block size of
//!   its saved state.
//! - `blocks`: block layout and ids, the block-list documents; `state`: resume state files;
//!   `feed`: reading an upload's source; `partial`: a download's partial file; `direct`:
//!   reads of an upload's source and writes of a download's file past the page cache; `request`:
//!   one request and its retries; `progress`: byte-based progress; `crc64`, `digest`,
//!   `dual_md5`, `integrity`: checksums; `url`: signed URLs and their renewal; `cache`: the
//!   download cache; `error`: [`Error`].

mod blocks;
mod buffers;
mod cache;
mod client;
mod concurrency;
mod crc64;
mod digest;
mod direct;
mod download;
mod dual_md5;
mod error;
mod feed;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod integrity;
mod partial;
mod positional;
mod progress;
mod request;
mod shared;
mod state;
mod upload;
mod url;

pub use blocks::{
    DEFAULT_BLOCK_SIZE, MAX_BLOB_SIZE, MAX_BLOCK_SIZE, MAX_BLOCKS, block_id, block_size_for,
};
pub use cache::CachedDownload;
pub use client::{BlobClient, BlobClientBuilder};
pub use concurrency::{
    ConcurrencyReport, DEFAULT_CONCURRENCY, DEFAULT_MAX_CONCURRENCY, DEFAULT_MEMORY_BUDGET,
    NEAR_CONCURRENCY, NEAR_ROUND_TRIP,
};
pub use digest::BlobDigest;
pub use download::{Destination, Download, DownloadReport};
pub use error::{BlockRef, Committed, Error, ErrorKind, Step};
pub use integrity::Integrity;
pub use shared::DEFAULT_MAX_MEMORY_DOWNLOAD;
pub use upload::{Source, Upload, UploadReport};
pub use url::RenewUrl;
