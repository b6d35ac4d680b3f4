//! Sending one blob request, reading its body within bounds, and retrying a step through
//! evo-core's retry driver.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use evo_core::{
    ApiError, Body, Feedback, RetryPolicy, SharedTransport, Timeouts, TransportError,
    TransportErrorKind,
};
use futures_util::{StreamExt, TryFutureExt as _};
use http::header::{HeaderValue, USER_AGENT};
use http::{Method, Request, Response};
use tokio::sync::Notify;
use url::Url;

use crate::buffers::{BlockBuffer, BufferLease};
use crate::concurrency::{Gate, Tuning};
use crate::error::{BlockRef, Error, ErrorKind, Step, join_error};
use crate::progress::{BlockCredit, Meter, PROGRESS_STEP};
use crate::shared::ClientInner;
use crate::url::{SignedUrl, with_params};

/// How much of an error body is kept.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// How one attempt failed, as evo-core's retry driver sees it: fatal, transient (retried with
/// backoff and `Retry-After`), or renewed (the URL was refused and renewed: tried again at once).
pub(crate) type Failure = evo_core::retry::Failure<Error>;

/// How many bytes of a range a reader task reads between nudges to the task that reports the
/// progress: a quarter of [`PROGRESS_STEP`], so that a report comes at most this late after
/// the transfer's whole MiB, wherever the range starts.
const PROGRESS_NUDGE: u64 = PROGRESS_STEP / 4;

/// A failure trying again will not help.
pub(crate) fn fatal(kind: ErrorKind, step: Step, message: impl Into<String>) -> Failure {
    Failure::fatal(Error::new(kind, step, message))
}

/// An evo-core error sorted by [`evo_core::Error::is_retryable`] (with its `Retry-After`).
pub(crate) fn classified(step: Step, error: evo_core::Error) -> Failure {
    evo_core::retry::Failure::classify(error).map(|e| Error::from_core(step, e))
}

/// The URL one attempt uses, and what renewing it after a refusal needs (its generation, and
/// the renewals the step has made so far).
pub(crate) struct AttemptUrl {
    url: Url,
    generation: u64,
    renewals: Arc<AtomicU32>,
}

impl AttemptUrl {
    /// The URL to send to.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// The same attempt on the URL with operation parameters appended (see [`with_params`]).
    pub(crate) fn with_params(mut self, params: &str) -> Self {
        self.url = with_params(&self.url, params);
        self
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
    pub(crate) user_agent: &'a HeaderValue,
    pub(crate) meter: Meter<'a>,
    /// The transfer's use of the client's block buffers.
    pub(crate) buffers: BufferLease,
    /// The fastest answer so far, in nanoseconds from sending the request to its answer's
    /// head (`u64::MAX`: none yet).
    fastest_answer_ns: AtomicU64,
}

impl<'a> Wire<'a> {
    /// The wire of one transfer of `client` to `url`, reporting to `feedback`.
    pub(crate) fn new(
        client: &'a ClientInner,
        url: SignedUrl,
        feedback: Option<&'a dyn Feedback>,
    ) -> Self {
        let config = &client.config;
        Wire {
            transport: &client.transport,
            url,
            retry: config.retry.clone(),
            max_renewals: config.max_renewals,
            connect_timeout: config.connect_timeout,
            read_timeout: config.read_timeout,
            user_agent: &config.user_agent,
            meter: Meter::new(feedback),
            buffers: client.buffers.lease(),
            fastest_answer_ns: AtomicU64::new(u64::MAX),
        }
    }
}

impl Wire<'_> {
    /// Sends a request within the read timeout, an idle timeout that restarts whenever the
    /// transport takes another chunk of the request body and, on the answer, whenever a body
    /// chunk arrives (evo-core's [`send_with_read_timeout`](evo_core::send_with_read_timeout)).
    pub(crate) async fn send(
        &self,
        mut request: Request<Body>,
        step: Step,
    ) -> Result<Response<Body>, Failure> {
        request
            .headers_mut()
            .entry(USER_AGENT)
            .or_insert_with(|| self.user_agent.clone());
        request.extensions_mut().insert(Timeouts::new(
            Some(self.connect_timeout),
            Some(self.read_timeout),
        ));
        let started = Instant::now();
        let sending =
            evo_core::send_with_read_timeout(self.transport.as_ref(), request, self.read_timeout);
        tokio::pin!(sending);
        // A counted request body is read by the transport's own task, which cannot reach the
        // caller's feedback: it wakes this loop, which reports for it.
        let sent = loop {
            tokio::select! {
                sent = &mut sending => break sent,
                () = self.meter.moved() => self.meter.report_step(),
            }
        };
        if sent.is_ok() {
            let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
            self.fastest_answer_ns.fetch_min(took, Ordering::Relaxed);
        }
        sent.map_err(|e| classified(step, e.into()))
    }

    /// The gate of this transfer's blocks of `block_size` bytes: `tuning`'s levels, the start
    /// chosen by how near the server answered so far ([`Tuning::controller`]).
    pub(crate) fn gate(&self, tuning: &Tuning, block_size: u64) -> Gate {
        Gate::new(
            tuning.controller(block_size, self.fastest_answer()),
            &self.meter,
        )
    }

    /// The time from sending a request to its answer's head of the fastest request this
    /// transfer sent so far (connecting included), if any was answered: how near the server
    /// is, as far as the transfer can tell before its blocks start (see
    /// [`NEAR_ROUND_TRIP`](crate::NEAR_ROUND_TRIP)).
    fn fastest_answer(&self) -> Option<Duration> {
        match self.fastest_answer_ns.load(Ordering::Relaxed) {
            u64::MAX => None,
            ns => Some(Duration::from_nanos(ns)),
        }
    }

    /// Turns a response with an unexpected status into a failure, keeping up to 64 KiB of body.
    ///
    /// A refusal (401, 403) renews the URL (shared with parallel blocks) and is tried again at
    /// once, up to the client's renewals per step.
    pub(crate) async fn status_failure(
        &self,
        method: Method,
        attempt: &AttemptUrl,
        response: Response<Body>,
        step: Step,
    ) -> Failure {
        let (parts, body) = response.into_parts();
        let body = self
            .read_up_to(body, ERROR_BODY_LIMIT)
            .await
            .unwrap_or_default();
        let api = ApiError::new(method, attempt.url(), parts.status, parts.headers, body);
        if !matches!(api.status().as_u16(), 401 | 403) {
            return classified(step, api.into());
        }
        let refused = Error::from_core(step, api.into());
        if attempt.renewals.fetch_add(1, Ordering::Relaxed) >= self.max_renewals {
            return Failure::fatal(refused);
        }
        tracing::debug!(%step, "blob URL refused; renewing");
        match self.url.renew(attempt.generation).await {
            Ok(()) => Failure::renewed(refused),
            Err(renew_error) => Failure::fatal(renew_error),
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
        let (data, _) = read_body(body, len, step, BlockBuffer::default(), false, |_| {}).await?;
        Ok(data)
    }

    /// [`read_exact`](Self::read_exact) for a block's data, counted in the progress as it
    /// arrives (a retried block only counts bytes beyond what its earlier attempts counted),
    /// into `buf` (a reused one, see [`BufferPool`](crate::buffers::BufferPool)); with its
    /// CRC-64 when `crc`.
    ///
    /// The body is read on a task of its own. The transport hands a body over a piece at a
    /// time from the task that drives the connection (hyper waits for each piece to be taken
    /// before it reads the next), so a reader on the caller's thread (a `block_on`, as in
    /// `#[tokio::main]`) is woken from another thread for every piece: on a slow link, a piece
    /// per TLS record. On a runtime worker, the two tasks mostly wake each other without a
    /// thread switch; the caller is woken once per [`PROGRESS_NUDGE`] moved, to report it. On
    /// the files benchmark's WAN profile (and a `block_on` caller) this took a 256 MiB
    /// download's client CPU from 0.62-0.66 s to 0.50-0.53 s. Dropping the returned future
    /// stops the task.
    pub(crate) async fn read_counted(
        &self,
        body: Body,
        len: u64,
        credit: &BlockCredit,
        step: Step,
        buf: BlockBuffer,
        crc: bool,
    ) -> Result<(Bytes, Option<u64>), Failure> {
        let reached = Arc::new(AtomicU64::new(0));
        let moved = Arc::new(Notify::new());
        let (task_reached, task_moved) = (reached.clone(), moved.clone());
        let mut task = AbortOnDrop(tokio::spawn(read_body(
            body,
            len,
            step,
            buf,
            crc,
            move |got| {
                let before = task_reached.swap(got, Ordering::Relaxed);
                if got / PROGRESS_NUDGE != before / PROGRESS_NUDGE {
                    task_moved.notify_one();
                }
            },
        )));
        loop {
            tokio::select! {
                done = &mut task.0 => {
                    self.meter.advance(credit, reached.load(Ordering::Relaxed));
                    return done.map_err(|e| Failure::fatal(join_error(step, e)))?;
                }
                () = moved.notified() => {
                    self.meter.advance(credit, reached.load(Ordering::Relaxed));
                }
            }
        }
    }

    /// Reads a small body (XML, errors) up to `limit` bytes.
    pub(crate) async fn read_up_to(&self, body: Body, limit: usize) -> Result<Bytes, Failure> {
        body.collect(limit).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                fatal(
                    ErrorKind::Protocol,
                    Step::GetBlockList,
                    format!("answer larger than {limit} bytes"),
                )
            } else {
                classified(Step::GetBlockList, body_error(e, 0, limit as u64))
            }
        })
    }

    /// Runs one step through evo-core's retry driver: transient failures are tried again (with
    /// backoff and `Retry-After`, within the policy's attempts, time and budget), refusals
    /// after the URL was renewed. Every attempt after the first counts as a retry in the
    /// progress.
    pub(crate) async fn retrying<T, F, Fut>(
        &self,
        step: Step,
        block: Option<BlockRef>,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut(AttemptUrl) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let host = self.url.get().0.host_str().unwrap_or_default().to_owned();
        let renewals = Arc::new(AtomicU32::new(0));
        let outcome = self
            .retry
            .driver(host)
            .run(|this| {
                if this.is_retry() {
                    tracing::debug!(%step, ?block, attempt = this.number(), "trying again");
                    self.meter.retried();
                }
                let (url, generation) = self.url.get();
                // A transient failure tells adaptive concurrency to back off.
                attempt(AttemptUrl {
                    url,
                    generation,
                    renewals: renewals.clone(),
                })
                .inspect_err(|failure| {
                    if failure.is_transient() {
                        self.meter.troubled();
                    }
                })
            })
            .await;
        outcome.map_err(|failed| {
            let attempts = failed.attempts();
            let error = failed.into_error().with_attempts(attempts);
            match block {
                Some(b) => error.with_block(b),
                None => error,
            }
        })
    }
}

/// A body that broke or stalled (evo-core's idle timeout) after `seen` of `expected` bytes.
pub(crate) fn body_error(e: std::io::Error, seen: u64, expected: u64) -> evo_core::Error {
    let error = if e.kind() == std::io::ErrorKind::TimedOut {
        TransportError::new(
            TransportErrorKind::Timeout,
            format!("the body stalled after {seen} bytes: {e}"),
        )
    } else {
        TransportError::new(
            TransportErrorKind::Connection,
            format!("the body broke after {seen} of {expected} bytes: {e}"),
        )
    };
    error.with_source(e).into()
}

/// Reads a body of exactly `len` bytes into `buf` (its old bytes dropped), grown once to
/// `len`; with their CRC-64 when `crc`, computed as each piece arrives (while it is still in the
/// CPU's cache: a pass over the whole range afterwards would read it from memory again).
/// `progress` hears the bytes read so far after each piece.
async fn read_body(
    body: Body,
    len: u64,
    step: Step,
    mut buf: BlockBuffer,
    crc: bool,
    mut progress: impl FnMut(u64),
) -> Result<(Bytes, Option<u64>), Failure> {
    let mut stream = body.into_stream();
    let mut running = crc.then(crate::crc64::Running::new);
    buf.clear_for(len as usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| classified(step, body_error(e, buf.len() as u64, len)))?;
        if buf.len() as u64 + chunk.len() as u64 > len {
            return Err(fatal(
                ErrorKind::Protocol,
                step,
                format!("the body is longer than the {len} bytes asked for"),
            ));
        }
        if !chunk.is_empty() {
            buf.extend_from_slice(&chunk);
            if let Some(r) = running.as_mut() {
                r.update(&chunk);
            }
            progress(buf.len() as u64);
        }
    }
    if (buf.len() as u64) < len {
        return Err(classified(
            step,
            TransportError::new(
                TransportErrorKind::Connection,
                format!("truncated body: {} of {len} bytes arrived", buf.len()),
            )
            .into(),
        ));
    }
    Ok((buf.freeze(), running.map(|r| r.finish().0)))
}

/// A spawned task that is stopped when its handle is dropped: a range whose reader is
/// dropped (a cancelled or failed transfer) stops reading its body.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
