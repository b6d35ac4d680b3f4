//! The retry decisions of one request: the policy's attempt and time limits, and the retries
//! it charges to the policy's budget.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use super::policy::{RetryPolicy, worth_retrying};
use crate::error::{Error, TransportErrorKind};

impl RetryPolicy {
    /// Starts the retry decisions of one request to `host` (the budget's partition).
    pub fn start(&self, host: impl Into<String>) -> RequestRetries<'_> {
        RequestRetries::new(self, host.into())
    }
}

/// The retry decisions of one request: its attempt limit and time limit from the policy, its
/// retries charged to the policy's [`RetryBudget`](super::RetryBudget), if any.
///
/// Made by [`RetryPolicy::start`]; call [`RequestRetries::next_delay`] after each failed
/// attempt and [`RequestRetries::succeeded`] once the request got an answer it keeps.
#[derive(Debug)]
pub struct RequestRetries<'p> {
    policy: &'p RetryPolicy,
    host: String,
    started: Instant,
    last_cost: Option<u32>,
}

impl<'p> RequestRetries<'p> {
    pub(crate) fn new(policy: &'p RetryPolicy, host: String) -> Self {
        RequestRetries {
            policy,
            host,
            started: Instant::now(),
            last_cost: None,
        }
    }

    /// How long ago the first attempt started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Whether to try again after `attempt` attempts failed with `error`, and how long to wait
    /// first: [`RetryPolicy::next_delay`], and then only if the budget allows the retry.
    pub fn next_delay(
        &mut self,
        attempt: u32,
        error: &Error,
        may_resend: bool,
    ) -> Option<Duration> {
        let server_asked = worth_retrying(error, may_resend)?;
        let timed_out = error
            .as_transport()
            .is_some_and(|t| t.kind() == TransportErrorKind::Timeout);
        self.delay_for_transient(attempt, server_asked, timed_out, error)
    }

    /// The delay before retrying a transient failure (already judged worth retrying) that
    /// ended attempt `attempt`: the policy's attempt and time limits, then the budget.
    pub(crate) fn delay_for_transient(
        &mut self,
        attempt: u32,
        server_asked: Option<Duration>,
        timed_out: bool,
        error: &dyn fmt::Display,
    ) -> Option<Duration> {
        let delay = self
            .policy
            .delay_after(attempt, self.started.elapsed(), server_asked)?;
        if let Some(budget) = self.policy.budget() {
            match budget.withdraw(&self.host, timed_out) {
                Some(cost) => self.last_cost = Some(cost),
                None => {
                    tracing::warn!(
                        host = %self.host,
                        error = %error,
                        "retry budget for this host exhausted; not retrying"
                    );
                    return None;
                }
            }
        }
        Some(delay)
    }

    /// The request got an answer: refunds the budget (the last retry's cost, or one token).
    pub fn succeeded(&mut self) {
        if let Some(budget) = self.policy.budget() {
            budget.deposit(&self.host, self.last_cost.take().unwrap_or(1));
        }
    }
}
