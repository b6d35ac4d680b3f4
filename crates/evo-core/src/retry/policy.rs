//! The retry policy: full-jitter exponential backoff with attempt and total-time limits, and
//! how long to wait before the next attempt.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use super::budget::RetryBudget;
use crate::error::Error;

/// When and how often a failed request is tried again.
///
/// The default makes up to 4 attempts within 2 minutes, waiting a random time between zero and
/// `250 ms × 2^n` (capped at 20 s) between them, or what the server's `Retry-After` asks for
/// (capped at 60 s). Which failures are retried is decided by [`Error::is_retryable`]; a
/// non-idempotent request is retried only when it never reached the server. With a
/// [`RetryBudget`] ([`RetryPolicy::with_budget`]), retries also stop while a host fails much
/// more than it succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Option<Duration>,
    max_retry_after: Duration,
    budget: Option<RetryBudget>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(20),
            max_elapsed: Some(Duration::from_secs(120)),
            max_retry_after: Duration::from_secs(60),
            budget: None,
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }
    /// The number of attempts in all (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }
    /// The upper bound of the first backoff; it doubles with each attempt.
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }
    /// The cap of the exponential backoff.
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }
    /// No retry starts once this much time has passed since the first attempt (`None`: no limit).
    pub fn with_max_elapsed(mut self, limit: Option<Duration>) -> Self {
        self.max_elapsed = limit;
        self
    }
    /// The longest `Retry-After` honoured; longer requests are clamped to it.
    pub fn with_max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }
    /// Charges retries to `budget`, shared with every policy holding a clone of it (default:
    /// no budget, only the attempt and time limits apply).
    pub fn with_budget(mut self, budget: RetryBudget) -> Self {
        self.budget = Some(budget);
        self
    }
    /// The retry budget, if any.
    pub fn budget(&self) -> Option<&RetryBudget> {
        self.budget.as_ref()
    }
    /// The number of attempts in all.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
    /// The total-time limit.
    pub fn max_elapsed(&self) -> Option<Duration> {
        self.max_elapsed
    }

    /// The full-jitter backoff before attempt `attempt + 1` (attempt counts from 1): a random
    /// duration in `[0, min(max_backoff, initial × 2^(attempt-1))]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let nanos = ceiling.as_nanos().min(u64::MAX as u128) as u64;
        Duration::from_nanos(if nanos == 0 {
            0
        } else {
            fastrand::u64(0..=nanos)
        })
    }

    /// Decides whether to try again after `attempt` attempts failed with `error`, `elapsed`
    /// after the first one started; returns how long to wait first.
    /// `may_resend` is false when the request must not be repeated (non-idempotent and sent,
    /// or a body that cannot be replayed).
    pub fn next_delay(
        &self,
        attempt: u32,
        elapsed: Duration,
        error: &Error,
        may_resend: bool,
    ) -> Option<Duration> {
        let server_asked = worth_retrying(error, may_resend)?;
        self.delay_after(attempt, elapsed, server_asked)
    }

    /// How long to wait before trying again a transient failure that ended attempt `attempt`,
    /// `elapsed` after the first attempt started, when the server asked for `server_asked`
    /// (`Retry-After`, clamped to the limit): `None` once the attempts or the time are used up.
    pub(crate) fn delay_after(
        &self,
        attempt: u32,
        elapsed: Duration,
        server_asked: Option<Duration>,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let delay = match server_asked {
            Some(asked) => asked.min(self.max_retry_after),
            None => self.backoff(attempt),
        };
        if let Some(limit) = self.max_elapsed
            && elapsed + delay > limit
        {
            return None;
        }
        Some(delay)
    }
}

/// Reads `Retry-After` as delta-seconds or as an HTTP-date (relative to `now`).
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `Some` when a request that ended with `error` is worth trying again (the request may be
/// sent again and the error is transient), holding the wait the server asked for
/// (`Retry-After`), if any.
pub(crate) fn worth_retrying(error: &Error, may_resend: bool) -> Option<Option<Duration>> {
    (may_resend && error.is_retryable()).then(|| error.as_api().and_then(|api| api.retry_after()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, TransportError, TransportErrorKind};
    use bytes::Bytes;
    use http::{HeaderValue, Method, StatusCode};

    fn api_error(status: u16, retry_after: Option<&str>) -> Error {
        let mut headers = HeaderMap::new();
        if let Some(v) = retry_after {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        }
        ApiError::new(
            Method::GET,
            &"http://h/x".parse().unwrap(),
            StatusCode::from_u16(status).unwrap(),
            headers,
            Bytes::new(),
        )
        .into()
    }

    #[test]
    fn retry_after_seconds_and_date() {
        let now = SystemTime::now();
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(parse_retry_after(&h, now), Some(Duration::from_secs(7)));
        let later = now + Duration::from_secs(30);
        h.insert(
            "retry-after",
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let d = parse_retry_after(&h, now).unwrap();
        assert!(
            d <= Duration::from_secs(30) && d >= Duration::from_secs(28),
            "{d:?}"
        );
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(parse_retry_after(&h, now), None);
    }

    #[test]
    fn which_errors_are_retried() {
        let p = RetryPolicy::default();
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(
                p.next_delay(1, Duration::ZERO, &api_error(status, None), true)
                    .is_some()
            );
        }
        for status in [400, 401, 403, 404, 409, 410, 501] {
            assert!(
                p.next_delay(1, Duration::ZERO, &api_error(status, None), true)
                    .is_none()
            );
        }
        let reset: Error = TransportError::new(TransportErrorKind::Connection, "reset").into();
        assert!(p.next_delay(1, Duration::ZERO, &reset, true).is_some());
        assert!(p.next_delay(1, Duration::ZERO, &reset, false).is_none());
        assert!(p.next_delay(4, Duration::ZERO, &reset, true).is_none());
    }

    #[test]
    fn retry_after_is_honoured_and_clamped() {
        let p = RetryPolicy::default().with_max_retry_after(Duration::from_secs(5));
        let d = p.next_delay(1, Duration::ZERO, &api_error(503, Some("1")), true);
        assert_eq!(d, Some(Duration::from_secs(1)));
        let d = p.next_delay(1, Duration::ZERO, &api_error(429, Some("3600")), true);
        assert_eq!(d, Some(Duration::from_secs(5)));
    }

    #[test]
    fn total_time_limit_stops_retries() {
        let p = RetryPolicy::default().with_max_elapsed(Some(Duration::from_secs(2)));
        let e = api_error(503, Some("5"));
        assert!(p.next_delay(1, Duration::ZERO, &e, true).is_none());
    }

    proptest::proptest! {
        #[test]
        fn backoff_stays_within_the_cap(attempt in 1u32..100) {
            let p = RetryPolicy::default();
            let ceiling = Duration::from_millis(250).saturating_mul(1 << (attempt - 1).min(30)).min(Duration::from_secs(20));
            proptest::prop_assert!(p.backoff(attempt) <= ceiling);
        }
    }
}
