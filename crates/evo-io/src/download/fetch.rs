//! The range fetcher: a download's settings ([`Job`]) and one ranged `GET` pinned to the
//! blob version, checked against the size and range asked for.

use bytes::Bytes;
use evo_core::Body;
use http::{Method, Request, Response, StatusCode, header};

use super::headers::{ContentRange, header_text, protocol};
use super::probe::Probe;
use crate::buffers::BufferPool;
use crate::concurrency::Tuning;
use crate::crc64;
use crate::digest::BlobDigest;
use crate::error::{BlockRef, Error, ErrorKind, Step, join_error};
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

/// One range, or the whole blob from a server that ignored `Range`.
pub(super) enum Fetched {
    Range(Bytes),
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

    /// Fetches one range, pinned to `etag`. A server that ignores `Range` (200) answers with
    /// the whole blob, which the caller then reads once instead of one range per block.
    pub(super) async fn fetch(
        &self,
        wire: &Wire<'_>,
        block: BlockRef,
        size: u64,
        etag: Option<&str>,
        buffers: &BufferPool,
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
                    )
                    .await
                    .map(Fetched::Range)
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

    /// [`fetch`](Self::fetch), with the range's CRC-64 when the download checks one (computed
    /// here, so ranges in flight are checksummed in parallel).
    pub(super) async fn fetch_checked(
        &self,
        wire: &Wire<'_>,
        block: BlockRef,
        size: u64,
        etag: Option<&str>,
        buffers: &BufferPool,
    ) -> Result<(Fetched, Option<u64>), Error> {
        let fetched = self.fetch(wire, block, size, etag, buffers).await?;
        let crc = match (&fetched, self.crc64) {
            (Fetched::Range(data), Some(_)) => Some(
                crc64::of_bytes(data.clone())
                    .await
                    .map_err(|e| join_error(Step::Verify, e).with_block(block))?,
            ),
            _ => None,
        };
        Ok((fetched, crc))
    }
}
