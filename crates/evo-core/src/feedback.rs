//! Byte-based progress reporting for long operations.

use std::fmt;

/// A snapshot of the progress of a long operation (an upload, a download).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes done so far: for a transfer, sent to or received from the server (a part that
    /// is retried counts once). Transfers report at least every MiB that moves.
    pub bytes_done: u64,
    /// Total bytes, when known.
    pub bytes_total: Option<u64>,
    /// How many parts (blocks, ranges) were retried so far.
    pub retries: u64,
}

impl Progress {
    /// A progress snapshot.
    pub fn new(bytes_done: u64, bytes_total: Option<u64>, retries: u64) -> Self {
        Progress {
            bytes_done,
            bytes_total,
            retries,
        }
    }
    /// The fraction done in `0.0..=1.0`, when the total is known (1.0 for an empty total).
    pub fn fraction(&self) -> Option<f64> {
        self.bytes_total.map(|total| {
            if total == 0 {
                1.0
            } else {
                (self.bytes_done as f64 / total as f64).min(1.0)
            }
        })
    }
}

/// Receives progress events. Called from the task doing the work: keep it quick.
pub trait Feedback: Send + Sync {
    /// Called when progress was made (not necessarily on every byte).
    fn progress(&self, progress: &Progress);
}

impl fmt::Debug for dyn Feedback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("dyn Feedback")
    }
}

/// Ignores progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFeedback;

impl Feedback for NoFeedback {
    fn progress(&self, _progress: &Progress) {}
}

impl<F: Fn(&Progress) + Send + Sync> Feedback for F {
    fn progress(&self, progress: &Progress) {
        self(progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction() {
        assert_eq!(Progress::new(5, Some(10), 0).fraction(), Some(0.5));
        assert_eq!(Progress::new(0, Some(0), 0).fraction(), Some(1.0));
        assert_eq!(Progress::new(5, None, 0).fraction(), None);
    }

    #[test]
    fn closures_are_feedback() {
        let seen = std::sync::Mutex::new(Vec::new());
        let f = |p: &Progress| seen.lock().unwrap().push(p.bytes_done);
        f.progress(&Progress::new(3, None, 0));
        assert_eq!(*seen.lock().unwrap(), vec![3]);
    }
}
