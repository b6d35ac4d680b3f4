//! The one error type of this crate.

use http::StatusCode;
use serde_json::Value;

/// Everything that can go wrong in a [`UnicatClient`](crate::UnicatClient) call.
///
/// Messages never contain the API key or a JWT.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Unicat answered `{"success": false, "result": {code, message, info}}`.
    #[error("Unicat error {code} ({status}): {message}")]
    Unicat {
        /// Unicat's code: an HTTP status (400, 401, 403, 422, 500, 501) or an application code
        /// from 1000 (1000 unexpected, 1001 validation, 1002 search, 1003 process, 1004 invite).
        code: i64,
        /// Unicat's message.
        message: String,
        /// Unicat's extra information (often the field that failed validation).
        info: Value,
        /// The HTTP status of the response.
        status: StatusCode,
    },
    /// The response is not a Unicat envelope (not JSON, or not `{success, result}`).
    #[error("invalid Unicat response ({status}): {reason}; body starts with {snippet:?}")]
    InvalidResponse {
        /// The HTTP status.
        status: StatusCode,
        /// What is wrong with it.
        reason: String,
        /// The first bytes of the body (at most 512), lossily decoded.
        snippet: String,
    },
    /// A file is larger than Unicat accepts (10,000,000 bytes); nothing was sent.
    #[error(
        "{what} has {size} bytes, more than the {limit} bytes Unicat accepts; nothing was sent"
    )]
    PayloadTooLarge {
        /// What was to be uploaded.
        what: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The call needs a JWT, and there is none (not connected, or a 401 cleared it).
    #[error("not authenticated: call connect(api_key) first (or again after a 401)")]
    NotAuthenticated,
    /// The caller's input cannot be used (bad endpoint, unsafe path, asset without a file).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Local file I/O failed (reading an upload, writing a download).
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP exchange failed (transport error, timeout, unexpected status without an
    /// envelope).
    #[error(transparent)]
    Http(#[from] evo_core::Error),
    /// The Sync API connection failed.
    #[error("sync: {0}")]
    Sync(String),
}

impl Error {
    /// Unicat's error code, when Unicat answered with one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Unicat { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// True for a Unicat 401 or a missing token.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Error::NotAuthenticated)
            || matches!(self, Error::Unicat { code: 401, .. })
            || matches!(self, Error::Unicat { status, .. } if *status == StatusCode::UNAUTHORIZED)
            || matches!(self, Error::InvalidResponse { status, .. } if *status == StatusCode::UNAUTHORIZED)
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<evo_sync::Error> for Error {
    fn from(e: evo_sync::Error) -> Self {
        Error::Sync(e.to_string())
    }
}
