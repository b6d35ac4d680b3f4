//! Reading an upload's source: opening a file, cutting a reader into blocks, reading blocks
//! of a file or of bytes at their offsets into reused buffers.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::buffers::BufferLease;
use crate::crc64;
use crate::direct::DirectReader;
use crate::error::{BlockRef, Error, Step, join_error};
use crate::state::source_fingerprint;

/// The piece of a block read then checksummed at a time: small enough to still be in the
/// CPU's cache (L2) when its checksum reads it.
const CRC_PIECE: usize = 256 * 1024;

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
        /// Reads past the page cache, when the upload asked for them and the file allows.
        direct: Option<Arc<DirectReader>>,
    },
    Memory(Bytes),
}

impl Feed {
    /// A file read through the page cache.
    pub(crate) fn file(file: std::fs::File, path: PathBuf) -> Self {
        Feed::File {
            file: Arc::new(file),
            path,
            direct: None,
        }
    }

    /// This feed, reading a file's blocks past the page cache where the file system and
    /// device allow (see [`crate::direct`]).
    pub(crate) async fn with_direct_reads(self) -> Self {
        let Feed::File { file, path, .. } = self else {
            return self;
        };
        let opened = file.clone();
        let direct = tokio::task::spawn_blocking(move || DirectReader::open(&opened))
            .await
            .ok()
            .flatten()
            .map(Arc::new);
        Feed::File { file, path, direct }
    }

    /// Bytes read past the page cache so far.
    pub(crate) fn direct_bytes(&self) -> u64 {
        match self {
            Feed::File {
                direct: Some(d), ..
            } => d.read_bytes(),
            _ => 0,
        }
    }

    /// The content fingerprint of a file source (see [`source_fingerprint`]).
    pub(crate) async fn fingerprint(&self, len: u64) -> Result<Option<String>, Error> {
        let Feed::File { file, path, .. } = self else {
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

    /// Reads a block into a buffer from `buffers` (when given); with its CRC-64 when `crc`.
    ///
    /// A file's block is read and checksummed a piece at a time ([`CRC_PIECE`]), each piece
    /// while the read has just left it in the CPU's cache: checksumming a whole block after
    /// its read would fetch every byte from memory again. What a direct read brought (the
    /// device wrote it to memory, no copy went through the CPU's cache) is checksummed in
    /// one pass.
    pub(crate) async fn read(
        &self,
        block: BlockRef,
        buffers: Option<&BufferLease>,
        crc: bool,
    ) -> Result<(Bytes, Option<u64>), Error> {
        match self {
            Feed::Memory(all) => {
                let data = all.slice(block.offset as usize..(block.offset + block.len) as usize);
                let crc = match crc {
                    true => Some(
                        crc64::of_bytes(data.clone())
                            .await
                            .map_err(|e| join_error(Step::ReadSource, e).with_block(block))?,
                    ),
                    false => None,
                };
                Ok((data, crc))
            }
            Feed::File { file, path, direct } => {
                let (file, direct) = (file.clone(), direct.clone());
                let mut buf = buffers.map(BufferLease::take).unwrap_or_default();
                let read = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
                    let len = block.len as usize;
                    // Aligned, so that the buffer can serve a later download's direct writes
                    // from the pool. A reused buffer is read over, not zeroed first: only
                    // bytes it never held are.
                    buf.resize_for_overwrite(len);
                    let mut running = crc.then(crc64::Running::new);
                    let direct_len = match &direct {
                        Some(d) => d.read_at(&mut buf[..len], block.offset)?,
                        None => 0,
                    };
                    if let Some(r) = running.as_mut() {
                        r.update(&buf[..direct_len]);
                    }
                    for start in (direct_len..len).step_by(CRC_PIECE) {
                        let piece = &mut buf[start..len.min(start + CRC_PIECE)];
                        crate::positional::read_exact_at(
                            &file,
                            piece,
                            block.offset + start as u64,
                        )?;
                        if let Some(r) = running.as_mut() {
                            r.update(piece);
                        }
                    }
                    Ok((buf.freeze(), running.map(|r| r.finish().0)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffers::BufferPool;

    /// A file's block is read and checksummed piece by piece: the bytes and the CRC-64 are
    /// those of the block, for a block of many pieces ending mid-piece, read into a buffer
    /// that held other bytes before; without `crc` there is no CRC. Bytes in memory give the
    /// same.
    #[tokio::test]
    async fn a_block_read_in_pieces_has_the_bytes_and_crc_of_the_block() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("source");
        let all: Vec<u8> = (0..5 * CRC_PIECE + 777)
            .map(|i| (i * 131 % 251) as u8)
            .collect();
        std::fs::write(&path, &all).unwrap();
        let file = Feed::file(std::fs::File::open(&path).unwrap(), path);
        let memory = Feed::Memory(Bytes::from(all.clone()));
        let pool = BufferPool::new(64 << 20);
        let lease = pool.lease();
        let mut used = lease.take();
        used.resize_for_overwrite(8 * CRC_PIECE);
        used.fill(0xAA);
        drop(used);
        let block = BlockRef {
            index: 1,
            offset: 3 * 1024,
            len: (4 * CRC_PIECE + 500) as u64,
        };
        let expected = &all[3 * 1024..3 * 1024 + 4 * CRC_PIECE + 500];
        for feed in [&file, &memory] {
            let (data, crc) = feed.read(block, Some(&lease), true).await.unwrap();
            assert!(&data[..] == expected);
            assert_eq!(crc, Some(crc64::of(expected)));
            drop(data);
            let (data, crc) = feed.read(block, Some(&lease), false).await.unwrap();
            assert!(&data[..] == expected);
            assert_eq!(crc, None);
        }
    }
}
