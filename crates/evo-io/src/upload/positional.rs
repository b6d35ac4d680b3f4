//! Uploading a file or bytes: blocks read in parallel at their offsets, reused from an
//! interrupted upload where the record allows, staged again once if they expired.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use futures_util::{FutureExt as _, StreamExt};

use super::report::UploadReport;
use super::requests::is_invalid_block_list;
use super::resume::{Staged, StateSpec};
use super::stager::{ReadBlock, Stager};
use crate::blocks::layout;
use crate::error::{Error, Step};
use crate::feed::Feed;
use crate::state::StateWriter;

impl Stager<'_, '_> {
    /// Uploads a file or bytes: blocks are read in parallel at their offsets. `listed`: the
    /// blocks the server holds uncommitted, when resuming and it would say.
    ///
    /// Blocks are reused only from a record of this source: the state file of a file source
    /// (checked against the server's list when it gives one, and against the block's CRC-64
    /// when the state recorded one), or, for bytes asked to resume, the server's list itself.
    /// Reused blocks that expired before the commit make the commit fail with
    /// `InvalidBlockList`: then every block is staged again, once.
    pub(super) async fn positional(
        &self,
        feed: Feed,
        len: u64,
        resume: bool,
        state: Option<StateSpec>,
        listed: Option<HashMap<u64, u64>>,
    ) -> Result<UploadReport, Error> {
        let (staged, writer) = match state {
            Some(mut spec) => {
                let fresh = spec.fresh(self.wire.url.blob_key(), len, self.block_size);
                let previous = spec.saved.take().filter(|s| s.same_transfer_as(&fresh));
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
        let mut report = self.report(len, count)?;
        report.direct_bytes = feed.direct_bytes();
        Ok(report)
    }

    /// Reads, hashes and stages every block of a positional source (reusing `staged` ones);
    /// the block count.
    pub(super) async fn stage_positional(
        &self,
        feed: &Feed,
        len: u64,
        staged: &Staged,
        writer: Option<&StateWriter>,
    ) -> Result<u64, Error> {
        // Places in flight are taken in block order (a sequential stage), so the in-order
        // hashing below never waits for a block that cannot get a buffer.
        let reads = self
            .gate
            .admit(layout(len, self.block_size), Step::ReadSource)
            .map(|(block, slot)| {
                async move {
                    let slot = slot?;
                    let crc = self.integrity.crc64();
                    let (data, crc) = feed.read(block, Some(&self.wire.buffers), crc).await?;
                    Ok(ReadBlock {
                        block,
                        data,
                        crc,
                        _slot: slot,
                    })
                }
                .boxed()
            })
            .buffered(self.gate.ceiling())
            .boxed();
        let (count, total) = self.stage_all(reads, staged, writer).await?;
        debug_assert_eq!(total, len);
        Ok(count)
    }
}
