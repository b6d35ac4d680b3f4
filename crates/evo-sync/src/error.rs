//! The one error type of this crate.

/// Everything that can go wrong while keeping a replica in sync.
///
/// Messages never contain tokens or other secrets: authentication data travels in the
/// Socket.IO `CONNECT` packet, never in a URL, and is redacted wherever it is formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration given to a builder is unusable (bad URL, zero interval, ...).
    #[error("invalid configuration: {message}")]
    InvalidConfig {
        /// What is wrong.
        message: String,
    },
    /// The connection to the server could not be opened.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The URL that was dialled (it never carries credentials).
        url: String,
        /// Why the connection failed.
        message: String,
    },
    /// An established connection failed (I/O or WebSocket error).
    #[error("transport error: {message}")]
    Transport {
        /// What the transport reported.
        message: String,
    },
    /// The server sent something that breaks the Engine.IO / Socket.IO protocol.
    #[error("protocol error: {message}")]
    Protocol {
        /// What was wrong with the received data.
        message: String,
    },
    /// The server refused the Socket.IO connection (a `CONNECT_ERROR` packet, usually auth).
    #[error("connection rejected by the server: {message}")]
    Rejected {
        /// The server's message.
        message: String,
    },
    /// The server closed the connection or the namespace.
    #[error("disconnected: {reason}")]
    Disconnected {
        /// Why, as far as the client knows.
        reason: String,
    },
    /// Something the client waits for did not happen in time.
    #[error("timed out waiting for {what}")]
    Timeout {
        /// What was awaited (a handshake, an acknowledgement, a heartbeat).
        what: &'static str,
    },
    /// The server no longer has the changes after the local cursor and no snapshot loader is
    /// configured to rebuild the replica.
    #[error("the server expired the local cursor and no snapshot loader is configured")]
    CursorExpired,
    /// The authorizer supplied no token for a connection (it failed or holds none).
    #[error("no token to connect with: {message}")]
    Token {
        /// What the authorizer reported (never the token itself).
        message: String,
    },
    /// Loading a full snapshot for a resync failed.
    #[error("snapshot load failed: {message}")]
    Snapshot {
        /// What the loader reported.
        message: String,
    },
    /// The server refused for good: 403 (for instance a token without the needed scope), 404
    /// (the organization or workspace does not exist), or a 401 that a fresh token did not
    /// cure. Retrying cannot help; a replica that meets it ends ([`Status::Failed`](crate::Status::Failed)).
    #[error("the server refused permanently ({status}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// What the server said.
        message: String,
    },
    /// A polling source's API call failed.
    #[error("change source failed: {message}")]
    Source {
        /// What the API adapter reported (HTTP status and body where known).
        message: String,
    },
}

impl Error {
    /// True when retrying cannot help ([`Error::Refused`], [`Error::InvalidConfig`]): a
    /// replica's task ends instead of reconnecting.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Error::Refused { .. } | Error::InvalidConfig { .. })
    }
}
