//! The error type of evo-core and of every service client built on [`crate::ApiConnector`].
//!
//! What lives where: this file holds [`Error`] itself, its constructors and its
//! classification (status, retryable, not found, …); `api`, `transport`, `decode` and `auth`
//! hold the detail type of each kind; `quote` cuts and redacts a body quoted in a message;
//! `boxed` holds [`BoxError`].

mod api;
mod auth;
mod boxed;
mod decode;
mod quote;
#[cfg(test)]
mod tests;
mod transport;

use http::StatusCode;

pub use api::{ApiError, InvalidParam, ProblemDetails};
pub use auth::AuthError;
pub use boxed::BoxError;
pub use decode::DecodeError;
pub(crate) use quote::snippet;
pub use transport::{TransportError, TransportErrorKind};

/// Everything that can go wrong when talking to an Evo API.
///
/// Match on the variant for the category, or use the accessors ([`Error::status`],
/// [`Error::is_retryable`], [`Error::is_not_found`], …), which keep working when variants are added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status the operation does not expect (4xx, 5xx, or an
    /// unexpected 1xx/2xx/3xx). Status, headers, request id and raw body are kept.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The request did not complete at the HTTP level: connect failure, timeout, reset, TLS.
    #[error(transparent)]
    Transport(Box<TransportError>),
    /// A successful response whose body is not what the operation expects.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// The caller's input cannot be turned into a valid request (checked before sending).
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What was wrong.
        message: String,
    },
    /// Credentials could not be obtained or refreshed.
    #[error(transparent)]
    Auth(Box<AuthError>),
    /// Local I/O failed (reading a source file, writing a download, the cache).
    #[error("{context}: {source}")]
    Io {
        /// What was being done, including the path when there is one.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An [`Error::InvalidRequest`] with this message.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Error::InvalidRequest {
            message: message.into(),
        }
    }

    /// An [`Error::Io`] with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<StatusCode> {
        self.as_api().map(ApiError::status)
    }

    /// The API error, when this is one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The transport error, when this is one.
    pub fn as_transport(&self) -> Option<&TransportError> {
        match self {
            Error::Transport(e) => Some(e),
            _ => None,
        }
    }

    /// True when trying the same request again may succeed: 408, 429, 500, 502, 503, 504,
    /// connection failures, timeouts and resets, and auth errors marked transient.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => e.is_retryable(),
            Error::Transport(e) => e.is_retryable(),
            Error::Auth(e) => e.is_retryable(),
            Error::Decode(_) | Error::InvalidRequest { .. } | Error::Io { .. } => false,
        }
    }

    /// 400 Bad Request.
    pub fn is_bad_request(&self) -> bool {
        self.status() == Some(StatusCode::BAD_REQUEST)
    }
    /// 401 Unauthorized.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }
    /// 403 Forbidden.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(StatusCode::FORBIDDEN)
    }
    /// 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }
    /// 409 Conflict.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(StatusCode::CONFLICT)
    }
    /// 410 Gone.
    pub fn is_gone(&self) -> bool {
        self.status() == Some(StatusCode::GONE)
    }
    /// 429 Too Many Requests.
    pub fn is_too_many_requests(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }
    /// Any 5xx status.
    pub fn is_server_error(&self) -> bool {
        self.status().is_some_and(|s| s.is_server_error())
    }
    /// A connect, read or idle timeout.
    pub fn is_timeout(&self) -> bool {
        self.as_transport()
            .is_some_and(|t| t.kind() == TransportErrorKind::Timeout)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}
impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Transport(Box::new(e))
    }
}
impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(Box::new(e))
    }
}
impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        Error::Auth(Box::new(e))
    }
}
