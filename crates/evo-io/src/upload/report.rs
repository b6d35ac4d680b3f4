//! What a finished upload did: [`UploadReport`].

use crate::concurrency::ConcurrencyReport;
use crate::digest::BlobDigest;

/// What a finished upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadReport {
    /// Bytes in the blob.
    pub size: u64,
    /// Blocks staged and committed (0 when the blob went in one `Put Blob`).
    pub blocks: u64,
    /// The block size used.
    pub block_size: u64,
    /// Blocks the server already held from an interrupted upload and that were not sent again.
    pub reused_blocks: u64,
    /// Requests tried again (transient failures and URL renewals).
    pub retries: u64,
    /// The MD5 of the whole blob, sent as `x-ms-blob-content-md5` (or `Content-MD5`), with
    /// [`Integrity::Md5`](crate::Integrity::Md5) and [`Integrity::Both`](crate::Integrity::Both).
    pub md5: Option<BlobDigest>,
    /// Azure's CRC-64 of the whole blob, stored as its metadata `evo_crc64`, with
    /// [`Integrity::Crc64`](crate::Integrity::Crc64) (the default) and [`Integrity::Both`](crate::Integrity::Both).
    pub crc64: Option<u64>,
    /// How many blocks were in flight: the starting level, the ceiling, the level at the end
    /// and the highest, and the throughput measured (see
    /// [`BlobClientBuilder::adaptive`](crate::BlobClientBuilder::adaptive)).
    pub concurrency: ConcurrencyReport,
    /// Bytes of a source file read past the page cache (see
    /// [`BlobClientBuilder::direct_reads`](crate::BlobClientBuilder::direct_reads)); 0 when
    /// none were, and for bytes and readers.
    pub direct_bytes: u64,
}
