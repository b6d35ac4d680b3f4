//! The transfer client and its builder: the settings shared by every upload and download
//! (held in [`crate::shared`], which the transfers take).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use evo_core::{RetryPolicy, SharedTransport};
use http::HeaderValue;
use url::Url;

use crate::blocks::MAX_BLOCK_SIZE;
use crate::buffers::BufferPool;
use crate::download::{Destination, Download};
use crate::integrity::Integrity;
use crate::shared::{ClientInner, Config};
use crate::upload::{Source, Upload};

/// Uploads and downloads blobs through pre-signed URLs.
///
/// Blob requests go straight to the [`Transport`](evo_core::Transport): a pre-signed URL
/// carries its own authorization, so no bearer token is sent. Cheap to clone.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emulator = evo_emulator::Emulator::builder().start().await?;
/// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
/// # let url = emulator.blob_url("demo", "model.bin", "rcw");
/// # let dir = tempfile::tempdir()?;
/// # let (model, copy) = (dir.path().join("model.bin"), dir.path().join("copy.bin"));
/// # std::fs::write(&model, b"block model bytes")?;
/// use evo_io::{BlobClient, Destination, Source};
///
/// // `url`: a pre-signed blob URL with read and write permission (here from the emulator).
/// let client = BlobClient::builder(transport).concurrency(8).build();
/// client.upload(url.clone(), Source::file(&model)).await?;
/// client.download(url, Destination::file(&copy)).overwrite(true).await?;
/// assert_eq!(std::fs::read(&copy)?, b"block model bytes");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BlobClient {
    pub(crate) inner: Arc<ClientInner>,
}

impl fmt::Debug for BlobClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobClient")
            .field("transport", &self.inner.transport)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl BlobClient {
    /// A client with the default settings: blocks of at most 8 MiB (smaller for transfers that
    /// adapt, grown for blobs over 390 GiB), 8 blocks in flight at first and up to 32 as the
    /// measured throughput rewards more (block buffers within 80 MiB per transfer), up to 8
    /// attempts per block. See [`BlobClientBuilder::adaptive`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
    /// # let url = emulator.blob_url("demo", "grades.csv", "rcw");
    /// // `url`: a pre-signed blob URL with read and write permission (here from the emulator).
    /// use evo_io::{BlobClient, Destination, Source};
    ///
    /// let client = BlobClient::new(transport);
    /// assert_eq!(client.block_size(), 8 << 20);
    /// client.upload(url.clone(), Source::bytes("hole,au\nDH1,1.5\n")).await?;
    /// let back = client.download(url, Destination::memory()).await?.into_bytes();
    /// assert_eq!(&back[..], b"hole,au\nDH1,1.5\n");
    /// # Ok(()) }
    /// ```
    pub fn new(transport: SharedTransport) -> Self {
        BlobClient::builder(transport).build()
    }

    /// A builder to change the settings.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
    /// # let url = emulator.blob_url("demo", "grades.csv", "rcw");
    /// // `url`: a pre-signed blob URL with read and write permission (here from the emulator).
    /// use evo_io::{BlobClient, Integrity, Source};
    ///
    /// let client = BlobClient::builder(transport)
    ///     .block_size(1 << 20)
    ///     .concurrency(4)
    ///     .integrity(Integrity::Md5)
    ///     .build();
    /// // 2.5 MiB in three blocks, each with its Content-MD5.
    /// let report = client.upload(url, Source::bytes(vec![1u8; 5 << 19])).await?;
    /// assert_eq!((report.size, client.concurrency()), (5 << 19, 4));
    /// # Ok(()) }
    /// ```
    pub fn builder(transport: SharedTransport) -> BlobClientBuilder {
        BlobClientBuilder {
            transport,
            config: Config::default(),
        }
    }

    /// A builder on `connector`'s transport that sends the connector's `User-Agent`: the
    /// default blob client of the Files, Objects and Block Model clients.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
    /// # let url = emulator.blob_url("demo", "grades.csv", "rcw");
    /// // `url`: a pre-signed blob URL with read and write permission (here from the emulator).
    /// use evo_io::BlobClient;
    ///
    /// let api = evo_core::ApiConnector::builder(emulator.hub_url()).transport(transport).build()?;
    /// // The connector's transport and User-Agent; no bearer token (the URL carries its signature).
    /// let client = BlobClient::for_connector(&api).concurrency(2).build();
    /// assert_eq!(client.concurrency(), 2);
    /// # Ok(()) }
    /// ```
    pub fn for_connector(connector: &evo_core::ApiConnector) -> BlobClientBuilder {
        BlobClient::builder(connector.transport().clone())
            .user_agent(connector.user_agent().clone())
    }

    /// The preferred block size in bytes: the block size of transfers that do not adapt, the
    /// largest one of those that do (see [`BlobClientBuilder::adaptive`]).
    pub fn block_size(&self) -> u64 {
        self.inner.config.block_size
    }

    /// How many blocks a transfer has in flight when it starts (all the time when it does not
    /// adapt). Left at its default, an adaptive transfer to a near server starts at
    /// [`NEAR_CONCURRENCY`](crate::NEAR_CONCURRENCY) instead (see
    /// [`BlobClientBuilder::concurrency`]).
    pub fn concurrency(&self) -> usize {
        self.inner.config.concurrency
    }

    /// The most blocks in flight an adaptive transfer may reach (within the
    /// [memory budget](Self::memory_budget)).
    pub fn max_concurrency(&self) -> usize {
        self.inner.config.max_concurrency
    }

    /// Whether transfers adapt their concurrency (and block size) to the throughput they
    /// measure (default true).
    pub fn adaptive(&self) -> bool {
        self.inner.config.adaptive
    }

    /// The memory budget of one transfer's block buffers: the one set with
    /// [`BlobClientBuilder::memory_budget`], or
    /// [`DEFAULT_MEMORY_BUDGET`](crate::DEFAULT_MEMORY_BUDGET) (which bounds only the adaptive
    /// growth).
    ///
    /// Between transfers the client keeps up to this much of its buffers for the next one (a
    /// download after an upload reuses the upload's memory instead of faulting in new
    /// pages), and releases them two seconds after its last transfer ends.
    ///
    /// ```
    /// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
    /// use evo_io::{BlobClient, DEFAULT_MEMORY_BUDGET};
    ///
    /// let client = BlobClient::new(transport.clone());
    /// assert_eq!(client.memory_budget(), DEFAULT_MEMORY_BUDGET);
    /// assert_eq!((client.concurrency(), client.max_concurrency(), client.adaptive()), (16, 32, true));
    /// let fixed = BlobClient::builder(transport).concurrency(6).adaptive(false).build();
    /// assert_eq!((fixed.concurrency(), fixed.adaptive()), (6, false));
    /// ```
    pub fn memory_budget(&self) -> u64 {
        self.inner.config.memory_budget()
    }

    /// Uploads `source` to the block blob at `url` (a pre-signed URL with write permission).
    /// Await the returned [`Upload`] to run it; set options on it first.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
    /// # let url = emulator.blob_url("demo", "grades.csv", "rcw");
    /// // `url`: a pre-signed blob URL with read and write permission (here from the emulator).
    /// use evo_io::{BlobClient, Source};
    ///
    /// let client = BlobClient::new(transport);
    /// let data: &[u8] = b"streamed";
    /// let report = client.upload(url, Source::reader(data, Some(8))).content_type("text/plain").await?;
    /// assert_eq!(report.size, 8);
    /// # Ok(()) }
    /// ```
    pub fn upload<'a>(&'a self, url: Url, source: Source<'a>) -> Upload<'a> {
        Upload::new(&self.inner, url, source)
    }

    /// Downloads the blob at `url` (a pre-signed URL with read permission) into `destination`.
    /// Await the returned [`Download`] to run it; set options on it first.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
    /// # let url = emulator.blob_url("demo", "grades.csv", "rcw");
    /// // `url`: a pre-signed blob URL with read and write permission (here from the emulator).
    /// use evo_io::{BlobClient, Destination, Source};
    ///
    /// let client = BlobClient::new(transport);
    /// client.upload(url.clone(), Source::bytes("x,y\n1,2\n")).await?;
    /// let dir = tempfile::tempdir()?;
    /// let target = dir.path().join("grades.csv");
    /// let report = client.download(url, Destination::file(&target)).await?;
    /// assert_eq!((report.size, std::fs::read(&target)?), (8, b"x,y\n1,2\n".to_vec()));
    /// # Ok(()) }
    /// ```
    pub fn download<'a>(&'a self, url: Url, destination: Destination<'a>) -> Download<'a> {
        Download::new(&self.inner, url, destination)
    }
}

/// Builds a [`BlobClient`].
#[derive(Debug)]
pub struct BlobClientBuilder {
    transport: SharedTransport,
    config: Config,
}

impl BlobClientBuilder {
    /// The preferred block size (default 8 MiB, at most 4000 MiB). It grows for a blob that
    /// would otherwise need more than 50,000 blocks. Transfers that [adapt](Self::adaptive) and
    /// know their size may use smaller blocks (never below 1 MiB; a size of 1 MiB or less is
    /// kept), so that more blocks fit the memory budget and a small blob still feeds every
    /// connection; a transfer that resumes keeps the block size it started with.
    pub fn block_size(mut self, bytes: u64) -> Self {
        self.config.block_size = bytes.clamp(1, MAX_BLOCK_SIZE);
        self
    }

    /// Sources up to this size go in one `Put Blob` request instead of blocks (default: the
    /// block size). Set 0 to always stage blocks (an empty source still goes as one
    /// `Put Blob`).
    pub fn single_put_max(mut self, bytes: u64) -> Self {
        self.config.single_put_max = bytes;
        self
    }

    /// How many blocks are in flight when a transfer starts (at least 1): all the time with
    /// [`adaptive(false)`](Self::adaptive); the starting level of adaptive concurrency
    /// otherwise (at most [`max_concurrency`](Self::max_concurrency)).
    ///
    /// The default is [`DEFAULT_CONCURRENCY`](crate::DEFAULT_CONCURRENCY), 16, for a server
    /// far away, where each connection gets a share of a long path and the climb to more
    /// connections is slow; an adaptive transfer whose fastest answer before its blocks
    /// started (the upload's block listing, the download's probe) came back within
    /// [`NEAR_ROUND_TRIP`](crate::NEAR_ROUND_TRIP) starts at
    /// [`NEAR_CONCURRENCY`](crate::NEAR_CONCURRENCY), 4, instead, and climbs from there when
    /// more connections move more bytes. A level set here is kept wherever the server is.
    pub fn concurrency(mut self, blocks: usize) -> Self {
        self.config.concurrency = blocks.max(1);
        self.config.concurrency_chosen = true;
        self
    }

    /// The most blocks in flight adaptive concurrency may reach (default
    /// [`DEFAULT_MAX_CONCURRENCY`](crate::DEFAULT_MAX_CONCURRENCY), 32; at least 1). The memory
    /// budget may hold fewer of a transfer's blocks: then that is its ceiling.
    pub fn max_concurrency(mut self, blocks: usize) -> Self {
        self.config.max_concurrency = blocks.max(1);
        self
    }

    /// Whether a transfer adapts its concurrency to the throughput it measures (default
    /// true).
    ///
    /// An adaptive transfer starts at [`concurrency`](Self::concurrency) blocks in flight (or
    /// fewer near the server, when that was left at its default) and doubles that while each
    /// doubling raises the bytes per second by at least 10%, up to
    /// [`max_concurrency`](Self::max_concurrency) within the
    /// [`memory_budget`](Self::memory_budget); when a doubling brings less, or a request
    /// has to be tried again (a throttling `503`, a reset connection), it goes back to the
    /// best level measured and holds it, probing a doubling again now and then. Far from the
    /// service, where each connection has a share of the path, this finds the connections the
    /// path rewards; near it, where more connections move no more bytes, it stays where it
    /// started. It never goes below its starting level. The level a transfer reached is in its
    /// report ([`UploadReport::concurrency`](crate::UploadReport::concurrency),
    /// [`DownloadReport::concurrency`](crate::DownloadReport::concurrency)).
    ///
    /// An adaptive transfer of known size may also choose smaller blocks than
    /// [`block_size`](Self::block_size). `false`: `concurrency` blocks in flight all the time
    /// and blocks of `block_size`, as in earlier versions.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
    /// # let url = emulator.blob_url("demo", "grid.bin", "rcw");
    /// use evo_io::{BlobClient, Source};
    ///
    /// let client = BlobClient::builder(transport)
    ///     .concurrency(4)
    ///     .max_concurrency(16)
    ///     .memory_budget(32 << 20)
    ///     .build();
    /// let report = client.upload(url, Source::bytes(vec![3u8; 12 << 20])).await?;
    /// let c = &report.concurrency;
    /// // 12 MiB in blocks of 1 MiB; at most 16 in flight, and never more than 32 MiB of them.
    /// assert_eq!((report.block_size, c.start, c.ceiling), (1 << 20, 4, 16));
    /// assert!(c.peak_in_flight <= 16);
    /// # Ok(()) }
    /// ```
    pub fn adaptive(mut self, adaptive: bool) -> Self {
        self.config.adaptive = adaptive;
        self
    }

    /// Caps the block buffers of one transfer to `bytes`: each transfer lowers its concurrency
    /// so that `blocks in flight × its block size` stays within it (at least one block in
    /// flight), from the start and as it adapts. Without it, a transfer starts at
    /// [`concurrency`](Self::concurrency) whatever its block size, and adaptive concurrency
    /// grows only within [`DEFAULT_MEMORY_BUDGET`](crate::DEFAULT_MEMORY_BUDGET) (80 MiB).
    pub fn memory_budget(mut self, bytes: u64) -> Self {
        self.config.memory_budget = Some(bytes);
        self
    }

    /// The retry policy for each request (default: 8 attempts, 100 ms initial full-jitter
    /// backoff up to 10 s, `Retry-After` honoured, 10 minutes per block at most).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// How many times in a row one request may renew a refused URL (default 3).
    pub fn max_renewals(mut self, renewals: u32) -> Self {
        self.config.max_renewals = renewals;
        self
    }

    /// A URL obtained less than this long ago is renewed only after this time (default 1 s),
    /// so many blocks refused at once share one renewal and a bad callback is not hammered.
    pub fn renew_debounce(mut self, debounce: Duration) -> Self {
        self.config.renew_debounce = debounce;
        self
    }

    /// The connect timeout asked of the transport (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// How long to wait for an answer's head, and for each body chunk after it (default 60 s).
    /// There is no total timeout: large blocks may take as long as they need while data flows.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.config.read_timeout = timeout;
        self
    }

    /// The largest blob a [`Destination::memory`] download accepts (default 1 GiB). A blob
    /// whose size the server claims to be larger fails before any data is fetched, and one
    /// that turns out larger fails as soon as the limit is passed, with [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge).
    pub fn max_memory_download(mut self, bytes: u64) -> Self {
        self.config.max_memory_download = bytes;
        self
    }

    /// The checksums uploads send and store (default [`Integrity::Crc64`]; an upload may
    /// choose its own with [`Upload::integrity`](crate::Upload::integrity)).
    pub fn integrity(mut self, integrity: Integrity) -> Self {
        self.config.integrity = integrity;
        self
    }

    /// Whether ranged downloads into files write past the page cache where they can (Linux
    /// `O_DIRECT`; default on). A large download then costs the client about half the CPU
    /// (the kernel no longer copies every byte into freshly cleared cache pages) and does not
    /// push other files out of the cache. It applies only where it helps:
    /// - on a file system and device that take direct writes at least as fast as 512 MiB/s
    ///   (timed over the first 32 MiB; a slower disk, a network file system or tmpfs goes
    ///   back to ordinary writes, and the page cache absorbs the download);
    /// - when no digest is checked by reading the file back (an
    ///   [`expect_digest`](crate::Download::expect_digest) or a stored `Content-MD5`), which
    ///   wants the bytes in the cache.
    ///
    /// Turn it off for files that are read again right after the download (a cache): they
    /// would be read from the device. A download may choose with
    /// [`Download::direct_writes`](crate::Download::direct_writes).
    pub fn direct_writes(mut self, direct: bool) -> Self {
        self.config.direct_writes = direct;
        self
    }

    /// Whether uploads of files read them past the page cache where they can (Linux
    /// `O_DIRECT`; default on): the device puts each block straight into its buffer, so the
    /// kernel no longer copies every byte out of cache pages (on a loopback benchmark that
    /// copy was about a tenth of an upload's CPU), and a large upload does not push other
    /// files out of the cache. It applies to staged uploads (sources larger than
    /// [`single_put_max`](Self::single_put_max)) on a file system and device that read at
    /// least 512 MiB/s direct (timed over the first 32 MiB, reads in parallel counted by the
    /// time any was under way); elsewhere (a slower disk, a network file system, tmpfs) the
    /// upload reads through the page cache. Bytes written to the file a moment before and
    /// still only in the cache are read all the same: the kernel writes them out first.
    ///
    /// Turn it off for a source that is surely in the cache and on a slow device. An upload
    /// may choose with [`Upload::direct_reads`](crate::Upload::direct_reads).
    pub fn direct_reads(mut self, direct: bool) -> Self {
        self.config.direct_reads = direct;
        self
    }

    /// The `User-Agent` of every blob request (default [`evo_core::DEFAULT_USER_AGENT`],
    /// `evo-rs/<version>`). The service clients pass their connector's, so that storage logs
    /// name the same application as the API's.
    pub fn user_agent(mut self, user_agent: HeaderValue) -> Self {
        self.config.user_agent = user_agent;
        self
    }

    /// The client.
    pub fn build(self) -> BlobClient {
        BlobClient {
            inner: Arc::new(ClientInner {
                transport: self.transport,
                buffers: BufferPool::new(self.config.memory_budget()),
                config: self.config,
            }),
        }
    }
}
