//! Downloads: probe (HEAD, or a first ranged GET), parallel ranged GETs pinned with `If-Match`,
//! checked `Content-Range`, positional writes into a partial file, fsync, atomic rename.

use std::collections::{BTreeSet, HashMap};
use std::future::{Future, IntoFuture};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use bytes::Bytes;
use evo_core::{Body, Feedback};
use futures_util::{FutureExt as _, StreamExt, stream};
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use url::Url;

use crate::blocks::{MAX_BLOB_SIZE, layout};
use crate::client::{BlobClient, Destination, DestinationInner};
use crate::crc64::{self, Pieces, Running};
use crate::digest::{BlobDigest, Hasher, HashingThread, check, hash_file};
use crate::error::{BlockRef, Error, ErrorKind, Step, join_error};
use crate::partial::{RemoveOnDrop, crc64_of_file, open_partial, publish, truncate, write_at};
use crate::progress::BlockCredit;
use crate::request::{Failure, Wire, body_error, fatal};
use crate::state::{StateWriter, TransferState, load, sibling};
use crate::url::{RenewUrl, SignedUrl};

/// A download to set up and then await. Made by [`BlobClient::download`].
#[must_use = "a download does nothing until it is awaited"]
pub struct Download<'a> {
    client: &'a BlobClient,
    url: Url,
    destination: Destination<'a>,
    renewer: Option<Arc<dyn RenewUrl + 'static>>,
    feedback: Option<&'a dyn Feedback>,
    resume: bool,
    overwrite: bool,
    expected: Option<BlobDigest>,
    verify_stored_md5: Option<bool>,
    verify_crc64: bool,
    target_locked: bool,
}

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
    bytes: Option<Bytes>,
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
            .field("bytes", &self.bytes.as_ref().map(Bytes::len))
            .finish()
    }
}

impl DownloadReport {
    /// The downloaded bytes, for a [`Destination::memory`] download (empty otherwise).
    pub fn into_bytes(self) -> Bytes {
        self.bytes.unwrap_or_default()
    }
}

/// Size and version of a blob, and the body when the server ignored `Range`.
struct Probe {
    size: Option<u64>,
    etag: Option<String>,
    /// The MD5 the blob service stores for the blob, when it says.
    stored_md5: Option<BlobDigest>,
    /// The CRC-64 the blob's metadata holds (see [`crc64::METADATA_HEADER`]).
    stored_crc64: Option<u64>,
    whole: Option<Response<Body>>,
}

impl<'a> Download<'a> {
    pub(crate) fn new(client: &'a BlobClient, url: Url, destination: Destination<'a>) -> Self {
        Download {
            client,
            url,
            destination,
            renewer: None,
            feedback: None,
            resume: true,
            overwrite: false,
            expected: None,
            verify_stored_md5: None,
            verify_crc64: true,
            target_locked: false,
        }
    }

    /// Called for a fresh URL when the current one is refused (401/403), e.g. after it expired.
    /// Without it, a refusal ends the download.
    pub fn renew_with(mut self, renewer: impl RenewUrl + 'static) -> Self {
        self.renewer = Some(Arc::new(renewer));
        self
    }

    /// The same as [`Download::renew_with`] for a shared callback.
    pub fn renew_with_shared(mut self, renewer: Arc<dyn RenewUrl + 'static>) -> Self {
        self.renewer = Some(renewer);
        self
    }

    /// Receives byte-based progress (bytes written, total, retries).
    pub fn feedback(mut self, feedback: &'a dyn Feedback) -> Self {
        self.feedback = Some(feedback);
        self
    }

    /// For a file destination: keep the partial file and its state file when the download
    /// fails or is dropped, and continue from them next time (default on). A partial file of
    /// another blob version (a different ETag) is never mixed in: the download starts over.
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// For a file destination: replace an existing file (default off: an existing target is an
    /// error).
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Checks the whole download against this digest before publishing it; a mismatch fails
    /// the download and leaves no file under the target name.
    pub fn expect_digest(mut self, digest: BlobDigest) -> Self {
        self.expected = Some(digest);
        self
    }

    /// Checks the whole download against the MD5 the blob service stores for the blob
    /// (`Content-MD5`), when it gives one and no [`expect_digest`](Download::expect_digest)
    /// was set. By default it does so only for a blob without a CRC-64 to
    /// [verify](Download::verify_crc64): the CRC-64 costs no second pass, while the MD5 of a
    /// file destination is computed by reading the file again. A mismatch fails the download
    /// with [`ErrorKind::Integrity`] and leaves no file under the target name.
    pub fn verify_stored_md5(mut self, verify: bool) -> Self {
        self.verify_stored_md5 = Some(verify);
        self
    }

    /// Checks the whole download against the CRC-64 an upload stored in the blob's metadata
    /// (`evo_crc64`, see [`Integrity`](crate::Integrity)), when the blob has one (default on).
    ///
    /// Each range's CRC-64 is computed as its bytes arrive, by the range's own task, and the
    /// ranges' values are combined in offset order: the data is not read a second time. A
    /// resumed download reads the ranges an earlier run left in the partial file once, to
    /// checksum them (the state file keeps no checksums). The check happens before the file
    /// is renamed into place; a mismatch fails the download with [`ErrorKind::Integrity`],
    /// removes the partial file and its state, and leaves no file under the target name. A
    /// memory download returns no bytes; a writer has received them, and the error says
    /// they are wrong.
    pub fn verify_crc64(mut self, verify: bool) -> Self {
        self.verify_crc64 = verify;
        self
    }

    pub(crate) fn target_already_locked(mut self) -> Self {
        self.target_locked = true;
        self
    }

    async fn run(self) -> Result<DownloadReport, Error> {
        let config = &self.client.inner.config;
        let url = SignedUrl::new(self.url, self.renewer, config.renew_debounce)?;
        let mut wire = Wire::new(&self.client.inner, url, self.feedback);
        let mut job = Job {
            block_size: config.block_size,
            concurrency: config.concurrency,
            expected: self.expected,
            crc64: None,
        };
        let verify = (self.verify_stored_md5, self.verify_crc64);
        let wire_ref = &wire;
        let probe = |limit: Option<u64>| async move {
            let probe = probe(wire_ref).await?;
            if let Some(limit) = limit
                && let Some(size) = probe.size.filter(|&s| s > limit)
            {
                return Err(too_large(format!(
                    "the blob holds {size} bytes, more than the memory download limit of {limit} bytes"
                )));
            }
            pinned_or_whole(wire_ref, probe).await
        };
        match self.destination.inner {
            DestinationInner::File(target) => {
                let target = std::path::absolute(&target).map_err(|e| {
                    Error::local(Step::Prepare, format!("resolving {}", target.display()), e)
                })?;
                let lock = target_lock(&target);
                let _guard = if self.target_locked {
                    None
                } else {
                    Some(lock.lock().await)
                };
                if !self.overwrite && target.exists() {
                    return Err(Error::new(
                        ErrorKind::InvalidInput,
                        Step::Prepare,
                        format!(
                            "{} already exists (ask for overwrite to replace it)",
                            target.display()
                        ),
                    ));
                }
                let probe = probe(None).await?;
                job.take_stored_checks(&probe, verify);
                wire.meter.set_total(probe.size);
                job.to_file(&wire, probe, &target, self.resume).await
            }
            DestinationInner::Memory => {
                let limit = config.max_memory_download;
                let probe = probe(Some(limit)).await?;
                job.take_stored_checks(&probe, verify);
                wire.meter.set_total(probe.size);
                // Capacity grows with the data: a server's size claim reserves one block at most.
                let capacity = probe.size.unwrap_or(0).min(config.block_size) as usize;
                let mut sink = Sink::Memory {
                    data: Vec::with_capacity(capacity),
                    limit,
                };
                let mut report = job.to_sink(&wire, probe, &mut sink).await?;
                if let Sink::Memory { data, .. } = sink {
                    report.bytes = Some(Bytes::from(data));
                }
                Ok(report)
            }
            DestinationInner::Writer(writer) => {
                let probe = probe(None).await?;
                job.take_stored_checks(&probe, verify);
                wire.meter.set_total(probe.size);
                let mut sink = Sink::Writer(writer);
                job.to_sink(&wire, probe, &mut sink).await
            }
        }
    }
}

impl<'a> IntoFuture for Download<'a> {
    type Output = Result<DownloadReport, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// One lock per target path in this process: a second download of the same file waits.
pub(crate) fn target_lock(path: &Path) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: LazyLock<Mutex<HashMap<PathBuf, Weak<tokio::sync::Mutex<()>>>>> =
        LazyLock::new(Default::default);
    let mut locks = LOCKS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(lock) = locks.get(path).and_then(Weak::upgrade) {
        return lock;
    }
    locks.retain(|_, w| w.strong_count() > 0);
    let lock = Arc::new(tokio::sync::Mutex::new(()));
    locks.insert(path.to_path_buf(), Arc::downgrade(&lock));
    lock
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

fn protocol(step: Step, message: impl Into<String>) -> Failure {
    fatal(ErrorKind::Protocol, step, message)
}

/// Finds size and ETag (see [`probe_claims`]); a size no blob can have is a protocol error,
/// so nothing is ever sized from it.
///
/// Ranges are pinned to the blob version with `If-Match`; without an ETag they could mix two
/// versions, so the blob is then fetched in one whole `GET` instead.
async fn probe(wire: &Wire<'_>) -> Result<Probe, Error> {
    let probe = probe_claims(wire).await?;
    match probe.size {
        Some(size) if size > MAX_BLOB_SIZE => Err(Error::new(
            ErrorKind::Protocol,
            Step::Probe,
            format!(
                "the server claims the blob holds {size} bytes, more than any blob can ({MAX_BLOB_SIZE})"
            ),
        )),
        _ => Ok(probe),
    }
}

/// Without an ETag to pin ranges to, the blob is fetched in one whole `GET` (its answer
/// replaces the probe).
async fn pinned_or_whole(wire: &Wire<'_>, probe: Probe) -> Result<Probe, Error> {
    if probe.etag.is_some() || probe.whole.is_some() || probe.size.is_none_or(|s| s == 0) {
        return Ok(probe);
    }
    tracing::debug!("no ETag to pin ranges to; fetching the blob in one GET");
    let whole = whole_get(wire).await?;
    match whole.size {
        Some(size) if size > MAX_BLOB_SIZE => Err(Error::new(
            ErrorKind::Protocol,
            Step::GetRange,
            format!("the server claims the blob holds {size} bytes, more than any blob can"),
        )),
        _ => Ok(whole),
    }
}

/// The stored MD5 of a blob from an answer's headers: `Content-MD5` on a HEAD or a whole
/// body, `x-ms-blob-content-md5` on a range.
fn stored_md5(headers: &HeaderMap) -> Option<BlobDigest> {
    let text = header_text(
        headers,
        header::HeaderName::from_static("x-ms-blob-content-md5"),
    )
    .or_else(|| header_text(headers, header::HeaderName::from_static("content-md5")))?;
    BlobDigest::md5_base64(&text).ok()
}

/// A plain `GET` of the whole blob (the answer's body is read by the caller).
async fn whole_get(wire: &Wire<'_>) -> Result<Probe, Error> {
    wire.retrying(Step::GetRange, None, |target| async move {
        let request = Request::builder()
            .method(Method::GET)
            .uri(target.url().as_str())
            .body(Body::empty())
            .map_err(|e| protocol(Step::GetRange, e.to_string()))?;
        let response = wire.send(request, Step::GetRange).await?;
        if response.status() != StatusCode::OK {
            return Err(wire
                .status_failure(Method::GET, &target, response, Step::GetRange)
                .await);
        }
        let headers = response.headers();
        Ok(Probe {
            size: header_text(headers, header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok()),
            etag: header_text(headers, header::ETAG),
            stored_md5: stored_md5(headers),
            stored_crc64: crc64::stored(headers),
            whole: Some(response),
        })
    })
    .await
}

/// What the server says of size and ETag: `HEAD`, or `GET bytes=0-0` when `HEAD` is refused
/// or not allowed.
async fn probe_claims(wire: &Wire<'_>) -> Result<Probe, Error> {
    let head = wire
        .retrying(Step::Probe, None, |target| async move {
            let request = Request::builder()
                .method(Method::HEAD)
                .uri(target.url().as_str())
                .body(Body::empty())
                .map_err(|e| protocol(Step::Probe, e.to_string()))?;
            let response = wire.send(request, Step::Probe).await?;
            let status = response.status();
            if status.is_success() {
                let headers = response.headers();
                let size = header_text(headers, header::CONTENT_LENGTH)
                    .ok_or_else(|| protocol(Step::Probe, "HEAD answered without Content-Length"))?
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| {
                        protocol(Step::Probe, "HEAD answered a malformed Content-Length")
                    })?;
                return Ok(Some((
                    size,
                    header_text(headers, header::ETAG),
                    stored_md5(headers),
                    crc64::stored(headers),
                )));
            }
            match status.as_u16() {
                // Not allowed, or this URL may not HEAD: ask with a ranged GET instead (which
                // renews the URL if it really expired).
                400 | 401 | 403 | 405 | 501 => Ok(None),
                _ => Err(wire
                    .status_failure(Method::HEAD, &target, response, Step::Probe)
                    .await),
            }
        })
        .await?;
    if let Some((size, etag, stored_md5, stored_crc64)) = head {
        return Ok(Probe {
            size: Some(size),
            etag,
            stored_md5,
            stored_crc64,
            whole: None,
        });
    }
    wire.retrying(Step::Probe, None, |target| async move {
        let request = Request::builder()
            .method(Method::GET)
            .uri(target.url().as_str())
            .header(header::RANGE, "bytes=0-0")
            .body(Body::empty())
            .map_err(|e| protocol(Step::Probe, e.to_string()))?;
        let response = wire.send(request, Step::Probe).await?;
        let etag = header_text(response.headers(), header::ETAG);
        let stored_md5 = stored_md5(response.headers());
        let stored_crc64 = crc64::stored(response.headers());
        match response.status() {
            StatusCode::PARTIAL_CONTENT => {
                let range = ContentRange::parse(response.headers())
                    .map_err(|m| protocol(Step::Probe, m))?;
                let total = range.total.ok_or_else(|| {
                    protocol(Step::Probe, "Content-Range of the probe has no total size")
                })?;
                if range.first != 0 || range.last != 0 || total == 0 {
                    return Err(protocol(
                        Step::Probe,
                        format!("asked for bytes 0-0, got {range:?}"),
                    ));
                }
                wire.read_exact(response.into_body(), 1, Step::Probe)
                    .await?;
                Ok(Probe {
                    size: Some(total),
                    etag,
                    stored_md5,
                    stored_crc64,
                    whole: None,
                })
            }
            StatusCode::OK => {
                // The server ignores Range: the body is the whole blob.
                let size = header_text(response.headers(), header::CONTENT_LENGTH)
                    .and_then(|v| v.trim().parse().ok());
                Ok(Probe {
                    size,
                    etag,
                    stored_md5,
                    stored_crc64,
                    whole: Some(response),
                })
            }
            StatusCode::RANGE_NOT_SATISFIABLE => {
                // Azure answers 416 to any range of an empty blob (`Content-Range: bytes */0`).
                let total = header_text(response.headers(), header::CONTENT_RANGE)
                    .and_then(|v| v.trim().strip_prefix("bytes */").map(str::to_owned))
                    .and_then(|v| v.parse::<u64>().ok());
                match total {
                    Some(0) => Ok(Probe {
                        size: Some(0),
                        etag,
                        stored_md5,
                        stored_crc64,
                        whole: None,
                    }),
                    _ => Err(wire
                        .status_failure(Method::GET, &target, response, Step::Probe)
                        .await),
                }
            }
            _ => Err(wire
                .status_failure(Method::GET, &target, response, Step::Probe)
                .await),
        }
    })
    .await
}

/// A parsed `Content-Range: bytes first-last/total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ContentRange {
    first: u64,
    last: u64,
    total: Option<u64>,
}

impl ContentRange {
    fn parse(headers: &HeaderMap) -> Result<ContentRange, String> {
        let raw = headers
            .get(header::CONTENT_RANGE)
            .ok_or("206 without Content-Range")?
            .to_str()
            .map_err(|_| "Content-Range is not text")?;
        let bad = || format!("malformed Content-Range {raw:?}");
        let rest = raw.trim().strip_prefix("bytes ").ok_or_else(bad)?;
        let (span, total) = rest.split_once('/').ok_or_else(bad)?;
        let (first, last) = span.split_once('-').ok_or_else(bad)?;
        let first: u64 = first.trim().parse().map_err(|_| bad())?;
        let last: u64 = last.trim().parse().map_err(|_| bad())?;
        let total = match total.trim() {
            "*" => None,
            t => Some(t.parse::<u64>().map_err(|_| bad())?),
        };
        if last < first || total.is_some_and(|t| last >= t) {
            return Err(bad());
        }
        Ok(ContentRange { first, last, total })
    }
}

/// [`ContentRange::parse`] as `(first, last, total)`, for the fuzzing entry points.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn parse_content_range(headers: &HeaderMap) -> Result<(u64, u64, Option<u64>), String> {
    ContentRange::parse(headers).map(|r| (r.first, r.last, r.total))
}

fn too_large(message: String) -> Error {
    Error::new(ErrorKind::TooLarge, Step::WriteDestination, message)
}

/// A destination written in order.
enum Sink<'a> {
    /// Memory, up to `limit` bytes.
    Memory {
        data: Vec<u8>,
        limit: u64,
    },
    Writer(Pin<Box<dyn AsyncWrite + Send + 'a>>),
}

impl Sink<'_> {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), Error> {
        match self {
            Sink::Memory { data, limit } => {
                if (data.len() + chunk.len()) as u64 > *limit {
                    return Err(too_large(format!(
                        "more than the memory download limit of {limit} bytes arrived"
                    )));
                }
                data.extend_from_slice(chunk);
                Ok(())
            }
            Sink::Writer(w) => w
                .write_all(chunk)
                .await
                .map_err(|e| Error::local(Step::WriteDestination, "writing the destination", e)),
        }
    }
    async fn finish(&mut self) -> Result<(), Error> {
        match self {
            Sink::Memory { .. } => Ok(()),
            Sink::Writer(w) => w
                .flush()
                .await
                .map_err(|e| Error::local(Step::WriteDestination, "flushing the destination", e)),
        }
    }
}

struct Job {
    block_size: u64,
    concurrency: usize,
    expected: Option<BlobDigest>,
    /// The CRC-64 to check the bytes against.
    crc64: Option<u64>,
}

/// One range, or the whole blob from a server that ignored `Range`.
enum Fetched {
    Range(Bytes),
    Whole(Response<Body>),
}

impl Job {
    /// Verifies against the stored CRC-64 when asked, and against the stored MD5 when asked
    /// (by default: when there is no CRC-64 to check) and no digest was given.
    fn take_stored_checks(&mut self, probe: &Probe, (md5, crc64): (Option<bool>, bool)) {
        if crc64 {
            self.crc64 = probe.stored_crc64;
        }
        if md5.unwrap_or(self.crc64.is_none()) && self.expected.is_none() {
            self.expected = probe.stored_md5.clone();
        }
    }

    /// Fetches one range, pinned to `etag`. A server that ignores `Range` (200) answers with
    /// the whole blob, which the caller then reads once instead of one range per block.
    async fn fetch(
        &self,
        wire: &Wire<'_>,
        block: BlockRef,
        size: u64,
        etag: Option<&str>,
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
                    wire.read_counted(response.into_body(), block.len, credit, Step::GetRange)
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
    async fn fetch_checked(
        &self,
        wire: &Wire<'_>,
        block: BlockRef,
        size: u64,
        etag: Option<&str>,
    ) -> Result<(Fetched, Option<u64>), Error> {
        let fetched = self.fetch(wire, block, size, etag).await?;
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

    /// Downloads into memory or a writer, in order.
    async fn to_sink(
        &self,
        wire: &Wire<'_>,
        probe: Probe,
        sink: &mut Sink<'_>,
    ) -> Result<DownloadReport, Error> {
        let mut hasher = self
            .expected
            .as_ref()
            .map(|d| HashingThread::start(Hasher::for_digest(d)));
        let mut crc = self.crc64.map(|_| Running::new());
        let etag = probe.etag.clone();
        let (size, ranged) = match (probe.whole, probe.size) {
            (Some(response), size) => {
                let mut body = WholeBody::new(response, size);
                while let Some(chunk) = body.next(wire).await? {
                    if let Some(h) = hasher.as_mut() {
                        h.update(chunk.clone()).await;
                    }
                    if let Some(c) = crc.as_mut() {
                        c.update(&chunk);
                    }
                    sink.write(&chunk).await?;
                }
                (body.got, false)
            }
            (None, Some(size)) => {
                let block_size = self.block_size;
                let etag = etag.as_deref();
                let mut blocks = stream::iter(layout(size, block_size))
                    .map(|block| self.fetch_checked(wire, block, size, etag))
                    .buffered(self.concurrency);
                let mut written = 0u64;
                let mut whole = None;
                let mut ranged = true;
                while let Some(fetched) = blocks.next().await {
                    let (data, range_crc) = match fetched? {
                        (Fetched::Range(data), range_crc) => (data, range_crc),
                        (Fetched::Whole(response), _) => {
                            whole = Some(response);
                            break;
                        }
                    };
                    if let Some(h) = hasher.as_mut() {
                        h.update(data.clone()).await;
                    }
                    if let (Some(c), Some(range_crc)) = (crc.as_mut(), range_crc) {
                        c.append(range_crc, data.len() as u64);
                    }
                    // Counted in the progress as it arrived (`fetch`).
                    sink.write(&data).await?;
                    written += data.len() as u64;
                }
                // The server stopped honouring Range: the rest comes from this one body.
                drop(blocks);
                if let Some(response) = whole {
                    ranged = false;
                    let mut body = WholeBody::new(response, Some(size)).skipping(written);
                    while let Some(chunk) = body.next(wire).await? {
                        if let Some(h) = hasher.as_mut() {
                            h.update(chunk.clone()).await;
                        }
                        if let Some(c) = crc.as_mut() {
                            c.update(&chunk);
                        }
                        sink.write(&chunk).await?;
                    }
                }
                (size, ranged)
            }
            (None, None) => unreachable!("a probe without a body always has a size"),
        };
        sink.finish().await?;
        if let (Some(expected), Some(h)) = (&self.expected, hasher) {
            check(expected, &h.finish().await?)?;
        }
        if let (Some(expected), Some(c)) = (self.crc64, crc) {
            crc64::check(expected, c.finish().0)?;
        }
        // The last report inside blocks came at a whole MiB, or none came (an empty blob).
        wire.meter.report();
        Ok(DownloadReport {
            size,
            etag,
            resumed_bytes: 0,
            retries: wire.meter.retries(),
            ranged,
            path: None,
            bytes: None,
        })
    }

    /// Downloads into `.<name>.evo-download` beside `target`, then renames it into place.
    async fn to_file(
        &self,
        wire: &Wire<'_>,
        probe: Probe,
        target: &Path,
        resume: bool,
    ) -> Result<DownloadReport, Error> {
        let partial = sibling(target, ".evo-download");
        let state_path = sibling(target, ".evo-download.json");
        let etag = probe.etag.clone();
        let Some(size) = probe.size.filter(|_| probe.whole.is_none()) else {
            // Whole-body answer: write it in order; nothing to resume from.
            let response = probe.whole.expect("no size implies a whole body");
            let _ = std::fs::remove_file(&state_path);
            let file = open_partial(&partial).await?;
            truncate(&file, &partial, 0)?;
            // A second handle on the same open file keeps the OS lock until the rename.
            let _lock = file.try_clone().map_err(|e| {
                Error::local(
                    Step::WriteDestination,
                    format!("opening {}", partial.display()),
                    e,
                )
            })?;
            let cleanup = RemoveOnDrop(Some(partial.clone()));
            let mut hasher = self.expected.as_ref().map(Hasher::for_digest);
            let mut crc = self.crc64.map(|_| Running::new());
            let mut writer =
                tokio::io::BufWriter::with_capacity(1 << 20, tokio::fs::File::from_std(file));
            let mut body = WholeBody::new(response, probe.size);
            while let Some(chunk) = body.next(wire).await? {
                if let Some(h) = hasher.as_mut() {
                    h.update(&chunk);
                }
                if let Some(c) = crc.as_mut() {
                    c.update(&chunk);
                }
                writer.write_all(&chunk).await.map_err(|e| {
                    Error::local(Step::WriteDestination, "writing the partial file", e)
                })?;
            }
            let got = body.got;
            writer
                .flush()
                .await
                .map_err(|e| Error::local(Step::WriteDestination, "writing the partial file", e))?;
            drop(writer);
            if let (Some(expected), Some(h)) = (&self.expected, hasher) {
                check(expected, &h.finish())?;
            }
            if let (Some(expected), Some(c)) = (self.crc64, crc) {
                crc64::check(expected, c.finish().0)?;
            }
            publish(&partial, target).await?;
            cleanup.disarm();
            return Ok(DownloadReport {
                size: got,
                etag,
                resumed_bytes: 0,
                retries: wire.meter.retries(),
                ranged: false,
                path: Some(target.to_path_buf()),
                bytes: None,
            });
        };

        // Ranges have the configured size whatever the blob's: the 50,000-block limit is an
        // upload rule, and a block is what this download holds in memory at once.
        let block_size = self.block_size;
        let fresh = TransferState {
            version: TransferState::VERSION,
            blob: wire.url.blob_key(),
            etag: etag.clone(),
            source_modified_ns: None,
            source_fingerprint: None,
            size,
            block_size,
            done: Vec::new(),
            written: Vec::new(),
            boot_id: None,
            crc64: Default::default(),
        };
        // Held (with its OS lock) until the rename, so two processes never write one target.
        let file = open_partial(&partial).await?;
        // Resume only a partial file of the same blob version (same ETag); anything else starts over.
        let can_resume = resume && etag.is_some();
        let previous = if can_resume {
            load(&state_path).filter(|old| {
                let same = old.same_transfer_as(&fresh);
                if !same {
                    tracing::info!(target = %target.display(), "the partial download belongs to another blob version or layout; starting over");
                }
                same && std::fs::metadata(&partial).is_ok_and(|m| m.len() == size)
            })
        } else {
            None
        };
        let done: BTreeSet<u64> = previous.as_ref().map(|p| p.done_set()).unwrap_or_default();
        if previous.is_none() {
            let _ = std::fs::remove_file(&state_path);
        }
        if previous.is_none() {
            truncate(&file, &partial, 0)?;
        }
        truncate(&file, &partial, size)?;
        let file = Arc::new(file);
        let mut cleanup = RemoveOnDrop(Some(partial.clone()));
        let writer = if can_resume {
            // Keep the partial file for a resume, whatever happens.
            cleanup.0 = None;
            Some(StateWriter::new(
                state_path.clone(),
                previous.clone().unwrap_or(fresh),
                Some(file.clone()),
            ))
        } else {
            None
        };
        let resumed_bytes: u64 = done
            .iter()
            .map(|&index| block_size.min(size.saturating_sub(index * block_size)))
            .sum();
        if resumed_bytes > 0 {
            tracing::debug!(resumed_bytes, "resuming a partial download");
            wire.meter.add(resumed_bytes);
        }
        let todo = layout(size, block_size).filter(|b| !done.contains(&b.index));
        let pieces = Pieces::default();
        let blocks = stream::iter(todo)
            .map(|block| {
                let file = file.clone();
                let etag = etag.as_deref();
                let writer = writer.as_ref();
                let pieces = &pieces;
                async move {
                    let data = match self.fetch(wire, block, size, etag).await? {
                        Fetched::Range(data) => data,
                        Fetched::Whole(response) => return Ok(Some(response)),
                    };
                    if let Some(crc) = write_at(file, data, block, self.crc64.is_some()).await? {
                        pieces.insert(block.offset, block.len, crc);
                    }
                    // Counted in the progress as it arrived (`fetch`).
                    if let Some(w) = writer {
                        w.mark(block.index).await;
                    }
                    Ok::<_, Error>(None)
                }
                .boxed()
            })
            .buffer_unordered(self.concurrency);
        let mut blocks = Box::pin(blocks);
        let mut failure = None;
        let mut whole = None;
        while let Some(result) = blocks.next().await {
            match result {
                Ok(None) => {}
                Ok(Some(response)) => {
                    whole = Some(response);
                    break;
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        drop(blocks);
        let ranged = whole.is_none();
        let mut whole_crc = None;
        if let Some(response) = whole {
            // The server stopped honouring Range: one read of its whole body fills the file.
            match write_whole(wire, response, size, &file, self.crc64.is_some()).await {
                Ok(crc) => whole_crc = crc,
                Err(e) => failure = Some(e),
            }
        }
        if let Some(error) = failure {
            if error.kind() == ErrorKind::Changed {
                // Never mix versions: throw the partial data away.
                let _ = std::fs::remove_file(&partial);
                let _ = std::fs::remove_file(&state_path);
                return Err(error);
            }
            if let Some(w) = &writer {
                w.flush().await;
            }
            return Err(error.with_resumable(writer.is_some()));
        }
        // The last report inside blocks came at a whole MiB, or none came (an empty blob).
        wire.meter.report();
        if let Some(expected) = self.crc64 {
            let resumed = layout(size, block_size).filter(|b| done.contains(&b.index));
            let actual = match whole_crc {
                Some(crc) => Ok(crc),
                None => crc64_of_file(&pieces, file.clone(), resumed.collect(), size).await,
            };
            if let Err(e) = actual.and_then(|actual| crc64::check(expected, actual)) {
                let _ = std::fs::remove_file(&partial);
                let _ = std::fs::remove_file(&state_path);
                return Err(e);
            }
        }
        if let Some(expected) = &self.expected {
            let (path, like) = (partial.clone(), expected.clone());
            let actual = tokio::task::spawn_blocking(move || hash_file(&path, &like))
                .await
                .map_err(|e| join_error(Step::Verify, e))??;
            if let Err(e) = check(expected, &actual) {
                let _ = std::fs::remove_file(&partial);
                let _ = std::fs::remove_file(&state_path);
                return Err(e);
            }
        }
        publish(&partial, target).await?;
        drop(file);
        cleanup.disarm();
        let _ = std::fs::remove_file(&state_path);
        Ok(DownloadReport {
            size,
            etag,
            resumed_bytes,
            retries: wire.meter.retries(),
            ranged,
            path: Some(target.to_path_buf()),
            bytes: None,
        })
    }
}

/// A whole-blob body (the server ignored `Range`), read chunk by chunk with its length checked.
struct WholeBody {
    stream: evo_core::BodyStream,
    size: Option<u64>,
    got: u64,
    /// Leading bytes already written from ranges, passed over.
    skip: u64,
}

impl WholeBody {
    fn new(response: Response<Body>, size: Option<u64>) -> Self {
        WholeBody {
            stream: response.into_body().into_stream(),
            size,
            got: 0,
            skip: 0,
        }
    }

    fn skipping(mut self, bytes: u64) -> Self {
        self.skip = bytes;
        self
    }

    /// The next chunk; `None` at the end, after checking the length.
    async fn next(&mut self, wire: &Wire<'_>) -> Result<Option<Bytes>, Error> {
        let got = self.got;
        let chunk = match self.stream.next().await {
            None => {
                if let Some(s) = self.size
                    && got != s
                {
                    return Err(Error::from_core(
                        Step::GetRange,
                        evo_core::TransportError::new(
                            evo_core::TransportErrorKind::Connection,
                            format!("truncated body: {got} of {s} bytes arrived"),
                        )
                        .into(),
                    ));
                }
                return Ok(None);
            }
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                let expected = self.size.unwrap_or(got);
                return Err(Error::from_core(
                    Step::GetRange,
                    body_error(e, got, expected),
                ));
            }
        };
        self.got += chunk.len() as u64;
        if self.size.is_some_and(|s| self.got > s) {
            return Err(Error::new(
                ErrorKind::Protocol,
                Step::GetRange,
                "the body is longer than its Content-Length",
            ));
        }
        let start = self.got - chunk.len() as u64;
        let chunk = if start < self.skip {
            chunk.slice(((self.skip - start).min(chunk.len() as u64)) as usize..)
        } else {
            chunk
        };
        wire.meter.reach(self.got);
        Ok(Some(chunk))
    }
}

/// Writes a whole-blob body into the partial file from its start, 1 MiB at a time; its
/// CRC-64 when `crc`.
async fn write_whole(
    wire: &Wire<'_>,
    response: Response<Body>,
    size: u64,
    file: &Arc<std::fs::File>,
    crc: bool,
) -> Result<Option<u64>, Error> {
    let mut body = WholeBody::new(response, Some(size));
    let mut pending = bytes::BytesMut::new();
    let mut offset = 0u64;
    let mut running = crc.then(Running::new);
    loop {
        let chunk = body.next(wire).await?;
        let end = chunk.is_none();
        if let Some(c) = chunk {
            if let Some(r) = running.as_mut() {
                r.update(&c);
            }
            pending.extend_from_slice(&c);
        }
        if pending.len() >= 1 << 20 || (end && !pending.is_empty()) {
            let data = pending.split().freeze();
            let block = BlockRef {
                index: 0,
                offset,
                len: data.len() as u64,
            };
            offset += block.len;
            write_at(file.clone(), data, block, false).await?;
        }
        if end {
            return Ok(running.map(|r| r.finish().0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_RANGE, value.parse().unwrap());
        h
    }

    #[test]
    fn content_range_is_parsed_strictly() {
        assert_eq!(
            ContentRange::parse(&headers("bytes 0-9/100")).unwrap(),
            ContentRange {
                first: 0,
                last: 9,
                total: Some(100)
            }
        );
        assert_eq!(
            ContentRange::parse(&headers("bytes 5-9/*")).unwrap().total,
            None
        );
        for bad in [
            "bytes 9-0/100",
            "bytes 0-100/100",
            "items 0-1/2",
            "bytes 0-1",
            "bytes a-b/c",
            "bytes -1-2/3",
        ] {
            assert!(ContentRange::parse(&headers(bad)).is_err(), "{bad}");
        }
        assert!(ContentRange::parse(&HeaderMap::new()).is_err());
    }

    proptest::proptest! {
        /// Any header text: a range that makes sense (first <= last < total) or an error.
        #[test]
        fn any_content_range_text_gives_a_sane_range_or_an_error(text in "\\PC{0,60}") {
            if let Ok(value) = http::HeaderValue::from_str(&text) {
                let mut h = HeaderMap::new();
                h.insert(header::CONTENT_RANGE, value);
                if let Ok(r) = ContentRange::parse(&h) {
                    proptest::prop_assert!(r.first <= r.last);
                    proptest::prop_assert!(r.total.is_none_or(|t| r.last < t));
                }
            }
        }

        /// Well-formed ranges are read exactly, whatever the numbers.
        #[test]
        fn well_formed_ranges_are_read_exactly(
            first in proptest::num::u64::ANY,
            len in proptest::num::u64::ANY,
            extra in proptest::option::of(proptest::num::u64::ANY),
        ) {
            let last = first.saturating_add(len);
            let total = extra.map(|e| last.saturating_add(e).saturating_add(1).max(last));
            let text = match total {
                Some(t) => format!("bytes {first}-{last}/{t}"),
                None => format!("bytes {first}-{last}/*"),
            };
            let parsed = ContentRange::parse(&headers(&text));
            match total {
                Some(t) if t <= last => proptest::prop_assert!(parsed.is_err()),
                _ => proptest::prop_assert_eq!(parsed.unwrap(), ContentRange { first, last, total }),
            }
        }
    }
}
