//! Writing downloaded ranges past the page cache (Linux `O_DIRECT`).
//!
//! A buffered write copies every byte into page-cache pages the kernel must first find and
//! clear; on a large download that copy is the client's biggest cost (more than TLS and the
//! checksums together), and it evicts what else was cached. A direct write hands the bytes
//! to the device from the caller's buffer instead. It needs the offset, length and memory
//! address aligned to the device's blocks ([`ALIGN`] covers every common one), so aligned
//! pieces go through a second handle opened with `O_DIRECT`, straight from the range's
//! buffer when it is aligned (the download's pool buffers are) or else copied into a reused
//! aligned one, and whatever is left (the end of the last range) goes through the ordinary
//! handle. A file
//! system that refuses direct I/O (tmpfs, some network and FUSE file systems) refuses at
//! the open or the first write; the download then writes everything the ordinary way.
//!
//! Reads of the file (a checksum of a resumed download, the caller afterwards) see what was
//! written: the kernel keeps direct writes and cached pages of one file coherent.

use std::fs::File;
use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::positional::write_all_at;

/// The alignment of direct writes: the largest logical block size in common use.
pub(crate) const ALIGN: usize = 4096;

/// How much of a range is copied into the aligned buffer and written at a time.
const PIECE: usize = 4 << 20;

/// Direct writes are timed over this many bytes before they are judged.
const JUDGED_AFTER: u64 = 32 << 20;

/// The slowest direct writes kept: a device slower than this (a capped cloud disk, a
/// network file system, a spinning disk) is better served by the page cache, which takes a
/// download at memory speed and writes it back later.
const MIN_DIRECT_RATE: f64 = 512.0 * 1024.0 * 1024.0;

/// A second handle on an open partial file that writes past the page cache.
pub(crate) struct DirectFile {
    file: File,
    /// `PIECE` bytes starting at an [`ALIGN`] boundary (with the room to find one), and how
    /// fast direct writes have gone.
    buffer: Mutex<(Vec<u8>, Pace)>,
    /// Cleared when the file system refuses a direct write after accepting the open, or
    /// the device writes slower than [`MIN_DIRECT_RATE`].
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
        let direct = reopen_direct(file)
            .map_err(
                |e| tracing::debug!(error = %e, "no direct writes; writing through the page cache"),
            )
            .ok()?;
        Some(DirectFile {
            file: direct,
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
                let started = Instant::now();
                match write_all_at(&self.file, piece, offset + done as u64) {
                    Ok(()) => {
                        done += piece.len();
                        if pace.add(piece.len() as u64, started.elapsed()) {
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

/// How fast direct writes have gone.
#[derive(Debug, Default)]
struct Pace {
    bytes: u64,
    time: Duration,
}

impl Pace {
    /// Counts a write of `bytes` that took `time`; true when the writes so far say the device
    /// is too slow for direct writes.
    fn add(&mut self, bytes: u64, time: Duration) -> bool {
        self.bytes += bytes;
        self.time += time;
        let rate = self.bytes as f64 / self.time.as_secs_f64().max(1e-9);
        let slow = self.bytes >= JUDGED_AFTER && rate < MIN_DIRECT_RATE;
        if slow {
            tracing::debug!(
                mib_per_s = rate / f64::from(1 << 20),
                "direct writes are slow on this device; writing through the page cache"
            );
        }
        slow
    }
}

/// Whether a direct write failed for want of direct I/O (not for a full disk or an I/O
/// error, which the buffered write would meet too).
fn refused(error: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    {
        error.raw_os_error() == Some(libc::EINVAL)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = error;
        true
    }
}

/// The same open file (not the same name: it may have been replaced since) for direct
/// writes, through `/proc/self/fd`.
#[cfg(target_os = "linux")]
fn reopen_direct(file: &File) -> io::Result<File> {
    use std::os::fd::AsRawFd as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

#[cfg(not(target_os = "linux"))]
fn reopen_direct(_file: &File) -> io::Result<File> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "direct writes are implemented for Linux only",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Aligned and unaligned offsets and lengths, a range larger than the aligned buffer and
    /// a last range ending mid-block: the file holds exactly the bytes written, where they
    /// were written, whether or not this file system takes direct writes.
    #[test]
    fn every_byte_lands_at_its_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("partial");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
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

    /// Writes are judged only once 32 MiB went direct, and then by their overall rate: a
    /// slow first piece alone does not turn direct writes off, a slow device does, a fast
    /// one never.
    #[test]
    fn only_a_device_slower_than_the_floor_loses_direct_writes() {
        let piece = |mib_per_s: f64| Duration::from_secs_f64(4.0 / mib_per_s);
        let mut fast = Pace::default();
        assert!(!fast.add(4 << 20, piece(200.0)), "judged before 32 MiB");
        assert!((0..63).all(|_| !fast.add(4 << 20, piece(2000.0))));
        let mut slow = Pace::default();
        let verdicts: Vec<bool> = (0..8).map(|_| slow.add(4 << 20, piece(200.0))).collect();
        assert_eq!(
            verdicts,
            [false, false, false, false, false, false, false, true]
        );
    }

    /// A device judged too slow gets every later byte through the ordinary handle, and the
    /// file is still whole.
    #[test]
    fn writes_after_a_slow_verdict_go_through_the_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("partial");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        let Some(direct) = DirectFile::open(&file) else {
            return; // No direct I/O here: nothing to turn off.
        };
        direct.buffer.lock().unwrap().1 = Pace {
            bytes: JUDGED_AFTER,
            time: Duration::from_secs(1),
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
