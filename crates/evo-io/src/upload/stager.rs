//! The per-block worker of a staged upload: buffer permits, in-order hashing, per-block
//! CRC-64, `Put Block`, and the report of what was staged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt as _, StreamExt, TryStreamExt};
use http::{Method, Request, header};

use super::report::UploadReport;
use super::requests::{bad_request, expect_success, mismatch_is_transient};
use super::resume::Staged;
use crate::blocks::block_id_param;
use crate::concurrency::{Gate, Slot, Tuning};
use crate::crc64::{self, Pieces};
use crate::digest::{BlobDigest, md5_of};
use crate::dual_md5::Md5;
use crate::error::{BlockRef, Error, ErrorKind, Step, join_error};
use crate::integrity::{BlockCheck, Integrity};
use crate::progress::BlockCredit;
use crate::request::Wire;
use crate::state::StateWriter;

/// The staged (block) upload of one blob.
///
/// Blocks flow through three stages: read (in parallel for positional sources, in order for
/// readers); with MD5, hashed strictly in order (the whole-blob MD5 and, for
/// [`Integrity::Md5`], the block's `Content-MD5` in one pass); then checksummed with CRC-64
/// (each block in its own task) and sent, in parallel. A block holds a [`Slot`] of the
/// transfer's [`Gate`] (adaptive concurrency) from before it is read until it is staged, which
/// bounds memory to `limit × block size`.
pub(super) struct Stager<'w, 'a> {
    pub(super) wire: &'w Wire<'a>,
    pub(super) block_size: u64,
    pub(super) content_type: Option<String>,
    pub(super) integrity: Integrity,
    pub(super) whole_md5: Arc<std::sync::Mutex<Md5>>,
    /// The CRC-64 of every block, combined in block order at the commit.
    pub(super) crcs: Pieces,
    /// The blocks in flight, as many as adaptive concurrency allows.
    pub(super) gate: Gate,
    pub(super) reused: AtomicU64,
    pub(super) sent: AtomicU64,
}

/// A block read from the source, holding its place in flight.
pub(super) struct ReadBlock {
    pub(super) block: BlockRef,
    pub(super) data: Bytes,
    /// The block's CRC-64, when the read computed it.
    pub(super) crc: Option<u64>,
    pub(super) _slot: Slot,
}

impl<'w, 'a> Stager<'w, 'a> {
    pub(super) fn new(
        wire: &'w Wire<'a>,
        block_size: u64,
        content_type: Option<String>,
        tuning: Tuning,
        integrity: Integrity,
    ) -> Self {
        let gate = wire.gate(&tuning, block_size);
        Stager {
            wire,
            block_size,
            content_type,
            integrity,
            whole_md5: Arc::new(std::sync::Mutex::new(Md5::new())),
            crcs: Pieces::default(),
            gate,
            reused: AtomicU64::new(0),
            sent: AtomicU64::new(0),
        }
    }

    /// Waits for a block's place in flight (and so for its buffer).
    pub(super) async fn slot(&self) -> Result<Slot, Error> {
        self.gate.enter(Step::ReadSource).await
    }

    /// Forgets the blocks staged so far (their hashes and counts) before staging all again.
    pub(super) fn start_over(&self) {
        *self.whole_md5.lock().unwrap_or_else(|p| p.into_inner()) = Md5::new();
        self.crcs.clear();
        self.reused.store(0, Ordering::Relaxed);
        self.sent.store(0, Ordering::Relaxed);
    }

    /// Hashes blocks as they come (the MD5 in order), checksums and sends them as many at a
    /// time as the gate allows; the block count and byte total of a complete run, or the first error (the
    /// blocks still in flight are dropped, and so cancelled).
    pub(super) async fn stage_all(
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
                        crc,
                        _slot,
                    } = read;
                    let crc = self.block_crc(block, &data, crc).await?;
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
                        self.gate.completed(&self.wire.meter);
                    }
                    if let Some(crc) = crc {
                        self.crcs.insert(block.offset, block.len, crc);
                    }
                    if let Some(w) = writer {
                        w.mark_with_crc(block.index, crc).await;
                    }
                    Ok::<_, Error>(block)
                }
                .boxed()
            })
            .buffer_unordered(self.gate.ceiling())
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
    pub(super) async fn hash(
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

    /// The block's CRC-64, when the upload sends them: `read` when the source's read computed
    /// it, otherwise computed now (on the blocking pool, in parallel with the other blocks).
    pub(super) async fn block_crc(
        &self,
        block: BlockRef,
        data: &Bytes,
        read: Option<u64>,
    ) -> Result<Option<u64>, Error> {
        if !self.integrity.crc64() {
            return Ok(None);
        }
        if read.is_some() {
            return Ok(read);
        }
        let crc = crc64::of_bytes(data.clone())
            .await
            .map_err(|e| join_error(Step::ReadSource, e).with_block(block))?;
        Ok(Some(crc))
    }

    /// The whole-blob MD5, when the upload computes it.
    pub(super) fn whole_digest(&self) -> Option<[u8; 16]> {
        let md5 = self.whole_md5.lock().unwrap_or_else(|p| p.into_inner());
        self.integrity.md5().then(|| md5.digest())
    }

    /// The whole-blob CRC-64 combined from the blocks' (`len` bytes), when the upload sends
    /// them.
    pub(super) fn whole_crc(&self, len: u64) -> Result<Option<u64>, Error> {
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

    pub(super) fn failed(&self, error: Error, resume: bool) -> Error {
        let kept = self.sent.load(Ordering::Relaxed) + self.reused.load(Ordering::Relaxed) > 0;
        error.with_resumable(resume && kept)
    }

    pub(super) fn report(&self, len: u64, count: u64) -> Result<UploadReport, Error> {
        Ok(UploadReport {
            size: len,
            blocks: count,
            block_size: self.block_size,
            reused_blocks: self.reused.load(Ordering::Relaxed),
            retries: self.wire.meter.retries(),
            md5: self.whole_digest().map(BlobDigest::Md5),
            crc64: self.whole_crc(len)?,
            concurrency: self.gate.report(),
            direct_bytes: 0,
        })
    }

    pub(super) async fn put_block(
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
}
