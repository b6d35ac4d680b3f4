//! Sending one request of an upload: building it, accepting its answer, and how a refused
//! checksum or a lost commit answer is treated.

use std::sync::atomic::{AtomicBool, Ordering};

use evo_core::Body;
use http::{Method, Request};

use crate::error::{Committed, Error, ErrorKind, Step};
use crate::request::{AttemptUrl, Failure, Wire, fatal};

/// A body refused for its checksum (`400 Crc64Mismatch` or `Md5Mismatch`) changed on the way
/// after the checksum was computed from the buffer: the server stored nothing, and the same
/// buffer sent again may arrive whole. Tried again within the retry policy; a refusal that
/// persists (a proxy that rewrites bodies) ends the upload with that status.
pub(super) fn mismatch_is_transient(failure: Failure) -> Failure {
    let code = failure
        .error()
        .core()
        .and_then(evo_core::Error::as_api)
        .and_then(evo_core::ApiError::storage_error_code);
    if matches!(code, Some("Crc64Mismatch" | "Md5Mismatch")) {
        tracing::debug!(
            ?code,
            "the server refused a body for its checksum; sending it again"
        );
        Failure::transient(failure.into_error()).unprocessed()
    } else {
        failure
    }
}

/// The commit named a block the server does not hold (it expired, or was never staged).
pub(super) fn is_invalid_block_list(error: &Error) -> bool {
    error
        .core()
        .and_then(evo_core::Error::as_api)
        .and_then(evo_core::ApiError::storage_error_code)
        == Some("InvalidBlockList")
}

/// A commit that failed on the connection may have happened, and so may one whose last
/// attempt was answered (or whose URL could not be renewed) after an earlier attempt lost its
/// answer.
pub(super) fn commit_state(e: Error, unanswered: &AtomicBool) -> Error {
    if e.kind() == ErrorKind::Transport || unanswered.load(Ordering::SeqCst) {
        e.with_committed(Committed::Unknown)
    } else {
        e
    }
}

/// One attempt of a commit (`Put Blob`, `Put Block List`): [`expect_success`], noting in
/// `unanswered` an attempt that failed without an answer (it may have committed).
pub(super) async fn commit_attempt(
    wire: &Wire<'_>,
    target: &AttemptUrl,
    request: Request<Body>,
    step: Step,
    unanswered: &AtomicBool,
) -> Result<(), Failure> {
    let response = match wire.send(request, step).await {
        Ok(response) => response,
        Err(failure) => {
            unanswered.store(true, Ordering::SeqCst);
            return Err(failure);
        }
    };
    if response.status().is_success() {
        let _ = wire.read_up_to(response.into_body(), 64 * 1024).await;
        Ok(())
    } else {
        Err(wire
            .status_failure(Method::PUT, target, response, step)
            .await)
    }
}

pub(super) fn bad_request(step: Step, e: http::Error) -> Failure {
    fatal(
        ErrorKind::InvalidInput,
        step,
        format!("cannot build the request: {e}"),
    )
}

/// Sends `request` and accepts any 2xx (reading its small body so the connection is reused).
pub(super) async fn expect_success(
    wire: &Wire<'_>,
    method: Method,
    target: &AttemptUrl,
    request: Request<Body>,
    step: Step,
) -> Result<(), Failure> {
    let response = wire.send(request, step).await?;
    if response.status().is_success() {
        let _ = wire.read_up_to(response.into_body(), 64 * 1024).await;
        Ok(())
    } else {
        Err(wire.status_failure(method, target, response, step).await)
    }
}
