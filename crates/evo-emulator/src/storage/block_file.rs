//! The folder store's file I/O, off the async runtime in large pieces.
//!
//! `tokio::fs::File` copies every write into its own buffer and hops to a blocking thread for
//! each one, and reads land in a zeroed buffer before being copied out; at a blob's worth of
//! 16 KiB body chunks that was a visible share of the emulator's CPU, which on a small machine
//! is CPU its clients lose. Here the body's chunks are written where they lie, a batch per
//! blocking task, the next batch gathering while the last is written; reads fill a fresh
//! buffer straight from the file, a large piece per blocking task.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use bytes::Bytes;
use tokio::task::JoinHandle;

/// How many body bytes are gathered before a batch is handed to a blocking write.
const WRITE_BATCH: usize = 1 << 20;

/// How many bytes one blocking read returns (a chunk of a download's body).
pub(super) const READ_CHUNK: u64 = 1 << 20;

/// Writes one block file from body chunks, at most one batch being written at a time.
pub(super) struct BlockWriter {
    /// The file, when no write is in flight.
    file: Option<std::fs::File>,
    /// The write in flight; it hands the file back.
    in_flight: Option<JoinHandle<io::Result<std::fs::File>>>,
    batch: Vec<Bytes>,
    batched: usize,
}

impl BlockWriter {
    /// Creates (or truncates) the file at `path`.
    pub(super) async fn create(path: &Path) -> io::Result<Self> {
        let path = path.to_owned();
        let file = blocking(move || std::fs::File::create(path)).await?;
        Ok(BlockWriter {
            file: Some(file),
            in_flight: None,
            batch: Vec::new(),
            batched: 0,
        })
    }

    /// Queues `chunk`; writes the batch once it is large enough.
    pub(super) async fn push(&mut self, chunk: Bytes) -> io::Result<()> {
        self.batched += chunk.len();
        self.batch.push(chunk);
        if self.batched >= WRITE_BATCH {
            self.write_batch().await?;
        }
        Ok(())
    }

    /// Writes what is queued and waits until every byte is in the file.
    pub(super) async fn finish(mut self) -> io::Result<()> {
        self.write_batch().await?;
        self.take_file().await.map(drop)
    }

    /// Waits for the write in flight, then starts writing the queued batch.
    async fn write_batch(&mut self) -> io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut file = self.take_file().await?;
        let batch = std::mem::take(&mut self.batch);
        self.batched = 0;
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            for chunk in &batch {
                file.write_all(chunk)?;
            }
            Ok(file)
        }));
        Ok(())
    }

    async fn take_file(&mut self) -> io::Result<std::fs::File> {
        if let Some(write) = self.in_flight.take() {
            return write.await.map_err(io::Error::other)?;
        }
        self.file
            .take()
            .ok_or_else(|| io::Error::other("the block file was lost by a failed write"))
    }
}

/// An open block file being read from its current position.
pub(super) struct BlockReader {
    file: std::fs::File,
}

impl BlockReader {
    /// Opens `path` at `offset`.
    pub(super) async fn open(path: &Path, offset: u64) -> io::Result<Self> {
        let path = path.to_owned();
        blocking(move || {
            let mut file = std::fs::File::open(path)?;
            file.seek(SeekFrom::Start(offset))?;
            Ok(BlockReader { file })
        })
        .await
    }

    /// Reads exactly `len` bytes (at most [`READ_CHUNK`]); a file shorter than that is an
    /// error. Hands the reader back for the next piece.
    pub(super) async fn read(self, len: u64) -> io::Result<(Self, Bytes)> {
        blocking(move || {
            let mut buf = Vec::with_capacity(len as usize);
            // `read_to_end` fills the spare capacity without zeroing it first.
            (&self.file).take(len).read_to_end(&mut buf)?;
            if (buf.len() as u64) < len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("block file ended {} bytes early", len - buf.len() as u64),
                ));
            }
            Ok((self, Bytes::from(buf)))
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_land_in_order_and_reads_return_exact_pieces() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("block.bin");
        let data: Vec<u8> = (0..3 * WRITE_BATCH + 12_345)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut writer = BlockWriter::create(&path).await.expect("create");
        for piece in data.chunks(70_000) {
            writer
                .push(Bytes::copy_from_slice(piece))
                .await
                .expect("push");
        }
        writer.finish().await.expect("finish");
        assert_eq!(std::fs::read(&path).expect("read back"), data);

        let reader = BlockReader::open(&path, 5).await.expect("open");
        let (reader, first) = reader.read(READ_CHUNK).await.expect("first piece");
        assert_eq!(&first[..], &data[5..5 + READ_CHUNK as usize]);
        let rest = data.len() as u64 - 5 - READ_CHUNK;
        let (reader, tail) = reader.read(rest).await.expect("the rest");
        assert_eq!(&tail[..], &data[5 + READ_CHUNK as usize..]);
        let short = reader.read(1).await.err().expect("past the end");
        assert_eq!(short.kind(), io::ErrorKind::UnexpectedEof);
    }
}
