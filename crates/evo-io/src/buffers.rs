//! Block buffers a client's transfers reuse: each block (or range) is read into a buffer that
//! an earlier one gave back (when the last holder of its bytes dropped them), so a transfer
//! keeps about as many buffers as it has blocks in flight, and their memory is faulted in once
//! for the client's transfers that follow each other (released when the client has been idle
//! for a while, see [`BufferPool`]).
//!
//! A fresh buffer of a few MiB comes from the OS, and every page of it is faulted in and
//! zeroed by the kernel; on a virtual machine each such page may also cost the host a fault
//! (on the files benchmark's 2-core VM, faulting in fresh memory in small pages cost about
//! 0.7 ms per MiB). Large buffers are therefore mapped with huge pages ([`BlockBuffer`]).

mod block;

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) use block::BlockBuffer;
use block::Memory;

/// How long a client keeps its block buffers after its last transfer ends, for the next one.
pub(crate) const IDLE_RELEASE: Duration = Duration::from_secs(2);

/// The block buffers of a client's transfers, kept between them: a download that follows an
/// upload reads into the buffers the upload filled, instead of faulting in fresh memory.
///
/// A transfer uses the pool through a [`BufferLease`]. Buffers given back are kept up to
/// `keep_bytes` of capacity (one transfer's memory budget); when the last lease ends, they are
/// released [`IDLE_RELEASE`] later unless another transfer has started by then (at once when
/// no Tokio runtime is there to wait).
#[derive(Debug)]
pub(crate) struct BufferPool {
    state: Mutex<PoolState>,
    keep_bytes: usize,
}

#[derive(Debug, Default)]
struct PoolState {
    free: Vec<Memory>,
    /// The capacity of `free`.
    kept_bytes: usize,
    /// Transfers holding a lease.
    leases: usize,
    /// Counts the times the pool went idle, so that a release scheduled for an idle spell
    /// that has ended since does nothing.
    idle_spells: u64,
    /// Whether the buffers were released and no transfer has started since: a buffer whose
    /// bytes were still held somewhere then is freed rather than kept.
    released: bool,
}

impl BufferPool {
    /// A pool keeping at most `keep_bytes` of idle buffers.
    pub(crate) fn new(keep_bytes: u64) -> Arc<Self> {
        Arc::new(BufferPool {
            state: Mutex::default(),
            keep_bytes: usize::try_from(keep_bytes).unwrap_or(usize::MAX),
        })
    }

    /// A lease for one transfer; buffers are released once every lease has ended and the
    /// pool stayed idle for [`IDLE_RELEASE`].
    pub(crate) fn lease(self: &Arc<Self>) -> BufferLease {
        let mut state = self.lock();
        state.leases += 1;
        state.released = false;
        drop(state);
        BufferLease { pool: self.clone() }
    }

    /// The capacity of the buffers kept.
    #[cfg(test)]
    pub(crate) fn kept_bytes(&self) -> usize {
        self.lock().kept_bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // The list stays valid whatever a panicking holder was doing.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn release(&self, spell: u64) {
        let mut state = self.lock();
        if state.leases == 0 && state.idle_spells == spell {
            let free = std::mem::take(&mut state.free);
            state.kept_bytes = 0;
            state.released = true;
            drop(state);
            // Unmapped outside the lock.
            drop(free);
        }
    }

    /// Keeps `memory` for another block, when the pool has room for it and has not been
    /// released since (see [`PoolState::released`]).
    fn keep(&self, memory: Memory) {
        let mut state = self.lock();
        let capacity = memory.capacity();
        if capacity > 0 && !state.released && state.kept_bytes + capacity <= self.keep_bytes {
            state.kept_bytes += capacity;
            state.free.push(memory);
        }
    }
}

/// One transfer's use of its client's [`BufferPool`].
#[derive(Debug)]
pub(crate) struct BufferLease {
    pool: Arc<BufferPool>,
}

impl BufferLease {
    /// A kept buffer (with the bytes of its last use: callers overwrite or clear them), or a
    /// new empty one; either goes back to the pool when dropped, or when the last holder of
    /// its frozen bytes drops them ([`BlockBuffer::freeze`]).
    pub(crate) fn take(&self) -> BlockBuffer {
        let mut state = self.pool.lock();
        let memory = state.free.pop().unwrap_or_default();
        state.kept_bytes -= memory.capacity();
        BlockBuffer::leased(memory, Arc::downgrade(&self.pool))
    }
}

impl Drop for BufferLease {
    fn drop(&mut self) {
        let spell = {
            let mut state = self.pool.lock();
            state.leases -= 1;
            if state.leases > 0 {
                return;
            }
            state.idle_spells += 1;
            state.idle_spells
        };
        // The wait holds no strong reference: a client dropped meanwhile frees its buffers
        // with itself.
        let pool = Arc::downgrade(&self.pool);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    tokio::time::sleep(IDLE_RELEASE).await;
                    if let Some(pool) = pool.upgrade() {
                        pool.release(spell);
                    }
                });
            }
            Err(_) => self.pool.release(spell),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::block::HUGE_PAGE;
    use super::*;
    use crate::direct::ALIGN;

    /// An emptied buffer starts at an aligned address with the room asked for, and keeps
    /// both through a range's round trip (filled, frozen, dropped, taken, emptied) without
    /// moving, small (allocated) or large (mapped).
    #[test]
    fn emptied_buffers_are_aligned_and_stay_so_through_the_pool() {
        for len in [3 << 10, 3 << 20] {
            let pool = BufferPool::new(64 << 20);
            let lease = pool.lease();
            let mut buffer = lease.take();
            buffer.clear_for(len);
            let address = buffer.as_ptr();
            assert_eq!(address.align_offset(ALIGN), 0);
            assert!(buffer.capacity() >= len && buffer.is_empty());
            assert_eq!(buffer.is_mapped(), len >= HUGE_PAGE);
            buffer.extend_from_slice(&vec![9; len]);
            assert!(buffer.iter().all(|&b| b == 9) && buffer.len() == len);
            drop(buffer.freeze());
            let mut again = lease.take();
            again.clear_for(len);
            assert_eq!(again.as_ptr(), address, "the same memory, still aligned");
            assert!(again.is_empty());
            again.clear_for(len * 2);
            assert_eq!(again.as_ptr().align_offset(ALIGN), 0, "grown: aligned anew");
            assert!(again.capacity() >= len * 2);
        }
    }

    /// A large buffer starts on a huge page and, on Linux, its mapping carries the kernel's
    /// huge-page advice (`hg` among the mapping's `VmFlags` in `/proc/self/smaps`).
    #[test]
    fn large_buffers_are_mapped_for_huge_pages() {
        let mut buffer = BlockBuffer::default();
        buffer.clear_for(5 << 20);
        assert!(buffer.is_mapped());
        assert_eq!(buffer.as_ptr().align_offset(HUGE_PAGE), 0);
        assert_eq!(buffer.capacity(), 6 << 20, "whole huge pages");
        // Kernels built without transparent huge pages have no such directory (nor advice).
        #[cfg(target_os = "linux")]
        if std::path::Path::new("/sys/kernel/mm/transparent_hugepage").exists() {
            let address = buffer.as_ptr() as usize;
            let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
            let mut flags = None;
            let mut inside = false;
            for line in smaps.lines() {
                let range = line.split_whitespace().next().unwrap_or_default();
                if let Some((from, to)) = range.split_once('-')
                    && let (Ok(from), Ok(to)) = (
                        usize::from_str_radix(from, 16),
                        usize::from_str_radix(to, 16),
                    )
                {
                    inside = (from..to).contains(&address);
                } else if inside && let Some(f) = line.strip_prefix("VmFlags:") {
                    flags = Some(f.split_whitespace().map(str::to_owned).collect::<Vec<_>>());
                }
            }
            let flags = flags.expect("the buffer's mapping is in smaps");
            assert!(flags.iter().any(|f| f == "hg"), "VmFlags: {flags:?}");
        }
    }

    /// Appending past a buffer's room moves it to larger memory with its bytes; appending
    /// over bytes of an earlier use overwrites them.
    #[test]
    fn appending_keeps_every_byte_whatever_the_memory() {
        for (first, second) in [(100, 5000), (1 << 20, 3 << 20), (3 << 20, 1 << 20)] {
            let mut buffer = BlockBuffer::default();
            buffer.clear_for(first);
            let data: Vec<u8> = (0..first + second).map(|i| (i % 251) as u8).collect();
            buffer.extend_from_slice(&data[..first]);
            buffer.extend_from_slice(&data[first..]);
            assert!(*buffer == data[..], "{first} + {second}");
            buffer.clear_for(first);
            buffer.extend_from_slice(&vec![1; first / 2]);
            buffer.extend_from_slice(&vec![2; first]);
            assert_eq!(buffer.len(), first / 2 + first);
            assert!(buffer[..first / 2].iter().all(|&b| b == 1));
            assert!(buffer[first / 2..].iter().all(|&b| b == 2));
        }
    }

    /// A sized buffer holds exactly the length asked for, from an aligned address; a reused
    /// one keeps its memory and its old bytes (a read overwrites them), and bytes it never
    /// held are zero.
    #[test]
    fn sized_buffers_keep_their_memory_and_new_bytes_are_zero() {
        for len in [1 << 20, 4 << 20] {
            let mut buffer = BlockBuffer::default();
            buffer.resize_for_overwrite(len);
            assert_eq!(buffer.len(), len);
            assert_eq!(buffer.as_ptr().align_offset(ALIGN), 0);
            assert!(buffer.iter().all(|&b| b == 0));
            buffer.fill(7);
            let address = buffer.as_ptr();
            buffer.resize_for_overwrite(1000);
            buffer.resize_for_overwrite(2000);
            assert_eq!(buffer.as_ptr(), address);
            assert_eq!(buffer.len(), 2000);
            assert!(buffer.iter().all(|&b| b == 7), "old bytes kept");
            buffer.resize_for_overwrite(len + 1);
            assert!(buffer[len..].iter().all(|&b| b == 0), "new bytes zero");
        }
    }

    /// A buffer goes back to its pool when the last holder of its bytes drops them, not
    /// before; a buffer not from a pool goes nowhere.
    #[test]
    fn a_buffer_returns_when_its_last_bytes_are_dropped() {
        let pool = BufferPool::new(8 << 20);
        let lease = pool.lease();
        let mut first = lease.take();
        first.clear_for(1 << 20);
        first.extend_from_slice(&[7; 1000]);
        let address = first.as_ptr();
        let data = first.freeze();
        let piece = data.slice(10..20);
        drop(data);
        assert_eq!(pool.kept_bytes(), 0, "a slice still holds the bytes");
        let second = lease.take();
        assert_ne!(second.as_ptr(), address);
        drop(piece);
        assert!(pool.kept_bytes() >= 1 << 20);
        let mut third = lease.take();
        assert_eq!(
            pool.kept_bytes(),
            0,
            "taken buffers are not counted as kept"
        );
        third.resize_for_overwrite(1000);
        assert_eq!(third.as_ptr(), address, "the returned buffer is reused");
        assert_eq!(&third[..], &[7; 1000], "with the bytes of its last use");
        drop((second, third));
        let mut own = BlockBuffer::default();
        own.clear_for(1 << 20);
        let kept = pool.kept_bytes();
        drop(own.freeze());
        assert_eq!(pool.kept_bytes(), kept);
    }

    fn filled(lease: &BufferLease, len: usize) -> *const u8 {
        let mut buffer = lease.take();
        buffer.resize_for_overwrite(len);
        buffer.as_ptr()
    }

    /// The buffers one transfer gave back serve the next transfer of the client, when it
    /// starts before the pool has been idle for [`IDLE_RELEASE`].
    #[tokio::test(start_paused = true)]
    async fn the_next_transfer_reuses_the_buffers_of_the_last() {
        let pool = BufferPool::new(16 << 20);
        let upload = pool.lease();
        let address = filled(&upload, 4 << 20);
        drop(upload);
        tokio::time::sleep(IDLE_RELEASE / 2).await;
        let download = pool.lease();
        tokio::time::sleep(IDLE_RELEASE * 2).await;
        assert_eq!(
            download.take().as_ptr(),
            address,
            "kept while a transfer runs, however long"
        );
    }

    /// Once the last transfer has ended and nothing started for [`IDLE_RELEASE`], the pool
    /// lets go of its memory; a transfer that starts and ends within the wait restarts it.
    /// A buffer whose bytes outlive the release is freed, not kept, until a transfer starts.
    #[tokio::test(start_paused = true)]
    async fn an_idle_pool_lets_go_of_its_buffers() {
        let pool = BufferPool::new(16 << 20);
        let lease = pool.lease();
        let mut straggler = lease.take();
        straggler.resize_for_overwrite(1 << 20);
        let straggler = straggler.freeze();
        filled(&lease, 4 << 20);
        drop(lease);
        assert!(pool.kept_bytes() >= 4 << 20);
        tokio::time::sleep(IDLE_RELEASE / 2).await;
        drop(pool.lease());
        tokio::time::sleep(IDLE_RELEASE * 3 / 4).await;
        assert!(
            pool.kept_bytes() >= 4 << 20,
            "the first idle spell ended early: its release does nothing"
        );
        tokio::time::sleep(IDLE_RELEASE / 2).await;
        assert_eq!(pool.kept_bytes(), 0);
        assert!(pool.lock().free.is_empty());
        drop(straggler);
        assert_eq!(
            pool.kept_bytes(),
            0,
            "bytes dropped after the release are freed"
        );
        let lease = pool.lease();
        filled(&lease, 1 << 20);
        assert!(
            pool.kept_bytes() >= 1 << 20,
            "a new transfer keeps buffers again"
        );
    }

    /// Without a runtime to wait on, the last lease releases the buffers at once (and those
    /// dropped after are freed); the pool never keeps more than its bytes.
    #[test]
    fn outside_a_runtime_the_last_lease_releases_at_once_and_keeping_is_bounded() {
        let pool = BufferPool::new(5 << 20);
        let (first, second) = (pool.lease(), pool.lease());
        let held: Vec<_> = (0..3)
            .map(|_| {
                let mut buffer = first.take();
                buffer.resize_for_overwrite(2 << 20);
                buffer
            })
            .collect();
        drop(held);
        assert_eq!(
            pool.lock().free.len(),
            2,
            "a third 2 MiB buffer passes 5 MiB"
        );
        let late = first.take();
        drop(first);
        assert_eq!(pool.lock().free.len(), 1, "a lease is still held");
        drop(second);
        assert_eq!(pool.kept_bytes(), 0);
        drop(late);
        assert_eq!(
            pool.kept_bytes(),
            0,
            "released: a buffer dropped after is freed"
        );
    }
}
