//! [`Destination`]: where a download goes.

use std::fmt;
use std::path::PathBuf;
use std::pin::Pin;

use tokio::io::AsyncWrite;

/// Where a download goes.
pub struct Destination<'a> {
    pub(crate) inner: DestinationInner<'a>,
}

pub(crate) enum DestinationInner<'a> {
    File(PathBuf),
    Memory,
    Writer(Pin<Box<dyn AsyncWrite + Send + 'a>>),
}

impl<'a> Destination<'a> {
    /// A file: written with parallel positional writes into `.<name>.evo-download` beside it,
    /// flushed, then renamed into place; resumable.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Destination {
            inner: DestinationInner::File(path.into()),
        }
    }

    /// Memory: the bytes are returned by [`DownloadReport::into_bytes`](crate::DownloadReport::into_bytes).
    pub fn memory() -> Self {
        Destination {
            inner: DestinationInner::Memory,
        }
    }

    /// An async writer, written in order (ranges are fetched in parallel and reordered, at
    /// most as many ranges held at once as the transfer has in flight). It is flushed but not shut down at the end.
    pub fn writer(writer: impl AsyncWrite + Send + 'a) -> Self {
        Destination {
            inner: DestinationInner::Writer(Box::pin(writer)),
        }
    }
}

impl fmt::Debug for Destination<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            DestinationInner::File(p) => write!(f, "Destination::File({})", p.display()),
            DestinationInner::Memory => f.write_str("Destination::Memory"),
            DestinationInner::Writer(_) => f.write_str("Destination::Writer"),
        }
    }
}
