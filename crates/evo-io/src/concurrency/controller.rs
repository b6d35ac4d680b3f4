//! The controller: a pure state machine from observations of a transfer (one [`Sample`] per
//! completed block) to its concurrency limit. The rule is in the [module docs](super).

use std::time::Duration;

/// A doubling is kept when it raises the throughput by at least this fraction.
pub(crate) const MIN_GAIN: f64 = 0.10;
/// The shortest measurement window, so a window of blocks that complete in a burst still
/// spans some time.
pub(crate) const MIN_WINDOW: Duration = Duration::from_millis(100);
/// Windows held at the best level before a doubling is probed again.
pub(crate) const PROBE_AFTER: u32 = 8;
/// The wait before a probe doubles after each probe (or failure) that brought nothing, at
/// most this many times.
const MAX_PROBE_BACKOFF: u32 = 3;

/// One observation of a transfer, taken when a block completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sample {
    /// Time since the transfer started.
    pub(crate) at: Duration,
    /// Bytes moved on the wire so far.
    pub(crate) moved: u64,
    /// Transient failures (retried requests, renewals aside) so far.
    pub(crate) troubles: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Doubling while each doubling pays.
    Climbing,
    /// At the best level, probing again now and then.
    Holding,
}

/// A level and the throughput measured at it (bytes per second).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Level {
    limit: usize,
    rate: f64,
}

/// The concurrency limit of one transfer and how it got there.
#[derive(Debug, Clone)]
pub(crate) struct Controller {
    start: usize,
    ceiling: usize,
    adaptive: bool,
    limit: usize,
    peak: usize,
    changes: u32,
    phase: Phase,
    best: Option<Level>,
    /// Completions still to pass over before the window starts (after a change).
    settling: usize,
    /// Where the window started (time, bytes moved), once it has.
    window: Option<(Duration, u64)>,
    /// Completions in the window so far.
    in_window: usize,
    troubles: u64,
    /// Windows held since the last change.
    held: u32,
    /// Probes (and failures) that brought nothing: the wait before the next probe doubles.
    backoff: u32,
    /// Whether the current climb is a probe from a hold.
    probing: bool,
}

impl Controller {
    /// A controller starting at `start` blocks in flight that may go up to `ceiling`
    /// (`start..=ceiling`, at least 1).
    pub(crate) fn new(start: usize, ceiling: usize, adaptive: bool) -> Self {
        let start = start.max(1);
        let ceiling = ceiling.max(start);
        Controller {
            start,
            ceiling,
            adaptive,
            limit: start,
            peak: start,
            changes: 0,
            phase: Phase::Climbing,
            best: None,
            settling: settle_for(start),
            window: None,
            in_window: 0,
            troubles: 0,
            held: 0,
            backoff: 0,
            probing: false,
        }
    }

    /// The current limit.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// The level the transfer started at.
    pub(crate) fn start(&self) -> usize {
        self.start
    }

    /// The highest limit possible.
    pub(crate) fn ceiling(&self) -> usize {
        self.ceiling
    }

    /// The highest limit set so far.
    pub(crate) fn peak(&self) -> usize {
        self.peak
    }

    /// How many times the limit changed.
    pub(crate) fn changes(&self) -> u32 {
        self.changes
    }

    /// Whether the limit may change at all.
    pub(crate) fn adaptive(&self) -> bool {
        self.adaptive
    }

    /// The best level's throughput (bytes per second), once one was measured.
    pub(crate) fn best_rate(&self) -> Option<f64> {
        self.best.map(|b| b.rate)
    }

    /// Takes the observation of one completed block; the new limit when it changes.
    pub(crate) fn observe(&mut self, sample: Sample) -> Option<usize> {
        if sample.troubles > self.troubles {
            self.troubles = sample.troubles;
            return self.back_off();
        }
        if self.settling > 0 {
            self.settling -= 1;
            if self.settling == 0 {
                self.window = Some((sample.at, sample.moved));
            }
            return None;
        }
        let Some((since, from)) = self.window else {
            self.window = Some((sample.at, sample.moved));
            return None;
        };
        self.in_window += 1;
        let span = sample.at.saturating_sub(since);
        if self.in_window < self.limit || span < MIN_WINDOW {
            return None;
        }
        let rate = sample.moved.saturating_sub(from) as f64 / span.as_secs_f64();
        // The next window starts here unless the limit changes (which settles first).
        self.window = Some((sample.at, sample.moved));
        self.in_window = 0;
        self.decide(rate)
    }

    /// The end of a window at `rate` bytes per second.
    fn decide(&mut self, rate: f64) -> Option<usize> {
        let here = Level {
            limit: self.limit,
            rate,
        };
        match (self.phase, self.best) {
            (Phase::Climbing, Some(best)) if rate < best.rate * (1.0 + MIN_GAIN) => {
                // No (meaningful) gain: back to the best level, and hold.
                if self.probing {
                    self.backoff = (self.backoff + 1).min(MAX_PROBE_BACKOFF);
                }
                self.hold();
                self.set(best.limit)
            }
            (Phase::Climbing, _) => {
                self.best = Some(here);
                self.probing = false;
                self.climb()
            }
            (Phase::Holding, _) => {
                // Conditions change: the level held is measured afresh.
                self.best = Some(here);
                self.held += 1;
                if self.held >= PROBE_AFTER << self.backoff && self.limit < self.ceiling {
                    self.probing = true;
                    return self.climb();
                }
                None
            }
        }
    }

    /// One doubling up, or a hold at the ceiling.
    fn climb(&mut self) -> Option<usize> {
        if self.limit >= self.ceiling || !self.adaptive {
            self.hold();
            return None;
        }
        self.phase = Phase::Climbing;
        self.set(self.limit.saturating_mul(2).min(self.ceiling))
    }

    /// A transient failure: back to the best level (or stay), hold, and wait longer before
    /// the next probe.
    fn back_off(&mut self) -> Option<usize> {
        let target = self.best.map_or(self.limit, |b| b.limit.min(self.limit));
        self.backoff = (self.backoff + 1).min(MAX_PROBE_BACKOFF);
        self.probing = false;
        self.hold();
        if target == self.limit {
            // Measure again: the failed requests disturbed the window.
            self.restart_window();
            return None;
        }
        self.set(target)
    }

    fn hold(&mut self) {
        self.phase = Phase::Holding;
        self.held = 0;
    }

    /// Sets the limit (a new window after settling); `Some` when it changed.
    fn set(&mut self, limit: usize) -> Option<usize> {
        let limit = limit.clamp(self.start, self.ceiling);
        let changed = limit != self.limit;
        self.limit = limit;
        self.peak = self.peak.max(limit);
        self.restart_window();
        if changed {
            self.changes += 1;
            tracing::debug!(limit, phase = ?self.phase, "concurrency limit changed");
        }
        changed.then_some(limit)
    }

    fn restart_window(&mut self) {
        self.settling = settle_for(self.limit);
        self.window = None;
        self.in_window = 0;
    }
}

/// Completions passed over after a change to `limit`: half a round.
fn settle_for(limit: usize) -> usize {
    limit.div_ceil(2)
}

#[cfg(test)]
#[path = "controller_tests.rs"]
mod tests;
