//! Uploads to Azure block blobs: `Put Blob` for small sources, otherwise `Put Block` per block
//! (in parallel, bounded) and `Put Block List` to commit.
//!
//! What lives where: `put_blob` sends a small source in one request; `stager` is the
//! per-block worker of a staged upload, which `positional` (a file or bytes) and `streamed`
//! (a reader) feed, as many blocks at once as adaptive concurrency allows
//! ([`crate::concurrency`]); `block_list` lists and commits the blocks; `resume` holds what an
//! interrupted upload left, and the block size a resume keeps; `requests` sends one request and
//! reads its answer; `report` holds what a finished upload did; `source` is what an upload
//! reads ([`Source`]).
//!
//! The block size of a source of known size comes from the settings and the size
//! (`Tuning::block_size` in [`crate::concurrency`], then [`block_size_for`]), except when
//! resuming from what an interrupted upload saved: a file's state file, or for bytes and
//! readers the block the server holds at offset 0 (`Get Block List`): then that upload's block
//! size is kept.

mod block_list;
mod positional;
mod put_blob;
mod report;
mod requests;
mod resume;
mod source;
mod stager;
mod streamed;

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use evo_core::Feedback;
use url::Url;

use crate::blocks::{MAX_BLOB_SIZE, block_size_for};
use crate::error::{BlockRef, Error, ErrorKind, Step};
use crate::feed::{Feed, open_source, read_full};
use crate::integrity::Integrity;
use crate::request::Wire;
use crate::shared::ClientInner;
use crate::state::{load, sibling};
use crate::url::{RenewUrl, SignedUrl};
use block_list::listed_blocks;
use put_blob::put_blob;
pub use report::UploadReport;
use resume::{StateSpec, listed_block_size};
pub use source::Source;
use source::SourceInner;
use stager::Stager;
use streamed::check_reader_len;

/// An upload to set up and then await. Made by [`BlobClient::upload`](crate::BlobClient::upload).
#[must_use = "an upload does nothing until it is awaited"]
pub struct Upload<'a> {
    /// The transport and settings of the client that made it.
    client: &'a ClientInner,
    url: Url,
    source: Source<'a>,
    renewer: Option<Arc<dyn RenewUrl + 'static>>,
    feedback: Option<&'a dyn Feedback>,
    resume: Option<bool>,
    content_type: Option<String>,
    integrity: Option<Integrity>,
    direct_reads: Option<bool>,
}

impl<'a> Upload<'a> {
    pub(crate) fn new(client: &'a ClientInner, url: Url, source: Source<'a>) -> Self {
        Upload {
            client,
            url,
            source,
            renewer: None,
            feedback: None,
            resume: None,
            content_type: None,
            integrity: None,
            direct_reads: None,
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

    /// Whether a file source is read past the page cache where it can (default: the client's
    /// [`direct_reads`](crate::BlobClientBuilder::direct_reads), on unless turned off).
    pub fn direct_reads(mut self, direct: bool) -> Self {
        self.direct_reads = Some(direct);
        self
    }

    /// The blob's content type (`x-ms-blob-content-type`).
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    async fn run(self) -> Result<UploadReport, Error> {
        let config = &self.client.config;
        let tuning = config.tuning();
        let url = SignedUrl::new(self.url, self.renewer, config.renew_debounce)?;
        let mut wire = Wire::new(self.client, url, self.feedback);
        let content_type = self.content_type;
        let integrity = self.integrity.unwrap_or(config.integrity);
        // The block size of `len` bytes when nothing saved says otherwise.
        let planned = |len: u64| block_size_for(len, tuning.block_size(len, config.block_size));
        match self.source.inner {
            SourceInner::File(path) => {
                let resume = self.resume.unwrap_or(true);
                let (file, len, modified_ns) = open_source(&path).await?;
                check_blob_size(len)?;
                wire.meter.set_total(Some(len));
                let feed = Feed::file(file, path.clone());
                if len <= config.single_put_max {
                    let (data, _) = feed.read(whole(len), None, false).await?;
                    return put_blob(&wire, data, content_type.as_deref(), integrity).await;
                }
                let state = match resume {
                    true => {
                        let path = sibling(&path, ".evo-upload");
                        Some(StateSpec {
                            saved: load(&path),
                            path,
                            modified_ns,
                            fingerprint: feed.fingerprint(len).await?,
                        })
                    }
                    false => None,
                };
                let listed = match resume {
                    true => listed_blocks(&wire).await,
                    false => None,
                };
                let feed = match self.direct_reads.unwrap_or(config.direct_reads) {
                    true => feed.with_direct_reads().await,
                    false => feed,
                };
                let planned = planned(len);
                let block_size = state
                    .as_ref()
                    .and_then(|s| s.saved_block_size(wire.url.blob_key(), len, planned))
                    .unwrap_or(planned);
                let stager = Stager::new(&wire, block_size, content_type, tuning, integrity);
                stager.positional(feed, len, resume, state, listed).await
            }
            SourceInner::Bytes(bytes) => {
                let len = bytes.len() as u64;
                check_blob_size(len)?;
                wire.meter.set_total(Some(len));
                if len <= config.single_put_max {
                    return put_blob(&wire, bytes, content_type.as_deref(), integrity).await;
                }
                let resume = self.resume.unwrap_or(false);
                let listed = match resume {
                    true => listed_blocks(&wire).await,
                    false => None,
                };
                let block_size = listed
                    .as_ref()
                    .and_then(|l| listed_block_size(l, len))
                    .unwrap_or_else(|| planned(len));
                let stager = Stager::new(&wire, block_size, content_type, tuning, integrity);
                stager
                    .positional(Feed::Memory(bytes), len, resume, None, listed)
                    .await
            }
            SourceInner::Reader { mut reader, len } => {
                if let Some(len) = len {
                    check_blob_size(len)?;
                }
                wire.meter.set_total(len);
                let resume = self.resume.unwrap_or(false);
                // A reader of known size that will be staged lists the server's blocks before
                // its block size is chosen, so a resume keeps the one they were staged with.
                let list_first = resume && len.is_some_and(|l| l > config.single_put_max);
                let mut listed = match list_first {
                    true => listed_blocks(&wire).await,
                    false => None,
                };
                let block_size = match len {
                    Some(len) => listed
                        .as_ref()
                        .and_then(|l| listed_block_size(l, len))
                        .unwrap_or_else(|| planned(len)),
                    None => config.block_size,
                };
                let first = read_full(&mut reader, block_size).await?;
                let first_len = first.len() as u64;
                if first_len < block_size && first_len <= config.single_put_max {
                    check_reader_len(len, first_len)?;
                    return put_blob(&wire, first, content_type.as_deref(), integrity).await;
                }
                if resume && !list_first {
                    listed = listed_blocks(&wire).await;
                }
                let stager = Stager::new(&wire, block_size, content_type, tuning, integrity);
                stager.streamed(reader, first, len, resume, listed).await
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
