//! State files that let an interrupted transfer continue in another process.
//!
//! An upload keeps `.<name>.evo-upload` beside its source file (used when the server refuses
//! `Get Block List`); a download keeps `.<name>.evo-download` (the partial data) and
//! `.<name>.evo-download.json` (which ranges of which blob version it holds) beside its target.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// How often the state file is rewritten while blocks complete.
const SAVE_EVERY: Duration = Duration::from_secs(2);

/// What a state file records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TransferState {
    /// Format version.
    pub(crate) version: u32,
    /// The blob (URL without its query, so without the SAS).
    pub(crate) blob: String,
    /// The ETag of the blob version (downloads).
    #[serde(default)]
    pub(crate) etag: Option<String>,
    /// The modification time of the source in nanoseconds since the epoch (uploads).
    #[serde(default)]
    pub(crate) source_modified_ns: Option<u128>,
    /// A fingerprint of the source's content (uploads; see [`source_fingerprint`]).
    #[serde(default)]
    pub(crate) source_fingerprint: Option<String>,
    /// Bytes of the whole blob.
    pub(crate) size: u64,
    /// The block size the ranges refer to.
    pub(crate) block_size: u64,
    /// Completed block indices as half-open ranges.
    pub(crate) done: Vec<(u64, u64)>,
}

impl TransferState {
    /// Version 2 added the source fingerprint: a version 1 upload state cannot vouch for its
    /// source, so it is not resumed from.
    pub(crate) const VERSION: u32 = 2;

    /// The same transfer (blob, version, size, layout)?
    pub(crate) fn same_transfer_as(&self, other: &TransferState) -> bool {
        self.version == other.version
            && self.blob == other.blob
            && self.etag == other.etag
            && self.source_modified_ns == other.source_modified_ns
            && self.source_fingerprint == other.source_fingerprint
            && self.size == other.size
            && self.block_size == other.block_size
    }

    /// The completed block indices. A damaged file cannot make this large or slow: indices
    /// past the last block are dropped and overlapping ranges are merged before expanding.
    pub(crate) fn done_set(&self) -> BTreeSet<u64> {
        let blocks = self.size.div_ceil(self.block_size.max(1));
        let mut ranges: Vec<(u64, u64)> = self
            .done
            .iter()
            .map(|&(a, b)| (a, b.min(blocks)))
            .filter(|(a, b)| a < b)
            .collect();
        ranges.sort_unstable();
        let mut set = BTreeSet::new();
        let mut next = 0u64;
        for (a, b) in ranges {
            for i in a.max(next)..b {
                set.insert(i);
            }
            next = next.max(b);
        }
        set
    }
}

fn to_ranges(done: &BTreeSet<u64>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &i in done {
        match out.last_mut() {
            Some((_, end)) if *end == i => *end += 1,
            _ => out.push((i, i + 1)),
        }
    }
    out
}

/// Bytes sampled for a [`source_fingerprint`]: the first and last 64 KiB and 4 KiB at 32 evenly
/// spaced offsets, so it costs a few reads whatever the size.
const EDGE: u64 = 64 * 1024;
const SAMPLE: u64 = 4 * 1024;
const SAMPLES: u64 = 32;

/// An MD5 (hex) of the size and of samples of a file's content. Together with the size and the
/// modification time in the state file, it says whether the file that staged the blocks is the
/// one being uploaded now: a change that keeps the size, the modification time and every
/// sampled byte goes unnoticed (blocking; call from `spawn_blocking`).
pub(crate) fn source_fingerprint(file: &std::fs::File, len: u64) -> std::io::Result<String> {
    use md5::Digest as _;
    let mut hasher = md5::Md5::new();
    hasher.update(len.to_le_bytes());
    let mut pieces = vec![
        (0, EDGE.min(len)),
        (len.saturating_sub(EDGE), EDGE.min(len)),
    ];
    if len > SAMPLE {
        let span = len - SAMPLE;
        pieces.extend((0..SAMPLES).map(|i| (span / (SAMPLES - 1) * i, SAMPLE)));
    }
    let mut buf = Vec::new();
    for (offset, size) in pieces {
        buf.resize(size as usize, 0);
        crate::positional::read_exact_at(file, &mut buf, offset)?;
        hasher.update(&buf);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The file name beside `path` with a prefix dot and `suffix`.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "blob".to_owned());
    path.with_file_name(format!(".{name}{suffix}"))
}

/// Reads a state file; a missing, unreadable or malformed one is no state.
pub(crate) fn load(path: &Path) -> Option<TransferState> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice::<TransferState>(&bytes) {
        Ok(state) => Some(state),
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "ignoring a malformed state file");
            None
        }
    }
}

/// Keeps a state file up to date as blocks complete.
///
/// Upload state is rewritten on every block (a lost update only means a block is sent again).
/// Download state claims data is in the partial file, so the partial file is flushed to disk
/// first, at most every 2 s (and on the first block).
pub(crate) struct StateWriter {
    path: PathBuf,
    state: Mutex<(TransferState, BTreeSet<u64>, Option<Instant>)>,
    /// Flushed to disk before the state file is written (downloads), so the state never claims
    /// data that is not on disk.
    data: Option<std::sync::Arc<std::fs::File>>,
}

impl StateWriter {
    pub(crate) fn new(
        path: PathBuf,
        state: TransferState,
        data: Option<std::sync::Arc<std::fs::File>>,
    ) -> Self {
        let done = state.done_set();
        StateWriter {
            path,
            state: Mutex::new((state, done, None)),
            data,
        }
    }

    /// Records a finished block; rewrites the file when it is due.
    pub(crate) async fn mark(&self, index: u64) {
        let snapshot = {
            let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
            g.1.insert(index);
            let due = self.data.is_none() || g.2.is_none_or(|last| last.elapsed() >= SAVE_EVERY);
            if !due {
                return;
            }
            g.2 = Some(Instant::now());
            let mut state = g.0.clone();
            state.done = to_ranges(&g.1);
            state
        };
        self.write(snapshot).await;
    }

    /// Writes the file now (before giving up, so a resume loses as little as possible).
    pub(crate) async fn flush(&self) {
        let snapshot = {
            let g = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let mut state = g.0.clone();
            state.done = to_ranges(&g.1);
            state
        };
        self.write(snapshot).await;
    }

    async fn write(&self, state: TransferState) {
        let path = self.path.clone();
        let data = self.data.clone();
        let result = tokio::task::spawn_blocking(move || -> Result<(), String> {
            let json = serde_json::to_vec(&state).map_err(|e| e.to_string())?;
            match data {
                Some(file) => {
                    file.sync_data().map_err(|e| e.to_string())?;
                    evo_core::cache::write_atomically(&path, &json).map_err(|e| e.to_string())
                }
                None => {
                    // Written whole then renamed, so a reader never sees half a file.
                    let temp = evo_core::cache::temp_path_for(&path);
                    std::fs::write(&temp, &json).map_err(|e| e.to_string())?;
                    std::fs::rename(&temp, &path).map_err(|e| {
                        let _ = std::fs::remove_file(&temp);
                        e.to_string()
                    })
                }
            }
        })
        .await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(path = %self.path.display(), error = %e, "could not save transfer state")
            }
            Err(e) => tracing::debug!(error = %e, "state writer task failed"),
        }
    }

    /// Removes the state file (the transfer finished).
    pub(crate) fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_trip() {
        let set: BTreeSet<u64> = [0, 1, 2, 5, 7, 8].into_iter().collect();
        let ranges = to_ranges(&set);
        assert_eq!(ranges, vec![(0, 3), (5, 6), (7, 9)]);
        let state = TransferState {
            version: 1,
            blob: "b".into(),
            etag: None,
            source_modified_ns: None,
            source_fingerprint: None,
            size: 9,
            block_size: 1,
            done: ranges,
        };
        assert_eq!(state.done_set(), set);
    }

    #[test]
    fn fingerprints_see_sampled_changes_and_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let print = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            let file = std::fs::File::open(&path).unwrap();
            source_fingerprint(&file, bytes.len() as u64).unwrap()
        };
        let mut bytes: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let original = print(&bytes);
        assert_eq!(print(&bytes), original);
        bytes[0] ^= 1;
        assert_ne!(print(&bytes), original);
        bytes[0] ^= 1;
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_ne!(print(&bytes), original);
        assert_ne!(print(&[]), print(&[0]));
        assert_eq!(print(b"small"), print(b"small"));
    }

    #[test]
    fn sibling_names_are_hidden_and_beside() {
        assert_eq!(
            sibling(Path::new("/a/b/x.bin"), ".evo-download"),
            PathBuf::from("/a/b/.x.bin.evo-download")
        );
    }

    #[tokio::test]
    async fn writer_saves_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let state = TransferState {
            version: 1,
            blob: "http://h/c/b".into(),
            etag: Some("\"e\"".into()),
            source_modified_ns: None,
            source_fingerprint: None,
            size: 100,
            block_size: 10,
            done: vec![],
        };
        let w = StateWriter::new(path.clone(), state.clone(), None);
        w.mark(3).await;
        w.mark(4).await;
        w.flush().await;
        let loaded = load(&path).unwrap();
        assert!(loaded.same_transfer_as(&state));
        assert_eq!(loaded.done, vec![(3, 5)]);
        std::fs::write(&path, b"{not json").unwrap();
        assert!(load(&path).is_none());
        w.remove();
        assert!(!path.exists());
    }

    fn state_with(size: u64, block_size: u64, done: Vec<(u64, u64)>) -> TransferState {
        TransferState {
            version: 1,
            blob: "http://h/c/b".into(),
            etag: None,
            source_modified_ns: None,
            source_fingerprint: None,
            size,
            block_size,
            done,
        }
    }

    proptest::proptest! {
        /// A damaged state file never panics: it loads as some state or as none.
        #[test]
        fn any_state_file_bytes_load_or_are_ignored(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("s.json");
            std::fs::write(&path, &bytes).unwrap();
            let _ = load(&path);
        }

        /// Whatever ranges a file claims, the completed set stays within the blob's blocks and
        /// is their union.
        #[test]
        fn done_ranges_become_the_union_within_the_blob(
            blocks in 0u64..300,
            done in proptest::collection::vec((0u64..400, 0u64..400), 0..30),
        ) {
            let state = state_with(blocks * 7, 7, done.clone());
            let expected: BTreeSet<u64> = done
                .iter()
                .flat_map(|&(a, b)| a..b.min(blocks))
                .collect();
            proptest::prop_assert_eq!(state.done_set(), expected);
        }

        /// Written states load back as the same transfer with the same blocks.
        #[test]
        fn states_round_trip_through_the_file(
            indices in proptest::collection::btree_set(0u64..500, 0..100),
            etag in proptest::option::of("[ -~]{0,40}"),
        ) {
            let mut state = state_with(500 * 3, 3, to_ranges(&indices));
            state.etag = etag;
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("s.json");
            std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
            let loaded = load(&path).unwrap();
            proptest::prop_assert!(loaded.same_transfer_as(&state));
            proptest::prop_assert_eq!(loaded.done_set(), indices);
        }
    }

    #[test]
    fn a_damaged_file_claiming_huge_ranges_stays_small() {
        let state = state_with(10 * 4, 4, vec![(0, u64::MAX); 100_000]);
        assert_eq!(state.done_set().len(), 10);
    }
}
