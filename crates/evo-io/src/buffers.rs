//! Range buffers a download reuses: each range is read into a buffer that an earlier range of
//! the same download gave back, so the download's memory is faulted in once.
//!
//! A fresh buffer of a few MiB comes from the OS (the allocator maps large blocks and gives
//! them back on free), and every page of it is faulted in and zeroed by the kernel again; on a
//! virtual machine each such page may also cost the host a fault. Measured on the files
//! benchmark's 2-core VM, that was a large part of a download's client CPU.

use std::sync::Mutex;

use bytes::{Bytes, BytesMut};

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

    /// An empty buffer that holds `len` bytes without growing: a kept one when there is one.
    pub(crate) fn take(&self, len: usize) -> BytesMut {
        let kept = self.lock().pop();
        match kept {
            Some(mut buffer) => {
                buffer.clear();
                buffer.reserve(len);
                buffer
            }
            None => BytesMut::with_capacity(len),
        }
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

    #[test]
    fn a_given_back_buffer_is_reused_and_a_shared_one_is_not() {
        let pool = BufferPool::new(1);
        let mut first = pool.take(1 << 20);
        first.extend_from_slice(&[7; 1000]);
        let address = first.as_ptr();
        let data = first.freeze();
        let shared = data.clone();
        pool.give_back(data);
        let second = pool.take(1 << 20);
        assert_ne!(
            second.as_ptr(),
            address,
            "a buffer still shared is not reused"
        );
        drop(second);
        pool.give_back(shared);
        let third = pool.take(1 << 20);
        assert_eq!(third.as_ptr(), address, "the given-back buffer is reused");
        assert!(third.is_empty());
        assert!(third.capacity() >= 1 << 20);
        // Full pool: a second buffer given back is dropped.
        pool.give_back(third.freeze());
        let mut other = BytesMut::with_capacity(10);
        other.extend_from_slice(b"x");
        pool.give_back(other.freeze());
        assert_eq!(pool.lock().len(), 1);
    }
}
