//! Where requests are retried: the one retry driver of evo-rs, its policy and its budget.
//!
//! - [`policy`](RetryPolicy): how often and how long to retry (attempts, full-jitter
//!   exponential backoff, the total-time limit, the longest `Retry-After` honoured).
//! - [`budget`](RetryBudget): a token bucket per host shared by many requests, so an outage
//!   is not multiplied by every client's retries.
//! - [`request`](RequestRetries): the retry decisions of one request, within the policy's
//!   limits and charged to its budget.
//! - [`driver`](RetryDriver): the loop. It calls an attempt closure, and after each failure
//!   the closure classified as a [`Failure`] it stops, sleeps and tries again, or tries again at
//!   once. The API connector, the blob block transfers of evo-io and the OAuth token requests
//!   of evo-auth all retry through it.
//! - [`is_retryable_status`]: the one list of HTTP statuses worth retrying
//!   (408, 429, 500, 502, 503, 504), which [`Error::is_retryable`](crate::Error::is_retryable)
//!   answers from.
//!
//! # Using the driver
//!
//! The closure is called with an [`Attempt`] (its number, whether it is a retry) and returns
//! `Ok(value)` or a [`Failure`]:
//!
//! | failure                         | the driver                                             |
//! |---------------------------------|--------------------------------------------------------|
//! | [`Failure::fatal`]              | stops and returns it                                   |
//! | [`Failure::transient`]          | sleeps `Retry-After` (clamped) or a backoff, tries again, within the attempts, the total time and the budget |
//! | [`Failure::renewed`]            | tries again at once, not counted as an attempt (after renewing a refused token or signed URL; the closure bounds its renewals) |
//!
//! A transient failure is taken to have maybe been processed by the server: a request made
//! non-idempotent with [`RetryDriver::idempotent(false)`](RetryDriver::idempotent) is then not
//! repeated, unless the failure says [`Failure::unprocessed`] (the request never reached the
//! server). [`Failure::classify`] (also `From<Error>`, so `?` works) sorts an
//! [`Error`](crate::Error) by [`Error::is_retryable`](crate::Error::is_retryable) and reads its
//! `Retry-After`, whether it was sent, and whether it timed out (which costs the budget more).
//!
//! When it stops, the driver returns [`Failed`]: the last error and the number of attempts.
//! A success refunds the budget.
//!
//! ```
//! use std::time::Duration;
//! use evo_core::retry::{Failure, RetryPolicy};
//! use evo_core::{Error, TransportError, TransportErrorKind};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let policy = RetryPolicy::default()
//!     .with_max_attempts(4)
//!     .with_initial_backoff(Duration::from_millis(1));
//! let outcome = policy
//!     .driver("blob.example") // the budget's partition
//!     .idempotent(true)
//!     .run(|attempt| async move {
//!         if attempt.number() < 3 {
//!             // A reset connection: classified as transient.
//!             let reset = TransportError::new(TransportErrorKind::Connection, "reset");
//!             return Err(Failure::classify(Error::from(reset)));
//!         }
//!         Ok::<_, Failure<Error>>(attempt.number())
//!     })
//!     .await;
//! assert_eq!(outcome.unwrap(), 3);
//! # }
//! ```
//!
//! The closure is `FnMut(Attempt) -> impl Future`: state it changes between attempts lives
//! outside it (a `Mutex`, an atomic) or is moved into each future. The error type is the
//! caller's own (it must implement `Display`, for the retry logs): a blob transfer keeps its
//! step and block, the connector hands a final retryable response back as a response.

mod budget;
mod driver;
mod policy;
mod request;

pub use budget::RetryBudget;
pub use driver::{Attempt, Failed, Failure, RetryDriver};
pub use policy::{RetryPolicy, parse_retry_after};
pub use request::RequestRetries;

use http::StatusCode;

/// True for the HTTP statuses worth trying again: 408 Request Timeout, 429 Too Many
/// Requests, 500 Internal Server Error, 502 Bad Gateway, 503 Service Unavailable and 504
/// Gateway Timeout. The one list every crate of evo-rs uses.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}
