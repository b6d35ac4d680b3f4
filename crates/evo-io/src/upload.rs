//! Uploads to Azure block blobs: `Put Blob` for small sources, otherwise `Put Block` per block
//! (in parallel, bounded) and `Put Block List` to commit.

use std::collections::{BTreeMap, HashMap};
use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use evo_core::{Body, Feedback};
use futures_util::stream::BoxStream;
use futures_util::{FutureExt as _, StreamExt, TryStreamExt, stream};
use http::{Method, Request, header};
use tokio::io::AsyncRead;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::blocks::{
    MAX_BLOB_SIZE, MAX_BLOCKS, block_id, block_id_param, block_list_xml, block_size_for, layout,
    parse_block_list,
};
use crate::client::{BlobClient, Source, SourceInner};
use crate::crc64::{self, Pieces};
use crate::digest::{BlobDigest, md5_of};
use crate::dual_md5::Md5;
use crate::error::{BlockRef, Committed, Error, ErrorKind, Step, join_error};
use crate::feed::{BufferPool, Feed, open_source, read_full};
use crate::integrity::{BlockCheck, Integrity};
use crate::progress::BlockCredit;
use crate::request::{AttemptUrl, Failure, Wire, fatal};
use crate::state::{StateWriter, TransferState, load, sibling};
use crate::url::{RenewUrl, SignedUrl, with_params};

/// The largest `Get Block List` answer read (50,000 blocks of about 100 bytes each, and room).
const BLOCK_LIST_LIMIT: usize = 16 * 1024 * 1024;

/// An upload to set up and then await. Made by [`BlobClient::upload`].
#[must_use = "an upload does nothing until it is awaited"]
pub struct Upload<'a> {
    client: &'a BlobClient,
    url: Url,
    source: Source<'a>,
    renewer: Option<Arc<dyn RenewUrl + 'static>>,
    feedback: Option<&'a dyn Feedback>,
    resume: Option<bool>,
    content_type: Option<String>,
    integrity: Option<Integrity>,
}

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
    /// [`Integrity::Md5`] and [`Integrity::Both`].
    pub md5: Option<BlobDigest>,
    /// Azure's CRC-64 of the whole blob, stored as its metadata `evo_crc64`, with
    /// [`Integrity::Crc64`] (the default) and [`Integrity::Both`].
    pub crc64: Option<u64>,
}

impl<'a> Upload<'a> {
    pub(crate) fn new(client: &'a BlobClient, url: Url, source: Source<'a>) -> Self {
        Upload {
            client,
            url,
            source,
            renewer: None,
            feedback: None,
            resume: None,
            content_type: None,
            integrity: None,
        }
    }

    /// Called for a fresh URL when the current one is refused (401/403), e.g. after it expired.
    /// Without it, a refusal ends the upload.
    pub fn renew_with(mut self, renewer: impl RenewUrl + 'static) -> Self {
        self.renewer = Some(Arc::new(renewer));
        self
    }

    /// The same as [`Upload::renew_with`] for a shared callback.
    pub fn renew_with_shared(mut self, renewer: Arc<dyn RenewUrl + 'static>) -> Self {
        self.renewer = Some(renewer);
        self
    }

    /// Receives byte-based progress (bytes acknowledged by the server, total, retries).
    pub fn feedback(mut self, feedback: &'a dyn Feedback) -> Self {
        self.feedback = Some(feedback);
        self
    }

    /// Continue an interrupted upload (default on): blocks the server already holds
    /// (`Get Block List`, or the state file `.<name>.evo-upload` beside a source file when the
    /// URL may not list blocks) are not sent again. The state file records each block's
    /// CRC-64: a block of the file that no longer has it is sent again. Reused blocks are read
    /// from the source all the same, for the whole-blob checksum.
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = Some(resume);
        self
    }

    /// The checksums this upload sends and stores (default: the client's,
    /// [`Integrity::Crc64`] unless set with
    /// [`BlobClientBuilder::integrity`](crate::BlobClientBuilder::integrity)).
    pub fn integrity(mut self, integrity: Integrity) -> Self {
        self.integrity = Some(integrity);
        self
    }

    /// The blob's content type (`x-ms-blob-content-type`).
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    async fn run(self) -> Result<UploadReport, Error> {
        let config = &self.client.inner.config;
        let url = SignedUrl::new(self.url, self.renewer, config.renew_debounce)?;
        let mut wire = Wire::new(&self.client.inner, url, self.feedback);
        let content_type = self.content_type;
        let integrity = self.integrity.unwrap_or(config.integrity);
        match self.source.inner {
            SourceInner::File(path) => {
                let resume = self.resume.unwrap_or(true);
                let (file, len, modified_ns) = open_source(&path).await?;
                check_blob_size(len)?;
                wire.meter.set_total(Some(len));
                let feed = Feed::File {
                    file: Arc::new(file),
                    path: path.clone(),
                };
                if len <= config.single_put_max {
                    let data = feed.read(whole(len), None).await?;
                    return put_blob(&wire, data, content_type.as_deref(), integrity).await;
                }
                let state = match resume {
                    true => Some(StateSpec {
                        path: sibling(&path, ".evo-upload"),
                        modified_ns,
                        fingerprint: feed.fingerprint(len).await?,
                    }),
                    false => None,
                };
                let block_size = block_size_for(len, config.block_size);
                let stager = Stager::new(
                    &wire,
                    block_size,
                    content_type,
                    config.concurrency,
                    integrity,
                );
                stager.positional(feed, len, resume, state).await
            }
            SourceInner::Bytes(bytes) => {
                let len = bytes.len() as u64;
                check_blob_size(len)?;
                wire.meter.set_total(Some(len));
                if len <= config.single_put_max {
                    return put_blob(&wire, bytes, content_type.as_deref(), integrity).await;
                }
                let block_size = block_size_for(len, config.block_size);
                let stager = Stager::new(
                    &wire,
                    block_size,
                    content_type,
                    config.concurrency,
                    integrity,
                );
                let resume = self.resume.unwrap_or(false);
                stager
                    .positional(Feed::Memory(bytes), len, resume, None)
                    .await
            }
            SourceInner::Reader { mut reader, len } => {
                if let Some(len) = len {
                    check_blob_size(len)?;
                }
                wire.meter.set_total(len);
                let block_size = match len {
                    Some(len) => block_size_for(len, config.block_size),
                    None => config.block_size,
                };
                let first = read_full(&mut reader, block_size).await?;
                let first_len = first.len() as u64;
                if first_len < block_size && first_len <= config.single_put_max {
                    check_reader_len(len, first_len)?;
                    return put_blob(&wire, first, content_type.as_deref(), integrity).await;
                }
                let stager = Stager::new(
                    &wire,
                    block_size,
                    content_type,
                    config.concurrency,
                    integrity,
                );
                let resume = self.resume.unwrap_or(false);
                stager.streamed(reader, first, len, resume).await
            }
        }
    }
}

impl<'a> IntoFuture for Upload<'a> {
    type Output = Result<UploadReport, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

fn whole(len: u64) -> BlockRef {
    BlockRef {
        index: 0,
        offset: 0,
        len,
    }
}

/// A source over [`MAX_BLOB_SIZE`] cannot become one block blob (and would need blocks larger
/// than any buffer this upload should hold).
fn check_blob_size(len: u64) -> Result<(), Error> {
    if len > MAX_BLOB_SIZE {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            Step::Prepare,
            format!("{len} bytes is more than a block blob can hold ({MAX_BLOB_SIZE} bytes)"),
        ));
    }
    Ok(())
}

fn check_reader_len(expected: Option<u64>, got: u64) -> Result<(), Error> {
    match expected {
        Some(e) if e != got => Err(Error::new(
            ErrorKind::Local,
            Step::ReadSource,
            format!("the reader gave {got} bytes but its length was given as {e}"),
        )),
        _ => Ok(()),
    }
}

/// Where a file source keeps its resume state, and what identifies the file.
struct StateSpec {
    path: PathBuf,
    modified_ns: Option<u128>,
    fingerprint: Option<String>,
}

/// A `Put Blob` of the whole source, with `Content-MD5` ([`Integrity::Md5`],
/// [`Integrity::Both`]) or `x-ms-content-crc64`, and the CRC-64 metadata unless MD5 alone.
async fn put_blob(
    wire: &Wire<'_>,
    data: Bytes,
    content_type: Option<&str>,
    integrity: Integrity,
) -> Result<UploadReport, Error> {
    let len = data.len() as u64;
    let (md5, crc) = {
        let data = data.clone();
        tokio::task::spawn_blocking(move || {
            let md5 = integrity.md5().then(|| md5_of(&data));
            (md5, integrity.crc64().then(|| crc64::of(&data)))
        })
        .await
        .map_err(|e| join_error(Step::PutBlob, e))?
    };
    let check = match (md5, crc) {
        (Some(md5), _) => BlockCheck::Md5(md5),
        (None, crc) => BlockCheck::Crc64(crc.unwrap_or_default()),
    };
    let (check_name, check_value) = check.header();
    let unanswered = AtomicBool::new(false);
    let credit = Arc::new(BlockCredit::default());
    wire.retrying(Step::PutBlob, None, |target| {
        let body = wire.meter.counted_body(data.clone(), &credit);
        let check_value = check_value.clone();
        let unanswered = &unanswered;
        async move {
            let mut request = Request::builder()
                .method(Method::PUT)
                .uri(target.url().as_str())
                .header(header::CONTENT_LENGTH, len)
                .header("x-ms-blob-type", "BlockBlob")
                .header(check_name, check_value);
            if let Some(crc) = crc {
                request = request.header(crc64::METADATA_HEADER, crc64::to_header(crc));
            }
            if let Some(ct) = content_type {
                request = request.header("x-ms-blob-content-type", ct);
            }
            let request = request
                .body(body)
                .map_err(|e| bad_request(Step::PutBlob, e))?;
            commit_attempt(wire, &target, request, Step::PutBlob, unanswered)
                .await
                .map_err(mismatch_is_transient)
        }
    })
    .await
    .map_err(|e| commit_state(e, &unanswered))?;
    wire.meter.finish(&credit, len);
    Ok(UploadReport {
        size: len,
        blocks: 0,
        block_size: len,
        reused_blocks: 0,
        retries: wire.meter.retries(),
        md5: md5.map(BlobDigest::Md5),
        crc64: crc,
    })
}

/// A body refused for its checksum (`400 Crc64Mismatch` or `Md5Mismatch`) changed on the way
/// after the checksum was computed from the buffer: the server stored nothing, and the same
/// buffer sent again may arrive whole. Tried again within the retry policy; a refusal that
/// persists (a proxy that rewrites bodies) ends the upload with that status.
fn mismatch_is_transient(failure: Failure) -> Failure {
    let code = failure
        .error()
        .core()
        .and_then(evo_core::Error::as_api)
        .and_then(evo_core::ApiError::storage_error_code);
    if matches!(code, Some("Crc64Mismatch" | "Md5Mismatch")) {
        tracing::debug!(
            ?code,
            "the server refused a body for its checksum; sending it again"
        );
        Failure::transient(failure.into_error()).unprocessed()
    } else {
        failure
    }
}

/// The commit named a block the server does not hold (it expired, or was never staged).
fn is_invalid_block_list(error: &Error) -> bool {
    error
        .core()
        .and_then(evo_core::Error::as_api)
        .and_then(evo_core::ApiError::storage_error_code)
        == Some("InvalidBlockList")
}

/// A commit that failed on the connection may have happened, and so may one whose last
/// attempt was answered (or whose URL could not be renewed) after an earlier attempt lost its
/// answer.
fn commit_state(e: Error, unanswered: &AtomicBool) -> Error {
    if e.kind() == ErrorKind::Transport || unanswered.load(Ordering::SeqCst) {
        e.with_committed(Committed::Unknown)
    } else {
        e
    }
}

/// One attempt of a commit (`Put Blob`, `Put Block List`): [`expect_success`], noting in
/// `unanswered` an attempt that failed without an answer (it may have committed).
async fn commit_attempt(
    wire: &Wire<'_>,
    target: &AttemptUrl,
    request: Request<Body>,
    step: Step,
    unanswered: &AtomicBool,
) -> Result<(), Failure> {
    let response = match wire.send(request, step).await {
        Ok(response) => response,
        Err(failure) => {
            unanswered.store(true, Ordering::SeqCst);
            return Err(failure);
        }
    };
    if response.status().is_success() {
        let _ = wire.read_up_to(response.into_body(), 64 * 1024).await;
        Ok(())
    } else {
        Err(wire
            .status_failure(Method::PUT, target, response, step)
            .await)
    }
}

fn bad_request(step: Step, e: http::Error) -> Failure {
    fatal(
        ErrorKind::InvalidInput,
        step,
        format!("cannot build the request: {e}"),
    )
}

/// Sends `request` and accepts any 2xx (reading its small body so the connection is reused).
async fn expect_success(
    wire: &Wire<'_>,
    method: Method,
    target: &AttemptUrl,
    request: Request<Body>,
    step: Step,
) -> Result<(), Failure> {
    let response = wire.send(request, step).await?;
    if response.status().is_success() {
        let _ = wire.read_up_to(response.into_body(), 64 * 1024).await;
        Ok(())
    } else {
        Err(wire.status_failure(method, target, response, step).await)
    }
}

/// The staged (block) upload of one blob.
///
/// Blocks flow through three stages: read (in parallel for positional sources, in order for
/// readers); with MD5, hashed strictly in order (the whole-blob MD5 and, for
/// [`Integrity::Md5`], the block's `Content-MD5` in one pass); then checksummed with CRC-64
/// (each block in its own task) and sent, in parallel. A block holds one of `concurrency`
/// buffer permits from before it is read until it is staged, which bounds memory to
/// `concurrency × block size`.
struct Stager<'w, 'a> {
    wire: &'w Wire<'a>,
    block_size: u64,
    content_type: Option<String>,
    concurrency: usize,
    integrity: Integrity,
    whole_md5: Arc<std::sync::Mutex<Md5>>,
    /// The CRC-64 of every block, combined in block order at the commit.
    crcs: Pieces,
    permits: Arc<Semaphore>,
    pool: BufferPool,
    reused: AtomicU64,
    sent: AtomicU64,
}

/// What an interrupted upload left on the server: block offset → size, and the CRC-64 its
/// state file recorded for a block (block index → CRC).
#[derive(Default)]
struct Staged {
    sizes: HashMap<u64, u64>,
    crcs: BTreeMap<u64, u64>,
}

impl Staged {
    /// Whether the server holds a block of this offset and size, so it need not be sent.
    fn holds(&self, block: BlockRef) -> bool {
        self.sizes.get(&block.offset) == Some(&block.len)
    }

    /// Whether `crc` (the source's block now) agrees with the CRC recorded when the block was
    /// staged; true when either is unknown.
    fn agrees(&self, block: BlockRef, crc: Option<u64>) -> bool {
        let recorded = self.crcs.get(&block.index);
        recorded.is_none_or(|r| crc.is_none_or(|c| c == *r))
    }
}

/// A block read from the source, holding one of the transfer's buffer permits.
struct ReadBlock {
    block: BlockRef,
    data: Bytes,
    _permit: OwnedSemaphorePermit,
}

/// A reader being cut into blocks.
struct ReaderBlocks<'r> {
    reader: Pin<Box<dyn AsyncRead + Send + 'r>>,
    first: Option<Bytes>,
    next: BlockRef,
    ended: bool,
}

impl<'w, 'a> Stager<'w, 'a> {
    fn new(
        wire: &'w Wire<'a>,
        block_size: u64,
        content_type: Option<String>,
        concurrency: usize,
        integrity: Integrity,
    ) -> Self {
        Stager {
            wire,
            block_size,
            content_type,
            concurrency,
            integrity,
            whole_md5: Arc::new(std::sync::Mutex::new(Md5::new())),
            crcs: Pieces::default(),
            permits: Arc::new(Semaphore::new(concurrency)),
            pool: BufferPool::new(concurrency),
            reused: AtomicU64::new(0),
            sent: AtomicU64::new(0),
        }
    }

    async fn permit(&self) -> Result<OwnedSemaphorePermit, Error> {
        self.permits.clone().acquire_owned().await.map_err(|_| {
            Error::new(
                ErrorKind::Local,
                Step::ReadSource,
                "the block buffer permits were closed",
            )
        })
    }

    /// Uploads a file or bytes: blocks are read in parallel at their offsets.
    ///
    /// Blocks are reused only from a record of this source: the state file of a file source
    /// (checked against the server's list when it gives one, and against the block's CRC-64
    /// when the state recorded one), or, for bytes asked to resume, the server's list itself.
    /// Reused blocks that expired before the commit make the commit fail with
    /// `InvalidBlockList`: then every block is staged again, once.
    async fn positional(
        &self,
        feed: Feed,
        len: u64,
        resume: bool,
        state: Option<StateSpec>,
    ) -> Result<UploadReport, Error> {
        let listed = if resume {
            self.listed_blocks().await
        } else {
            None
        };
        let (staged, writer) = match state {
            Some(spec) => {
                let fresh = TransferState {
                    version: TransferState::VERSION,
                    blob: self.wire.url.blob_key(),
                    etag: None,
                    source_modified_ns: spec.modified_ns,
                    source_fingerprint: spec.fingerprint,
                    size: len,
                    block_size: self.block_size,
                    done: Vec::new(),
                    written: Vec::new(),
                    boot_id: None,
                    crc64: BTreeMap::new(),
                };
                let previous = load(&spec.path).filter(|s| s.same_transfer_as(&fresh));
                let crcs = previous
                    .as_ref()
                    .map(|p| p.crc64.clone())
                    .unwrap_or_default();
                let sent_by_this_source: HashMap<u64, u64> = previous
                    .iter()
                    .flat_map(|p| p.done_set())
                    .map(|i| {
                        let offset = i * self.block_size;
                        (offset, self.block_size.min(len.saturating_sub(offset)))
                    })
                    .filter(|(offset, size)| {
                        // When the server lists its blocks, it must still hold this one.
                        listed.as_ref().is_none_or(|l| l.get(offset) == Some(size))
                    })
                    .collect();
                let writer = StateWriter::new(spec.path, previous.unwrap_or(fresh), None);
                let staged = Staged {
                    sizes: sent_by_this_source,
                    crcs,
                };
                (staged, Some(writer))
            }
            None => {
                let sizes = listed.unwrap_or_default();
                let staged = Staged {
                    sizes,
                    ..Staged::default()
                };
                (staged, None)
            }
        };
        let feed = &feed;
        let first = self
            .stage_positional(feed, len, &staged, writer.as_ref())
            .await;
        let count = match first {
            Ok(count) => count,
            Err(error) => {
                if let Some(w) = &writer {
                    w.flush().await;
                }
                return Err(self.failed(error, resume));
            }
        };
        match self.commit(count, len).await {
            Err(error)
                if is_invalid_block_list(&error) && self.reused.load(Ordering::Relaxed) > 0 =>
            {
                tracing::info!("blocks staged before expired; staging every block again");
                if let Some(w) = &writer {
                    w.remove();
                }
                self.start_over();
                let count = self
                    .stage_positional(feed, len, &Staged::default(), None)
                    .await
                    .map_err(|e| self.failed(e, false))?;
                self.commit(count, len).await?;
            }
            result => result?,
        }
        if let Some(w) = &writer {
            w.remove();
        }
        self.report(len, count)
    }

    /// Reads, hashes and stages every block of a positional source (reusing `staged` ones);
    /// the block count.
    async fn stage_positional(
        &self,
        feed: &Feed,
        len: u64,
        staged: &Staged,
        writer: Option<&StateWriter>,
    ) -> Result<u64, Error> {
        // Permits are taken in block order (a sequential stage), so the in-order hashing below
        // never waits for a block that cannot get a buffer.
        let reads = stream::iter(layout(len, self.block_size))
            .then(|block| async move { (block, self.permit().await) }.boxed())
            .map(|(block, permit)| {
                async move {
                    let permit = permit?;
                    let data = feed.read(block, Some(&self.pool)).await?;
                    Ok(ReadBlock {
                        block,
                        data,
                        _permit: permit,
                    })
                }
                .boxed()
            })
            .buffered(self.concurrency)
            .boxed();
        let (count, total) = self.stage_all(reads, staged, writer).await?;
        debug_assert_eq!(total, len);
        Ok(count)
    }

    /// Forgets the blocks staged so far (their hashes and counts) before staging all again.
    fn start_over(&self) {
        *self.whole_md5.lock().unwrap_or_else(|p| p.into_inner()) = Md5::new();
        self.crcs.clear();
        self.reused.store(0, Ordering::Relaxed);
        self.sent.store(0, Ordering::Relaxed);
    }

    /// Uploads from a reader: blocks are read in order, uploaded in parallel.
    async fn streamed(
        &self,
        reader: Pin<Box<dyn AsyncRead + Send + '_>>,
        first: Bytes,
        expected: Option<u64>,
        resume: bool,
    ) -> Result<UploadReport, Error> {
        let staged = Staged {
            sizes: match resume {
                true => self.listed_blocks().await.unwrap_or_default(),
                false => HashMap::new(),
            },
            ..Staged::default()
        };
        let start = ReaderBlocks {
            reader,
            first: Some(first),
            next: BlockRef {
                index: 0,
                offset: 0,
                len: 0,
            },
            ended: false,
        };
        let reads =
            stream::try_unfold(start, |blocks| self.next_from_reader(blocks).boxed()).boxed();
        let (count, total) = self
            .stage_all(reads, &staged, None)
            .await
            .map_err(|e| self.failed(e, resume))?;
        check_reader_len(expected, total)?;
        self.commit(count, total).await?;
        self.report(total, count)
    }

    /// Cuts the next block off a reader (taking its buffer permit first).
    async fn next_from_reader<'r>(
        &self,
        mut blocks: ReaderBlocks<'r>,
    ) -> Result<Option<(ReadBlock, ReaderBlocks<'r>)>, Error> {
        if blocks.ended {
            return Ok(None);
        }
        let permit = self.permit().await?;
        let data = match blocks.first.take() {
            Some(d) => d,
            None => read_full(&mut blocks.reader, self.block_size).await?,
        };
        if data.is_empty() {
            return Ok(None);
        }
        if blocks.next.index >= MAX_BLOCKS {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                Step::ReadSource,
                format!(
                    "the reader holds more than {MAX_BLOCKS} blocks of {} bytes: give its length or a larger block size",
                    self.block_size
                ),
            ));
        }
        let block = BlockRef {
            len: data.len() as u64,
            ..blocks.next
        };
        blocks.ended = block.len < self.block_size;
        blocks.next = BlockRef {
            index: block.index + 1,
            offset: block.offset + block.len,
            len: 0,
        };
        let read = ReadBlock {
            block,
            data,
            _permit: permit,
        };
        Ok(Some((read, blocks)))
    }

    /// Hashes blocks as they come (the MD5 in order), checksums and sends them `concurrency` at
    /// a time; the block count and byte total of a complete run, or the first error (the
    /// blocks still in flight are dropped, and so cancelled).
    async fn stage_all(
        &self,
        reads: BoxStream<'_, Result<ReadBlock, Error>>,
        staged: &Staged,
        writer: Option<&StateWriter>,
    ) -> Result<(u64, u64), Error> {
        let md5_alone = self.integrity == Integrity::Md5;
        let sends = reads
            .and_then(|read| {
                async move {
                    let held = staged.holds(read.block);
                    let md5 = match self.integrity.md5() {
                        true => {
                            let own = md5_alone && !held;
                            self.hash(read.block, read.data.clone(), own).await?
                        }
                        false => None,
                    };
                    Ok((read, held, md5))
                }
                .boxed()
            })
            .map(|hashed| {
                async move {
                    let (read, held, md5) = hashed?;
                    let ReadBlock {
                        block,
                        data,
                        _permit,
                    } = read;
                    let crc = self.block_crc(block, &data).await?;
                    if held && staged.agrees(block, crc) {
                        self.reused.fetch_add(1, Ordering::Relaxed);
                        self.wire.meter.add(block.len);
                    } else {
                        if held {
                            tracing::info!(
                                index = block.index,
                                "the source's block changed since it was staged; sending it again"
                            );
                        }
                        let check = match (crc, md5) {
                            (Some(crc), _) => BlockCheck::Crc64(crc),
                            (None, Some(md5)) => BlockCheck::Md5(md5),
                            (None, None) => BlockCheck::Md5(md5_of(&data)),
                        };
                        self.put_block(block, data.clone(), check).await?;
                        self.sent.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Some(crc) = crc {
                        self.crcs.insert(block.offset, block.len, crc);
                    }
                    if let Some(w) = writer {
                        w.mark_with_crc(block.index, crc).await;
                    }
                    self.pool.give(data);
                    Ok::<_, Error>(block)
                }
                .boxed()
            })
            .buffer_unordered(self.concurrency)
            .boxed();
        let mut sends = sends;
        let (mut count, mut total) = (0u64, 0u64);
        while let Some(done) = sends.next().await {
            let block = done?;
            count += 1;
            total += block.len;
        }
        Ok((count, total))
    }

    /// Feeds the next block (in order) to the whole-blob MD5 and, when `own` (the block is to be
    /// sent), returns its own MD5 from the same pass.
    async fn hash(
        &self,
        block: BlockRef,
        data: Bytes,
        own: bool,
    ) -> Result<Option<[u8; 16]>, Error> {
        let whole = self.whole_md5.clone();
        let md5 = tokio::task::spawn_blocking(move || {
            let mut whole = whole.lock().unwrap_or_else(|p| p.into_inner());
            if own {
                let mut block_md5 = Md5::new();
                whole.update_both(&mut block_md5, &data);
                Some(block_md5.digest())
            } else {
                whole.update(&data);
                None
            }
        })
        .await
        .map_err(|e| join_error(Step::ReadSource, e).with_block(block))?;
        tracing::trace!(index = block.index, "block hashed");
        Ok(md5)
    }

    /// The block's CRC-64, when the upload sends them (on the blocking pool, in parallel with
    /// the other blocks).
    async fn block_crc(&self, block: BlockRef, data: &Bytes) -> Result<Option<u64>, Error> {
        if !self.integrity.crc64() {
            return Ok(None);
        }
        let crc = crc64::of_bytes(data.clone())
            .await
            .map_err(|e| join_error(Step::ReadSource, e).with_block(block))?;
        Ok(Some(crc))
    }

    /// The whole-blob MD5, when the upload computes it.
    fn whole_digest(&self) -> Option<[u8; 16]> {
        let md5 = self.whole_md5.lock().unwrap_or_else(|p| p.into_inner());
        self.integrity.md5().then(|| md5.digest())
    }

    /// The whole-blob CRC-64 combined from the blocks' (`len` bytes), when the upload sends
    /// them.
    fn whole_crc(&self, len: u64) -> Result<Option<u64>, Error> {
        if !self.integrity.crc64() {
            return Ok(None);
        }
        self.crcs.combined(len).map(Some).map_err(|m| {
            Error::new(
                ErrorKind::Integrity,
                Step::PutBlockList,
                format!("cannot combine the blob's CRC-64: {m}"),
            )
        })
    }

    fn failed(&self, error: Error, resume: bool) -> Error {
        let kept = self.sent.load(Ordering::Relaxed) + self.reused.load(Ordering::Relaxed) > 0;
        error.with_resumable(resume && kept)
    }

    fn report(&self, len: u64, count: u64) -> Result<UploadReport, Error> {
        Ok(UploadReport {
            size: len,
            blocks: count,
            block_size: self.block_size,
            reused_blocks: self.reused.load(Ordering::Relaxed),
            retries: self.wire.meter.retries(),
            md5: self.whole_digest().map(BlobDigest::Md5),
            crc64: self.whole_crc(len)?,
        })
    }

    async fn put_block(
        &self,
        block: BlockRef,
        data: Bytes,
        check: BlockCheck,
    ) -> Result<(), Error> {
        let params = format!("comp=block&blockid={}", block_id_param(block.offset));
        let (check_name, check_value) = check.header();
        let wire = self.wire;
        let credit = Arc::new(BlockCredit::default());
        wire.retrying(Step::PutBlock, Some(block), |target| {
            let body = wire.meter.counted_body(data.clone(), &credit);
            let target = target.with_params(&params);
            let check_value = check_value.clone();
            async move {
                let request = Request::builder()
                    .method(Method::PUT)
                    .uri(target.url().as_str())
                    .header(header::CONTENT_LENGTH, block.len)
                    .header(check_name, check_value)
                    .body(body)
                    .map_err(|e| bad_request(Step::PutBlock, e))?;
                expect_success(wire, Method::PUT, &target, request, Step::PutBlock)
                    .await
                    .map_err(mismatch_is_transient)
            }
        })
        .await?;
        wire.meter.finish(&credit, block.len);
        Ok(())
    }

    /// The blocks the server holds uncommitted (offset → size); `None` when it would not say.
    async fn listed_blocks(&self) -> Option<HashMap<u64, u64>> {
        let wire = self.wire;
        let (url, _) = wire.url.get();
        let url = with_params(&url, "comp=blocklist&blocklisttype=uncommitted");
        let request = Request::builder()
            .method(Method::GET)
            .uri(url.as_str())
            .body(Body::empty())
            .ok()?;
        let response = match wire.send(request, Step::GetBlockList).await {
            Ok(r) => r,
            Err(_) => return None,
        };
        if !response.status().is_success() {
            tracing::debug!(status = %response.status(), "Get Block List refused; resuming from the state file if any");
            let _ = wire.read_up_to(response.into_body(), 64 * 1024).await;
            return None;
        }
        let body = wire
            .read_up_to(response.into_body(), BLOCK_LIST_LIMIT)
            .await
            .ok()?;
        match parse_block_list(&body) {
            Ok(blocks) => Some(
                blocks
                    .into_iter()
                    .filter(|b| !b.committed)
                    .filter_map(|b| Some((offset_of_id(&b.name)?, b.size)))
                    .collect(),
            ),
            Err(e) => {
                tracing::debug!(error = %e, "unreadable Get Block List answer; not resuming from it");
                None
            }
        }
    }

    async fn commit(&self, count: u64, len: u64) -> Result<(), Error> {
        let ids: Vec<String> = (0..count).map(|i| block_id(i * self.block_size)).collect();
        let xml = Bytes::from(block_list_xml(ids.iter().map(String::as_str)));
        let md5 = self.whole_digest().map(|m| STANDARD.encode(m));
        let crc = self.whole_crc(len)?.map(crc64::to_header);
        let wire = self.wire;
        let content_type = self.content_type.as_deref();
        tracing::debug!(blocks = count, bytes = len, "committing the block list");
        let unanswered = AtomicBool::new(false);
        wire.retrying(Step::PutBlockList, None, |target| {
            let target = target.with_params("comp=blocklist");
            let xml = xml.clone();
            let (md5, crc) = (md5.clone(), crc.clone());
            let unanswered = &unanswered;
            async move {
                let mut request = Request::builder()
                    .method(Method::PUT)
                    .uri(target.url().as_str())
                    .header(header::CONTENT_TYPE, "text/plain; charset=UTF-8")
                    .header(header::CONTENT_LENGTH, xml.len());
                if let Some(md5) = md5 {
                    request = request.header("x-ms-blob-content-md5", md5);
                }
                if let Some(crc) = crc {
                    request = request.header(crc64::METADATA_HEADER, crc);
                }
                if let Some(ct) = content_type {
                    request = request.header("x-ms-blob-content-type", ct);
                }
                let request = request
                    .body(Body::from_bytes(xml))
                    .map_err(|e| bad_request(Step::PutBlockList, e))?;
                commit_attempt(wire, &target, request, Step::PutBlockList, unanswered).await
            }
        })
        .await
        .map_err(|e| commit_state(e, &unanswered).with_resumable(true))
    }
}

/// The byte offset encoded in one of our block ids (`None` for anyone else's ids).
fn offset_of_id(id: &str) -> Option<u64> {
    let raw = STANDARD.decode(id).ok()?;
    if raw.len() != 32 || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(&raw).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_decode_to_offsets() {
        assert_eq!(offset_of_id(&block_id(4_194_304)), Some(4_194_304));
        assert_eq!(offset_of_id("QQ=="), None);
        assert_eq!(offset_of_id("%%%"), None);
    }

    proptest::proptest! {
        /// Our ids name their offset; anyone else's text names none, without a panic.
        #[test]
        fn ids_name_their_offsets_and_other_text_names_none(
            offset in proptest::num::u64::ANY,
            other in "\\PC{0,60}",
        ) {
            proptest::prop_assert_eq!(offset_of_id(&block_id(offset)), Some(offset));
            if let Some(o) = offset_of_id(&other) {
                proptest::prop_assert_eq!(block_id(o), other);
            }
        }
    }
}
