//! The error of building a transport, and the mapping of hyper's errors to
//! [`evo_core::TransportError`].

use std::fmt;
use std::io;

use evo_core::{TransportError, TransportErrorKind};

use std::future::Future;
use std::pin::Pin;

use http::Uri;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

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

/// A connection failure with its category, the error type of the connector stack.
#[derive(Debug)]
pub(crate) struct ConnectFailure {
    pub(crate) kind: TransportErrorKind,
    pub(crate) message: String,
    source: Option<BoxError>,
}

impl ConnectFailure {
    pub(crate) fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        ConnectFailure {
            kind,
            message: message.into(),
            source: None,
        }
    }
    pub(crate) fn with_source(mut self, source: BoxError) -> Self {
        self.source = Some(source);
        self
    }

    /// Classifies whatever the inner connectors returned.
    pub(crate) fn classify(error: BoxError, dst: &Uri) -> ConnectFailure {
        let error = match error.downcast::<ConnectFailure>() {
            Ok(failure) => return *failure,
            Err(other) => other,
        };
        let mut kind = TransportErrorKind::Connect;
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
        while let Some(e) = current {
            if e.downcast_ref::<rustls::Error>().is_some() {
                kind = TransportErrorKind::Tls;
                break;
            }
            current = match e.downcast_ref::<io::Error>() {
                Some(io) => {
                    if io.kind() == io::ErrorKind::TimedOut {
                        kind = TransportErrorKind::Timeout;
                    }
                    // An I/O error's `source()` skips the error it wraps: step into it.
                    match io.get_ref() {
                        Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                        None => e.source(),
                    }
                }
                None => e.source(),
            };
        }
        let what = match kind {
            TransportErrorKind::Tls => "TLS handshake with",
            _ => "connecting to",
        };
        ConnectFailure::new(
            kind,
            format!("{what} {} failed: {}", host_port(dst), chain(&*error)),
        )
        .with_source(error)
    }
}

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// An error and its sources joined with `: `.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(e) = current {
        let next = e.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        current = e.source();
    }
    text
}

pub(crate) fn host_port(uri: &Uri) -> String {
    let host = uri.host().unwrap_or("<no host>");
    match uri.port_u16() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}
