//! The wire models of the Compute Tasks API: job statuses, progress, failures and results.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a job is in its life: `requested` → `in progress` → `succeeded` or `failed`;
/// `cancelling` → `cancelled` after a cancel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum JobStatus {
    /// Accepted, not started.
    #[serde(rename = "requested")]
    Requested,
    /// Running.
    #[serde(rename = "in progress")]
    InProgress,
    /// Finished with results.
    #[serde(rename = "succeeded")]
    Succeeded,
    /// Finished with an error.
    #[serde(rename = "failed")]
    Failed,
    /// Being cancelled.
    #[serde(rename = "cancelling", alias = "canceling")]
    Cancelling,
    /// Cancelled.
    #[serde(rename = "cancelled", alias = "canceled")]
    Cancelled,
}

impl JobStatus {
    /// True for the states a job does not leave: succeeded, failed, cancelled.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
    /// The name on the wire (`in progress`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            JobStatus::Requested => "requested",
            JobStatus::InProgress => "in progress",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelling => "cancelling",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a job failed: an RFC 7807 problem (`status`, `type`, `title`, `detail`, and any other
/// members in `extra`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobError {
    /// The HTTP-like status of the failure.
    pub status: u16,
    /// The problem type URI.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short summary.
    pub title: String,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Other members of the problem.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.title, self.status, self.type_uri)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

/// The status of a job: `GET .../{job}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobProgress {
    /// Where the job is.
    pub status: JobStatus,
    /// 0 to 100.
    #[serde(default)]
    pub progress: Option<u8>,
    /// What it is doing.
    #[serde(default)]
    pub message: Option<String>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<JobError>,
    /// The results, when the status answer carries them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Value>,
}

impl fmt::Display for JobProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.status)?;
        if let Some(p) = self.progress {
            write!(f, " {p}%")?;
        }
        if let Some(m) = &self.message {
            write!(f, " > {m}")?;
        }
        Ok(())
    }
}

/// The answer of `GET .../{job}`: 202 while pending, then the results or the error.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct CompletedJob {
    pub(crate) status: JobStatus,
    #[serde(default)]
    pub(crate) results: Option<Value>,
    #[serde(default)]
    pub(crate) error: Option<JobError>,
}

/// What `GET .../{job}` says.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum JobResults {
    /// Not finished (the service answered 202); the status it reported.
    Pending(JobStatus),
    /// Succeeded with these results.
    Succeeded(Value),
    /// Failed with this error.
    Failed(JobError),
    /// Cancelled before it finished.
    Cancelled,
}

/// The result most geostatistics tasks report: a message and the target they wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskResult {
    /// What happened.
    pub message: String,
    /// The object and attribute written.
    pub target: TaskTarget,
}

/// The object a task wrote to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskTarget {
    /// The object reference URL (of the version written).
    pub reference: String,
    /// The object's name.
    pub name: String,
    /// The object's description.
    #[serde(default)]
    pub description: Option<String>,
    /// The object's schema id.
    pub schema_id: String,
    /// The attribute written.
    pub attribute: TaskAttribute,
}

/// The attribute a task wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskAttribute {
    /// Its reference (an expression locating it in the object).
    pub reference: String,
    /// Its name.
    pub name: String,
}
