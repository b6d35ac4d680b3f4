//! [`AuthError`]: credentials could not be obtained or refreshed.

use std::fmt;

use super::boxed::BoxError;

/// Credentials could not be obtained.
#[derive(Debug)]
pub struct AuthError {
    message: String,
    retryable: bool,
    source: Option<BoxError>,
}

impl AuthError {
    /// An auth error with a message (which must not contain secrets).
    pub fn new(message: impl Into<String>) -> Self {
        AuthError {
            message: message.into(),
            retryable: false,
            source: None,
        }
    }
    /// Marks the failure as transient (a token endpoint answered 5xx, a connection broke).
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }
    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Whether trying again may help.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "authorization failed: {}", self.message)
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
