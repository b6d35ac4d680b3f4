//! The streamed bodies of the streaming checks, the same on both sides: their size, their
//! chunks, and the hash each side computes of them.

use std::time::Duration;

use bytes::Bytes;

/// How long one side of a streaming check waits for the other's first chunk.
pub(super) const STREAM_WAIT: Duration = Duration::from_secs(10);
/// The size of the streamed bodies (4 MiB in 64 KiB chunks).
pub(super) const STREAM_CHUNK: usize = 64 * 1024;
pub(super) const STREAM_CHUNKS: usize = 64;

pub(super) fn chunk(i: usize) -> Bytes {
    Bytes::from(vec![(i % 256) as u8; STREAM_CHUNK])
}

pub(super) fn expected_stream_hash() -> u64 {
    (0..STREAM_CHUNKS).fold(0, |h, i| fnv(h, &chunk(i)))
}

/// FNV-1a, continuing from `hash` (0 starts a new one).
pub(super) fn fnv(hash: u64, data: &[u8]) -> u64 {
    let mut h = if hash == 0 {
        0xcbf2_9ce4_8422_2325
    } else {
        hash
    };
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
