//! Reading and writing files past the page cache (Linux `O_DIRECT`): a download's writes into
//! its file ([`DirectFile`]) and an upload's reads of its source file ([`DirectReader`]).
//!
//! A buffered write copies every byte into page-cache pages the kernel must first find and
//! clear, and a buffered read copies every byte out of them; on a large transfer that copy
//! is one of the client's biggest costs, and it pushes out of the cache what else was there.
//! Direct I/O moves the bytes between the device and the caller's buffer instead. It needs
//! the offset, length and memory address aligned to the device's blocks ([`ALIGN`] covers
//! every common one), so only aligned pieces go direct (the transfers' pool buffers are
//! aligned) and whatever is left (the end of the last block or range) goes the ordinary way.
//! A file system that refuses direct I/O (tmpfs, some network and FUSE file systems) refuses
//! at the open or the first transfer; everything then goes through the page cache.
//!
//! Either way is judged by its pace ([`Pace`]): a device slower than [`MIN_DIRECT_RATE`]
//! over the first [`JUDGED_AFTER`] bytes (a capped cloud disk, a network file system, a
//! spinning disk) is better served by the page cache, which takes a download at memory speed
//! and writes it back later, and may already hold the file an upload reads.
//!
//! The kernel keeps direct and cached I/O of one file coherent: a direct read sees bytes
//! written through the cache and not yet on the device, and later reads of a downloaded file
//! see what was written direct.

mod read;
mod write;

use std::fs::File;
use std::io;
use std::time::{Duration, Instant};

pub(crate) use read::DirectReader;
pub(crate) use write::DirectFile;

/// The alignment of direct I/O: the largest logical block size in common use.
pub(crate) const ALIGN: usize = 4096;

/// Direct I/O is timed over this many bytes before it is judged.
const JUDGED_AFTER: u64 = 32 << 20;

/// The slowest direct I/O kept (see the [module docs](self)).
const MIN_DIRECT_RATE: f64 = 512.0 * 1024.0 * 1024.0;

/// How fast direct I/O has gone: the bytes moved over the time at least one transfer was
/// under way. Parallel reads overlap, and their time counts once: eight 4 MiB reads that all
/// take the same 10 ms moved 32 MiB in 10 ms, not in 80.
#[derive(Debug, Default)]
struct Pace {
    bytes: u64,
    /// The busy time of the periods that ended (no transfer under way since).
    busy: Duration,
    /// Transfers under way, and since when at least one has been.
    active: usize,
    since: Option<Instant>,
}

impl Pace {
    /// A transfer starts at `now`.
    fn begin(&mut self, now: Instant) {
        if self.active == 0 {
            self.since = Some(now);
        }
        self.active += 1;
    }

    /// A transfer started with [`Pace::begin`] ended at `now`, having moved `bytes`; true
    /// when the transfers so far say the device is too slow for direct I/O.
    fn end(&mut self, bytes: u64, now: Instant) -> bool {
        self.bytes += bytes;
        self.active = self.active.saturating_sub(1);
        let open = self
            .since
            .map_or(Duration::ZERO, |s| now.saturating_duration_since(s));
        let time = self.busy + open;
        if self.active == 0 {
            self.busy = time;
            self.since = None;
        }
        let rate = self.bytes as f64 / time.as_secs_f64().max(1e-9);
        let slow = self.bytes >= JUDGED_AFTER && rate < MIN_DIRECT_RATE;
        if slow {
            tracing::debug!(
                mib_per_s = rate / f64::from(1 << 20),
                "direct I/O is slow on this device; going through the page cache"
            );
        }
        slow
    }
}

/// Whether direct I/O failed for want of direct I/O (not for a full disk or an I/O error,
/// which the ordinary way would meet too).
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

/// [`reopen_direct`], or `None` (logged) where the platform or the file system has no direct
/// I/O.
fn reopen_or_log(file: &File, write: bool) -> Option<File> {
    reopen_direct(file, write)
        .map_err(
            |e| tracing::debug!(error = %e, write, "no direct I/O; going through the page cache"),
        )
        .ok()
}

/// The same open file (not the same name: it may have been replaced since) for direct
/// writes (`write`) or reads, through `/proc/self/fd`.
#[cfg(target_os = "linux")]
fn reopen_direct(file: &File, write: bool) -> io::Result<File> {
    use std::os::fd::AsRawFd as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .read(!write)
        .write(write)
        .custom_flags(libc::O_DIRECT)
        .open(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

#[cfg(not(target_os = "linux"))]
fn reopen_direct(_file: &File, _write: bool) -> io::Result<File> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "direct I/O is implemented for Linux only",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Transfers one after another, each `mib_per_s` fast; the verdict of each.
    fn in_turn(pace: &mut Pace, at: &mut Instant, mib_per_s: f64, count: usize) -> Vec<bool> {
        (0..count)
            .map(|_| {
                pace.begin(*at);
                *at += Duration::from_secs_f64(4.0 / mib_per_s);
                pace.end(4 << 20, *at)
            })
            .collect()
    }

    /// Transfers are judged only once 32 MiB went direct, and then by their overall rate: a
    /// slow first piece alone does not turn direct I/O off, a slow device does, a fast one
    /// never.
    #[test]
    fn only_a_device_slower_than_the_floor_loses_direct_io() {
        let mut at = Instant::now();
        let mut fast = Pace::default();
        assert_eq!(
            in_turn(&mut fast, &mut at, 200.0, 1),
            [false],
            "judged early"
        );
        assert!(in_turn(&mut fast, &mut at, 2000.0, 63).iter().all(|s| !s));
        let mut slow = Pace::default();
        assert_eq!(
            in_turn(&mut slow, &mut at, 200.0, 8),
            [false, false, false, false, false, false, false, true]
        );
    }

    /// Overlapping transfers count their common time once: eight 4 MiB reads under way
    /// together for 40 ms moved 32 MiB in 40 ms (800 MiB/s, fast enough), where the sum of
    /// their times (320 ms, 100 MiB/s) would call the device slow. Time with nothing under
    /// way does not count either; a lone read as slow as the eight together is slow.
    #[test]
    fn parallel_transfers_are_judged_by_the_time_any_was_under_way() {
        let start = Instant::now();
        let mut parallel = Pace::default();
        for _ in 0..8 {
            parallel.begin(start);
        }
        let done = start + Duration::from_millis(40);
        let verdicts: Vec<bool> = (0..8).map(|_| parallel.end(4 << 20, done)).collect();
        assert_eq!(verdicts, [false; 8]);
        // A long idle gap, then one more read at the same pace: still fast.
        let later = done + Duration::from_secs(10);
        parallel.begin(later);
        assert!(!parallel.end(4 << 20, later + Duration::from_millis(5)));

        let mut serial = Pace::default();
        let mut at = start;
        assert_eq!(in_turn(&mut serial, &mut at, 100.0, 8).last(), Some(&true));
    }
}
