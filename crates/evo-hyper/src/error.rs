//! The error of building a transport, and the mapping of hyper's errors to
//! [`evo_core::TransportError`].

use std::fmt;
use std::io;

use evo_core::{TransportError, TransportErrorKind};

use crate::connect::{ConnectFailure, chain};

/// Building a [`crate::HyperTransport`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A root certificate could not be loaded or parsed, or none is trusted.
    Certificate {
        /// What was wrong.
        message: String,
    },
    /// The TLS configuration could not be made.
    Tls {
        /// What was wrong.
        message: String,
    },
    /// A proxy URL given to [`crate::HyperTransportBuilder::proxy`] is not a URL or names a
    /// proxy kind this transport does not speak. The message never holds the URL's password.
    Proxy {
        /// What was wrong.
        message: String,
    },
}

impl Error {
    pub(crate) fn certificate(message: impl Into<String>) -> Self {
        Error::Certificate {
            message: message.into(),
        }
    }
    pub(crate) fn tls(message: impl Into<String>) -> Self {
        Error::Tls {
            message: message.into(),
        }
    }
    pub(crate) fn proxy(message: impl Into<String>) -> Self {
        Error::Proxy {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Certificate { message } => write!(f, "certificate error: {message}"),
            Error::Tls { message } => write!(f, "TLS configuration error: {message}"),
            Error::Proxy { message } => write!(f, "proxy configuration error: {message}"),
        }
    }
}

impl std::error::Error for Error {}

/// Maps a failure of the pooled client to a transport error of the right kind.
pub(crate) fn map_client_error(error: hyper_util::client::legacy::Error) -> TransportError {
    if error.is_connect() {
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(e) = current {
            if let Some(failure) = e.downcast_ref::<ConnectFailure>() {
                let (kind, message) = (failure.kind, failure.message.clone());
                return TransportError::new(kind, message)
                    .not_sent()
                    .with_source(error);
            }
            current = e.source();
        }
        let message = format!("could not connect: {}", chain(&error));
        return TransportError::new(TransportErrorKind::Connect, message)
            .not_sent()
            .with_source(error);
    }
    let kind = classify(&error);
    let message = match kind {
        TransportErrorKind::Protocol => {
            format!("the server broke the HTTP protocol: {}", chain(&error))
        }
        TransportErrorKind::Timeout => format!("timed out: {}", chain(&error)),
        TransportErrorKind::Other => format!("the request failed: {}", chain(&error)),
        _ => format!("the connection failed: {}", chain(&error)),
    };
    TransportError::new(kind, message).with_source(error)
}

/// The kind of a failure after connecting, from the hyper or I/O error in its chain.
fn classify(error: &(dyn std::error::Error + 'static)) -> TransportErrorKind {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return TransportErrorKind::Timeout;
            }
            if h.is_parse() || h.is_parse_status() {
                return TransportErrorKind::Protocol;
            }
            if h.is_user() {
                return TransportErrorKind::Other;
            }
            if h.is_incomplete_message()
                || h.is_canceled()
                || h.is_closed()
                || h.is_body_write_aborted()
            {
                return TransportErrorKind::Connection;
            }
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return match io.kind() {
                io::ErrorKind::TimedOut => TransportErrorKind::Timeout,
                io::ErrorKind::InvalidData => TransportErrorKind::Protocol,
                _ => TransportErrorKind::Connection,
            };
        }
        current = e.source();
    }
    TransportErrorKind::Connection
}

/// Maps a failure while streaming a response body to an I/O error the connector classifies:
/// `UnexpectedEof` for a body cut short, `TimedOut` for timeouts, `Other` otherwise (never
/// `InvalidData`, which the connector reads as "over the size limit").
pub(crate) fn body_error(error: hyper::Error) -> io::Error {
    let kind = if error.is_incomplete_message() || error.is_closed() || error.is_canceled() {
        io::ErrorKind::UnexpectedEof
    } else if error.is_timeout() {
        io::ErrorKind::TimedOut
    } else {
        io::ErrorKind::Other
    };
    let message = match kind {
        io::ErrorKind::UnexpectedEof => {
            format!("the response body was cut short: {}", chain(&error))
        }
        _ => format!("reading the response body failed: {}", chain(&error)),
    };
    io::Error::new(kind, message)
}
