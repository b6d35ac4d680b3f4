//! Downloads: probe (HEAD, or a first ranged GET), parallel ranged GETs pinned with `If-Match`,
//! checked `Content-Range`, positional writes into a partial file, fsync, atomic rename.
//!
//! What lives where: `probe` finds the blob's size and version; `fetch` holds a download's
//! settings and fetches one range; `sink` downloads in order into memory or a writer; `file`
//! into a partial file that resumes and is renamed into place (both with as many ranges in
//! flight as adaptive concurrency allows, [`crate::concurrency`]); `whole` reads the body of a
//! server that ignored `Range`; `trailing_hash` hashes a file download's written prefix while
//! its ranges still arrive; `expect` checks the size and version the caller expects; `headers`
//! reads answers' headers; `report` holds what a finished download did; `destination` is where
//! a download goes ([`Destination`]).

mod destination;
mod expect;
mod fetch;
mod file;
mod headers;
mod probe;
mod report;
mod sink;
mod trailing_hash;
mod whole;

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use bytes::Bytes;
use evo_core::Feedback;
use url::Url;

use crate::digest::BlobDigest;
use crate::error::{Error, ErrorKind, Step};
use crate::request::Wire;
use crate::shared::ClientInner;
use crate::url::{RenewUrl, SignedUrl};
pub use destination::Destination;
use destination::DestinationInner;
use fetch::Job;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use headers::parse_content_range;
use probe::{pinned_or_whole, probe};
pub use report::DownloadReport;
use sink::{Sink, too_large};

/// A download to set up and then await. Made by [`BlobClient::download`](crate::BlobClient::download).
#[must_use = "a download does nothing until it is awaited"]
pub struct Download<'a> {
    /// The transport and settings of the client that made it.
    client: &'a ClientInner,
    url: Url,
    destination: Destination<'a>,
    renewer: Option<Arc<dyn RenewUrl + 'static>>,
    feedback: Option<&'a dyn Feedback>,
    resume: bool,
    overwrite: bool,
    expected: Option<BlobDigest>,
    expected_size: Option<u64>,
    expected_etag: Option<String>,
    verify_stored_md5: Option<bool>,
    verify_crc64: bool,
    direct_writes: Option<bool>,
    target_locked: bool,
}

impl<'a> Download<'a> {
    pub(crate) fn new(client: &'a ClientInner, url: Url, destination: Destination<'a>) -> Self {
        Download {
            client,
            url,
            destination,
            renewer: None,
            feedback: None,
            resume: true,
            overwrite: false,
            expected: None,
            expected_size: None,
            expected_etag: None,
            verify_stored_md5: None,
            verify_crc64: true,
            direct_writes: None,
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

    /// Checks the blob's size against `size` (e.g. the size a service's metadata gives): a
    /// size the server claims is checked before any range is fetched, the bytes that arrived
    /// before anything is published. A mismatch fails the download with
    /// [`ErrorKind::Integrity`] and leaves no file under the target name.
    pub fn expect_size(mut self, size: u64) -> Self {
        self.expected_size = Some(size);
        self
    }

    /// Checks the blob's ETag (quotes aside) against `etag` (e.g. the version a service's
    /// metadata describes) before any range is fetched: another version fails the download
    /// with [`ErrorKind::Changed`]. An empty `etag`, or a server that sends none, checks
    /// nothing.
    pub fn expect_etag(mut self, etag: impl Into<String>) -> Self {
        self.expected_etag = Some(etag.into());
        self
    }

    /// Checks the whole download against the MD5 the blob service stores for the blob
    /// (`Content-MD5`), when it gives one and no [`expect_digest`](Download::expect_digest)
    /// was set. By default it does so only for a blob without a CRC-64 to
    /// [verify](Download::verify_crc64): the CRC-64 is combined from the ranges' values, while
    /// the MD5 of a file destination is computed by reading each range back (from the page
    /// cache) once the bytes before it are written, on a thread of its own while later ranges
    /// still arrive. A mismatch fails the download with [`ErrorKind::Integrity`] and leaves no
    /// file under the target name.
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

    /// For a file destination: whether ranges are written past the page cache where that
    /// helps (default: the client's
    /// [`direct_writes`](crate::BlobClientBuilder::direct_writes), on unless turned off).
    pub fn direct_writes(mut self, direct: bool) -> Self {
        self.direct_writes = Some(direct);
        self
    }

    pub(crate) fn target_already_locked(mut self) -> Self {
        self.target_locked = true;
        self
    }

    async fn run(self) -> Result<DownloadReport, Error> {
        let config = &self.client.config;
        let url = SignedUrl::new(self.url, self.renewer, config.renew_debounce)?;
        let mut wire = Wire::new(self.client, url, self.feedback);
        let mut job = Job {
            block_size: config.block_size,
            tuning: config.tuning(),
            expected: self.expected,
            crc64: None,
            expected_size: self.expected_size,
            expected_etag: self.expected_etag,
            direct_writes: self.direct_writes.unwrap_or(config.direct_writes),
        };
        let verify = (self.verify_stored_md5, self.verify_crc64);
        let wire_ref = &wire;
        let job_ref = &job;
        let probe = |limit: Option<u64>| async move {
            let probe = probe(wire_ref).await?;
            if let Some(limit) = limit
                && let Some(size) = probe.size.filter(|&s| s > limit)
            {
                return Err(too_large(format!(
                    "the blob holds {size} bytes, more than the memory download limit of {limit} bytes"
                )));
            }
            let probe = pinned_or_whole(wire_ref, probe).await?;
            job_ref.check_claims(&probe)?;
            Ok(probe)
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
