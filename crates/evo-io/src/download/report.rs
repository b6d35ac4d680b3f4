//! What a finished download did: [`DownloadReport`].

use std::path::PathBuf;

use bytes::Bytes;

use crate::concurrency::ConcurrencyReport;

/// What a finished download did.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadReport {
    /// Bytes in the blob.
    pub size: u64,
    /// The blob version's ETag, when the server sent one.
    pub etag: Option<String>,
    /// Bytes taken from an interrupted earlier download instead of fetched again.
    pub resumed_bytes: u64,
    /// Requests tried again (transient failures and URL renewals).
    pub retries: u64,
    /// False when the server ignored `Range` and the blob came as one whole body.
    pub ranged: bool,
    /// The file written, for a file destination.
    pub path: Option<PathBuf>,
    /// How many ranges were in flight: the starting level, the ceiling, the level at the end
    /// and the highest, and the throughput measured (see
    /// [`BlobClientBuilder::adaptive`](crate::BlobClientBuilder::adaptive)).
    pub concurrency: ConcurrencyReport,
    /// Bytes written into the file past the page cache (see
    /// [`BlobClientBuilder::direct_writes`](crate::BlobClientBuilder::direct_writes)); 0
    /// when none were, and for memory and writer destinations.
    pub direct_bytes: u64,
    pub(super) bytes: Option<Bytes>,
}

impl std::fmt::Debug for DownloadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The downloaded bytes are counted, not printed: a blob may be large or secret.
        f.debug_struct("DownloadReport")
            .field("size", &self.size)
            .field("etag", &self.etag)
            .field("resumed_bytes", &self.resumed_bytes)
            .field("retries", &self.retries)
            .field("ranged", &self.ranged)
            .field("path", &self.path)
            .field("concurrency", &self.concurrency)
            .field("direct_bytes", &self.direct_bytes)
            .field("bytes", &self.bytes.as_ref().map(Bytes::len))
            .finish()
    }
}

impl DownloadReport {
    /// The downloaded bytes, for a [`Destination::memory`](crate::Destination::memory) download (empty otherwise).
    pub fn into_bytes(self) -> Bytes {
        self.bytes.unwrap_or_default()
    }
}
