//! Digests: expected values for downloads, per-block and whole-blob MD5 for uploads.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read as _;
use std::path::Path;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::error::{Error, ErrorKind, Step};

/// An expected digest of a whole blob.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Digest {
    /// MD5 (what Azure stores as `Content-MD5`).
    Md5([u8; 16]),
    /// SHA-256 (what evo-objects names its data blobs by).
    Sha256([u8; 32]),
}

impl Digest {
    /// An MD5 digest from its base64 form (as in a `Content-MD5` header).
    pub fn md5_base64(text: &str) -> Result<Digest, Error> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| bad_digest(text, &e))?;
        let arr: [u8; 16] = bytes
            .try_into()
            .map_err(|_| bad_digest(text, &"not 16 bytes"))?;
        Ok(Digest::Md5(arr))
    }

    /// A SHA-256 digest from 64 hex digits.
    pub fn sha256_hex(text: &str) -> Result<Digest, Error> {
        let bytes = from_hex(text.trim()).ok_or_else(|| bad_digest(text, &"not hex"))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| bad_digest(text, &"not 32 bytes"))?;
        Ok(Digest::Sha256(arr))
    }

    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Digest::Md5(b) => b,
            Digest::Sha256(b) => b,
        }
    }

    /// The digest as lowercase hex.
    pub fn to_hex(&self) -> String {
        self.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The digest in standard base64.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.as_bytes())
    }

    fn hasher(&self) -> Hasher {
        match self {
            Digest::Md5(_) => Hasher::Md5(Md5::new()),
            Digest::Sha256(_) => Hasher::Sha256(Sha256::new()),
        }
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Digest::Md5(_) => write!(f, "Md5({})", self.to_hex()),
            Digest::Sha256(_) => write!(f, "Sha256({})", self.to_hex()),
        }
    }
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn bad_digest(text: &str, why: &dyn fmt::Display) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        Step::Prepare,
        format!("bad digest {text:?}: {why}"),
    )
}

/// An incremental hash of the kind of an expected [`Digest`].
pub(crate) enum Hasher {
    Md5(Md5),
    Sha256(Sha256),
}

impl Hasher {
    pub(crate) fn for_digest(digest: &Digest) -> Hasher {
        digest.hasher()
    }
    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }
    pub(crate) fn finish(self) -> Digest {
        match self {
            Hasher::Md5(h) => Digest::Md5(h.finalize().into()),
            Hasher::Sha256(h) => Digest::Sha256(h.finalize().into()),
        }
    }
}

/// Checks `actual` against `expected`: a mismatch is terminal (never silently re-fetched).
pub(crate) fn check(expected: &Digest, actual: &Digest) -> Result<(), Error> {
    if expected == actual {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Integrity,
            Step::Verify,
            format!("digest mismatch: expected {expected:?}, got {actual:?}"),
        ))
    }
}

/// Hashes a file sequentially (blocking; call from `spawn_blocking`).
pub(crate) fn hash_file(path: &Path, like: &Digest) -> Result<Digest, Error> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| Error::local(Step::Verify, format!("opening {}", path.display()), e))?;
    let mut hasher = like.hasher();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::local(Step::Verify, format!("reading {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finish())
}

/// MD5 of one block (for `Content-MD5`).
pub(crate) fn md5_of(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// The whole-blob MD5 of an upload whose blocks are read in parallel: blocks are fed in any
/// order and hashed in order; a block waits here at most until the blocks before it arrive,
/// which are all already being read (blocks start in order), so the wait is bounded.
pub(crate) struct OrderedMd5 {
    inner: Mutex<(Md5, u64, BTreeMap<u64, Bytes>)>,
    hashed: tokio::sync::watch::Sender<u64>,
}

impl OrderedMd5 {
    pub(crate) fn new() -> Self {
        OrderedMd5 {
            inner: Mutex::new((Md5::new(), 0, BTreeMap::new())),
            hashed: tokio::sync::watch::channel(0).0,
        }
    }

    /// Feeds block `index` (blocking: it may hash several blocks; call from `spawn_blocking`).
    pub(crate) fn feed(&self, index: u64, data: Bytes) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (hasher, next, waiting) = &mut *g;
        waiting.insert(index, data);
        while let Some(block) = waiting.remove(next) {
            hasher.update(&block);
            *next += 1;
        }
        let upto = *next;
        drop(g);
        // Feeds on other threads may publish out of order: the mark only ever moves forward
        // (a late, smaller value must not hide a larger one from the blocks waiting on it).
        self.hashed.send_if_modified(|mark| {
            let moved = upto > *mark;
            if moved {
                *mark = upto;
            }
            moved
        });
    }

    /// Waits until block `index` was hashed.
    pub(crate) async fn hashed_past(&self, index: u64) {
        let mut rx = self.hashed.subscribe();
        let _ = rx.wait_for(|upto| *upto > index).await;
    }

    /// The MD5 of everything fed (all blocks must have been fed).
    pub(crate) fn finish(&self) -> [u8; 16] {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        debug_assert!(g.2.is_empty());
        g.0.clone().finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_and_formatting() {
        let d = Digest::md5_base64("1B2M2Y8AsgTpgAmY7PhCfg==").unwrap();
        assert_eq!(d.to_hex(), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(d.to_base64(), "1B2M2Y8AsgTpgAmY7PhCfg==");
        let s =
            Digest::sha256_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                .unwrap();
        assert_eq!(s.as_bytes().len(), 32);
        assert!(Digest::sha256_hex("xyz").is_err());
        assert!(Digest::md5_base64("AAAA").is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn ordered_md5_mark_never_moves_back_under_concurrent_feeds() {
        for _ in 0..200 {
            let h = std::sync::Arc::new(OrderedMd5::new());
            let feeds: Vec<_> = (0..16u64)
                .rev()
                .map(|i| {
                    let h = h.clone();
                    tokio::task::spawn_blocking(move || h.feed(i, Bytes::from(vec![i as u8; 64])))
                })
                .collect();
            for f in feeds {
                f.await.unwrap();
            }
            tokio::time::timeout(std::time::Duration::from_secs(5), h.hashed_past(15))
                .await
                .expect("every block was fed, so the mark must reach the end");
        }
    }

    #[test]
    fn ordered_md5_matches_sequential() {
        let blocks: Vec<Bytes> = (0..5u8)
            .map(|i| Bytes::from(vec![i; 1000 + i as usize]))
            .collect();
        let h = OrderedMd5::new();
        for i in [3usize, 1, 0, 4, 2] {
            h.feed(i as u64, blocks[i].clone());
        }
        let all: Vec<u8> = blocks.iter().flat_map(|b| b.iter().copied()).collect();
        assert_eq!(h.finish(), md5_of(&all));
    }
}
