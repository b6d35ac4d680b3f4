//! The error type of evo-files.

use std::time::Duration;

use http::StatusCode;
use uuid::Uuid;

/// Everything that can go wrong in a [`FilesClient`](crate::FilesClient) call.
///
/// File API answers keep their status, headers, request id and problem details inside
/// [`Error::Service`]; use the accessors ([`Error::status`], [`Error::is_not_found`], …), which
/// keep working when variants are added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file path was rejected before any request was made.
    #[error("invalid file path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A File API call failed (error status, transport failure, undecodable body), or local
    /// I/O around it did.
    #[error(transparent)]
    Service(#[from] evo_core::Error),
    /// Moving bytes to or from blob storage failed.
    #[error("{context}: {source}")]
    Transfer {
        /// What was being moved (`uploading a/b.csv`, `downloading file <id> version 3`).
        context: String,
        /// For an upload: the file id and version id to pass to
        /// [`FilesClient::resume_upload`](crate::FilesClient::resume_upload).
        resume: Option<(Uuid, String)>,
        /// The transfer engine's error: which step and block failed, how, and whether
        /// anything was committed.
        #[source]
        source: Box<evo_io::Error>,
    },
    /// An upload was committed, but the File API did not show the new version in time.
    #[error(
        "file {file_id} version {version_id} was uploaded but the File API did not show it \
         within {waited:?}"
    )]
    NotVisible {
        /// The file id.
        file_id: Uuid,
        /// The version that was uploaded.
        version_id: String,
        /// How long the client waited.
        waited: Duration,
    },
    /// The File API answered with something that contradicts the request (for example the
    /// metadata of another version than the one asked for).
    #[error("unexpected File API answer: {0}")]
    Unexpected(String),
}

impl Error {
    /// The HTTP status of a File API error.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Service(e) => e.status(),
            _ => None,
        }
    }

    /// The File API error, when this is one.
    pub fn as_service(&self) -> Option<&evo_core::Error> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The RFC 7807 `type` URI of a File API error
    /// (`https://seequent.com/error-codes/file-api/files/not-found`, …).
    pub fn problem_type(&self) -> Option<&str> {
        self.as_service()?.as_api()?.problem()?.type_uri.as_deref()
    }

    /// The blob transfer error, when this is one.
    pub fn as_transfer(&self) -> Option<&evo_io::Error> {
        match self {
            Error::Transfer { source, .. } => Some(source),
            _ => None,
        }
    }

    /// For a failed upload: the file id and version id with which
    /// [`FilesClient::resume_upload`](crate::FilesClient::resume_upload) continues it.
    pub fn resume_point(&self) -> Option<(Uuid, &str)> {
        match self {
            Error::Transfer {
                resume: Some((id, version)),
                ..
            } => Some((*id, version.as_str())),
            _ => None,
        }
    }

    /// 404: no such file (or version).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// 410: the file was deleted.
    pub fn is_gone(&self) -> bool {
        self.status() == Some(StatusCode::GONE)
    }

    /// 409: another file already occupies the path (restore).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(StatusCode::CONFLICT)
    }

    /// True when trying the same call again may succeed: transient File API failures, a
    /// transfer that failed on the network or on a transient blob status after its retries,
    /// and a version that did not show in time.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Service(e) => e.is_retryable(),
            Error::Transfer { source, .. } => {
                source.kind() == evo_io::ErrorKind::Transport
                    || source.status().is_some_and(evo_core::is_retryable_status)
            }
            Error::NotVisible { .. } => true,
            _ => false,
        }
    }
}
