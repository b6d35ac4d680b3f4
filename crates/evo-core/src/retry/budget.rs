//! A retry budget shared by many requests: a token bucket per host, as in the AWS SDKs'
//! standard retry mode.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// A shared allowance of retries, kept per host.
///
/// Each retry takes tokens from its host's bucket (more for a timeout, which held a connection
/// for long); each request that succeeds puts some back: the cost of its last retry when it
/// needed retries, one token when it did not. When a bucket holds too few tokens, failures on
/// that host are returned at once instead of retried, so that an outage is not multiplied by
/// every client's retries and recovers sooner. A healthy host never runs dry: with the defaults
/// (500 tokens, 5 per retry, 10 per timeout) a host must fail about a hundred retries more than
/// it serves successes before retries stop.
///
/// Clones share the same buckets: give one budget to every client that talks to the same hosts
/// ([`RetryPolicy::with_budget`](super::RetryPolicy::with_budget)).
#[derive(Clone)]
pub struct RetryBudget {
    inner: Arc<Inner>,
}

struct Inner {
    capacity: u32,
    retry_cost: u32,
    timeout_cost: u32,
    buckets: Mutex<HashMap<String, u32>>,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget::new(500)
    }
}

impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryBudget")
            .field("capacity", &self.inner.capacity)
            .field("retry_cost", &self.inner.retry_cost)
            .field("timeout_cost", &self.inner.timeout_cost)
            .finish_non_exhaustive()
    }
}

/// Two budgets are equal when they share their buckets (one is a clone of the other).
impl PartialEq for RetryBudget {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for RetryBudget {}

impl RetryBudget {
    /// A budget of `capacity` tokens per host (each host starts full), with the default costs:
    /// 5 tokens per retry, 10 per retry after a timeout.
    pub fn new(capacity: u32) -> Self {
        RetryBudget {
            inner: Arc::new(Inner {
                capacity,
                retry_cost: 5,
                timeout_cost: 10,
                buckets: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The tokens a retry takes (default 5), and after a timeout (default 10). Call before
    /// sharing the budget: clones made earlier keep the old costs.
    pub fn with_costs(self, retry: u32, after_timeout: u32) -> Self {
        RetryBudget {
            inner: Arc::new(Inner {
                capacity: self.inner.capacity,
                retry_cost: retry,
                timeout_cost: after_timeout,
                buckets: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The tokens a bucket holds when full.
    pub fn capacity(&self) -> u32 {
        self.inner.capacity
    }

    /// The tokens left for `host`.
    pub fn available(&self, host: &str) -> u32 {
        self.buckets()
            .get(host)
            .copied()
            .unwrap_or(self.inner.capacity)
    }

    fn buckets(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.inner.buckets.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cost(&self, timed_out: bool) -> u32 {
        if timed_out {
            self.inner.timeout_cost
        } else {
            self.inner.retry_cost
        }
    }

    /// Takes the cost of a retry (after a timeout when `timed_out`) from `host`'s bucket;
    /// `None` (and nothing taken) when the bucket holds too little.
    pub(super) fn withdraw(&self, host: &str, timed_out: bool) -> Option<u32> {
        let cost = self.cost(timed_out);
        let mut buckets = self.buckets();
        let tokens = buckets
            .entry(host.to_owned())
            .or_insert(self.inner.capacity);
        if *tokens < cost {
            return None;
        }
        *tokens -= cost;
        Some(cost)
    }

    /// Puts `tokens` back into `host`'s bucket, up to its capacity.
    pub(super) fn deposit(&self, host: &str, tokens: u32) {
        let mut buckets = self.buckets();
        if let Some(held) = buckets.get_mut(host) {
            *held = held.saturating_add(tokens).min(self.inner.capacity);
            if *held == self.inner.capacity {
                // A full bucket is the same as none: keep the map small.
                buckets.remove(host);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, Error, TransportError, TransportErrorKind};
    use crate::retry::RetryPolicy;
    use bytes::Bytes;
    use http::{HeaderMap, Method, StatusCode};
    use std::time::Duration;

    fn unavailable() -> Error {
        ApiError::new(
            Method::GET,
            &"http://h/x".parse().unwrap(),
            StatusCode::SERVICE_UNAVAILABLE,
            HeaderMap::new(),
            Bytes::new(),
        )
        .into()
    }

    fn policy(budget: &RetryBudget) -> RetryPolicy {
        RetryPolicy::default()
            .with_max_attempts(1000)
            .with_initial_backoff(Duration::ZERO)
            .with_budget(budget.clone())
    }

    #[test]
    fn retries_stop_when_the_host_bucket_runs_dry_and_other_hosts_are_unaffected() {
        let budget = RetryBudget::new(20);
        let policy = policy(&budget);
        let mut retries = policy.start("a.example");
        for attempt in 1..=4 {
            assert!(retries.next_delay(attempt, &unavailable(), true).is_some());
        }
        assert_eq!(budget.available("a.example"), 0);
        assert!(retries.next_delay(5, &unavailable(), true).is_none());
        // Another request to the same host gets no retry either; another host does.
        assert!(
            policy
                .start("a.example")
                .next_delay(1, &unavailable(), true)
                .is_none()
        );
        assert!(
            policy
                .start("b.example")
                .next_delay(1, &unavailable(), true)
                .is_some()
        );
    }

    #[test]
    fn timeouts_cost_more_and_successes_refund() {
        let budget = RetryBudget::new(100);
        let policy = policy(&budget);
        let timeout: Error = TransportError::new(TransportErrorKind::Timeout, "slow").into();
        let mut retries = policy.start("h");
        retries.next_delay(1, &timeout, true).unwrap();
        assert_eq!(budget.available("h"), 90);
        retries.next_delay(2, &unavailable(), true).unwrap();
        assert_eq!(budget.available("h"), 85);
        // Success after retries refunds the last retry's cost.
        retries.succeeded();
        assert_eq!(budget.available("h"), 90);
        // A first-try success refunds one token, never beyond the capacity.
        for _ in 0..20 {
            policy.start("h").succeeded();
        }
        assert_eq!(budget.available("h"), 100);
    }

    #[test]
    fn without_a_budget_only_the_policy_decides() {
        let policy = RetryPolicy::default()
            .with_max_attempts(1000)
            .with_initial_backoff(Duration::ZERO);
        let mut retries = policy.start("h");
        for attempt in 1..500 {
            assert!(retries.next_delay(attempt, &unavailable(), true).is_some());
        }
    }

    #[test]
    fn clones_share_buckets_and_compare_equal() {
        let budget = RetryBudget::new(10);
        let clone = budget.clone();
        assert_eq!(budget, clone);
        assert_ne!(budget, RetryBudget::new(10));
        policy(&clone)
            .start("h")
            .next_delay(1, &unavailable(), true)
            .unwrap();
        assert_eq!(budget.available("h"), 5);
    }
}
