//! Progress bars of `evo files cp`: one for all bytes, one per file in flight (indicatif; drawn
//! only on a terminal, never with `--json`).

use std::sync::atomic::{AtomicU64, Ordering};

use evo_core::{Feedback, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of one copy.
pub struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
}

impl Bars {
    /// Bars for `count` files of `bytes` in all; hidden unless `visible`.
    pub fn new(visible: bool, bytes: u64, count: usize) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let total = multi.add(ProgressBar::new(bytes));
        total.set_style(style(
            "{msg:<12} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} eta {eta}",
        ));
        total.set_message(format!("{count} file(s)"));
        Bars { multi, total }
    }

    /// A bar for one file.
    pub fn file(&self, label: &str, size: u64) -> FileBar {
        let bar = self.multi.add(ProgressBar::new(size));
        bar.set_style(style("  {wide_msg} {bytes:>10}/{total_bytes:<10}"));
        bar.set_message(label.to_owned());
        FileBar {
            bar,
            total: self.total.clone(),
            size,
            seen: AtomicU64::new(0),
        }
    }

    /// Removes the bars.
    pub fn done(&self) {
        self.total.finish_and_clear();
        let _ = self.multi.clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// The bar of one file; its [`feedback`](Self::feedback) also moves the total.
pub struct FileBar {
    bar: ProgressBar,
    total: ProgressBar,
    size: u64,
    seen: AtomicU64,
}

impl FileBar {
    /// What the transfer reports progress to.
    pub fn feedback(&self) -> BarFeedback<'_> {
        BarFeedback(self)
    }

    /// The transfer starts over: its bytes no longer count.
    pub fn reset(&self) {
        let seen = self.seen.swap(0, Ordering::SeqCst);
        self.total
            .set_position(self.total.position().saturating_sub(seen));
        self.bar.set_position(0);
    }

    /// The file needs no transfer.
    pub fn skip(&self) {
        let seen = self.seen.swap(self.size, Ordering::SeqCst);
        self.total.inc(self.size.saturating_sub(seen));
    }

    /// Removes the file's bar.
    pub fn finish(&self, _ok: bool) {
        self.bar.finish_and_clear();
    }
}

/// The [`Feedback`] of a [`FileBar`].
pub struct BarFeedback<'a>(&'a FileBar);

impl Feedback for BarFeedback<'_> {
    fn progress(&self, progress: &Progress) {
        let bar = self.0;
        let done = progress.bytes_done;
        let before = bar.seen.swap(done, Ordering::SeqCst);
        bar.bar.set_position(done);
        if done >= before {
            bar.total.inc(done - before);
        } else {
            bar.total
                .set_position(bar.total.position().saturating_sub(before - done));
        }
    }
}
