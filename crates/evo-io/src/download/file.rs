//! Downloading into a file: a partial file beside the target, written at block offsets,
//! resumed from its state file, checked, then renamed into place.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use evo_core::Body;
use futures_util::{FutureExt as _, StreamExt};
use http::Response;
use tokio::io::AsyncWriteExt;

use super::fetch::{Fetched, Job};
use super::probe::Probe;
use super::report::DownloadReport;
use super::trailing_hash::TrailingHasher;
use super::whole::WholeBody;
use crate::blocks::{MAX_BLOCK_SIZE, MAX_BLOCKS, layout};
use crate::concurrency::ConcurrencyReport;
use crate::crc64::{self, Pieces, Running};
use crate::digest::{Hasher, check, hash_file};
use crate::direct::DirectFile;
use crate::error::{BlockRef, Error, ErrorKind, Step, join_error};
use crate::partial::{RangeWriter, RemoveOnDrop, crc64_of_file, open_partial, publish, truncate};
use crate::request::Wire;
use crate::state::{StateWriter, TransferState, load, sibling};

impl Job {
    /// Downloads into `.<name>.evo-download` beside `target`, then renames it into place.
    pub(super) async fn to_file(
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
            self.check_size(got)?;
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
                concurrency: ConcurrencyReport::one_request(),
                direct_bytes: 0,
            });
        };

        // Ranges have the configured size, or a smaller one with adaptive concurrency (the
        // 50,000-block limit is an upload rule); a range is what this download holds in
        // memory while it is in flight. A resume keeps the range size of its state file.
        let fresh_in = |block_size: u64| TransferState {
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
        // Resume only a partial file of the same blob version (same ETag); anything else starts over.
        let can_resume = resume && etag.is_some();
        let saved = if can_resume { load(&state_path) } else { None };
        let planned = self.tuning.block_size(size, self.block_size);
        let block_size = saved
            .as_ref()
            .filter(|old| old.same_transfer_but_layout(&fresh_in(planned)))
            .map(|old| old.block_size)
            .filter(|&kept| usable_range_size(kept, size, planned))
            .unwrap_or(planned);
        let fresh = fresh_in(block_size);
        // Held (with its OS lock) until the rename, so two processes never write one target.
        let file = open_partial(&partial).await?;
        let previous = if can_resume {
            saved.filter(|old| {
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
        let trailing = self.expected.as_ref().map(|like| {
            let present = layout(size, block_size)
                .filter(|b| done.contains(&b.index))
                .map(|b| (b.offset, b.len));
            TrailingHasher::start(file.clone(), size, like, present)
        });
        let gate = &wire.gate(&self.tuning, block_size);
        // Past the page cache, unless a digest reads the file back (from the cache).
        let direct = (self.direct_writes && self.expected.is_none())
            .then(|| DirectFile::open(&file))
            .flatten();
        let ranges = &RangeWriter::new(file.clone(), direct);
        let buffers = &wire.buffers;
        let blocks = gate
            .admit(todo, Step::GetRange)
            .map(|(block, slot)| {
                let etag = etag.as_deref();
                let writer = writer.as_ref();
                let pieces = &pieces;
                let trailing = trailing.as_ref();
                async move {
                    // Held until the range is written: its bytes are in memory until then.
                    let _slot = slot?;
                    let (data, crc) = match self.fetch(wire, block, size, etag, buffers).await? {
                        Fetched::Range(data, crc) => (data, crc),
                        Fetched::Whole(response) => return Ok(Some(response)),
                    };
                    gate.completed(&wire.meter);
                    // Its buffer goes back to the pool when the last holder drops it.
                    ranges.write(data, block).await?;
                    if let Some(crc) = crc {
                        pieces.insert(block.offset, block.len, crc);
                    }
                    if let Some(t) = trailing {
                        t.landed(block.offset, block.len);
                    }
                    // Counted in the progress as it arrived (`fetch`).
                    if let Some(w) = writer {
                        w.mark(block.index).await;
                    }
                    Ok::<_, Error>(None)
                }
                .boxed()
            })
            .buffer_unordered(gate.ceiling());
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
            match write_whole(wire, response, size, ranges, self.crc64.is_some()).await {
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
            let actual = match trailing {
                // Every range landed: the digest is (nearly) done already.
                Some(trailing) if ranged => trailing.finish().await?,
                // The whole body rewrote the file: read it once more.
                _ => {
                    let (path, like) = (partial.clone(), expected.clone());
                    tokio::task::spawn_blocking(move || hash_file(&path, &like))
                        .await
                        .map_err(|e| join_error(Step::Verify, e))??
                }
            };
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
            concurrency: gate.report(),
            direct_bytes: ranges.direct_bytes(),
        })
    }
}

/// Whether a resume may keep ranges of `kept` bytes for a blob of `size` bytes: a size a
/// transfer could have chosen, in no more ranges than the 50,000 of a block blob or those of
/// the size planned now (a damaged state file must not make a download of tiny ranges).
fn usable_range_size(kept: u64, size: u64, planned: u64) -> bool {
    let most = MAX_BLOCKS.max(size.div_ceil(planned.max(1)));
    (1..=MAX_BLOCK_SIZE).contains(&kept) && size.div_ceil(kept) <= most
}

/// Writes a whole-blob body into the partial file from its start, 1 MiB at a time; its
/// CRC-64 when `crc`.
async fn write_whole(
    wire: &Wire<'_>,
    response: Response<Body>,
    size: u64,
    ranges: &RangeWriter,
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
            ranges.write(data, block).await?;
        }
        if end {
            return Ok(running.map(|r| r.finish().0));
        }
    }
}
