//! Byte-based progress of one transfer, reported to the caller's [`Feedback`] when a block
//! completes and, inside blocks, at least every MiB that moves.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use evo_core::{Body, Feedback, Progress};
use tokio::sync::Notify;

/// Inside a block, progress is reported each time another this many bytes have moved.
pub(crate) const PROGRESS_STEP: u64 = 1 << 20;

/// The bytes of one block already counted in the progress. A retried block counts only the
/// bytes beyond what its earlier attempts counted, so progress never goes back and never
/// passes the total.
#[derive(Debug, Default)]
pub(crate) struct BlockCredit(AtomicU64);

impl BlockCredit {
    /// Raises the mark to `reached` bytes of the block; how many bytes that adds.
    fn raise(&self, reached: u64) -> u64 {
        reached.saturating_sub(self.0.fetch_max(reached, Ordering::Relaxed))
    }
}

/// Byte-based progress of one transfer.
pub(crate) struct Meter<'a> {
    feedback: Option<&'a dyn Feedback>,
    done: Arc<AtomicU64>,
    /// Bytes that moved on the wire (not those reused or resumed): what adaptive concurrency
    /// measures.
    wire: Arc<AtomicU64>,
    retries: AtomicU64,
    /// Attempts that failed transiently (not URL renewals).
    troubles: AtomicU64,
    total: Option<u64>,
    /// The last whole [`PROGRESS_STEP`] reported from inside a block.
    reported_step: AtomicU64,
    /// Signalled when a counted request body moved (see [`Meter::counted_body`]).
    moved: Arc<Notify>,
}

impl<'a> Meter<'a> {
    pub(crate) fn new(feedback: Option<&'a dyn Feedback>) -> Self {
        Meter {
            feedback,
            done: Arc::new(AtomicU64::new(0)),
            wire: Arc::new(AtomicU64::new(0)),
            retries: AtomicU64::new(0),
            troubles: AtomicU64::new(0),
            total: None,
            reported_step: AtomicU64::new(0),
            moved: Arc::new(Notify::new()),
        }
    }

    pub(crate) fn set_total(&mut self, total: Option<u64>) {
        self.total = total;
    }

    /// Counts `bytes` done and reports.
    pub(crate) fn add(&self, bytes: u64) {
        self.done.fetch_add(bytes, Ordering::Relaxed);
        self.report();
    }

    /// Counts a block in progress up to `reached` of its bytes; reports when another
    /// [`PROGRESS_STEP`] has moved since the last report from inside a block.
    pub(crate) fn advance(&self, credit: &BlockCredit, reached: u64) {
        let added = credit.raise(reached);
        if added > 0 {
            self.done.fetch_add(added, Ordering::Relaxed);
            self.wire.fetch_add(added, Ordering::Relaxed);
            self.report_step();
        }
    }

    /// Counts a whole-blob body read up to `position`, bytes that blocks already counted
    /// included once; reports when another [`PROGRESS_STEP`] has moved.
    pub(crate) fn reach(&self, position: u64) {
        self.done.fetch_max(position, Ordering::Relaxed);
        self.report_step();
    }

    /// Counts the rest of a finished block of `len` bytes and reports.
    pub(crate) fn finish(&self, credit: &BlockCredit, len: u64) {
        let added = credit.raise(len);
        self.done.fetch_add(added, Ordering::Relaxed);
        self.wire.fetch_add(added, Ordering::Relaxed);
        self.report();
    }

    pub(crate) fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        self.report();
    }

    pub(crate) fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Counts an attempt that failed transiently (it will be tried again, or the step fails).
    pub(crate) fn troubled(&self) {
        self.troubles.fetch_add(1, Ordering::Relaxed);
    }

    /// Attempts that failed transiently so far.
    pub(crate) fn troubles(&self) -> u64 {
        self.troubles.load(Ordering::Relaxed)
    }

    /// Bytes of blocks that moved on the wire so far (each counted once, however often its
    /// block was tried).
    pub(crate) fn wire_bytes(&self) -> u64 {
        self.wire.load(Ordering::Relaxed)
    }

    pub(crate) fn report(&self) {
        if let Some(f) = self.feedback {
            f.progress(&Progress::new(
                self.done.load(Ordering::Relaxed),
                self.total,
                self.retries.load(Ordering::Relaxed),
            ));
        }
    }

    /// Reports when the bytes done have reached a [`PROGRESS_STEP`] not reported yet.
    pub(crate) fn report_step(&self) {
        let step = self.done.load(Ordering::Relaxed) / PROGRESS_STEP;
        if self.reported_step.fetch_max(step, Ordering::Relaxed) < step {
            self.report();
        }
    }

    /// Resolves when a counted request body has moved; [`Wire::send`](crate::request::Wire)
    /// waits for it beside the answer, to report for the transport's task.
    pub(crate) async fn moved(&self) {
        self.moved.notified().await
    }

    /// A request body of a block's `data` in [`PROGRESS_STEP`] slices, each counted in the
    /// progress (against `credit`) as the transport takes it.
    pub(crate) fn counted_body(&self, data: Bytes, credit: &Arc<BlockCredit>) -> Body {
        let len = data.len() as u64;
        if len == 0 {
            return Body::empty();
        }
        let (done, wire) = (self.done.clone(), self.wire.clone());
        let (moved, credit) = (self.moved.clone(), credit.clone());
        // Each step splits its slice off the rest, so the transport's writes release the
        // block buffer as they go and nothing is left holding it after the last slice: the
        // upload's buffer pool can take it back as soon as the request is done.
        let slices = futures_util::stream::unfold((data, 0u64), move |(mut rest, sent)| {
            let (done, wire) = (done.clone(), wire.clone());
            let (moved, credit) = (moved.clone(), credit.clone());
            async move {
                if rest.is_empty() {
                    return None;
                }
                let slice = rest.split_to(rest.len().min(PROGRESS_STEP as usize));
                let sent = sent + slice.len() as u64;
                let added = credit.raise(sent);
                done.fetch_add(added, Ordering::Relaxed);
                wire.fetch_add(added, Ordering::Relaxed);
                moved.notify_waiters();
                Some((Ok(slice), (rest, sent)))
            }
        });
        Body::from_stream(slices, Some(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retried_block_counts_only_bytes_beyond_its_earlier_attempts() {
        let meter = Meter::new(None);
        let credit = BlockCredit::default();
        meter.advance(&credit, 3 * PROGRESS_STEP);
        // The attempt broke; the next one starts again from the block's first byte.
        meter.advance(&credit, PROGRESS_STEP);
        meter.advance(&credit, 4 * PROGRESS_STEP);
        meter.finish(&credit, 5 * PROGRESS_STEP);
        assert_eq!(meter.done.load(Ordering::Relaxed), 5 * PROGRESS_STEP);
        // Bytes reused from an earlier transfer count in the progress, not on the wire.
        meter.add(PROGRESS_STEP);
        assert_eq!(meter.done.load(Ordering::Relaxed), 6 * PROGRESS_STEP);
        assert_eq!(meter.wire_bytes(), 5 * PROGRESS_STEP);
    }

    #[tokio::test]
    async fn a_counted_body_is_the_data_in_one_mib_slices() {
        use futures_util::StreamExt as _;
        let meter = Meter::new(None);
        let data = Bytes::from(vec![7u8; (2 * PROGRESS_STEP + 5) as usize]);
        let credit = Arc::new(BlockCredit::default());
        let body = meter.counted_body(data.clone(), &credit);
        assert_eq!(body.len_hint(), Some(data.len() as u64));
        let mut stream = body.into_stream();
        let mut seen = Vec::new();
        let mut counted = Vec::new();
        while let Some(slice) = stream.next().await {
            seen.extend_from_slice(&slice.unwrap());
            counted.push(meter.done.load(Ordering::Relaxed));
        }
        assert!(seen == data, "the slices rebuild the data");
        assert_eq!(
            counted,
            vec![PROGRESS_STEP, 2 * PROGRESS_STEP, 2 * PROGRESS_STEP + 5]
        );
    }
}
