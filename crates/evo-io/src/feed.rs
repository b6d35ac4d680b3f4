//! Reading an upload's source: opening a file, cutting a reader into blocks, reading blocks
//! of a file or of bytes at their offsets into reused buffers.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::buffers::BufferPool;
use crate::error::{BlockRef, Error, Step, join_error};
use crate::state::source_fingerprint;

pub(crate) async fn open_source(path: &Path) -> Result<(std::fs::File, u64, Option<u128>), Error> {
    let p = path.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
        let file = std::fs::File::open(&p)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos());
        Ok((file, meta.len(), modified))
    })
    .await
    .map_err(|e| join_error(Step::ReadSource, e))?;
    opened.map_err(|e| Error::local(Step::ReadSource, format!("opening {}", path.display()), e))
}

/// Reads up to `len` bytes, fewer only at the end of the reader.
pub(crate) async fn read_full(
    reader: &mut Pin<Box<dyn AsyncRead + Send + '_>>,
    len: u64,
) -> Result<Bytes, Error> {
    let mut buf = BytesMut::with_capacity(len as usize);
    while (buf.len() as u64) < len {
        let want = len - buf.len() as u64;
        let n = (&mut *reader)
            .take(want)
            .read_buf(&mut buf)
            .await
            .map_err(|e| Error::local(Step::ReadSource, "reading the source", e))?;
        if n == 0 {
            break;
        }
    }
    Ok(buf.freeze())
}

/// A source that can be read at any offset.
pub(crate) enum Feed {
    File {
        file: Arc<std::fs::File>,
        path: PathBuf,
    },
    Memory(Bytes),
}

impl Feed {
    /// The content fingerprint of a file source (see [`source_fingerprint`]).
    pub(crate) async fn fingerprint(&self, len: u64) -> Result<Option<String>, Error> {
        let Feed::File { file, path } = self else {
            return Ok(None);
        };
        let file = file.clone();
        let print = tokio::task::spawn_blocking(move || source_fingerprint(&file, len))
            .await
            .map_err(|e| join_error(Step::ReadSource, e))?;
        print
            .map(Some)
            .map_err(|e| Error::local(Step::ReadSource, format!("reading {}", path.display()), e))
    }

    pub(crate) async fn read(
        &self,
        block: BlockRef,
        pool: Option<&BufferPool>,
    ) -> Result<Bytes, Error> {
        match self {
            Feed::Memory(all) => {
                Ok(all.slice(block.offset as usize..(block.offset + block.len) as usize))
            }
            Feed::File { file, path } => {
                let file = file.clone();
                let mut buf = pool.map(BufferPool::take).unwrap_or_default();
                let read = tokio::task::spawn_blocking(move || -> std::io::Result<Bytes> {
                    // A reused buffer is read over, not zeroed first: only bytes it never
                    // held are.
                    buf.resize(block.len as usize, 0);
                    crate::positional::read_exact_at(&file, &mut buf, block.offset)?;
                    Ok(buf.freeze())
                })
                .await
                .map_err(|e| join_error(Step::ReadSource, e))?;
                read.map_err(|e| {
                    Error::local(
                        Step::ReadSource,
                        format!(
                            "reading {} at {} (did it shrink during the upload?)",
                            path.display(),
                            block.offset
                        ),
                        e,
                    )
                    .with_block(block)
                })
            }
        }
    }
}
