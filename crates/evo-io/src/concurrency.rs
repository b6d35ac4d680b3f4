//! Adaptive concurrency: how many blocks (uploads) or ranges (downloads) one transfer keeps in
//! flight, and the block size it cuts the blob into.
//!
//! # The rule
//!
//! A transfer starts at the client's [`concurrency`](crate::BlobClientBuilder::concurrency)
//! (left at its default, [`NEAR_CONCURRENCY`] when the server is near: when the fastest answer
//! the transfer had before its blocks started came back within [`NEAR_ROUND_TRIP`]) and
//! measures its throughput: the bytes that moved on the wire (request bodies as the
//! transport takes them, answers as they arrive; blocks reused from an interrupted transfer do
//! not count) per second, over a window of completed blocks. After each change of the limit,
//! half a round of completions (`⌈limit / 2⌉` blocks: the new connections open, the blocks
//! started before the change drain) is not measured; the window then runs for a round of
//! `limit` more completed blocks, and at least [`MIN_WINDOW`](controller::MIN_WINDOW)
//! (100 ms). At the end of a window:
//!
//! - while **climbing**, a level whose throughput beats the best level measured so far by at
//!   least [`MIN_GAIN`](controller::MIN_GAIN) (10%) becomes the best one and the limit
//!   **doubles** (up to the ceiling); a level that brings less (or less throughput) sends the
//!   limit **back to the best level**, which then **holds**;
//! - while **holding**, each window refreshes the best level's throughput; after
//!   [`PROBE_AFTER`](controller::PROBE_AFTER) (8) windows the controller probes one doubling
//!   again (the wait doubles after each probe that brought nothing, up to 8 times as long), so
//!   a path that got faster is used;
//! - a **transient failure** (a throttling `503` or `429`, a `500`, a reset or truncated
//!   connection, a timeout: anything that was retried, but not a renewed URL) sends the limit
//!   back to the best level at once and holds, the wait before the next probe doubled.
//!
//! The limit never goes below the starting level (the retry policy already backs off from a
//! throttling server) nor above the **ceiling**: the smallest of
//! [`max_concurrency`](crate::BlobClientBuilder::max_concurrency) (default
//! [`DEFAULT_MAX_CONCURRENCY`]) and the blocks of this transfer's size that fit in the
//! [`memory_budget`](crate::BlobClientBuilder::memory_budget) (default
//! [`DEFAULT_MEMORY_BUDGET`]): an upload holds one buffer per block in flight, a download one
//! per range in flight (and, for an in-order destination, per range waiting for the ones
//! before it). With [`adaptive(false)`](crate::BlobClientBuilder::adaptive) the ceiling is the
//! starting level: the fixed concurrency of earlier versions.
//!
//! The controller ([`Controller`]) is a pure state machine fed one [`Sample`] per completed
//! block (time since the transfer started, bytes moved, transient failures so far), so its
//! decisions are tested with synthetic throughput curves. The [`Gate`] enforces its limit on
//! every scheduler of evo-io (an upload's reads and `Put Block`s, a download's ranges into a
//! file, memory or a writer): a semaphore whose permits are added when the limit rises and
//! forgotten, as blocks finish, when it falls. A block holds its permit from before its buffer
//! is filled until the buffer is given back, so `limit × block size` bounds the memory.
//!
//! # Block size
//!
//! With adaptive concurrency on, a transfer of known size cuts it into blocks of the
//! configured [`block_size`](crate::BlobClientBuilder::block_size) or smaller
//! ([`Tuning::block_size`]), in whole MiB:
//!
//! - small enough that `max_concurrency` blocks fit the memory budget (`budget /
//!   max_concurrency`), but not below [`FIT_BLOCK_FLOOR`] (4 MiB) for that reason: smaller
//!   blocks cost more per byte (a request, a checksum, a block on the server each; in loopback
//!   runs against the emulator 4 MiB blocks moved about as fast as 8 MiB ones, 2 MiB ones
//!   were markedly slower to upload), so with the defaults (80 MiB, 32) a large blob goes in
//!   4 MiB blocks, 20 of them in flight at most;
//! - small enough that the blob gives every connection of `max_concurrency` two blocks
//!   (`size / (2 × max_concurrency)`), down to 1 MiB: a small blob still feeds many
//!   connections (64 MiB in 1 MiB blocks, 128 MiB in 2 MiB blocks with the defaults).
//!
//! A configured size of 1 MiB or less is kept as it is. Uploads then grow it again if the blob
//! would need more than 50,000 blocks. The choice depends only on the size and the settings,
//! so a second run of an interrupted transfer chooses the same blocks; and a transfer that
//! resumes from a saved state keeps the block size of that state (a file's state file, a
//! download's state file, or the size of the block at offset 0 the server holds for an upload
//! of bytes or a reader asked to resume), whatever the settings say now. A reader of unknown
//! length is cut into blocks of the configured size.

mod controller;
mod gate;

use std::time::Duration;

pub(crate) use controller::{Controller, Sample};
pub(crate) use gate::{Gate, Slot};

/// The default [`concurrency`](crate::BlobClientBuilder::concurrency): 16 blocks in flight when
/// a transfer starts. Measured with the files benchmark's WAN profile (40 ms per request,
/// 100 Mbit/s per connection), starting at 8 left a 256 MiB transfer climbing for much of
/// its time (2.9x Python's throughput); starting at 16 moved it at 3.4x, with no loss on
/// loopback.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// The starting level of a transfer whose server is near (see [`NEAR_ROUND_TRIP`]) when the
/// client's [`concurrency`](crate::BlobClientBuilder::concurrency) was left at its default: 4
/// blocks in flight. Near the server a window of completions takes milliseconds, so the
/// climb to more connections (when they move more bytes) is quick, and starting low saves
/// what idle connections cost both sides. Measured with the files benchmark on loopback
/// (256 MiB, best of 5): starting at 4 rather than 16 uploaded at 1,064 against 953 MiB/s,
/// downloaded at 1,362 against 1,199 MiB/s, used 0.65 against 0.75 s of client CPU per GiB
/// and peaked at 50 against 105 MiB.
pub const NEAR_CONCURRENCY: usize = 4;

/// A server is near when the fastest answer a transfer had before its blocks started (the
/// upload's block listing, the download's probe) came back within this time: 10 ms, three
/// round trips (TCP, TLS and the request) within a region, where a server across a continent
/// takes tens of milliseconds for one.
pub const NEAR_ROUND_TRIP: Duration = Duration::from_millis(10);

/// The default [`max_concurrency`](crate::BlobClientBuilder::max_concurrency): 32 blocks in
/// flight at most.
pub const DEFAULT_MAX_CONCURRENCY: usize = 32;

/// The memory budget of a transfer's block buffers when none is set with
/// [`memory_budget`](crate::BlobClientBuilder::memory_budget): 80 MiB, 20 blocks of 4 MiB
/// (the fixed default of earlier versions held 64 MiB, 8 blocks of 8 MiB), so that a process
/// uploading or downloading one blob stays well under 128 MiB while a path far from the
/// service gets three times the 6 connections of the official Python SDK. Adaptive
/// concurrency never raises the limit past it; unlike a budget that is set, it does not lower
/// the starting [`concurrency`](crate::BlobClientBuilder::concurrency).
pub const DEFAULT_MEMORY_BUDGET: u64 = 80 * MIB;

/// Blocks of the blob per connection of `max_concurrency`, at least, when the block size is
/// chosen.
const BLOCKS_PER_CONNECTION: u64 = 2;
/// The smallest block chosen to fit `max_concurrency` blocks in the memory budget (a smaller
/// blob may still get smaller blocks, down to 1 MiB, to spread over the connections).
const FIT_BLOCK_FLOOR: u64 = 4 * MIB;
const MIB: u64 = 1 << 20;

/// How one transfer may set its concurrency: the client's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tuning {
    /// The starting level.
    pub(crate) concurrency: usize,
    /// The most blocks in flight adaptive concurrency may reach.
    pub(crate) max_concurrency: usize,
    /// Whether the limit adapts (false: it stays at the starting level).
    pub(crate) adaptive: bool,
    /// The memory budget the caller set, if any.
    pub(crate) memory_budget: Option<u64>,
    /// Whether the starting level is the default one, which a near server lowers to
    /// [`NEAR_CONCURRENCY`] (a level the caller chose is kept).
    pub(crate) default_start: bool,
}

impl Tuning {
    /// The memory budget of the block buffers: the one set, or [`DEFAULT_MEMORY_BUDGET`].
    pub(crate) fn budget(&self) -> u64 {
        self.memory_budget.unwrap_or(DEFAULT_MEMORY_BUDGET)
    }

    /// The starting level and the ceiling of a transfer with blocks of `block_size` bytes,
    /// whose fastest answer so far took `round_trip`.
    ///
    /// A budget that was set lowers the start (as it always did); the default budget only
    /// bounds the growth. Adaptive transfers start at most at `max_concurrency`, and at
    /// [`NEAR_CONCURRENCY`] near the server unless the caller chose the start.
    pub(crate) fn levels(&self, block_size: u64, round_trip: Option<Duration>) -> (usize, usize) {
        let fits = usize::try_from(self.budget() / block_size.max(1))
            .unwrap_or(usize::MAX)
            .max(1);
        let mut start = self.concurrency.max(1);
        if self.adaptive {
            start = start.min(self.max_concurrency.max(1));
            if self.default_start && round_trip.is_some_and(|rtt| rtt <= NEAR_ROUND_TRIP) {
                start = start.min(NEAR_CONCURRENCY);
            }
        }
        if self.memory_budget.is_some() {
            start = start.min(fits);
        }
        if !self.adaptive {
            return (start, start);
        }
        (start, self.max_concurrency.min(fits).max(start))
    }

    /// The controller of a transfer with blocks of `block_size` bytes, whose fastest answer so
    /// far took `round_trip` (what [`Wire::gate`](crate::request::Wire::gate) passes).
    pub(crate) fn controller(&self, block_size: u64, round_trip: Option<Duration>) -> Controller {
        let (start, ceiling) = self.levels(block_size, round_trip);
        Controller::new(start, ceiling, self.adaptive)
    }

    /// The block size of a transfer of `len` bytes when it does not resume from a saved state:
    /// `preferred`, or smaller with adaptive concurrency (see the [module docs](self)).
    /// Uploads still apply [`block_size_for`](crate::block_size_for) to it.
    pub(crate) fn block_size(&self, len: u64, preferred: u64) -> u64 {
        if !self.adaptive || preferred <= MIB {
            return preferred;
        }
        let ceiling = self.max_concurrency.max(1) as u64;
        let fit = whole_mib(self.budget() / ceiling).max(FIT_BLOCK_FLOOR);
        let spread = whole_mib(len / ceiling.saturating_mul(BLOCKS_PER_CONNECTION));
        preferred.min(fit).min(spread)
    }
}

/// `bytes` rounded down to a whole MiB, at least 1 MiB.
fn whole_mib(bytes: u64) -> u64 {
    (bytes / MIB).max(1) * MIB
}

/// How a transfer's concurrency went: where it started, how far it could and did go, and the
/// throughput it measured. In [`UploadReport::concurrency`](crate::UploadReport::concurrency)
/// and [`DownloadReport::concurrency`](crate::DownloadReport::concurrency).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ConcurrencyReport {
    /// Whether the limit could adapt
    /// ([`BlobClientBuilder::adaptive`](crate::BlobClientBuilder::adaptive); false for a
    /// transfer in one request).
    pub adaptive: bool,
    /// The limit the transfer started with.
    pub start: usize,
    /// The highest limit it could reach: `max_concurrency`, lowered to what the memory budget
    /// holds of its blocks (the starting level when not adaptive).
    pub ceiling: usize,
    /// The limit when the transfer ended.
    pub limit: usize,
    /// The highest limit it set.
    pub peak_limit: usize,
    /// The most blocks (or ranges) it held in flight at once.
    pub peak_in_flight: usize,
    /// How many times the limit changed.
    pub changes: u32,
    /// The throughput of the best level measured, in bytes per second (`None` when the
    /// transfer ended before a window was measured).
    pub best_rate: Option<u64>,
}

impl ConcurrencyReport {
    /// The report of a transfer in one request (`Put Blob`, a whole-blob `GET`).
    pub(crate) fn one_request() -> Self {
        ConcurrencyReport {
            adaptive: false,
            start: 1,
            ceiling: 1,
            limit: 1,
            peak_limit: 1,
            peak_in_flight: 1,
            changes: 0,
            best_rate: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuning(concurrency: usize, max: usize, adaptive: bool, budget: Option<u64>) -> Tuning {
        Tuning {
            concurrency,
            max_concurrency: max,
            adaptive,
            memory_budget: budget,
            default_start: false,
        }
    }

    #[test]
    fn a_near_server_lowers_the_default_start_only() {
        let near = Some(NEAR_ROUND_TRIP);
        let far = Some(NEAR_ROUND_TRIP + Duration::from_micros(1));
        let defaults = Tuning {
            default_start: true,
            ..tuning(16, 32, true, None)
        };
        assert_eq!(defaults.levels(4 * MIB, near), (NEAR_CONCURRENCY, 20));
        assert_eq!(
            defaults.levels(4 * MIB, Some(Duration::ZERO)).0,
            NEAR_CONCURRENCY
        );
        // Far, or nothing measured: the default start.
        assert_eq!(defaults.levels(4 * MIB, far), (16, 20));
        assert_eq!(defaults.levels(4 * MIB, None), (16, 20));
        // A start the caller chose is kept, and so is a fixed concurrency.
        assert_eq!(tuning(16, 32, true, None).levels(4 * MIB, near), (16, 20));
        let fixed = Tuning {
            default_start: true,
            ..tuning(16, 32, false, None)
        };
        assert_eq!(fixed.levels(4 * MIB, near), (16, 16));
        // A lower start (a budget, max_concurrency) is not raised.
        let small = Tuning {
            default_start: true,
            ..tuning(16, 2, true, None)
        };
        assert_eq!(small.levels(4 * MIB, near), (2, 2));
    }

    #[test]
    fn the_ceiling_is_max_concurrency_within_the_memory_budget() {
        // Defaults: 8 to 32, within 80 MiB.
        let t = tuning(8, 32, true, None);
        assert_eq!(t.levels(2 * MIB, None), (8, 32));
        assert_eq!(t.levels(4 * MIB, None), (8, 20));
        assert_eq!(t.levels(8 * MIB, None), (8, 10));
        // The default budget never lowers the start; a budget that is set does.
        assert_eq!(tuning(16, 32, true, None).levels(8 * MIB, None), (16, 16));
        assert_eq!(
            tuning(16, 32, true, Some(64 * MIB)).levels(8 * MIB, None),
            (8, 8)
        );
        assert_eq!(tuning(4, 32, true, Some(1)).levels(8 * MIB, None), (1, 1));
        // max_concurrency caps the start of an adaptive transfer.
        assert_eq!(tuning(40, 32, true, None).levels(MIB, None), (32, 32));
        // Fixed: the start is the ceiling, as configured.
        assert_eq!(tuning(40, 32, false, None).levels(8 * MIB, None), (40, 40));
        assert_eq!(
            tuning(8, 32, false, Some(32 * MIB)).levels(8 * MIB, None),
            (4, 4)
        );
    }

    #[test]
    fn block_sizes_shrink_to_use_the_connections_and_fit_the_budget() {
        let t = tuning(8, 32, true, None);
        // Large blobs: 4 MiB, not the 2 MiB that would fit 32 blocks in 80 MiB.
        assert_eq!(t.block_size(1 << 30, 8 * MIB), 4 * MIB);
        assert_eq!(t.levels(4 * MIB, None), (8, 20));
        // Smaller blobs: two blocks per connection, whole MiB, at least 1 MiB.
        assert_eq!(t.block_size(128 * MIB, 8 * MIB), 2 * MIB);
        assert_eq!(t.levels(2 * MIB, None), (8, 32));
        assert_eq!(t.block_size(20 * MIB, 8 * MIB), MIB);
        assert_eq!(t.block_size(100, 8 * MIB), MIB);
        // Never above the configured size, never below one under 1 MiB.
        assert_eq!(t.block_size(1 << 30, 2 * MIB), 2 * MIB);
        assert_eq!(t.block_size(1 << 30, 64 * 1024), 64 * 1024);
        // Not adaptive: as configured.
        assert_eq!(
            tuning(8, 32, false, None).block_size(1 << 30, 8 * MIB),
            8 * MIB
        );
        // A larger budget or fewer connections allow larger blocks.
        assert_eq!(
            tuning(8, 32, true, Some(512 * MIB)).block_size(1 << 30, 8 * MIB),
            8 * MIB
        );
        assert_eq!(
            tuning(4, 4, true, None).block_size(1 << 30, 64 * MIB),
            20 * MIB
        );
        // A small budget does not make blocks of a large blob smaller than 4 MiB: the
        // ceiling is lower instead.
        let small = tuning(4, 32, true, Some(32 * MIB));
        assert_eq!(small.block_size(1 << 30, 8 * MIB), 4 * MIB);
        assert_eq!(small.levels(4 * MIB, None), (4, 8));
    }

    proptest::proptest! {
        /// Whatever the settings and the round trip, the start is at least 1 and at most the
        /// ceiling, an adaptive ceiling stays within max_concurrency (or the start), and a set
        /// budget holds the ceiling's blocks (or one block).
        #[test]
        fn levels_keep_their_bounds(
            concurrency in 0usize..100,
            max in 0usize..100,
            adaptive in proptest::bool::ANY,
            budget in proptest::option::of(0u64..(1 << 32)),
            block in 1u64..(64 << 20),
            default_start in proptest::bool::ANY,
            round_trip_ms in proptest::option::of(0u64..50),
        ) {
            let t = Tuning { default_start, ..tuning(concurrency, max, adaptive, budget) };
            let (start, ceiling) = t.levels(block, round_trip_ms.map(Duration::from_millis));
            proptest::prop_assert!(1 <= start && start <= ceiling);
            if adaptive {
                proptest::prop_assert!(ceiling <= max.max(start));
                let fits = ceiling as u64 * block <= t.budget().max(block);
                proptest::prop_assert!(fits || ceiling == start);
            } else {
                proptest::prop_assert_eq!(start, ceiling);
            }
            if let Some(b) = budget {
                proptest::prop_assert!(ceiling as u64 * block <= b.max(block));
            }
        }

        /// The chosen block size is never above the configured one, never below 1 MiB unless
        /// the configured one is, and in whole MiB when it was changed.
        #[test]
        fn block_sizes_stay_within_their_bounds(
            len in 0u64..(1 << 40),
            preferred in 1u64..(64 << 20),
            max in 1usize..64,
            budget in proptest::option::of(1u64..(1 << 32)),
        ) {
            let size = tuning(8, max, true, budget).block_size(len, preferred);
            proptest::prop_assert!(size <= preferred);
            proptest::prop_assert!(size >= preferred.min(MIB));
            proptest::prop_assert!(size == preferred || size.is_multiple_of(MIB));
        }
    }
}
