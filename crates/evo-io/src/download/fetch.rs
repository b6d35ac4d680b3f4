//! The range fetcher: a download's settings ([`Job`]) and one ranged `GET` pinned to the
//! blob version, checked against the size and range asked for.

use bytes::Bytes;
use evo_core::Body;
use http::{Method, Request, Response, StatusCode, header};

use super::headers::{ContentRange, header_text, protocol};
use super::probe::Probe;
use crate::buffers::BufferLease;
use crate::concurrency::Tuning;
use crate::digest::BlobDigest;
use crate::error::{BlockRef, Error, ErrorKind, Step};
use crate::progress::BlockCredit;
use crate::request::{Wire, fatal};

/// What one download asks for: its range size and parallelism, and what to check the bytes
/// against.
pub(super) struct Job {
    /// The preferred range size (a transfer may choose a smaller one, see [`Tuning`]).
    pub(super) block_size: u64,
    /// How many ranges may be in flight, and how that adapts.
    pub(super) tuning: Tuning,
    pub(super) expected: Option<BlobDigest>,
    /// The CRC-64 to check the bytes against.
    pub(super) crc64: Option<u64>,
    /// The size the caller expects the blob to have.
    pub(super) expected_size: Option<u64>,
    /// The ETag the caller expects the blob to have (quotes aside).
    pub(super) expected_etag: Option<String>,
    /// Whether a file destination may be written past the page cache.
    pub(super) direct_writes: bool,
}

/// One range (with its CRC-64 when the download checks one), or the whole blob from a server
/// that ignored `Range`.
pub(super) enum Fetched {
    Range(Bytes, Option<u64>),
    Whole(Response<Body>),
}

impl Job {
    /// Verifies against the stored CRC-64 when asked, and against the stored MD5 when asked
    /// (by default: when there is no CRC-64 to check) and no digest was given.
    pub(super) fn take_stored_checks(&mut self, probe: &Probe, (md5, crc64): (Option<bool>, bool)) {
        if crc64 {
            self.crc64 = probe.stored_crc64;
        }
        if md5.unwrap_or(self.crc64.is_none()) && self.expected.is_none() {
            self.expected = probe.stored_md5.clone();
        }
    }

    /// Fetches one range, pinned to `etag`, checksummed as it arrives when the download checks
    /// a CRC-64. A server that ignores `Range` (200) answers with the whole blob, which the
    /// caller then reads once instead of one range per block.
    pub(super) async fn fetch(
        &self,
        wire: &Wire<'_>,
        block: BlockRef,
        size: u64,
        etag: Option<&str>,
        buffers: &BufferLease,
    ) -> Result<Fetched, Error> {
        let credit = &BlockCredit::default();
        wire.retrying(Step::GetRange, Some(block), |target| async move {
            let last = block.offset + block.len - 1;
            let mut request = Request::builder()
                .method(Method::GET)
                .uri(target.url().as_str())
                .header(header::RANGE, format!("bytes={}-{last}", block.offset));
            if let Some(etag) = etag {
                request = request.header(header::IF_MATCH, etag);
            }
            let request = request
                .body(Body::empty())
                .map_err(|e| protocol(Step::GetRange, e.to_string()))?;
            let response = wire.send(request, Step::GetRange).await?;
            match response.status() {
                StatusCode::PARTIAL_CONTENT => {
                    let range = ContentRange::parse(response.headers())
                        .map_err(|m| protocol(Step::GetRange, m))?;
                    if range.total.is_some_and(|t| t != size) {
                        return Err(fatal(
                            ErrorKind::Changed,
                            Step::GetRange,
                            format!(
                                "the blob's size changed from {size} to {:?} during the download",
                                range.total
                            ),
                        ));
                    }
                    if range.first != block.offset || range.last != last {
                        return Err(protocol(
                            Step::GetRange,
                            format!(
                                "asked for bytes {}-{last}, the server sent {}-{}",
                                block.offset, range.first, range.last
                            ),
                        ));
                    }
                    let buffer = buffers.take();
                    wire.read_counted(
                        response.into_body(),
                        block.len,
                        credit,
                        Step::GetRange,
                        buffer,
                        self.crc64.is_some(),
                    )
                    .await
                    .map(|(data, crc)| Fetched::Range(data, crc))
                }
                StatusCode::OK => {
                    let whole = header_text(response.headers(), header::CONTENT_LENGTH)
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    if whole.is_some_and(|w| w != size) {
                        return Err(fatal(
                            ErrorKind::Changed,
                            Step::GetRange,
                            format!("the blob's size changed from {size} to {whole:?}"),
                        ));
                    }
                    Ok(Fetched::Whole(response))
                }
                StatusCode::PRECONDITION_FAILED => Err(fatal(
                    ErrorKind::Changed,
                    Step::GetRange,
                    "the blob changed during the download (If-Match failed: 412)",
                )),
                _ => Err(wire
                    .status_failure(Method::GET, &target, response, Step::GetRange)
                    .await),
            }
        })
        .await
    }
}
