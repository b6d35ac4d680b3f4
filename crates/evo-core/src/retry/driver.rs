//! The retry driver: runs one request's attempts until one succeeds, one fails for good, or
//! the policy (attempts, total time, `Retry-After`, budget) says stop.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use super::policy::RetryPolicy;
use crate::error::{Error, TransportErrorKind};

impl RetryPolicy {
    /// The retry driver for one request to `host` (the budget's partition): runs an attempt
    /// closure until it succeeds, fails for good, or this policy says stop. See
    /// [`crate::retry`].
    pub fn driver(&self, host: impl Into<String>) -> RetryDriver<'_> {
        RetryDriver::new(self, host.into())
    }
}

/// What the attempt closure of [`RetryDriver::run`] is told about the attempt it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    number: u32,
    retry: bool,
}

impl Attempt {
    /// The attempt's number, from 1. Attempts after a [`Failure::renewed`] keep the number
    /// of the one they replace (a renewal is not counted against the policy's attempts).
    pub fn number(&self) -> u32 {
        self.number
    }
    /// True for every attempt but the first (after a transient failure or a renewal).
    pub fn is_retry(&self) -> bool {
        self.retry
    }
}

/// Why one attempt failed, as far as retrying is concerned, with the error to give back
/// when the driver stops.
///
/// - [`Failure::fatal`]: trying again will not help; the driver stops at once.
/// - [`Failure::transient`]: trying again may help (a retryable status, a broken connection,
///   a timeout); refine with [`Failure::retry_after`], [`Failure::unprocessed`] and
///   [`Failure::timed_out`].
/// - [`Failure::renewed`]: the closure renewed what the server refused (credentials, a
///   signed URL); the driver tries again at once without counting an attempt.
///
/// [`Failure::classify`] sorts an [`Error`] by [`Error::is_retryable`].
#[must_use]
pub struct Failure<E> {
    error: E,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fatal,
    Transient {
        retry_after: Option<Duration>,
        processed: bool,
        timed_out: bool,
    },
    Renewed,
}

impl<E: fmt::Debug> fmt::Debug for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Failure")
            .field("kind", &self.kind)
            .field("error", &self.error)
            .finish()
    }
}

impl<E> Failure<E> {
    /// Trying again will not help.
    pub fn fatal(error: E) -> Self {
        Failure {
            error,
            kind: Kind::Fatal,
        }
    }
    /// Trying again may help. The request is taken to have perhaps been processed by the
    /// server, so a non-idempotent request is not repeated (unless [`Failure::unprocessed`]).
    pub fn transient(error: E) -> Self {
        Failure {
            error,
            kind: Kind::Transient {
                retry_after: None,
                processed: true,
                timed_out: false,
            },
        }
    }
    /// The closure renewed what the server refused: try again at once, not counted as an
    /// attempt. The closure bounds its own renewals (return [`Failure::fatal`] past them).
    pub fn renewed(error: E) -> Self {
        Failure {
            error,
            kind: Kind::Renewed,
        }
    }
    /// The delay the server asked for (`Retry-After`); the driver waits that long instead of
    /// its backoff, clamped to the policy's limit. No effect on other kinds.
    pub fn retry_after(mut self, delay: Option<Duration>) -> Self {
        if let Kind::Transient { retry_after, .. } = &mut self.kind {
            *retry_after = delay;
        }
        self
    }
    /// The server did not act on the request (it never reached the server, or the answer
    /// says it was not processed): safe to repeat even when it is not idempotent.
    pub fn unprocessed(mut self) -> Self {
        if let Kind::Transient { processed, .. } = &mut self.kind {
            *processed = false;
        }
        self
    }
    /// The attempt timed out (a retry after it costs the budget more).
    pub fn timed_out(mut self) -> Self {
        if let Kind::Transient { timed_out, .. } = &mut self.kind {
            *timed_out = true;
        }
        self
    }
    /// True for [`Failure::transient`].
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, Kind::Transient { .. })
    }
    /// True for [`Failure::renewed`].
    pub fn is_renewed(&self) -> bool {
        self.kind == Kind::Renewed
    }
    /// The error.
    pub fn error(&self) -> &E {
        &self.error
    }
    /// The error, dropping the classification.
    pub fn into_error(self) -> E {
        self.error
    }
    /// The same classification with another error.
    pub fn map<F>(self, f: impl FnOnce(E) -> F) -> Failure<F> {
        Failure {
            error: f(self.error),
            kind: self.kind,
        }
    }
}

impl Failure<Error> {
    /// Classifies an evo-core error: transient when [`Error::is_retryable`] (with the
    /// `Retry-After` of an API error, "unprocessed" for a transport error whose request was
    /// not sent, "timed out" for a timeout), fatal otherwise.
    pub fn classify(error: Error) -> Self {
        if !error.is_retryable() {
            return Failure::fatal(error);
        }
        let retry_after = error.as_api().and_then(|api| api.retry_after());
        let transport = error.as_transport();
        let unsent = transport.is_some_and(|t| !t.request_sent());
        let timed_out = transport.is_some_and(|t| t.kind() == TransportErrorKind::Timeout);
        let mut failure = Failure::transient(error).retry_after(retry_after);
        if unsent {
            failure = failure.unprocessed();
        }
        if timed_out {
            failure = failure.timed_out();
        }
        failure
    }
}

impl From<Error> for Failure<Error> {
    fn from(error: Error) -> Self {
        Failure::classify(error)
    }
}

/// The driver stopped: the last attempt's error and how many attempts were made.
#[derive(Debug)]
pub struct Failed<E> {
    error: E,
    attempts: u32,
    transient: bool,
}

impl<E> Failed<E> {
    /// The error of the last attempt.
    pub fn error(&self) -> &E {
        &self.error
    }
    /// The error of the last attempt.
    pub fn into_error(self) -> E {
        self.error
    }
    /// The attempts made (renewals not counted).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
    /// True when the last failure was transient: the policy (attempts, time, budget) or
    /// the request's idempotence stopped the retries, not the failure itself.
    pub fn was_transient(&self) -> bool {
        self.transient
    }
}

/// Runs the attempts of one request under a [`RetryPolicy`]: made by
/// [`RetryPolicy::driver`]. See the [module docs](crate::retry) for an example.
#[derive(Debug)]
#[must_use = "a driver does nothing until `run`"]
pub struct RetryDriver<'p> {
    policy: &'p RetryPolicy,
    host: String,
    idempotent: bool,
}

impl<'p> RetryDriver<'p> {
    pub(crate) fn new(policy: &'p RetryPolicy, host: String) -> Self {
        RetryDriver {
            policy,
            host,
            idempotent: true,
        }
    }

    /// Whether repeating a request the server may have processed is harmless (default
    /// true). When false, only failures marked [`Failure::unprocessed`] are retried.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Calls `attempt` until it returns `Ok`, a [`Failure::fatal`], or a
    /// [`Failure::transient`] the policy does not retry (attempts or total time used up, the
    /// budget dry, a non-idempotent request the server may have processed). Between
    /// transient failures it sleeps the server's `Retry-After` (clamped) or a full-jitter
    /// backoff; after a [`Failure::renewed`] it calls again at once. A success refunds the
    /// budget.
    pub async fn run<T, E, F, Fut>(self, mut attempt: F) -> Result<T, Failed<E>>
    where
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<T, Failure<E>>>,
        E: fmt::Display,
    {
        let mut retries = self.policy.start(self.host);
        let mut number: u32 = 1;
        let mut retry = false;
        loop {
            let failure = match attempt(Attempt { number, retry }).await {
                Ok(value) => {
                    retries.succeeded();
                    return Ok(value);
                }
                Err(failure) => failure,
            };
            retry = true;
            let delay = match failure.kind {
                Kind::Renewed => {
                    tracing::debug!(attempt = number, error = %failure.error, "renewed; trying again");
                    continue;
                }
                Kind::Fatal => None,
                Kind::Transient {
                    retry_after,
                    processed,
                    timed_out,
                } => {
                    if processed && !self.idempotent {
                        None
                    } else {
                        retries.delay_for_transient(number, retry_after, timed_out, &failure.error)
                    }
                }
            };
            let Some(delay) = delay else {
                return Err(Failed {
                    transient: failure.is_transient(),
                    error: failure.error,
                    attempts: number,
                });
            };
            tracing::info!(attempt = number, error = %failure.error, ?delay, "retrying");
            tokio::time::sleep(delay).await;
            number += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, TransportError};
    use crate::retry::RetryBudget;
    use bytes::Bytes;
    use http::{HeaderMap, HeaderValue, Method, StatusCode};
    use std::sync::Mutex;

    fn status(code: u16, retry_after: Option<&str>) -> Error {
        let mut headers = HeaderMap::new();
        if let Some(v) = retry_after {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        }
        ApiError::new(
            Method::GET,
            &"http://h/x".parse().unwrap(),
            StatusCode::from_u16(code).unwrap(),
            headers,
            Bytes::new(),
        )
        .into()
    }

    fn fast() -> RetryPolicy {
        RetryPolicy::default().with_initial_backoff(Duration::ZERO)
    }

    /// Runs a driver whose attempts fail with the scripted errors, then succeed.
    async fn script(
        policy: &RetryPolicy,
        idempotent: bool,
        failures: Vec<Failure<Error>>,
    ) -> (Result<u32, Failed<Error>>, Vec<Attempt>) {
        let seen = Mutex::new(Vec::new());
        let failures = Mutex::new(failures.into_iter());
        let result = policy
            .driver("h")
            .idempotent(idempotent)
            .run(|attempt| {
                seen.lock().unwrap().push(attempt);
                let next = failures.lock().unwrap().next();
                async move {
                    match next {
                        Some(failure) => Err(failure),
                        None => Ok(attempt.number()),
                    }
                }
            })
            .await;
        (result, seen.into_inner().unwrap())
    }

    #[tokio::test]
    async fn transient_failures_are_retried_up_to_the_attempt_limit() {
        let policy = fast().with_max_attempts(3);
        let (result, attempts) = script(
            &policy,
            true,
            vec![status(503, None).into(), status(502, None).into()],
        )
        .await;
        assert_eq!(result.unwrap(), 3);
        assert_eq!(attempts.len(), 3);
        assert!(!attempts[0].is_retry() && attempts[1].is_retry());

        let (result, attempts) = script(
            &policy,
            true,
            (0..5).map(|_| status(500, None).into()).collect(),
        )
        .await;
        let failed = result.unwrap_err();
        assert_eq!(failed.attempts(), 3);
        assert!(failed.was_transient());
        assert_eq!(
            failed.error().status(),
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
        assert_eq!(attempts.len(), 3);
    }

    #[tokio::test]
    async fn fatal_failures_stop_at_once() {
        let (result, attempts) = script(&fast(), true, vec![status(404, None).into()]).await;
        let failed = result.unwrap_err();
        assert!(!failed.was_transient());
        assert_eq!(failed.attempts(), 1);
        assert_eq!(attempts.len(), 1);
    }

    #[tokio::test]
    async fn non_idempotent_requests_are_retried_only_when_unprocessed() {
        let reset = || Error::from(TransportError::new(TransportErrorKind::Connection, "reset"));
        let refused = || Error::from(TransportError::new(TransportErrorKind::Connect, "refused"));
        let (result, _) = script(&fast(), false, vec![reset().into()]).await;
        assert_eq!(
            result.unwrap_err().attempts(),
            1,
            "a reset may have been processed"
        );
        let (result, _) = script(&fast(), false, vec![status(503, None).into()]).await;
        assert_eq!(result.unwrap_err().attempts(), 1);
        let (result, _) = script(&fast(), false, vec![refused().into()]).await;
        assert_eq!(
            result.unwrap(),
            2,
            "a refused connection never reached the server"
        );
        let (result, _) = script(
            &fast(),
            false,
            vec![Failure::transient(status(503, None)).unprocessed()],
        )
        .await;
        assert_eq!(result.unwrap(), 2);
    }

    #[tokio::test]
    async fn renewals_are_not_counted_as_attempts() {
        let policy = fast().with_max_attempts(2);
        let (result, attempts) = script(
            &policy,
            true,
            vec![
                Failure::renewed(status(401, None)),
                status(503, None).into(),
                Failure::renewed(status(403, None)),
            ],
        )
        .await;
        assert_eq!(result.unwrap(), 2);
        let numbers: Vec<u32> = attempts.iter().map(Attempt::number).collect();
        assert_eq!(numbers, [1, 1, 2, 2]);
    }

    #[tokio::test]
    async fn retry_after_is_waited_and_the_total_time_limit_holds() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::from_secs(3600))
            .with_max_retry_after(Duration::from_millis(200))
            .with_max_elapsed(Some(Duration::from_millis(500)));
        let start = std::time::Instant::now();
        let (result, _) = script(&policy, true, vec![status(429, Some("3600")).into()]).await;
        assert_eq!(result.unwrap(), 2);
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(200) && waited < Duration::from_secs(60),
            "Retry-After clamped to the limit, not the backoff: {waited:?}"
        );
        let (result, _) = script(
            &policy,
            true,
            (0..3).map(|_| status(503, Some("5")).into()).collect(),
        )
        .await;
        assert_eq!(
            result.unwrap_err().attempts(),
            3,
            "a third wait of 200 ms would pass the 500 ms limit"
        );
    }

    #[tokio::test]
    async fn the_budget_is_charged_and_refunded() {
        let budget = RetryBudget::new(10);
        let policy = fast().with_max_attempts(100).with_budget(budget.clone());
        let timeout = || Error::from(TransportError::new(TransportErrorKind::Timeout, "slow"));
        let (result, _) = script(&policy, true, vec![timeout().into()]).await;
        assert_eq!(result.unwrap(), 2);
        assert_eq!(
            budget.available("h"),
            10,
            "the success refunded the timeout's 10"
        );
        let (result, _) = script(
            &policy,
            true,
            (0..10).map(|_| status(503, None).into()).collect(),
        )
        .await;
        assert_eq!(
            result.unwrap_err().attempts(),
            3,
            "two retries of 5 empty the bucket"
        );
        assert_eq!(budget.available("h"), 0);
    }

    #[test]
    fn classify_reads_the_error() {
        assert!(!Failure::classify(status(400, None)).is_transient());
        let f = Failure::classify(status(503, Some("7")));
        assert_eq!(
            f.kind,
            Kind::Transient {
                retry_after: Some(Duration::from_secs(7)),
                processed: true,
                timed_out: false
            }
        );
        let f = Failure::classify(TransportError::new(TransportErrorKind::Timeout, "t").into());
        assert!(matches!(
            f.kind,
            Kind::Transient {
                processed: true,
                timed_out: true,
                ..
            }
        ));
        let f = Failure::classify(TransportError::new(TransportErrorKind::Connect, "c").into());
        assert!(matches!(
            f.kind,
            Kind::Transient {
                processed: false,
                ..
            }
        ));
        assert!(
            !Failure::classify(TransportError::new(TransportErrorKind::Tls, "x").into())
                .is_transient()
        );
    }
}
