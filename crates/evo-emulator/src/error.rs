//! The one error type of this crate.

use std::net::SocketAddr;

/// Why the emulator could not start or a configuration was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// A listener could not be bound (port in use, no permission for a port below 1024, ...).
    #[error("cannot bind {addr}")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The self-signed certificate or the TLS configuration could not be built.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// A seed (organizations, workspaces, clients) was invalid.
    #[error("invalid seed: {0}")]
    Seed(String),
    /// A file could not be read or written (seed file, certificate PEM, blob folder).
    #[error("I/O error on {path}")]
    Io {
        /// The file or folder concerned.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}
