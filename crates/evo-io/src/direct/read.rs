//! An upload's reads of its source file past the page cache.

use std::fs::File;
use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::{ALIGN, Pace, refused, reopen_or_log};
use crate::positional::read_exact_at;

/// A second handle on an upload's source file that reads past the page cache. Blocks are
/// read in parallel through it; each read is a single request to the device.
pub(crate) struct DirectReader {
    file: File,
    pace: Mutex<Pace>,
    /// Cleared when the file system refuses a direct read after accepting the open, or the
    /// device reads slower than [`MIN_DIRECT_RATE`](super::MIN_DIRECT_RATE).
    usable: AtomicBool,
}

impl std::fmt::Debug for DirectReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectReader")
            .field("usable", &self.usable.load(Ordering::Relaxed))
            .field("read", &self.read_bytes())
            .finish_non_exhaustive()
    }
}

impl DirectReader {
    /// Opens `file` again for direct reads; `None` where the platform or the file system has
    /// none.
    pub(crate) fn open(file: &File) -> Option<Self> {
        Some(DirectReader {
            file: reopen_or_log(file, false)?,
            pace: Mutex::new(Pace::default()),
            usable: AtomicBool::new(true),
        })
    }

    /// Bytes read past the page cache so far (as their pace counts them).
    pub(crate) fn read_bytes(&self) -> u64 {
        self.pace().bytes
    }

    /// Fills the start of `buf` from `offset` past the page cache: as many whole [`ALIGN`]
    /// blocks as it holds, when `offset` and `buf` are aligned and direct reads still serve.
    /// Returns how many bytes it read; the caller reads the rest (all of `buf` when 0) the
    /// ordinary way. A file that ends before them is an `UnexpectedEof` error, as with
    /// ordinary reads.
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let len = buf.len() / ALIGN * ALIGN;
        if len == 0
            || !self.usable.load(Ordering::Relaxed)
            || !offset.is_multiple_of(ALIGN as u64)
            || buf.as_ptr().align_offset(ALIGN) != 0
        {
            return Ok(0);
        }
        self.pace().begin(Instant::now());
        let result = read_exact_at(&self.file, &mut buf[..len], offset);
        let moved = if result.is_ok() { len as u64 } else { 0 };
        let slow = self.pace().end(moved, Instant::now());
        match result {
            Ok(()) => {
                if slow {
                    self.usable.store(false, Ordering::Relaxed);
                }
                Ok(len)
            }
            Err(e) if refused(&e) => {
                tracing::debug!(error = %e, "the file system refused a direct read; reading through the page cache");
                self.usable.store(false, Ordering::Relaxed);
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    fn pace(&self) -> std::sync::MutexGuard<'_, Pace> {
        // A reader that panicked left only counts behind.
        self.pace.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffers::BlockBuffer;

    fn aligned(len: usize) -> BlockBuffer {
        let mut buffer = BlockBuffer::default();
        buffer.resize_for_overwrite(len);
        assert_eq!(buffer.as_ptr().align_offset(ALIGN), 0);
        buffer
    }

    /// Only whole aligned blocks at aligned offsets into aligned memory are read direct; the
    /// bytes read are the file's, including bytes written through the page cache a moment
    /// before and not yet on the device; the rest is left to the caller.
    #[test]
    fn reads_whole_aligned_blocks_and_leaves_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("source");
        let data: Vec<u8> = (0..5 * ALIGN + 777).map(|i| (i * 37 % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = File::open(&path).unwrap();
        let Some(direct) = DirectReader::open(&file) else {
            return; // No direct I/O here (tmpfs): the upload test covers a file system with it.
        };
        let mut buffer = aligned(3 * ALIGN + 100);
        assert_eq!(
            direct.read_at(&mut buffer, ALIGN as u64).unwrap(),
            3 * ALIGN
        );
        assert!(buffer[..3 * ALIGN] == data[ALIGN..4 * ALIGN]);
        // An unaligned offset, a buffer shorter than a block, unaligned memory: nothing.
        assert_eq!(direct.read_at(&mut buffer, 100).unwrap(), 0);
        assert_eq!(direct.read_at(&mut buffer[..ALIGN - 1], 0).unwrap(), 0);
        assert_eq!(direct.read_at(&mut buffer[1..], 0).unwrap(), 0);
        assert_eq!(direct.read_bytes(), 3 * ALIGN as u64);
        // Past the end of the file: the same error as an ordinary read.
        let mut past = aligned(2 * ALIGN);
        let error = direct.read_at(&mut past, 5 * ALIGN as u64).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }

    /// A device judged too slow gets no more direct reads, and every byte is still read (by
    /// the caller).
    #[test]
    fn no_direct_reads_after_a_slow_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("source");
        std::fs::write(&path, vec![9u8; 4 * ALIGN]).unwrap();
        let file = File::open(&path).unwrap();
        let Some(direct) = DirectReader::open(&file) else {
            return; // No direct I/O here: nothing to turn off.
        };
        *direct.pace() = Pace {
            bytes: super::super::JUDGED_AFTER,
            busy: std::time::Duration::from_secs(1),
            ..Pace::default()
        };
        let mut buffer = aligned(2 * ALIGN);
        assert_eq!(direct.read_at(&mut buffer, 0).unwrap(), 2 * ALIGN);
        assert!(
            !direct.usable.load(Ordering::Relaxed),
            "32 MiB in a second is too slow"
        );
        assert_eq!(direct.read_at(&mut buffer, 0).unwrap(), 0);
    }
}
