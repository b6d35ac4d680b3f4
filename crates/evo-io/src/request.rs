//! Sending one blob request, reading its body within bounds, and retrying a step.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use evo_core::{
    ApiError, Body, Feedback, Progress, RetryPolicy, SharedTransport, Timeouts, TransportError,
    TransportErrorKind,
};
use futures_util::StreamExt;
use http::{Method, Request, Response};
use url::Url;

use crate::error::{BlockRef, Error, ErrorKind, Step};
use crate::url::SignedUrl;

/// How much of an error body is kept.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The outcome of one failed attempt.
pub(crate) enum Failure {
    /// 401 or 403: the URL was refused; renew it and try again.
    Refused(evo_core::Error),
    /// Worth trying again (5xx, 408, 429, broken connection, truncated body).
    Transient(evo_core::Error),
    /// Trying again will not help.
    Fatal(Error),
}

impl Failure {
    pub(crate) fn fatal(kind: ErrorKind, step: Step, message: impl Into<String>) -> Self {
        Failure::Fatal(Error::new(kind, step, message))
    }
}

/// Settings every request of a transfer shares.
pub(crate) struct Wire<'a> {
    pub(crate) transport: &'a SharedTransport,
    pub(crate) url: SignedUrl,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_renewals: u32,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) meter: Meter<'a>,
}

impl Wire<'_> {
    /// Sends a request; the head must arrive within the read timeout.
    pub(crate) async fn send(
        &self,
        mut request: Request<Body>,
        step: Step,
    ) -> Result<Response<Body>, Failure> {
        request.extensions_mut().insert(Timeouts::new(
            Some(self.connect_timeout),
            Some(self.read_timeout),
        ));
        match tokio::time::timeout(self.read_timeout, self.transport.send(request)).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(transport_failure(e, step)),
            Err(_) => Err(Failure::Transient(
                TransportError::new(
                    TransportErrorKind::Timeout,
                    format!("no answer within {:?}", self.read_timeout),
                )
                .into(),
            )),
        }
    }

    /// Turns a response with an unexpected status into a failure, keeping up to 64 KiB of body.
    pub(crate) async fn status_failure(
        &self,
        method: Method,
        url: &Url,
        response: Response<Body>,
        step: Step,
    ) -> Failure {
        let (parts, body) = response.into_parts();
        let body = self
            .read_up_to(body, ERROR_BODY_LIMIT)
            .await
            .unwrap_or_default();
        let api = ApiError::new(method, url, parts.status, parts.headers, body);
        let status = api.status().as_u16();
        let error: evo_core::Error = api.into();
        match status {
            401 | 403 => Failure::Refused(error),
            _ if error.is_retryable() => Failure::Transient(error),
            _ => Failure::Fatal(Error::from_core(step, error)),
        }
    }

    /// Reads a body of exactly `len` bytes: shorter is a truncation (transient), longer is a
    /// protocol error. The buffer is allocated once, so memory stays at `len`.
    pub(crate) async fn read_exact(
        &self,
        body: Body,
        len: u64,
        step: Step,
    ) -> Result<Bytes, Failure> {
        self.read_range_of(body, 0, len, None, step).await
    }

    /// Reads bytes `skip..skip + len` of a body (a server that ignored `Range` sends the whole
    /// blob); `whole` is the body length the server announced, checked when given.
    pub(crate) async fn read_range_of(
        &self,
        body: Body,
        skip: u64,
        len: u64,
        whole: Option<u64>,
        step: Step,
    ) -> Result<Bytes, Failure> {
        let mut stream = body.into_stream();
        let mut buf = BytesMut::with_capacity(len as usize);
        let mut seen: u64 = 0;
        let end = skip + len;
        loop {
            let next = tokio::time::timeout(self.read_timeout, stream.next()).await;
            let chunk = match next {
                Err(_) => {
                    return Err(Failure::Transient(
                        TransportError::new(
                            TransportErrorKind::Timeout,
                            format!(
                                "the body stalled for {:?} after {seen} bytes",
                                self.read_timeout
                            ),
                        )
                        .into(),
                    ));
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    return Err(Failure::Transient(
                        TransportError::new(
                            TransportErrorKind::Connection,
                            format!("the body broke after {seen} of {end} bytes: {e}"),
                        )
                        .with_source(e)
                        .into(),
                    ));
                }
                Ok(Some(Ok(chunk))) => chunk,
            };
            let start = seen;
            seen += chunk.len() as u64;
            if whole.is_none() && seen > end {
                return Err(Failure::fatal(
                    ErrorKind::Protocol,
                    step,
                    format!("the body is longer than the {len} bytes asked for"),
                ));
            }
            // The part of this chunk that falls inside skip..end.
            let from = skip.saturating_sub(start).min(chunk.len() as u64) as usize;
            let to = end.saturating_sub(start).min(chunk.len() as u64) as usize;
            if from < to {
                buf.extend_from_slice(&chunk[from..to]);
            }
            if whole.is_some() && seen >= end {
                // The rest of a whole-blob answer is not needed; dropping the body closes it.
                break;
            }
        }
        if (buf.len() as u64) < len {
            return Err(Failure::Transient(
                TransportError::new(
                    TransportErrorKind::Connection,
                    format!("truncated body: {} of {len} bytes arrived", buf.len()),
                )
                .into(),
            ));
        }
        Ok(buf.freeze())
    }

    /// Reads a small body (XML, errors) up to `limit` bytes.
    pub(crate) async fn read_up_to(&self, body: Body, limit: usize) -> Result<Bytes, Failure> {
        match tokio::time::timeout(self.read_timeout, body.collect(limit)).await {
            Ok(Ok(b)) => Ok(b),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => Err(Failure::fatal(
                ErrorKind::Protocol,
                Step::GetBlockList,
                format!("answer larger than {limit} bytes"),
            )),
            Ok(Err(e)) => Err(Failure::Transient(
                TransportError::new(TransportErrorKind::Connection, e.to_string()).into(),
            )),
            Err(_) => Err(Failure::Transient(
                TransportError::new(TransportErrorKind::Timeout, "the body stalled").into(),
            )),
        }
    }

    /// Runs one step, trying again after transient failures (with backoff and `Retry-After`)
    /// and after refusals (renewing the URL, shared with parallel blocks).
    pub(crate) async fn retrying<T, F, Fut>(
        &self,
        step: Step,
        block: Option<BlockRef>,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut(Url) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let mut retries = {
            let (url, _) = self.url.get();
            self.retry.start(url.host_str().unwrap_or_default())
        };
        let mut attempts: u32 = 0;
        let mut renewals: u32 = 0;
        loop {
            let (url, generation) = self.url.get();
            attempts += 1;
            let error = match attempt(url).await {
                Ok(value) => {
                    retries.succeeded();
                    return Ok(value);
                }
                Err(Failure::Fatal(e)) => return Err(finish(e, block, attempts)),
                Err(Failure::Refused(e)) => {
                    renewals += 1;
                    if renewals > self.max_renewals {
                        return Err(finish(Error::from_core(step, e), block, attempts));
                    }
                    tracing::debug!(%step, ?block, "blob URL refused; renewing");
                    if let Err(renew_error) = self.url.renew(generation).await {
                        return Err(finish(renew_error, block, attempts));
                    }
                    // A refusal does not use up the transient-error budget.
                    attempts -= 1;
                    self.meter.retried();
                    continue;
                }
                Err(Failure::Transient(e)) => e,
            };
            match retries.next_delay(attempts, &error, true) {
                Some(delay) => {
                    tracing::debug!(%step, ?block, attempts, ?delay, error = %error, "retrying");
                    self.meter.retried();
                    tokio::time::sleep(delay).await;
                }
                None => return Err(finish(Error::from_core(step, error), block, attempts)),
            }
        }
    }
}

fn finish(error: Error, block: Option<BlockRef>, attempts: u32) -> Error {
    let error = error.with_attempts(attempts);
    match block {
        Some(b) => error.with_block(b),
        None => error,
    }
}

fn transport_failure(e: TransportError, step: Step) -> Failure {
    let error: evo_core::Error = e.into();
    if error.is_retryable() {
        Failure::Transient(error)
    } else {
        Failure::Fatal(Error::from_core(step, error))
    }
}

/// Byte-based progress of one transfer.
pub(crate) struct Meter<'a> {
    feedback: Option<&'a dyn Feedback>,
    done: AtomicU64,
    retries: AtomicU64,
    total: Option<u64>,
}

impl<'a> Meter<'a> {
    pub(crate) fn new(feedback: Option<&'a dyn Feedback>) -> Self {
        Meter {
            feedback,
            done: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            total: None,
        }
    }
    pub(crate) fn set_total(&mut self, total: Option<u64>) {
        self.total = total;
    }
    pub(crate) fn add(&self, bytes: u64) {
        self.done.fetch_add(bytes, Ordering::Relaxed);
        self.report();
    }
    pub(crate) fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        self.report();
    }
    pub(crate) fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
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
}
