//! A download's writes into its file past the page cache.

use std::fs::File;
use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::{ALIGN, Pace, refused, reopen_or_log};
use crate::positional::write_all_at;

/// How much of a range is copied into the aligned buffer and written at a time.
const PIECE: usize = 4 << 20;

/// A second handle on an open partial file that writes past the page cache.
pub(crate) struct DirectFile {
    file: File,
    /// `PIECE` bytes starting at an [`ALIGN`] boundary (with the room to find one), and how
    /// fast direct writes have gone.
    buffer: Mutex<(Vec<u8>, Pace)>,
    /// Cleared when the file system refuses a direct write after accepting the open, or
    /// the device writes slower than [`MIN_DIRECT_RATE`](super::MIN_DIRECT_RATE).
    usable: AtomicBool,
}

impl std::fmt::Debug for DirectFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectFile")
            .field("usable", &self.usable.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl DirectFile {
    /// Opens `file` again for direct writes; `None` where the platform or the file system
    /// has none.
    pub(crate) fn open(file: &File) -> Option<Self> {
        Some(DirectFile {
            file: reopen_or_log(file, true)?,
            buffer: Mutex::new((Vec::new(), Pace::default())),
            usable: AtomicBool::new(true),
        })
    }

    /// Bytes written past the page cache so far.
    pub(crate) fn written(&self) -> u64 {
        self.buffer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .bytes
    }

    /// Writes `data` at `offset`: its aligned part past the page cache when the offset is
    /// aligned, the rest through `buffered` (the ordinary handle on the same file).
    pub(crate) fn write_at(&self, buffered: &File, data: &[u8], offset: u64) -> io::Result<()> {
        let mut done = 0;
        if self.usable.load(Ordering::Relaxed) && offset.is_multiple_of(ALIGN as u64) {
            let aligned = data.len() / ALIGN * ALIGN;
            // A writer that panicked left the buffer whole: it is only scratch space.
            let mut guard = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
            let (buffer, pace) = &mut *guard;
            // From the caller's memory when it is aligned (a range read into a pool buffer,
            // see `BlockBuffer::clear_for`), else a piece at a time through the buffer.
            let from_data = data.as_ptr().align_offset(ALIGN) == 0;
            if !from_data && buffer.is_empty() {
                buffer.resize(PIECE + ALIGN, 0);
            }
            let start = buffer.as_ptr().align_offset(ALIGN);
            while done < aligned {
                let piece: &[u8] = if from_data {
                    &data[done..aligned]
                } else {
                    let n = (aligned - done).min(PIECE);
                    let piece = &mut buffer[start..start + n];
                    piece.copy_from_slice(&data[done..done + n]);
                    piece
                };
                pace.begin(Instant::now());
                let written = write_all_at(&self.file, piece, offset + done as u64);
                let moved = if written.is_ok() { piece.len() } else { 0 };
                let slow = pace.end(moved as u64, Instant::now());
                match written {
                    Ok(()) => {
                        done += piece.len();
                        if slow {
                            self.usable.store(false, Ordering::Relaxed);
                            break;
                        }
                    }
                    Err(e) if refused(&e) => {
                        tracing::debug!(error = %e, "the file system refused a direct write; writing through the page cache");
                        self.usable.store(false, Ordering::Relaxed);
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        // Rewritten from the last piece known written: a refused or short piece included.
        write_all_at(buffered, &data[done..], offset + done as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new empty file to read and write, in a folder that lives as long as the first.
    fn new_partial() -> (tempfile::TempDir, std::path::PathBuf, File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("partial");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        (dir, path, file)
    }

    /// Aligned and unaligned offsets and lengths, a range larger than the aligned buffer and
    /// a last range ending mid-block: the file holds exactly the bytes written, where they
    /// were written, whether or not this file system takes direct writes.
    #[test]
    fn every_byte_lands_at_its_offset() {
        let (_dir, path, file) = new_partial();
        let size = PIECE * 2 + 3 * ALIGN + 1234;
        file.set_len(size as u64).unwrap();
        let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        // Where the file system refuses direct I/O, the ordinary writes are what is tested.
        let direct = DirectFile::open(&file);
        let ranges = [
            (0, PIECE + 2 * ALIGN),
            (PIECE + 2 * ALIGN, 100),
            (PIECE + 2 * ALIGN + 100, PIECE - 100),
            (2 * PIECE + 2 * ALIGN, ALIGN + 1234),
        ];
        // Ranges from wherever the allocator put them (copied into the aligned buffer),
        // then from aligned memory (written from it as they are).
        for aligned in [false, true] {
            std::fs::write(&path, vec![0u8; size]).unwrap();
            for (offset, len) in ranges {
                let memory = if aligned {
                    let mut memory = crate::buffers::BlockBuffer::default();
                    memory.clear_for(len);
                    memory.extend_from_slice(&data[offset..offset + len]);
                    assert_eq!(memory.as_ptr().align_offset(ALIGN), 0);
                    memory.freeze()
                } else {
                    bytes::Bytes::copy_from_slice(&data[offset..offset + len])
                };
                match &direct {
                    Some(d) => d.write_at(&file, &memory, offset as u64).unwrap(),
                    None => write_all_at(&file, &memory, offset as u64).unwrap(),
                }
            }
            assert!(
                std::fs::read(&path).unwrap() == data,
                "aligned memory: {aligned}"
            );
        }
    }

    /// A device judged too slow gets every later byte through the ordinary handle, and the
    /// file is still whole.
    #[test]
    fn writes_after_a_slow_verdict_go_through_the_page_cache() {
        let (_dir, path, file) = new_partial();
        let Some(direct) = DirectFile::open(&file) else {
            return; // No direct I/O here: nothing to turn off.
        };
        direct.buffer.lock().unwrap().1 = Pace {
            bytes: super::super::JUDGED_AFTER,
            busy: std::time::Duration::from_secs(1),
            ..Pace::default()
        };
        let data = vec![7u8; 2 * ALIGN];
        direct.write_at(&file, &data, 0).unwrap();
        assert!(
            !direct.usable.load(Ordering::Relaxed),
            "32 MiB in a second is too slow"
        );
        direct.write_at(&file, &data, data.len() as u64).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), [data.clone(), data].concat());
    }
}
