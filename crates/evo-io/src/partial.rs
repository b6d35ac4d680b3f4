//! The partial file of a download: opened without following links and locked, written at
//! block offsets, read back for the checksum of a resume, and published by an atomic rename.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::crc64::{self, Pieces};
use crate::direct::DirectFile;
use crate::error::{BlockRef, Error, ErrorKind, Step, join_error};

/// Opens the partial file, never through a link, and waits for its OS lock.
///
/// The name is predictable, so what is there may be anyone's: anything but a regular file
/// with one link (a symlink, a hard link to another file, a FIFO) is removed and the name
/// created anew (`create_new`, which follows no link). The lock is taken on the open file,
/// then the name is checked to still lead to it (another process may have renamed or removed
/// it while this one waited); otherwise the name is opened again.
pub(crate) async fn open_partial(path: &Path) -> Result<std::fs::File, Error> {
    let error = |e| {
        Error::local(
            Step::WriteDestination,
            format!("opening {}", path.display()),
            e,
        )
    };
    loop {
        let p = path.to_path_buf();
        let file = tokio::task::spawn_blocking(move || open_plain_file(&p))
            .await
            .map_err(|e| join_error(Step::WriteDestination, e))?
            .map_err(error)?;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    tracing::debug!(path = %path.display(), "another process holds the partial file; waiting");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(error(e)),
            }
        }
        if same_file_at(&file, path) {
            return Ok(file);
        }
    }
}

fn open_plain_file(path: &Path) -> std::io::Result<std::fs::File> {
    let create = || {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return create(),
        Err(e) => return Err(e),
        Ok(meta) if is_plain(&meta) => {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)?;
            if same_file_at(&file, path) {
                return Ok(file);
            }
        }
        Ok(_) => {}
    }
    tracing::warn!(path = %path.display(), "replacing a partial file that is not a plain file");
    std::fs::remove_file(path)?;
    create()
}

/// A regular file with one name (not a symlink, and no hard link into another file).
fn is_plain(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        meta.file_type().is_file() && meta.nlink() == 1
    }
    #[cfg(not(unix))]
    {
        meta.file_type().is_file()
    }
}

/// Whether `path` (not followed) still names the open `file`, as a plain file.
fn same_file_at(file: &std::fs::File, path: &Path) -> bool {
    let (Ok(open), Ok(named)) = (file.metadata(), std::fs::symlink_metadata(path)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        is_plain(&named) && open.dev() == named.dev() && open.ino() == named.ino()
    }
    #[cfg(not(unix))]
    {
        // Windows does not rename or remove a file another handle holds open.
        is_plain(&named) && open.len() == named.len()
    }
}

pub(crate) fn truncate(file: &std::fs::File, path: &Path, len: u64) -> Result<(), Error> {
    file.set_len(len).map_err(|e| {
        Error::local(
            Step::WriteDestination,
            format!("sizing {}", path.display()),
            e,
        )
    })
}

/// Writes a download's ranges into its partial file, one write at a time.
///
/// Buffered writes to one file take the file's lock in the kernel (ext4, XFS) whatever the
/// caller does; writers waiting there spin on it and burn the CPU the transfer needs. Taking
/// turns here makes them sleep instead (eight parallel writers of 4 MiB ranges cost about 1.7
/// times the CPU of one).
pub(crate) struct RangeWriter {
    file: Arc<std::fs::File>,
    direct: Option<Arc<DirectFile>>,
    turn: Arc<Mutex<()>>,
}

impl RangeWriter {
    /// Writes into `file`, past the page cache where `direct` allows (see [`DirectFile`]).
    pub(crate) fn new(file: Arc<std::fs::File>, direct: Option<DirectFile>) -> Self {
        RangeWriter {
            file,
            direct: direct.map(Arc::new),
            turn: Arc::default(),
        }
    }

    /// Bytes written past the page cache so far.
    pub(crate) fn direct_bytes(&self) -> u64 {
        self.direct.as_ref().map_or(0, |d| d.written())
    }

    /// Writes a range at its offset. Hands the bytes back, for their buffer to be reused.
    pub(crate) async fn write(&self, data: Bytes, block: BlockRef) -> Result<Bytes, Error> {
        let (file, direct, turn) = (self.file.clone(), self.direct.clone(), self.turn.clone());
        tokio::task::spawn_blocking(move || {
            // A writer that panicked left nothing half-done that the next one depends on.
            let _turn = turn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match &direct {
                Some(direct) => direct.write_at(&file, &data, block.offset),
                None => crate::positional::write_all_at(&file, &data, block.offset),
            }
            .map(|()| data)
        })
        .await
        .map_err(|e| join_error(Step::WriteDestination, e))?
        .map_err(|e| {
            Error::local(Step::WriteDestination, "writing the partial file", e).with_block(block)
        })
    }
}

/// The CRC-64 of a ranged file download: the ranges fetched now by their `pieces`, and the
/// `resumed` ones an earlier run wrote, read back from the partial file once.
pub(crate) async fn crc64_of_file(
    pieces: &Pieces,
    file: Arc<std::fs::File>,
    resumed: Vec<BlockRef>,
    size: u64,
) -> Result<u64, Error> {
    if !resumed.is_empty() {
        let read = tokio::task::spawn_blocking(move || {
            resumed
                .into_iter()
                .map(|b| Ok((b, crc64::of_file_range(&file, b.offset, b.len)?)))
                .collect::<std::io::Result<Vec<_>>>()
        })
        .await
        .map_err(|e| join_error(Step::Verify, e))?
        .map_err(|e| Error::local(Step::Verify, "reading the partial file back", e))?;
        for (block, crc) in read {
            pieces.insert(block.offset, block.len, crc);
        }
    }
    pieces
        .combined(size)
        .map_err(|m| Error::new(ErrorKind::Integrity, Step::Verify, m))
}

/// fsync, rename into place, fsync the folder.
pub(crate) async fn publish(partial: &Path, target: &Path) -> Result<(), Error> {
    let (p, t) = (partial.to_path_buf(), target.to_path_buf());
    tokio::task::spawn_blocking(move || evo_core::cache::place_atomically(&p, &t))
        .await
        .map_err(|e| join_error(Step::WriteDestination, e))?
        .map_err(|e| Error::from_core(Step::WriteDestination, e))
}

/// Removes a temporary file when a download that keeps nothing for a resume fails or is dropped.
pub(crate) struct RemoveOnDrop(pub(crate) Option<PathBuf>);

impl RemoveOnDrop {
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}
