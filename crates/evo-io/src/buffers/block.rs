//! One block buffer: the memory a block (or range) is read into, sent or written from, and
//! given back to its client's [`BufferPool`] when the last holder of its bytes drops them.
//!
//! Buffers of [`HUGE_PAGE`] and more are anonymous memory maps, aligned to a huge page and
//! advised for transparent huge pages where the kernel offers them (Linux, in `madvise`
//! mode as well as `always`): a 2 MiB page is faulted in once instead of 512 small ones, and
//! copies into and out of it miss the TLB less. On the files benchmark's 2-core VM (256 MiB
//! up and down on loopback) this took the client's CPU from 0.45-0.49 s to 0.40-0.44 s; most
//! of it is the first transfer's ~80 MiB of fresh buffers, which cost about 0.7 ms per MiB
//! in small pages. Smaller buffers come from the allocator, as a mapping each would cost a
//! system call and at least a page.

use std::ops::{Deref, DerefMut};
use std::sync::Weak;

use bytes::{Bytes, BytesMut};
use memmap2::MmapMut;

use super::BufferPool;
use crate::direct::ALIGN;

/// The size of a transparent huge page (x86-64, and arm64 with 4 KiB pages): buffers of at
/// least this many bytes are mapped with them.
pub(crate) const HUGE_PAGE: usize = 2 << 20;

/// The memory behind a buffer. All of it is initialized: a mapping comes zeroed from the
/// kernel; an allocation is initialized up to its `len()`.
#[derive(Debug)]
pub(super) enum Memory {
    /// From the allocator, starting at an [`ALIGN`]ed address (as long as it never grew).
    Heap(BytesMut),
    /// An anonymous mapping whose usable part is `start..start + capacity`, huge-page aligned.
    Mapped {
        map: MmapMut,
        start: usize,
        capacity: usize,
    },
}

impl Memory {
    /// Room for `len` bytes from an aligned address.
    fn with_room(len: usize) -> Memory {
        if len >= HUGE_PAGE
            && let Some(mapped) = Memory::mapped(len)
        {
            return mapped;
        }
        let mut fresh = BytesMut::with_capacity(len + ALIGN);
        let pad = fresh.as_ptr().align_offset(ALIGN).min(ALIGN);
        fresh.resize(pad, 0);
        // The head is dropped at once, so the rest stays the allocation's only handle.
        Memory::Heap(fresh.split_off(pad))
    }

    /// A huge-page-aligned mapping of at least `len` bytes (whole huge pages), or `None` when
    /// the system refuses it (the allocator then serves the buffer).
    fn mapped(len: usize) -> Option<Memory> {
        let capacity = len.checked_next_multiple_of(HUGE_PAGE)?;
        // One huge page more than needed, so that an aligned stretch fits wherever the kernel
        // puts the mapping; the unused part is never touched and takes no memory.
        let map = MmapMut::map_anon(capacity.checked_add(HUGE_PAGE)?).ok()?;
        let start = map.as_ptr().align_offset(HUGE_PAGE);
        if start.checked_add(capacity)? > map.len() {
            return None;
        }
        // Only advice: where the kernel has no transparent huge pages, small pages serve.
        #[cfg(target_os = "linux")]
        let _ = map.advise_range(memmap2::Advice::HugePage, start, capacity);
        Some(Memory::Mapped {
            map,
            start,
            capacity,
        })
    }

    /// The bytes this memory can hold without moving.
    pub(super) fn capacity(&self) -> usize {
        match self {
            Memory::Heap(bytes) => bytes.capacity(),
            Memory::Mapped { capacity, .. } => *capacity,
        }
    }

    /// How many of its bytes are initialized (and may be handed out as they are).
    fn initialized(&self) -> usize {
        match self {
            Memory::Heap(bytes) => bytes.len(),
            Memory::Mapped { capacity, .. } => *capacity,
        }
    }

    /// Makes the first `len` bytes initialized, zeroing those that never were; `len` is within
    /// the capacity.
    fn initialize_to(&mut self, len: usize) {
        if let Memory::Heap(bytes) = self
            && bytes.len() < len
        {
            bytes.resize(len, 0);
        }
    }

    fn slice(&self) -> &[u8] {
        match self {
            Memory::Heap(bytes) => bytes,
            Memory::Mapped {
                map,
                start,
                capacity,
            } => &map[*start..*start + *capacity],
        }
    }

    fn slice_mut(&mut self) -> &mut [u8] {
        match self {
            Memory::Heap(bytes) => bytes,
            Memory::Mapped {
                map,
                start,
                capacity,
            } => &mut map[*start..*start + *capacity],
        }
    }
}

impl Default for Memory {
    fn default() -> Self {
        Memory::Heap(BytesMut::new())
    }
}

/// A buffer for one block's bytes, from a [`BufferLease`](super::BufferLease) (then given back
/// to its pool when dropped, or when the last [`Bytes`] of [`freeze`](Self::freeze) is) or
/// from [`Default`] (then freed).
#[derive(Debug, Default)]
pub(crate) struct BlockBuffer {
    memory: Memory,
    len: usize,
    home: Option<Weak<BufferPool>>,
}

impl BlockBuffer {
    /// A buffer on `memory` that goes back to `home` when dropped.
    pub(super) fn leased(memory: Memory, home: Weak<BufferPool>) -> BlockBuffer {
        BlockBuffer {
            memory,
            len: 0,
            home: Some(home),
        }
    }

    /// Empties the buffer and gives it room for `len` bytes from an address aligned for
    /// direct writes ([`ALIGN`]), moving it only when it has not: a range read into it can
    /// then be written past the page cache straight from it, without a copy.
    pub(crate) fn clear_for(&mut self, len: usize) {
        self.len = 0;
        if !self.has_aligned_room(len) {
            self.memory = Memory::with_room(len);
        }
    }

    /// Makes the buffer hold `len` bytes from an aligned address, for a read to overwrite: a
    /// buffer that already has the room keeps its old bytes, and bytes it never held are zero.
    pub(crate) fn resize_for_overwrite(&mut self, len: usize) {
        self.clear_for(len);
        self.memory.initialize_to(len);
        self.len = len;
    }

    /// Appends `data`, moving the buffer to larger memory first when it has no room left.
    pub(crate) fn extend_from_slice(&mut self, data: &[u8]) {
        let end = self.len + data.len();
        if end > self.memory.capacity() {
            let mut larger = Memory::with_room(end);
            larger.initialize_to(self.len);
            larger.slice_mut()[..self.len].copy_from_slice(self);
            self.memory = larger;
        }
        // Copied over initialized bytes where there are some, appended past them otherwise.
        let over = self.memory.initialized().clamp(self.len, end) - self.len;
        self.memory.slice_mut()[self.len..self.len + over].copy_from_slice(&data[..over]);
        if let Memory::Heap(bytes) = &mut self.memory {
            bytes.extend_from_slice(&data[over..]);
        }
        self.len = end;
    }

    /// The bytes this buffer can hold without moving.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.memory.capacity()
    }

    /// The buffer's bytes as [`Bytes`], without a copy; its memory goes back to its pool when
    /// the last clone or slice of them is dropped.
    pub(crate) fn freeze(self) -> Bytes {
        Bytes::from_owner(Frozen(self))
    }

    /// Whether the buffer starts at an [`ALIGN`]ed address with room for `len` bytes.
    fn has_aligned_room(&self, len: usize) -> bool {
        self.memory.capacity() >= len && self.memory.slice().as_ptr().align_offset(ALIGN) == 0
    }

    /// Whether its memory is mapped with (or advised for) huge pages.
    #[cfg(test)]
    pub(crate) fn is_mapped(&self) -> bool {
        matches!(self.memory, Memory::Mapped { .. })
    }
}

impl Deref for BlockBuffer {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.memory.slice()[..self.len]
    }
}

impl DerefMut for BlockBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        let len = self.len;
        &mut self.memory.slice_mut()[..len]
    }
}

impl Drop for BlockBuffer {
    fn drop(&mut self) {
        if let Some(pool) = self.home.take().and_then(|home| home.upgrade()) {
            pool.keep(std::mem::take(&mut self.memory));
        }
    }
}

/// The owner of a frozen buffer's bytes (see [`BlockBuffer::freeze`]).
struct Frozen(BlockBuffer);

impl AsRef<[u8]> for Frozen {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
