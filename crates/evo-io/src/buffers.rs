//! Block buffers a transfer reuses: each block (or range) is read into a buffer that an
//! earlier one of the same transfer gave back, so the transfer keeps about as many buffers as
//! it has blocks in flight, and its memory is faulted in once.
//!
//! A fresh buffer of a few MiB comes from the OS (the allocator maps large blocks and gives
//! them back on free), and every page of it is faulted in and zeroed by the kernel again; on a
//! virtual machine each such page may also cost the host a fault (on the files benchmark's
//! 2-core VM, faulting in fresh memory cost about 0.7 ms per MiB).

use std::sync::Mutex;

use bytes::{Bytes, BytesMut};

use crate::direct::ALIGN;

/// Empties `buf` and gives it room for `len` bytes from an address aligned for direct writes
/// ([`ALIGN`]), reallocating only when it has not: a range read into it can then be written
/// past the page cache straight from it, without a copy into an aligned buffer.
pub(crate) fn empty_aligned(buf: &mut BytesMut, len: usize) {
    buf.clear();
    if buf.capacity() >= len && buf.as_ptr().align_offset(ALIGN) == 0 {
        return;
    }
    let mut fresh = BytesMut::with_capacity(len + ALIGN);
    let pad = fresh.as_ptr().align_offset(ALIGN).min(ALIGN);
    fresh.resize(pad, 0);
    // The rest of the allocation, from the aligned address; the head is dropped at once, so
    // the buffer stays unique and goes back to the pool when the range is written.
    *buf = fresh.split_off(pad);
}

/// A bounded pool of emptied buffers.
#[derive(Debug)]
pub(crate) struct BufferPool {
    free: Mutex<Vec<BytesMut>>,
    /// The most buffers kept (about the ranges in flight at most).
    keep: usize,
}

impl BufferPool {
    pub(crate) fn new(keep: usize) -> Self {
        BufferPool {
            free: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// A kept buffer (with the bytes of its last use: callers overwrite or clear them), or a
    /// new empty one.
    pub(crate) fn take(&self) -> BytesMut {
        self.lock().pop().unwrap_or_default()
    }

    /// Keeps the buffer behind `data` for another range, when nothing else still holds it
    /// and the pool is not full.
    pub(crate) fn give_back(&self, data: Bytes) {
        if let Ok(buffer) = data.try_into_mut() {
            let mut free = self.lock();
            if free.len() < self.keep {
                free.push(buffer);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<BytesMut>> {
        // The list stays valid whatever a panicking holder was doing.
        self.free.lock().unwrap_or_else(|p| p.into_inner())
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
        let pool = BufferPool::new(1);
        let mut buffer = pool.take();
        empty_aligned(&mut buffer, 3 << 20);
        let address = buffer.as_ptr();
        assert_eq!(address.align_offset(ALIGN), 0);
        assert!(buffer.capacity() >= 3 << 20 && buffer.is_empty());
        buffer.extend_from_slice(&[9; 3 << 20]);
        pool.give_back(buffer.freeze());
        let mut again = pool.take();
        empty_aligned(&mut again, 3 << 20);
        assert_eq!(again.as_ptr(), address, "the same memory, still aligned");
        assert!(again.is_empty());
        empty_aligned(&mut again, 5 << 20);
        assert_eq!(again.as_ptr().align_offset(ALIGN), 0, "grown: aligned anew");
        assert!(again.capacity() >= 5 << 20);
    }

    #[test]
    fn a_given_back_buffer_is_reused_and_a_shared_one_is_not() {
        let pool = BufferPool::new(1);
        let mut first = pool.take();
        first.reserve(1 << 20);
        first.extend_from_slice(&[7; 1000]);
        let address = first.as_ptr();
        let data = first.freeze();
        let shared = data.clone();
        pool.give_back(data);
        let second = pool.take();
        assert_ne!(
            second.as_ptr(),
            address,
            "a buffer still shared is not reused"
        );
        drop(second);
        pool.give_back(shared);
        let third = pool.take();
        assert_eq!(third.as_ptr(), address, "the given-back buffer is reused");
        assert_eq!(third.len(), 1000, "with the bytes of its last use");
        assert!(third.capacity() >= 1 << 20);
        // Full pool: a second buffer given back is dropped.
        pool.give_back(third.freeze());
        let mut other = BytesMut::with_capacity(10);
        other.extend_from_slice(b"x");
        pool.give_back(other.freeze());
        assert_eq!(pool.lock().len(), 1);
    }
}
