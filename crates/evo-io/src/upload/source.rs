//! [`Source`]: what an upload reads.

use std::fmt;
use std::path::PathBuf;
use std::pin::Pin;

use bytes::Bytes;
use tokio::io::AsyncRead;

/// What an upload reads.
pub struct Source<'a> {
    pub(crate) inner: SourceInner<'a>,
}

pub(crate) enum SourceInner<'a> {
    File(PathBuf),
    Bytes(Bytes),
    Reader {
        reader: Pin<Box<dyn AsyncRead + Send + 'a>>,
        len: Option<u64>,
    },
}

impl<'a> Source<'a> {
    /// A file, read with parallel positional reads (its size and modification time are also
    /// what a resume checks).
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Source {
            inner: SourceInner::File(path.into()),
        }
    }

    /// Bytes in memory.
    pub fn bytes(bytes: impl Into<Bytes>) -> Self {
        Source {
            inner: SourceInner::Bytes(bytes.into()),
        }
    }

    /// An async reader, read in order one block at a time. `len`, when known, lets the block
    /// size adapt to the size and is checked at the end; an unknown length is streamed with
    /// the configured block size (up to 50,000 blocks).
    pub fn reader(reader: impl AsyncRead + Send + 'a, len: Option<u64>) -> Self {
        Source {
            inner: SourceInner::Reader {
                reader: Box::pin(reader),
                len,
            },
        }
    }
}

impl Source<'_> {
    /// The number of bytes this source holds, when known without reading it: the length of
    /// bytes, the `len` given with a reader, the size of a file (from its metadata, now).
    pub fn known_len(&self) -> Option<u64> {
        match &self.inner {
            SourceInner::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            SourceInner::Bytes(b) => Some(b.len() as u64),
            SourceInner::Reader { len, .. } => *len,
        }
    }
}

impl fmt::Debug for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            SourceInner::File(p) => write!(f, "Source::File({})", p.display()),
            SourceInner::Bytes(b) => write!(f, "Source::Bytes({} bytes)", b.len()),
            SourceInner::Reader { len, .. } => write!(f, "Source::Reader(len: {len:?})"),
        }
    }
}
