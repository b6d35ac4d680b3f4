//! Azure Storage's CRC-64: the check of each block on the wire (`x-ms-content-crc64`) and,
//! combined from the blocks' values without a second pass over the data, of the whole blob
//! (kept in the blob's metadata as [`METADATA_HEADER`]).
//!
//! Azure's CRC-64 is the CRC-64/NVME of the CRC catalogue: reflected polynomial
//! 0x9A6C9329AC4BC9B5, initial value and final XOR all ones. On the wire it is the 8
//! little-endian bytes in base64. The `crc-fast` crate computes it with the CPU's carry-less
//! multiplication (PCLMULQDQ/VPCLMULQDQ on x86-64, PMULL on AArch64); two values are combined
//! here from the length of the second alone ([`combine`]).

use std::collections::BTreeMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use crc_fast::CrcAlgorithm::Crc64Nvme;
use http::HeaderMap;

use crate::error::{Error, ErrorKind, Step};

/// The per-request checksum header of Put Block and Put Blob.
pub(crate) const CONTENT_HEADER: &str = "x-ms-content-crc64";

/// The blob metadata (`x-ms-meta-evo_crc64`) holding the whole blob's CRC-64, in the form of
/// `x-ms-content-crc64`. Azure keeps no checksum of a blob committed from blocks, so the upload
/// stores this one at commit and a download checks it.
pub(crate) const METADATA_HEADER: &str = "x-ms-meta-evo_crc64";

/// Below this many bytes a CRC is computed in place rather than on the blocking pool.
const INLINE_MAX: usize = 64 * 1024;

/// The CRC-64 of `data`.
pub(crate) fn of(data: &[u8]) -> u64 {
    crc_fast::checksum(Crc64Nvme, data)
}

/// The CRC-64 of `data`, computed on the blocking pool when it is large (a block's CPU work
/// stays off the async workers, and blocks are checksummed in parallel).
pub(crate) async fn of_bytes(data: Bytes) -> Result<u64, tokio::task::JoinError> {
    if data.len() <= INLINE_MAX {
        return Ok(of(&data));
    }
    tokio::task::spawn_blocking(move || of(&data)).await
}

/// The CRC-64 of `a` followed by `b`, from the CRC of each and the length of `b`: `a` times
/// x^(8 `b_len`) modulo the polynomial, plus `b` (the initial value and the final XOR are
/// equal, so they cancel out).
///
/// The power comes from a table of x^(2^k), one product per set bit of the length (zlib's
/// `crc32_combine` method): about a microsecond, where the bit-matrix squaring of
/// `crc_fast::checksum_combine` took a few hundred for a block of a few MiB, a combine per
/// block of every transfer.
pub(crate) fn combine(a: u64, b: u64, b_len: u64) -> u64 {
    if b_len == 0 {
        return a;
    }
    multiply(x_to_the_8n(b_len), a) ^ b
}

/// Azure's polynomial, reflected (the coefficient of x^0 in the top bit, as the CRC register
/// holds it).
const POLY: u64 = 0x9A6C_9329_AC4B_C9B5;

/// x^0 in the reflected form.
const ONE: u64 = 1 << 63;

/// `X_TO_2_TO_THE[k]` = x^(2^k) modulo the polynomial: enough for x^(8 n) of any `u64` n.
const X_TO_2_TO_THE: [u64; 67] = {
    let mut table = [0; 67];
    table[0] = ONE >> 1;
    let mut k = 1;
    while k < table.len() {
        table[k] = multiply(table[k - 1], table[k - 1]);
        k += 1;
    }
    table
};

/// a(x) b(x) modulo the polynomial, both reflected.
const fn multiply(a: u64, mut b: u64) -> u64 {
    let mut product = 0;
    let mut bit = ONE;
    while bit != 0 {
        if a & bit != 0 {
            product ^= b;
        }
        bit >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    product
}

/// x^(8 n) modulo the polynomial: n zero bytes appended to a CRC.
fn x_to_the_8n(mut n: u64) -> u64 {
    let mut power = ONE;
    // 8 n = n × 2^3: bit i of n contributes x^(2^(i + 3)).
    let mut k = 3;
    while n != 0 {
        if n & 1 != 0 {
            power = multiply(X_TO_2_TO_THE[k], power);
        }
        n >>= 1;
        k += 1;
    }
    power
}

/// The header form: the 8 little-endian bytes in base64.
pub(crate) fn to_header(crc: u64) -> String {
    STANDARD.encode(crc.to_le_bytes())
}

/// Reads the header form back; `None` for anything else.
pub(crate) fn from_header(text: &str) -> Option<u64> {
    let bytes = STANDARD.decode(text.trim()).ok()?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

/// The whole-blob CRC-64 a blob's metadata holds, from a `HEAD` or `GET` answer. A value in
/// another form is no claim (it is logged and not checked).
pub(crate) fn stored(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(METADATA_HEADER)?;
    let parsed = value.to_str().ok().and_then(from_header);
    if parsed.is_none() {
        tracing::debug!(?value, "ignoring a malformed {METADATA_HEADER}");
    }
    parsed
}

/// A CRC-64 of bytes that arrive in order: as bytes (hashed here) or as pieces whose CRC was
/// computed elsewhere (combined).
pub(crate) struct Running {
    /// The CRC of the first `len` bytes.
    folded: u64,
    len: u64,
    /// The bytes absorbed since, not yet folded in.
    tail: crc_fast::Digest,
    tail_len: u64,
}

impl Running {
    pub(crate) fn new() -> Self {
        Running {
            folded: of(&[]),
            len: 0,
            tail: crc_fast::Digest::new(Crc64Nvme),
            tail_len: 0,
        }
    }

    /// Absorbs the next bytes.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.tail.update(data);
        self.tail_len += data.len() as u64;
    }

    /// Appends the next `len` bytes by their CRC.
    pub(crate) fn append(&mut self, crc: u64, len: u64) {
        self.fold_tail();
        self.folded = combine(self.folded, crc, len);
        self.len += len;
    }

    /// The CRC and the length of everything absorbed.
    pub(crate) fn finish(&self) -> (u64, u64) {
        (
            combine(self.folded, self.tail.finalize(), self.tail_len),
            self.len + self.tail_len,
        )
    }

    fn fold_tail(&mut self) {
        if self.tail_len > 0 {
            self.folded = combine(self.folded, self.tail.finalize(), self.tail_len);
            self.len += self.tail_len;
            self.tail.reset();
            self.tail_len = 0;
        }
    }
}

/// The CRC-64 of `len` bytes of `file` from `offset`, read in pieces (blocking; call from
/// `spawn_blocking`).
pub(crate) fn of_file_range(file: &std::fs::File, offset: u64, len: u64) -> std::io::Result<u64> {
    let mut digest = crc_fast::Digest::new(Crc64Nvme);
    let mut buf = vec![0u8; len.min(1 << 20) as usize];
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(buf.len() as u64) as usize;
        crate::positional::read_exact_at(file, &mut buf[..n], offset + done)?;
        digest.update(&buf[..n]);
        done += n as u64;
    }
    Ok(digest.finalize())
}

/// Checks the CRC-64 of a download against the one the blob's metadata holds: a mismatch is
/// terminal ([`ErrorKind::Integrity`]; the bytes are never silently fetched again).
pub(crate) fn check(expected: u64, actual: u64) -> Result<(), Error> {
    if expected == actual {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Integrity,
        Step::Verify,
        format!(
            "CRC-64 mismatch: the blob's metadata {METADATA_HEADER} says {}, the bytes that arrived give {}",
            to_header(expected),
            to_header(actual)
        ),
    ))
}

/// The CRCs of pieces of a blob, recorded in any order (each by the task that handled the
/// piece) and combined in offset order once all are in.
#[derive(Default)]
pub(crate) struct Pieces {
    /// Offset → (CRC, length).
    pieces: Mutex<BTreeMap<u64, (u64, u64)>>,
}

impl Pieces {
    pub(crate) fn insert(&self, offset: u64, len: u64, crc: u64) {
        self.lock().insert(offset, (crc, len));
    }

    /// Forgets every piece (a transfer starting over).
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// The CRC-64 of bytes `0..total`, when the pieces cover them exactly (each byte once).
    pub(crate) fn combined(&self, total: u64) -> Result<u64, String> {
        let pieces = self.lock();
        let mut crc = of(&[]);
        let mut end = 0u64;
        for (&offset, &(piece, len)) in pieces.iter() {
            if offset != end {
                return Err(format!(
                    "the checksummed pieces leave a gap or overlap at byte {end} (next piece at {offset})"
                ));
            }
            crc = combine(crc, piece, len);
            end += len;
        }
        if end != total {
            return Err(format!(
                "the checksummed pieces cover {end} of {total} bytes"
            ));
        }
        Ok(crc)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, (u64, u64)>> {
        self.pieces.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Azure's CRC-64 written out bit by bit from its definition, as Azure Storage's reference
    /// implementations compute it.
    fn bitwise(data: &[u8]) -> u64 {
        let mut crc = !0u64;
        for &b in data {
            crc ^= u64::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0x9A6C_9329_AC4B_C9B5
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn the_polynomial_is_azures() {
        // The catalogue's check value of CRC-64/NVME for "123456789".
        assert_eq!(of(b"123456789"), 0xAE8B_1486_0A79_9888);
        assert_eq!(bitwise(b"123456789"), 0xAE8B_1486_0A79_9888);
        assert_eq!(of(b""), 0);
        let data: Vec<u8> = (0..100_003u32).map(|i| (i * 7 % 256) as u8).collect();
        assert_eq!(of(&data), bitwise(&data));
    }

    /// The table method agrees with `crc_fast`'s bit-matrix combination, for lengths from a
    /// byte to far beyond any blob, and with CRCs computed over the concatenation.
    #[test]
    fn combining_by_powers_of_x_agrees_with_crc_fast() {
        let data: Vec<u8> = (0..70_001u32).map(|i| (i * 13 % 251) as u8).collect();
        for cut in [0, 1, 7, 8, 64, 4096, 65_537, 70_000, 70_001] {
            let (a, b) = data.split_at(cut);
            assert_eq!(
                combine(of(a), of(b), b.len() as u64),
                of(&data),
                "cut {cut}"
            );
        }
        let mut seed = 0x0123_4567_89AB_CDEFu64;
        for len in (0..64)
            .map(|shift| 1u64 << shift)
            .chain([3, 1000, 8 << 20, u64::MAX])
        {
            seed = seed.rotate_left(17).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let (a, b) = (seed, seed.rotate_left(29));
            assert_eq!(
                combine(a, b, len),
                crc_fast::checksum_combine(Crc64Nvme, a, b, len),
                "length {len}"
            );
        }
    }

    #[test]
    fn the_header_form_is_eight_little_endian_bytes_in_base64() {
        assert_eq!(to_header(0xAE8B_1486_0A79_9888), "iJh5CoYUi64=");
        assert_eq!(from_header("iJh5CoYUi64="), Some(0xAE8B_1486_0A79_9888));
        assert_eq!(from_header(" iJh5CoYUi64= "), Some(0xAE8B_1486_0A79_9888));
        assert_eq!(from_header("AAAA"), None);
        assert_eq!(from_header("not base64!"), None);
    }

    #[test]
    fn pieces_must_cover_the_blob_once() {
        let data = b"hello, world";
        let pieces = Pieces::default();
        pieces.insert(5, 7, of(&data[5..]));
        assert!(pieces.combined(12).is_err(), "a gap at 0");
        pieces.insert(0, 5, of(&data[..5]));
        assert_eq!(pieces.combined(12), Ok(of(data)));
        assert!(pieces.combined(13).is_err(), "short of the total");
        pieces.insert(3, 2, of(&data[3..5]));
        assert!(pieces.combined(12).is_err(), "an overlap");
        pieces.clear();
        assert_eq!(pieces.combined(0), Ok(0));
    }

    #[test]
    fn file_ranges_are_read_in_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let crc = of_file_range(&file, 5, 2_500_000).unwrap();
        assert_eq!(crc, of(&data[5..2_500_005]));
        assert_eq!(of_file_range(&file, 7, 0).unwrap(), 0);
        assert!(of_file_range(&file, 2_999_999, 2).is_err(), "past the end");
        assert!(check(1, 1).is_ok());
        assert_eq!(check(1, 2).unwrap_err().kind(), ErrorKind::Integrity);
    }

    #[tokio::test]
    async fn large_blocks_are_checksummed_on_the_blocking_pool_alike() {
        let data = Bytes::from(vec![7u8; 3 * INLINE_MAX + 5]);
        assert_eq!(of_bytes(data.clone()).await.unwrap(), bitwise(&data));
        let small = data.slice(..100);
        assert_eq!(of_bytes(small.clone()).await.unwrap(), bitwise(&small));
    }

    proptest::proptest! {
        /// Combining the CRCs of the blocks of any split, in order, gives the CRC of the whole;
        /// so does a running CRC fed the same blocks.
        #[test]
        fn combined_block_crcs_equal_the_crc_of_the_whole(
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..5000),
            cuts in proptest::collection::vec(0usize..5000, 0..10),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
            cuts.push(0);
            cuts.push(data.len());
            cuts.sort_unstable();
            let pieces = Pieces::default();
            let mut folded = of(&[]);
            let mut running = Running::new();
            let mut mixed = Running::new();
            // Recorded in reverse order, as parallel blocks may finish.
            for pair in cuts.windows(2).rev() {
                let piece = &data[pair[0]..pair[1]];
                pieces.insert(pair[0] as u64, piece.len() as u64, of(piece));
            }
            for pair in cuts.windows(2) {
                let piece = &data[pair[0]..pair[1]];
                folded = combine(folded, of(piece), piece.len() as u64);
                running.update(piece);
                // Pieces as bytes and as CRCs by turns, the bytes in two updates.
                if pair[0] % 2 == 0 {
                    mixed.append(of(piece), piece.len() as u64);
                } else {
                    let (a, b) = piece.split_at(piece.len() / 2);
                    mixed.update(a);
                    mixed.update(b);
                }
            }
            let whole = of(&data);
            proptest::prop_assert_eq!(folded, whole);
            proptest::prop_assert_eq!(running.finish(), (whole, data.len() as u64));
            proptest::prop_assert_eq!(mixed.finish(), (whole, data.len() as u64));
            // Zero-length pieces overlap nothing, so only splits without them are recorded whole.
            if cuts.windows(2).all(|p| p[0] < p[1]) || data.is_empty() {
                proptest::prop_assert_eq!(pieces.combined(data.len() as u64), Ok(whole));
            }
        }
    }
}
