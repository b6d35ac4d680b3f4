//! The error type of evo-compute.

use http::StatusCode;

use crate::models::JobError;

/// Everything that can go wrong in an evo-compute call.
///
/// A job that fails, is cancelled or outlasts a wait is not an error of the call that
/// observed it: [`Job::wait`](crate::Job::wait) reports it as an
/// [`Outcome`](evo_core::polling::Outcome). [`Job::wait_for_results`](crate::Job::wait_for_results)
/// turns those outcomes into [`Error::JobFailed`], [`Error::JobCancelled`] and
/// [`Error::TimedOut`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Task parameters or a job URL were refused before any request was made.
    #[error("invalid compute request: {0}")]
    Invalid(String),
    /// A Compute Tasks API call failed (an error status with its problem details, a transport
    /// failure, an answer that does not decode).
    #[error(transparent)]
    Service(#[from] evo_core::Error),
    /// The job failed; the failure it reported.
    #[error("the job {job} failed: {error}")]
    JobFailed {
        /// The job's status URL.
        job: String,
        /// The job's failure.
        error: Box<JobError>,
    },
    /// The job was cancelled.
    #[error("the job {job} was cancelled")]
    JobCancelled {
        /// The job's status URL.
        job: String,
    },
    /// The job did not finish within the time given.
    #[error("the job {job} did not finish within {elapsed:?}")]
    TimedOut {
        /// The job's status URL.
        job: String,
        /// The time waited.
        elapsed: std::time::Duration,
    },
    /// The service answered something that contradicts the API (no `Location` for a new
    /// job, a succeeded job without results, results of the wrong shape).
    #[error("unexpected Compute Tasks API answer: {0}")]
    Unexpected(String),
    /// Reading or writing an object a task works on failed.
    #[error(transparent)]
    Objects(#[from] evo_objects::Error),
}

impl Error {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Service(e) => e.status(),
            Error::Objects(e) => e.status(),
            _ => None,
        }
    }
    /// The API error, when this is one.
    pub fn as_service(&self) -> Option<&evo_core::Error> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }
    /// The RFC 7807 `type` URI of an API error.
    pub fn problem_type(&self) -> Option<&str> {
        self.as_service()?.as_api()?.problem()?.type_uri.as_deref()
    }
    /// The job's failure, for [`Error::JobFailed`].
    pub fn job_error(&self) -> Option<&JobError> {
        match self {
            Error::JobFailed { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }
    /// 404: no such task, topic or job.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }
    /// True when trying the same call again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Service(e) => e.is_retryable(),
            Error::Objects(e) => e.is_retryable(),
            _ => false,
        }
    }
}
