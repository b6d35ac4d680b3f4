//! Block buffers a client's transfers reuse: each block (or range) is read into a buffer that
//! an earlier one gave back, so a transfer keeps about as many buffers as it has blocks in
//! flight, and their memory is faulted in once for the client's transfers that follow each
//! other (released when the client has been idle for a while, see [`BufferPool`]).
//!
//! A fresh buffer of a few MiB comes from the OS (the allocator maps large blocks and gives
//! them back on free), and every page of it is faulted in and zeroed by the kernel again; on a
//! virtual machine each such page may also cost the host a fault (on the files benchmark's
//! 2-core VM, faulting in fresh memory cost about 0.7 ms per MiB).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::direct::ALIGN;

/// Empties `buf` and gives it room for `len` bytes from an address aligned for direct writes
/// ([`ALIGN`]), reallocating only when it has not: a range read into it can then be written
/// past the page cache straight from it, without a copy into an aligned buffer.
pub(crate) fn empty_aligned(buf: &mut BytesMut, len: usize) {
    buf.clear();
    if has_aligned_room(buf, len) {
        return;
    }
    let mut fresh = BytesMut::with_capacity(len + ALIGN);
    let pad = fresh.as_ptr().align_offset(ALIGN).min(ALIGN);
    fresh.resize(pad, 0);
    // The rest of the allocation, from the aligned address; the head is dropped at once, so
    // the buffer stays unique and goes back to the pool when the range is written.
    *buf = fresh.split_off(pad);
}

/// Makes `buf` hold `len` bytes from an aligned address (see [`empty_aligned`]), for a read
/// to overwrite: a buffer that already has the room keeps its old bytes, and only bytes it
/// never held are zeroed.
pub(crate) fn sized_aligned(buf: &mut BytesMut, len: usize) {
    if !has_aligned_room(buf, len) {
        empty_aligned(buf, len);
    }
    buf.truncate(len);
    buf.resize(len, 0);
}

/// Whether `buf` starts at an [`ALIGN`]ed address with room for `len` bytes.
fn has_aligned_room(buf: &BytesMut, len: usize) -> bool {
    buf.capacity() >= len && buf.as_ptr().align_offset(ALIGN) == 0
}

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
    free: Vec<BytesMut>,
    /// The capacity of `free`.
    kept_bytes: usize,
    /// Transfers holding a lease.
    leases: usize,
    /// Counts the times the pool went idle, so that a release scheduled for an idle spell
    /// that has ended since does nothing.
    idle_spells: u64,
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
        self.lock().leases += 1;
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
            state.free = Vec::new();
            state.kept_bytes = 0;
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
    /// new empty one.
    pub(crate) fn take(&self) -> BytesMut {
        let mut state = self.pool.lock();
        let buffer = state.free.pop().unwrap_or_default();
        state.kept_bytes -= buffer.capacity();
        buffer
    }

    /// Keeps the buffer behind `data` for another block, when nothing else still holds it
    /// and the pool has room for it.
    pub(crate) fn give_back(&self, data: Bytes) {
        if let Ok(buffer) = data.try_into_mut() {
            let mut state = self.pool.lock();
            if state.kept_bytes + buffer.capacity() <= self.pool.keep_bytes {
                state.kept_bytes += buffer.capacity();
                state.free.push(buffer);
            }
        }
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
    use super::*;

    /// An emptied buffer starts at an aligned address with the room asked for, and keeps
    /// both through a range's round trip (filled, frozen, given back, taken, emptied) without
    /// being reallocated.
    #[test]
    fn emptied_buffers_are_aligned_and_stay_so_through_the_pool() {
        let pool = BufferPool::new(64 << 20);
        let lease = pool.lease();
        let mut buffer = lease.take();
        empty_aligned(&mut buffer, 3 << 20);
        let address = buffer.as_ptr();
        assert_eq!(address.align_offset(ALIGN), 0);
        assert!(buffer.capacity() >= 3 << 20 && buffer.is_empty());
        buffer.extend_from_slice(&[9; 3 << 20]);
        lease.give_back(buffer.freeze());
        let mut again = lease.take();
        empty_aligned(&mut again, 3 << 20);
        assert_eq!(again.as_ptr(), address, "the same memory, still aligned");
        assert!(again.is_empty());
        empty_aligned(&mut again, 5 << 20);
        assert_eq!(again.as_ptr().align_offset(ALIGN), 0, "grown: aligned anew");
        assert!(again.capacity() >= 5 << 20);
    }

    /// A sized buffer holds exactly the length asked for, from an aligned address; a reused
    /// one keeps its memory and its old bytes (a read overwrites them), and zeroes only what
    /// it never held.
    #[test]
    fn sized_buffers_keep_their_memory_and_zero_only_new_bytes() {
        let mut buffer = BytesMut::new();
        sized_aligned(&mut buffer, 1 << 20);
        assert_eq!(buffer.len(), 1 << 20);
        assert_eq!(buffer.as_ptr().align_offset(ALIGN), 0);
        assert!(buffer.iter().all(|&b| b == 0));
        buffer.fill(7);
        let address = buffer.as_ptr();
        buffer.truncate(1000);
        sized_aligned(&mut buffer, 2000);
        assert_eq!(buffer.as_ptr(), address);
        assert_eq!(buffer.len(), 2000);
        assert!(buffer[..1000].iter().all(|&b| b == 7), "old bytes kept");
        assert!(buffer[1000..].iter().all(|&b| b == 0), "new bytes zeroed");
        sized_aligned(&mut buffer, 10);
        assert_eq!((buffer.len(), buffer.as_ptr()), (10, address));
    }

    #[test]
    fn a_given_back_buffer_is_reused_and_a_shared_one_is_not() {
        let pool = BufferPool::new(4 << 20);
        let lease = pool.lease();
        let mut first = lease.take();
        first.reserve(1 << 20);
        first.extend_from_slice(&[7; 1000]);
        let address = first.as_ptr();
        let data = first.freeze();
        let shared = data.clone();
        lease.give_back(data);
        let second = lease.take();
        assert_ne!(
            second.as_ptr(),
            address,
            "a buffer still shared is not reused"
        );
        drop(second);
        lease.give_back(shared);
        let third = lease.take();
        assert_eq!(third.as_ptr(), address, "the given-back buffer is reused");
        assert_eq!(third.len(), 1000, "with the bytes of its last use");
        assert!(third.capacity() >= 1 << 20);
        assert_eq!(
            pool.kept_bytes(),
            0,
            "taken buffers are not counted as kept"
        );
    }

    fn filled(len: usize) -> Bytes {
        let mut buffer = BytesMut::new();
        sized_aligned(&mut buffer, len);
        buffer.freeze()
    }

    /// The buffers one transfer gave back serve the next transfer of the client, when it
    /// starts before the pool has been idle for [`IDLE_RELEASE`].
    #[tokio::test(start_paused = true)]
    async fn the_next_transfer_reuses_the_buffers_of_the_last() {
        let pool = BufferPool::new(16 << 20);
        let upload = pool.lease();
        let block = filled(4 << 20);
        let address = block.as_ptr();
        upload.give_back(block);
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
    #[tokio::test(start_paused = true)]
    async fn an_idle_pool_lets_go_of_its_buffers() {
        let pool = BufferPool::new(16 << 20);
        let lease = pool.lease();
        lease.give_back(filled(4 << 20));
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
    }

    /// Without a runtime to wait on, the last lease releases the buffers at once; the pool
    /// never keeps more than its bytes.
    #[test]
    fn outside_a_runtime_the_last_lease_releases_at_once_and_keeping_is_bounded() {
        let pool = BufferPool::new(6 << 20);
        let (first, second) = (pool.lease(), pool.lease());
        for _ in 0..3 {
            first.give_back(filled(2 << 20));
        }
        assert_eq!(
            pool.lock().free.len(),
            2,
            "a third 2 MiB buffer passes 6 MiB"
        );
        drop(first);
        assert_eq!(pool.lock().free.len(), 2, "a lease is still held");
        drop(second);
        assert_eq!(pool.kept_bytes(), 0);
    }
}
