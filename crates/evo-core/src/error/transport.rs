//! [`TransportError`]: the request did not get a complete response (connect, timeout, reset,
//! TLS), and its [`TransportErrorKind`].

use std::fmt;

use super::boxed::BoxError;

/// The category of a [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, DNS, unreachable). The request was not sent.
    Connect,
    /// A connect, read or idle timeout elapsed.
    Timeout,
    /// The connection broke while sending or receiving (reset, closed early, truncated body).
    Connection,
    /// TLS negotiation or certificate verification failed.
    Tls,
    /// The peer broke the HTTP protocol (malformed status line, huge headers, bad framing).
    Protocol,
    /// Anything else a transport reports.
    Other,
}

/// A failure below HTTP: the request did not get a complete response.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    request_sent: bool,
    source: Option<BoxError>,
}

impl TransportError {
    /// A transport error of this kind. Unless told otherwise with [`TransportError::not_sent`],
    /// the request is assumed to have (perhaps) reached the server, which forbids retrying a
    /// non-idempotent request.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            message: message.into(),
            request_sent: kind != TransportErrorKind::Connect,
            source: None,
        }
    }
    /// Marks that no byte of the request reached the server (safe to retry any method).
    pub fn not_sent(mut self) -> Self {
        self.request_sent = false;
        self
    }
    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }
    /// The category.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Whether the request may have reached the server.
    pub fn request_sent(&self) -> bool {
        self.request_sent
    }
    /// Connect failures, timeouts and broken connections are worth retrying.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Connect
                | TransportErrorKind::Timeout
                | TransportErrorKind::Connection
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            TransportErrorKind::Connect => "connect error",
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::Connection => "connection error",
            TransportErrorKind::Tls => "TLS error",
            TransportErrorKind::Protocol => "HTTP protocol error",
            TransportErrorKind::Other => "transport error",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
