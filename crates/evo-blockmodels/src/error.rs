//! The error type of evo-blockmodels.

use std::time::Duration;

use http::StatusCode;
use uuid::Uuid;

use crate::models::JobFailure;

/// Everything that can go wrong in a [`BlockModelsClient`](crate::BlockModelsClient) call.
///
/// Block Model API answers keep their status, headers, request id and problem details inside
/// [`Error::Service`]; use the accessors ([`Error::status`], [`Error::is_not_found`], …), which
/// keep working when variants are added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request was refused before anything was sent: a column change that does not fit the
    /// block model (a wrong length, type or name), an empty query, an invalid size option.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A Block Model API call failed (error status, transport failure, undecodable body), or
    /// local I/O around it did.
    #[error(transparent)]
    Service(#[from] evo_core::Error),
    /// Moving a column file or a query result to or from blob storage failed.
    #[error("{context}: {source}")]
    Transfer {
        /// What was being moved.
        context: String,
        /// The transfer engine's error: which step and block failed, and how.
        #[source]
        source: Box<evo_io::Error>,
    },
    /// A Parquet file could not be written or read.
    #[error(transparent)]
    Table(#[from] evo_tables::TableError),
    /// The job ended `FAILED`; `failure` is the payload the service gave (its `type`, `title`,
    /// `status`, `detail`).
    #[error("block model job {job_id} failed: {failure}")]
    JobFailed {
        /// The job.
        job_id: Uuid,
        /// What the service said about the failure.
        failure: JobFailure,
    },
    /// The caller's timeout passed before the job finished (the job may still finish).
    #[error("block model job {job_id} did not finish within {elapsed:?} ({polls} polls)")]
    JobTimedOut {
        /// The job.
        job_id: Uuid,
        /// How long was waited.
        elapsed: Duration,
        /// How many times its status was read.
        polls: u32,
    },
    /// The wait for a job was cancelled.
    #[error("the wait for block model job {job_id} was cancelled")]
    JobCancelled {
        /// The job.
        job_id: Uuid,
    },
    /// The service answered with something that contradicts the request (a job payload of
    /// another kind, an answer about another block model, …).
    #[error("unexpected Block Model API answer: {0}")]
    Unexpected(String),
}

impl Error {
    /// The HTTP status of an API error (for a failed job: the status in its payload).
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Service(e) => e.status(),
            Error::Transfer { source, .. } => source.status(),
            Error::JobFailed { failure, .. } => StatusCode::from_u16(failure.status).ok(),
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

    /// The RFC 7807 `type` URI of an API error or of a failed job's payload.
    pub fn problem_type(&self) -> Option<&str> {
        match self {
            Error::JobFailed { failure, .. } => Some(&failure.problem_type),
            _ => self.as_service()?.as_api()?.problem()?.type_uri.as_deref(),
        }
    }

    /// The failure payload of a failed job.
    pub fn job_failure(&self) -> Option<&JobFailure> {
        match self {
            Error::JobFailed { failure, .. } => Some(failure),
            _ => None,
        }
    }

    /// The blob transfer error, when this is one.
    pub fn as_transfer(&self) -> Option<&evo_io::Error> {
        match self {
            Error::Transfer { source, .. } => Some(source),
            _ => None,
        }
    }

    /// 400: the request was refused.
    pub fn is_bad_request(&self) -> bool {
        self.status() == Some(StatusCode::BAD_REQUEST)
    }

    /// 403: the caller may not do this in this workspace.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(StatusCode::FORBIDDEN)
    }

    /// 404: no such block model, version, job or column.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// 409: a conflict (a name already used, a model already restored, …).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(StatusCode::CONFLICT)
    }

    /// 410: the block model was deleted.
    pub fn is_gone(&self) -> bool {
        self.status() == Some(StatusCode::GONE)
    }

    /// 422: the request did not validate.
    pub fn is_unprocessable(&self) -> bool {
        self.status() == Some(StatusCode::UNPROCESSABLE_ENTITY)
    }

    /// The job ended `FAILED`.
    pub fn is_job_failed(&self) -> bool {
        matches!(self, Error::JobFailed { .. })
    }

    /// The caller's timeout passed while waiting for a job.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::JobTimedOut { .. } => true,
            Error::Service(e) => e.is_timeout(),
            _ => false,
        }
    }

    /// True when trying the same call again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Service(e) => e.is_retryable(),
            Error::Transfer { source, .. } => source.kind() == evo_io::ErrorKind::Transport,
            Error::JobTimedOut { .. } => true,
            _ => false,
        }
    }

    pub(crate) fn transfer(context: impl Into<String>, source: evo_io::Error) -> Error {
        Error::Transfer {
            context: context.into(),
            source: Box::new(source),
        }
    }
}
