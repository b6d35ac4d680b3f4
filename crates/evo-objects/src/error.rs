//! The error type of evo-objects.

use http::StatusCode;
use uuid::Uuid;

/// Everything that can go wrong in an [`ObjectsClient`](crate::ObjectsClient) call.
///
/// Geoscience Object API answers keep their status, headers, request id and problem details
/// inside [`Error::Service`] (or inside the typed [`Error::AlreadyExists`] and
/// [`Error::Modified`]); use the accessors ([`Error::status`], [`Error::is_not_found`], …),
/// which keep working when variants are added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An object path was rejected before any request was made.
    #[error("invalid object path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An object reference URL could not be parsed.
    #[error("invalid object reference {reference:?}: {reason}")]
    InvalidReference {
        /// The reference as given (cut to 200 characters).
        reference: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An object or a table was rejected before any request was made (a new object with a
    /// `uuid`, an object without `schema`, a table of the wrong width, …).
    #[error("invalid object: {0}")]
    InvalidObject(String),
    /// 409: another object already exists at the path (creating a new object there).
    /// `existing_id` is the object at that path: update it instead, or pick another path.
    #[error("an object already exists at {}: {existing_id:?}", object_path.as_deref().unwrap_or("the path"))]
    AlreadyExists {
        /// The id of the object at the path, as the service reports it.
        existing_id: Option<Uuid>,
        /// The path, as the service reports it.
        object_path: Option<String>,
        /// The service's answer.
        #[source]
        source: evo_core::Error,
    },
    /// 412 "Object Modified": the `If-Match` version is not the latest any more. Read the
    /// object again, apply the change, and write with the new version.
    #[error("the object was modified since the version given in If-Match")]
    Modified {
        /// The service's answer.
        #[source]
        source: evo_core::Error,
    },
    /// A Geoscience Object API call failed (error status, transport failure, undecodable
    /// body), or local I/O around it did.
    #[error(transparent)]
    Service(#[from] evo_core::Error),
    /// Moving data bytes to or from blob storage failed, or the bytes downloaded do not match
    /// the SHA-256 they are named by ([`Error::is_integrity`]).
    #[error("{context}")]
    Transfer {
        /// What was being moved (`uploading data <name>`, `downloading data <name> of …`).
        context: String,
        /// The transfer engine's error: which step and block failed, and how.
        #[source]
        source: Box<evo_io::Error>,
    },
    /// A table could not be written or read, or does not match its format or metadata
    /// (feature `arrow`).
    #[cfg(feature = "arrow")]
    #[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
    #[error(transparent)]
    Table(#[from] evo_tables::TableError),
    /// The service answered with something that contradicts the request (another object
    /// than the one asked for, a data file the object does not list, …).
    #[error("unexpected Geoscience Object API answer: {0}")]
    Unexpected(String),
}

impl Error {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Service(e) => e.status(),
            Error::AlreadyExists { .. } => Some(StatusCode::CONFLICT),
            Error::Modified { .. } => Some(StatusCode::PRECONDITION_FAILED),
            Error::Transfer { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The API error, when this is one.
    pub fn as_service(&self) -> Option<&evo_core::Error> {
        match self {
            Error::Service(e)
            | Error::AlreadyExists { source: e, .. }
            | Error::Modified { source: e } => Some(e),
            _ => None,
        }
    }

    /// The RFC 7807 `type` URI of an API error
    /// (`https://seequent.com/error-codes/geoscienceobject/objects/not-found`, …).
    pub fn problem_type(&self) -> Option<&str> {
        self.as_service()?.as_api()?.problem()?.type_uri.as_deref()
    }

    /// The problem `detail` of an API error.
    pub fn problem_detail(&self) -> Option<&str> {
        self.as_service()?.as_api()?.problem()?.detail.as_deref()
    }

    /// The blob transfer error, when this is one.
    pub fn as_transfer(&self) -> Option<&evo_io::Error> {
        match self {
            Error::Transfer { source, .. } => Some(source),
            _ => None,
        }
    }

    /// 400: the request (an object, a filter) was refused.
    pub fn is_bad_request(&self) -> bool {
        self.status() == Some(StatusCode::BAD_REQUEST)
    }

    /// 403: the caller may not do this in this workspace.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(StatusCode::FORBIDDEN)
    }

    /// 404: no such object, version, workspace or data.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// 410: the object (or data) is gone.
    pub fn is_gone(&self) -> bool {
        self.status() == Some(StatusCode::GONE)
    }

    /// 409: a conflict (an object already exists at the path).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(StatusCode::CONFLICT)
    }

    /// 412: the object was modified since the `If-Match` version.
    pub fn is_modified(&self) -> bool {
        matches!(self, Error::Modified { .. })
    }

    /// 422: the object does not validate against its schema.
    pub fn is_unprocessable(&self) -> bool {
        self.status() == Some(StatusCode::UNPROCESSABLE_ENTITY)
    }

    /// The bytes of a data file did not match the digest it is named by (a corrupted
    /// download or upload source).
    pub fn is_integrity(&self) -> bool {
        self.as_transfer()
            .is_some_and(|e| e.kind() == evo_io::ErrorKind::Integrity)
    }

    /// For [`Error::AlreadyExists`]: the id of the object that holds the path.
    pub fn existing_id(&self) -> Option<Uuid> {
        match self {
            Error::AlreadyExists { existing_id, .. } => *existing_id,
            _ => None,
        }
    }

    /// True when trying the same call again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Service(e) => e.is_retryable(),
            Error::Transfer { source, .. } => {
                source.kind() == evo_io::ErrorKind::Transport
                    || source
                        .status()
                        .is_some_and(|s| matches!(s.as_u16(), 408 | 429 | 500 | 502 | 503 | 504))
            }
            _ => false,
        }
    }

    /// Turns an API failure into the typed error it stands for: 409 with `existing_id` into
    /// [`Error::AlreadyExists`], 412 into [`Error::Modified`].
    pub(crate) fn from_service(error: evo_core::Error) -> Error {
        match error.status() {
            Some(StatusCode::PRECONDITION_FAILED) => Error::Modified { source: error },
            Some(StatusCode::CONFLICT) => {
                let problem = error.as_api().and_then(|a| a.problem());
                let existing_id = problem
                    .and_then(|p| p.extra.get("existing_id"))
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok());
                let object_path = problem
                    .and_then(|p| p.extra.get("object_path"))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
                let is_exists = existing_id.is_some()
                    || problem
                        .and_then(|p| p.type_uri.as_deref())
                        .is_some_and(|t| t.ends_with("/objects/already-exists"));
                if is_exists {
                    Error::AlreadyExists {
                        existing_id,
                        object_path,
                        source: error,
                    }
                } else {
                    Error::Service(error)
                }
            }
            _ => Error::Service(error),
        }
    }
}
