//! Capped, jittered exponential reconnect backoff.

use std::time::Duration;

/// How long to wait between reconnect attempts.
///
/// The delay for attempt `n` (from 0) is drawn uniformly from `[base/2, base]` with
/// `base = min(max, initial * 2^n)` ("equal jitter": spread out, never zero). After a connection
/// stayed healthy for `reset_after`, the next failure starts again from `initial`.
/// Defaults follow client-go / kube-rs: 0.8 s doubling to 30 s, reset after 120 s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// First delay (before jitter).
    pub initial: Duration,
    /// Largest delay (before jitter).
    pub max: Duration,
    /// A connection healthy for this long resets the backoff.
    pub reset_after: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(800),
            max: Duration::from_secs(30),
            reset_after: Duration::from_secs(120),
        }
    }
}

/// The state of a backoff sequence.
#[derive(Debug)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    /// A fresh sequence for `policy`.
    pub fn new(policy: BackoffPolicy) -> Self {
        Self::with_rng(policy, fastrand::Rng::new())
    }

    /// A fresh sequence with a given random generator (deterministic tests).
    pub fn with_rng(policy: BackoffPolicy, rng: fastrand::Rng) -> Self {
        Self {
            policy,
            attempt: 0,
            rng,
        }
    }

    /// The upper bound of the next delay, before jitter.
    pub fn next_base(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.policy
            .initial
            .checked_mul(factor)
            .unwrap_or(self.policy.max)
            .min(self.policy.max)
    }

    /// The next delay, and advances the sequence.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next_base();
        self.attempt = self.attempt.saturating_add(1);
        let half = base / 2;
        let spread = u64::try_from((base - half).as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(self.rng.u64(0..=spread))
    }

    /// Starts again from the initial delay.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The policy in use.
    pub fn policy(&self) -> &BackoffPolicy {
        &self.policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_stay_within_jitter_bounds() {
        let policy = BackoffPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            reset_after: Duration::from_secs(10),
        };
        let mut backoff = Backoff::with_rng(policy, fastrand::Rng::with_seed(7));
        let expected_bases = [100u64, 200, 400, 800, 1600, 2000, 2000, 2000];
        for base in expected_bases {
            let base = Duration::from_millis(base);
            assert_eq!(backoff.next_base(), base);
            let delay = backoff.next_delay();
            assert!(
                delay >= base / 2 && delay <= base,
                "{delay:?} outside [{:?}, {base:?}]",
                base / 2
            );
        }
        backoff.reset();
        assert_eq!(backoff.next_base(), Duration::from_millis(100));
    }

    #[test]
    fn many_attempts_never_overflow() {
        let mut backoff = Backoff::new(BackoffPolicy::default());
        for _ in 0..200 {
            assert!(backoff.next_delay() <= Duration::from_secs(30));
        }
    }

    #[test]
    fn jitter_spreads_delays() {
        let policy = BackoffPolicy::default();
        let delays: std::collections::BTreeSet<Duration> = (0..20)
            .map(|seed| Backoff::with_rng(policy, fastrand::Rng::with_seed(seed)).next_delay())
            .collect();
        assert!(
            delays.len() > 10,
            "jitter produced too few distinct delays: {delays:?}"
        );
    }
}
