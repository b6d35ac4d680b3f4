//! The error type of evo-io: which step and which block failed, how, and what was left behind.

use std::fmt;

use bytes::Bytes;
use http::StatusCode;

/// What went wrong, in broad categories that stay stable as details change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The blob service answered with a status the step does not accept (after retries, when
    /// the status was transient). The evo-core [`ApiError`](evo_core::ApiError) is the source.
    Status,
    /// The connection failed, timed out or broke (after retries).
    Transport,
    /// The pre-signed URL was refused (401/403) and could not be renewed: no renewal callback,
    /// the callback failed, or the renewed URL was refused too.
    Denied,
    /// The server's answer does not match the request: a wrong `Content-Range`, a body longer
    /// than asked, a missing or malformed header, an unreadable block list.
    Protocol,
    /// The data does not match the expected digest or size.
    Integrity,
    /// The blob changed while it was being downloaded (its ETag changed; `412`), or is not
    /// the version the caller expected ([`Download::expect_etag`](crate::Download::expect_etag)).
    Changed,
    /// Reading the source or writing the destination on this machine failed.
    Local,
    /// The request cannot be carried out as asked (a target that exists, too many blocks, an
    /// unusable URL or name).
    InvalidInput,
    /// The blob is larger than the destination accepts: a memory download over the client's
    /// [limit](crate::BlobClientBuilder::max_memory_download), by the size the server claims or
    /// by the bytes that arrived.
    TooLarge,
}

/// The step of a transfer that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Checking the input and options before any request.
    Prepare,
    /// Reading the source (file, bytes, reader).
    ReadSource,
    /// Single-shot upload (`Put Blob`).
    PutBlob,
    /// Staging a block (`Put Block`).
    PutBlock,
    /// Listing the blocks already staged, for a resume (`Get Block List`).
    GetBlockList,
    /// Committing the blocks (`Put Block List`).
    PutBlockList,
    /// Finding the size and ETag of a blob (`HEAD` or a first ranged `GET`).
    Probe,
    /// Downloading a range (`GET` with `Range`).
    GetRange,
    /// Writing the destination.
    WriteDestination,
    /// Checking the downloaded data against an expected digest.
    Verify,
    /// Renewing the pre-signed URL through the callback.
    RenewUrl,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Prepare => "preparing the transfer",
            Step::ReadSource => "reading the source",
            Step::PutBlob => "Put Blob",
            Step::PutBlock => "Put Block",
            Step::GetBlockList => "Get Block List",
            Step::PutBlockList => "Put Block List",
            Step::Probe => "probing the blob",
            Step::GetRange => "ranged GET",
            Step::WriteDestination => "writing the destination",
            Step::Verify => "verifying the download",
            Step::RenewUrl => "renewing the URL",
        })
    }
}

/// A task of a transfer (file I/O and hashing on the blocking pool, the reading of a range's
/// body) that failed to run to its end.
pub(crate) fn join_error(step: Step, e: tokio::task::JoinError) -> Error {
    Error::local(
        step,
        "a background I/O task failed",
        std::io::Error::other(e),
    )
}

/// A block (upload) or range (download) of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockRef {
    /// The position of the block, from 0.
    pub index: u64,
    /// Its first byte in the blob.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
}

/// Whether a failed transfer changed the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Committed {
    /// Nothing was committed: the blob (upload) or the target file (download) is as before.
    /// Staged blocks or a partial download may be kept for a resume (see [`Error::resumable`]).
    Nothing,
    /// The commit request (`Put Block List` / `Put Blob`) may have reached the server before the
    /// connection failed: the blob may or may not hold the new content.
    Unknown,
}

/// Why a blob transfer failed.
///
/// It says which [`Step`] failed, for which block, after how many attempts, whether anything
/// was [committed](Error::committed), and whether work is kept for a [resume](Error::resumable).
/// The underlying evo-core error (with the HTTP status, headers and body of the last answer) is
/// the [`source`](std::error::Error::source). URLs in it are redacted: no SAS signature appears
/// in `Display` or `Debug`.
///
/// `evo_core::Error::from(err)` turns it into the error type of the service clients.
pub struct Error {
    kind: ErrorKind,
    step: Step,
    block: Option<BlockRef>,
    attempts: u32,
    committed: Committed,
    resumable: bool,
    message: String,
    source: Option<Box<evo_core::Error>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, step: Step, message: impl Into<String>) -> Self {
        Error {
            kind,
            step,
            block: None,
            attempts: 0,
            committed: Committed::Nothing,
            resumable: false,
            message: message.into(),
            source: None,
        }
    }

    /// Wraps an evo-core error, choosing the kind from it.
    pub(crate) fn from_core(step: Step, source: evo_core::Error) -> Self {
        let kind = match &source {
            evo_core::Error::Api(api) if matches!(api.status().as_u16(), 401 | 403) => {
                ErrorKind::Denied
            }
            evo_core::Error::Api(api) if api.status() == StatusCode::PRECONDITION_FAILED => {
                ErrorKind::Changed
            }
            evo_core::Error::Api(_) => ErrorKind::Status,
            evo_core::Error::Transport(_) => ErrorKind::Transport,
            evo_core::Error::Io { .. } => ErrorKind::Local,
            evo_core::Error::InvalidRequest { .. } => ErrorKind::InvalidInput,
            evo_core::Error::Decode(_) => ErrorKind::Protocol,
            _ => ErrorKind::Denied,
        };
        let message = source.to_string();
        Error {
            source: Some(Box::new(source)),
            ..Error::new(kind, step, message)
        }
    }

    pub(crate) fn local(step: Step, context: impl Into<String>, source: std::io::Error) -> Self {
        Error::from_core(step, evo_core::Error::io(context, source))
    }

    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    pub(crate) fn with_block(mut self, block: BlockRef) -> Self {
        self.block = Some(block);
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    pub(crate) fn with_committed(mut self, committed: Committed) -> Self {
        self.committed = committed;
        self
    }

    pub(crate) fn with_resumable(mut self, resumable: bool) -> Self {
        self.resumable = resumable;
        self
    }

    /// The category.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The step that failed.
    pub fn step(&self) -> Step {
        self.step
    }
    /// The block or range that failed, when the failure belongs to one.
    pub fn block(&self) -> Option<BlockRef> {
        self.block
    }
    /// How many requests were made for the failed step (0 when it failed before sending).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
    /// Whether the destination was changed.
    pub fn committed(&self) -> Committed {
        self.committed
    }
    /// True when work was kept for a resume: staged blocks (upload) or a partial file with its
    /// state file (download). Running the same transfer again continues from there.
    pub fn resumable(&self) -> bool {
        self.resumable
    }
    /// What went wrong, in words (no secrets).
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The HTTP status of the last answer, when the failure was an unexpected status.
    pub fn status(&self) -> Option<StatusCode> {
        self.source.as_deref().and_then(evo_core::Error::status)
    }
    /// The underlying evo-core error, when there is one.
    pub fn core(&self) -> Option<&evo_core::Error> {
        self.source.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.step)?;
        if let Some(b) = &self.block {
            write!(
                f,
                " for block {} (bytes {}..{})",
                b.index,
                b.offset,
                b.offset + b.len
            )?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        write!(f, ": {}", self.message)?;
        match self.committed {
            Committed::Nothing => f.write_str("; nothing was committed")?,
            Committed::Unknown => f.write_str("; the commit may or may not have happened")?,
        }
        if self.resumable {
            f.write_str(" (partial work kept for a resume)")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("evo_io::Error")
            .field("kind", &self.kind)
            .field("step", &self.step)
            .field("block", &self.block)
            .field("attempts", &self.attempts)
            .field("committed", &self.committed)
            .field("resumable", &self.resumable)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for evo_core::Error {
    /// Keeps the underlying HTTP or transport error as it is (status, headers and body stay
    /// reachable); local failures become [`evo_core::Error::Io`] with the block in the context;
    /// integrity and protocol failures become [`evo_core::Error::Decode`].
    fn from(err: Error) -> Self {
        let context = err.to_string();
        match (err.kind, err.source) {
            (ErrorKind::Status | ErrorKind::Transport | ErrorKind::Denied, Some(source))
            | (ErrorKind::Changed, Some(source)) => *source,
            (ErrorKind::Local, Some(source)) => match *source {
                evo_core::Error::Io { source, .. } => evo_core::Error::io(context, source),
                other => other,
            },
            (ErrorKind::InvalidInput, _) => evo_core::Error::invalid_request(context),
            (_, _) => {
                evo_core::DecodeError::new("blob transfer", StatusCode::OK, context, &Bytes::new())
                    .into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_block_attempts_and_commit_state() {
        let e = Error::new(ErrorKind::Integrity, Step::PutBlock, "boom")
            .with_block(BlockRef {
                index: 3,
                offset: 30,
                len: 10,
            })
            .with_attempts(4)
            .with_resumable(true);
        let s = e.to_string();
        assert!(s.contains("Put Block failed for block 3 (bytes 30..40) after 4 attempts: boom"));
        assert!(s.contains("nothing was committed"), "{s}");
        assert!(s.contains("resume"), "{s}");
    }

    #[test]
    fn converts_to_core_keeping_http_status() {
        let api = evo_core::ApiError::new(
            http::Method::PUT,
            &"http://h/c/b?sig=SECRET".parse().unwrap(),
            StatusCode::SERVICE_UNAVAILABLE,
            http::HeaderMap::new(),
            Bytes::from_static(b"busy"),
        );
        let e = Error::from_core(Step::PutBlock, api.into());
        assert_eq!(e.kind(), ErrorKind::Status);
        assert!(!format!("{e} {e:?}").contains("SECRET"));
        let core: evo_core::Error = e.into();
        assert_eq!(core.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        let local = Error::local(
            Step::ReadSource,
            "reading x",
            std::io::ErrorKind::NotFound.into(),
        );
        assert!(matches!(
            evo_core::Error::from(local),
            evo_core::Error::Io { .. }
        ));
    }
}
