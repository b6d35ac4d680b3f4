//! Digests: expected values for downloads, and the MD5 of a `Put Blob`.

use std::fmt;
use std::io::Read as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::error::{Error, ErrorKind, Step};

/// An expected digest of a whole blob.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlobDigest {
    /// MD5 (what Azure stores as `Content-MD5`).
    Md5([u8; 16]),
    /// SHA-256 (what evo-objects names its data blobs by).
    Sha256([u8; 32]),
}

impl BlobDigest {
    /// An MD5 digest from its base64 form (as in a `Content-MD5` header).
    pub fn md5_base64(text: &str) -> Result<BlobDigest, Error> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| bad_digest(text, &e))?;
        let arr: [u8; 16] = bytes
            .try_into()
            .map_err(|_| bad_digest(text, &"not 16 bytes"))?;
        Ok(BlobDigest::Md5(arr))
    }

    /// A SHA-256 digest from 64 hex digits.
    pub fn sha256_hex(text: &str) -> Result<BlobDigest, Error> {
        let bytes = from_hex(text.trim()).ok_or_else(|| bad_digest(text, &"not hex"))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| bad_digest(text, &"not 32 bytes"))?;
        Ok(BlobDigest::Sha256(arr))
    }

    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            BlobDigest::Md5(b) => b,
            BlobDigest::Sha256(b) => b,
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

    pub(crate) fn hasher(&self) -> Hasher {
        match self {
            BlobDigest::Md5(_) => Hasher::Md5(Md5::new()),
            BlobDigest::Sha256(_) => Hasher::Sha256(Sha256::new()),
        }
    }
}

impl fmt::Debug for BlobDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobDigest::Md5(_) => write!(f, "Md5({})", self.to_hex()),
            BlobDigest::Sha256(_) => write!(f, "Sha256({})", self.to_hex()),
        }
    }
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
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

/// An incremental hash of the kind of an expected [`BlobDigest`].
pub(crate) enum Hasher {
    Md5(Md5),
    Sha256(Sha256),
}

impl Hasher {
    pub(crate) fn for_digest(digest: &BlobDigest) -> Hasher {
        digest.hasher()
    }
    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }
    pub(crate) fn finish(self) -> BlobDigest {
        match self {
            Hasher::Md5(h) => BlobDigest::Md5(h.finalize().into()),
            Hasher::Sha256(h) => BlobDigest::Sha256(h.finalize().into()),
        }
    }
}

/// A [`Hasher`] on a blocking thread of its own, fed in order: an in-order download hands it
/// each block and goes on receiving the next ones while it hashes, instead of stalling every
/// range in flight for the time one block takes to hash.
pub(crate) struct HashingThread {
    feed: Option<tokio::sync::mpsc::Sender<bytes::Bytes>>,
    done: tokio::task::JoinHandle<Hasher>,
}

impl HashingThread {
    /// Blocks waiting to be hashed at most: what the thread holds beyond the one it hashes.
    const QUEUED: usize = 2;

    pub(crate) fn start(mut hasher: Hasher) -> Self {
        let (feed, mut queue) = tokio::sync::mpsc::channel::<bytes::Bytes>(Self::QUEUED);
        let done = tokio::task::spawn_blocking(move || {
            while let Some(data) = queue.blocking_recv() {
                hasher.update(&data);
            }
            hasher
        });
        HashingThread {
            feed: Some(feed),
            done,
        }
    }

    /// Hands over the next bytes (waits while the queue is full).
    pub(crate) async fn update(&mut self, data: bytes::Bytes) {
        if let Some(feed) = &self.feed
            && feed.send(data).await.is_err()
        {
            // The thread is gone (it panicked): `finish` says so.
            self.feed = None;
        }
    }

    /// The digest of everything handed over.
    pub(crate) async fn finish(mut self) -> Result<BlobDigest, Error> {
        self.feed = None;
        let hasher = self
            .done
            .await
            .map_err(|e| crate::error::join_error(Step::Verify, e))?;
        Ok(hasher.finish())
    }
}

/// Checks `actual` against `expected`: a mismatch is terminal (never silently re-fetched).
pub(crate) fn check(expected: &BlobDigest, actual: &BlobDigest) -> Result<(), Error> {
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
pub(crate) fn hash_file(path: &Path, like: &BlobDigest) -> Result<BlobDigest, Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_and_formatting() {
        let d = BlobDigest::md5_base64("1B2M2Y8AsgTpgAmY7PhCfg==").unwrap();
        assert_eq!(d.to_hex(), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(d.to_base64(), "1B2M2Y8AsgTpgAmY7PhCfg==");
        let s = BlobDigest::sha256_hex(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        )
        .unwrap();
        assert_eq!(s.as_bytes().len(), 32);
        assert!(BlobDigest::sha256_hex("xyz").is_err());
        assert!(BlobDigest::md5_base64("AAAA").is_err());
    }

    proptest::proptest! {
        /// Digest texts from users or servers parse to the bytes they encode, or fail cleanly.
        #[test]
        fn digest_texts_round_trip_or_fail_cleanly(
            md5 in proptest::array::uniform16(proptest::num::u8::ANY),
            sha in proptest::array::uniform32(proptest::num::u8::ANY),
            junk in "\\PC{0,80}",
        ) {
            let d = BlobDigest::Md5(md5);
            proptest::prop_assert_eq!(BlobDigest::md5_base64(&d.to_base64()).unwrap(), d);
            let s = BlobDigest::Sha256(sha);
            proptest::prop_assert_eq!(BlobDigest::sha256_hex(&s.to_hex()).unwrap(), s.clone());
            proptest::prop_assert_eq!(BlobDigest::sha256_hex(&s.to_hex().to_uppercase()).unwrap(), s);
            let _ = BlobDigest::md5_base64(&junk);
            let _ = BlobDigest::sha256_hex(&junk);
        }
    }
}
