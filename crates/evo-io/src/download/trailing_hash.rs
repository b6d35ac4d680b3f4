//! The whole-file digest of a ranged download into a file, computed while the ranges still
//! arrive. Ranges land in any order; a blocking thread hashes the file's written prefix,
//! reading each range back (from the page cache: it was just written) as soon as every byte
//! before it is there. The check after the last byte then costs the last range's hashing,
//! not a second pass over the whole file.

use std::collections::BTreeMap;
use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};

use crate::digest::BlobDigest;
use crate::error::{Error, Step, join_error};
use crate::positional::read_exact_at;

/// Bytes read back at once.
const READ_BYTES: usize = 1 << 20;

/// Hashes a partial file behind the ranges landing in it. Dropped unfinished (a failed
/// download), its thread stops without reading the rest of the file.
pub(super) struct TrailingHasher {
    landed: Option<Sender<(u64, u64)>>,
    stopped: Arc<AtomicBool>,
    done: Option<tokio::task::JoinHandle<Result<BlobDigest, Error>>>,
}

impl TrailingHasher {
    /// Starts hashing `file`, of `size` bytes, with the algorithm of `like`; `present` are
    /// ranges (offset, length) already in the file (from a resumed run).
    pub(super) fn start(
        file: Arc<File>,
        size: u64,
        like: &BlobDigest,
        present: impl IntoIterator<Item = (u64, u64)>,
    ) -> Self {
        let (landed, queue) = channel::<(u64, u64)>();
        for range in present {
            let _ = landed.send(range);
        }
        let stopped = Arc::new(AtomicBool::new(false));
        let stop = stopped.clone();
        let mut hasher = like.hasher();
        let done = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; READ_BYTES];
            let mut hashed = 0u64;
            let mut hash_to = |hashed: &mut u64, end: u64| -> Result<(), Error> {
                while *hashed < end {
                    let n = ((end - *hashed) as usize).min(READ_BYTES);
                    read_exact_at(&file, &mut buf[..n], *hashed).map_err(|e| {
                        Error::local(Step::Verify, "reading the downloaded file back", e)
                    })?;
                    hasher.update(&buf[..n]);
                    *hashed += n as u64;
                }
                Ok(())
            };
            let mut waiting = BTreeMap::new();
            // Ends when the download drops its sender: finished, or failed.
            for (offset, len) in queue {
                waiting.insert(offset, len);
                while let Some(len) = waiting.remove(&hashed) {
                    let end = hashed + len;
                    hash_to(&mut hashed, end)?;
                }
            }
            if stop.load(Ordering::Acquire) {
                return Err(Error::local(
                    Step::Verify,
                    "the download stopped before its check",
                    std::io::Error::other("stopped"),
                ));
            }
            // Whatever was not announced as landed is read now (none on the usual path).
            hash_to(&mut hashed, size)?;
            Ok(hasher.finish())
        });
        TrailingHasher {
            landed: Some(landed),
            stopped,
            done: Some(done),
        }
    }

    /// The range at `offset` of `len` bytes is written.
    pub(super) fn landed(&self, offset: u64, len: u64) {
        if let Some(landed) = &self.landed {
            // A send fails only when the thread ended early (an I/O error `finish` reports).
            let _ = landed.send((offset, len));
        }
    }

    /// The digest of the whole file, once every range has landed.
    pub(super) async fn finish(mut self) -> Result<BlobDigest, Error> {
        self.landed = None;
        let done = self.done.take().expect("finish runs once");
        done.await.map_err(|e| join_error(Step::Verify, e))?
    }
}

impl Drop for TrailingHasher {
    fn drop(&mut self) {
        if self.done.is_some() {
            self.stopped.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::digest::Hasher;

    fn digest_of(data: &[u8], like: &BlobDigest) -> BlobDigest {
        let mut hasher: Hasher = like.hasher();
        hasher.update(data);
        hasher.finish()
    }

    #[tokio::test]
    async fn ranges_in_any_order_with_gaps_and_resumed_ones_give_the_files_digest() {
        let data: Vec<u8> = (0..5_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut temp = tempfile::NamedTempFile::new().unwrap();
        temp.write_all(&data).unwrap();
        let file = Arc::new(temp.reopen().unwrap());
        for like in [BlobDigest::Md5([0; 16]), BlobDigest::Sha256([0; 32])] {
            let expected = digest_of(&data, &like);
            // 0..1M was there before (resumed); 3M..4M lands before 1M..3M; 4M.. is never
            // announced (read at the end).
            let hasher =
                TrailingHasher::start(file.clone(), data.len() as u64, &like, [(0, 1 << 20)]);
            hasher.landed(3 << 20, 1 << 20);
            hasher.landed(1 << 20, 2 << 20);
            assert_eq!(hasher.finish().await.unwrap(), expected);
        }
    }

    #[tokio::test]
    async fn a_file_shorter_than_its_size_is_an_error_not_a_digest() {
        let mut temp = tempfile::NamedTempFile::new().unwrap();
        temp.write_all(&[1u8; 1000]).unwrap();
        let file = Arc::new(temp.reopen().unwrap());
        let hasher = TrailingHasher::start(file, 2000, &BlobDigest::Md5([0; 16]), []);
        let err = hasher.finish().await.unwrap_err();
        assert!(
            err.to_string().contains("reading the downloaded file back"),
            "{err}"
        );
    }
}
