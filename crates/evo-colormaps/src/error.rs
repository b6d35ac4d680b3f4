//! The error type of evo-colormaps.

use http::StatusCode;

/// Everything that can go wrong in a [`ColormapsClient`](crate::ColormapsClient) call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A colormap or association was refused before any request was made (the number of
    /// colors, the order of control points, an empty batch, …).
    #[error("invalid colormap request: {0}")]
    Invalid(String),
    /// A Colormap API call failed (an error status with its problem details, a transport
    /// failure, an answer that does not decode).
    #[error(transparent)]
    Service(#[from] evo_core::Error),
}

impl Error {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Service(e) => e.status(),
            Error::Invalid(_) => None,
        }
    }
    /// The API error, when this is one.
    pub fn as_service(&self) -> Option<&evo_core::Error> {
        match self {
            Error::Service(e) => Some(e),
            Error::Invalid(_) => None,
        }
    }
    /// The problem `detail` of an API error.
    pub fn problem_detail(&self) -> Option<&str> {
        self.as_service()?.as_api()?.problem()?.detail.as_deref()
    }
    /// 404: no such colormap, association or workspace.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }
    /// True for a request refused before sending ([`Error::Invalid`]).
    pub fn is_invalid(&self) -> bool {
        matches!(self, Error::Invalid(_))
    }
    /// True when trying the same call again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Service(e) if e.is_retryable())
    }
}
