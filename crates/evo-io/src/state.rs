//! State files that let an interrupted transfer continue in another process.
//!
//! An upload keeps `.<name>.evo-upload` beside its source file (used when the server refuses
//! `Get Block List`); a download keeps `.<name>.evo-download` (the partial data) and
//! `.<name>.evo-download.json` (which ranges of which blob version it holds) beside its target.
//!
//! A download's state is rewritten after every block, so a killed process fetches again at most
//! the blocks that were in flight. Blocks come in two grades: `done` ones were flushed to disk
//! (`fsync`, at most every 2 s) before the state said so, and survive a crash of the machine;
//! `written` ones were handed to the OS, which keeps them when the process dies but not when the
//! machine does, so they count only while the machine has not restarted since (the Linux boot
//! id; where there is none, only `done` blocks count).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// How often a download's partial file is flushed to disk (and its blocks become `done`).
const SYNC_EVERY: Duration = Duration::from_secs(2);

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
    /// Completed block indices as half-open ranges (for downloads: flushed to disk).
    pub(crate) done: Vec<(u64, u64)>,
    /// Downloads: blocks written to the partial file but maybe not yet flushed to disk, as
    /// half-open ranges; they count only on the machine and boot in `boot_id`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) written: Vec<(u64, u64)>,
    /// The boot of the machine that wrote `written` (see [`boot_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) boot_id: Option<String>,
    /// Uploads: the CRC-64 of each staged block (block index → CRC), so a resume can tell a
    /// block of the source that changed since it was staged, and the whole-blob CRC-64 can be
    /// combined. Blocks staged without a CRC-64 (MD5 uploads, older versions) have none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) crc64: BTreeMap<u64, u64>,
}

impl TransferState {
    /// Version 2 added the source fingerprint: a version 1 upload state cannot vouch for its
    /// source, so it is not resumed from.
    pub(crate) const VERSION: u32 = 2;

    /// The same transfer (blob, version, size, layout)?
    pub(crate) fn same_transfer_as(&self, other: &TransferState) -> bool {
        self.same_transfer_but_layout(other) && self.block_size == other.block_size
    }

    /// The same transfer (blob, version, size), whatever its block size? A resume takes the
    /// block size of such a state.
    pub(crate) fn same_transfer_but_layout(&self, other: &TransferState) -> bool {
        self.version == other.version
            && self.blob == other.blob
            && self.etag == other.etag
            && self.source_modified_ns == other.source_modified_ns
            && self.source_fingerprint == other.source_fingerprint
            && self.size == other.size
    }

    /// The completed block indices: the `done` ones, and the `written` ones when this machine
    /// has not restarted since they were written. A damaged file cannot make this large or
    /// slow: indices past the last block are dropped and overlapping ranges are merged before
    /// expanding.
    pub(crate) fn done_set(&self) -> BTreeSet<u64> {
        let same_boot = self.boot_id.is_some() && self.boot_id.as_deref() == boot_id();
        let mut ranges = self.done.clone();
        if same_boot {
            ranges.extend_from_slice(&self.written);
        }
        self.expand(&ranges)
    }

    /// The `done` block indices only (flushed to disk, valid after a crash of the machine).
    fn durable_set(&self) -> BTreeSet<u64> {
        self.expand(&self.done)
    }

    fn expand(&self, ranges: &[(u64, u64)]) -> BTreeSet<u64> {
        let blocks = self.size.div_ceil(self.block_size.max(1));
        let mut ranges: Vec<(u64, u64)> = ranges
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

/// This boot of this machine (Linux: `/proc/sys/kernel/random/boot_id`; `None` elsewhere):
/// data a killed process handed to the OS is still there while this stays the same.
pub(crate) fn boot_id() -> Option<&'static str> {
    static BOOT: OnceLock<Option<String>> = OnceLock::new();
    BOOT.get_or_init(|| {
        let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let id = id.trim();
        (!id.is_empty()).then(|| id.to_owned())
    })
    .as_deref()
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
/// The file is rewritten after every block, and [`mark`](Self::mark) returns once a state
/// naming the block is saved: a transfer that marks a block before it starts the next one
/// loses at most the blocks in flight when the process dies. Writes are serialized and
/// coalesced (a write saves every block marked before it began). Upload state has one grade
/// (a lost update only means a block is sent again). Download state claims data is in the
/// partial file: blocks go to `written` at once, and to `done` once a flush of the partial
/// file to disk that began after them has finished; flushes run in the background at most
/// every 2 s (the first after the first block), and in [`flush`](Self::flush).
pub(crate) struct StateWriter {
    path: PathBuf,
    blocks: Arc<Mutex<Blocks>>,
    /// Serializes the writes; holds the `marks` count the file on disk covers.
    saved: tokio::sync::Mutex<u64>,
    /// Flushed to disk before blocks become `done` (downloads).
    data: Option<Arc<std::fs::File>>,
    /// The background flush of `data`, while one runs.
    syncing: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

struct Blocks {
    state: TransferState,
    /// Every completed block.
    all: BTreeSet<u64>,
    /// The blocks known to be on disk (downloads).
    durable: BTreeSet<u64>,
    /// Blocks marked so far: the generation of `all`.
    marks: u64,
    last_sync: Option<Instant>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl StateWriter {
    pub(crate) fn new(
        path: PathBuf,
        state: TransferState,
        data: Option<Arc<std::fs::File>>,
    ) -> Self {
        let all = state.done_set();
        let durable = state.durable_set();
        StateWriter {
            path,
            blocks: Arc::new(Mutex::new(Blocks {
                state,
                all,
                durable,
                marks: 0,
                last_sync: None,
            })),
            saved: tokio::sync::Mutex::new(0),
            data,
            syncing: Mutex::new(None),
        }
    }

    /// Records a finished block and returns once the file names it.
    pub(crate) async fn mark(&self, index: u64) {
        self.mark_with_crc(index, None).await;
    }

    /// [`mark`](Self::mark), recording the block's CRC-64 too (`None` forgets any recorded
    /// one: the block was staged without).
    pub(crate) async fn mark_with_crc(&self, index: u64, crc64: Option<u64>) {
        let generation = {
            let mut b = lock(&self.blocks);
            b.all.insert(index);
            match crc64 {
                Some(crc) => b.state.crc64.insert(index, crc),
                None => b.state.crc64.remove(&index),
            };
            b.marks += 1;
            b.marks
        };
        self.start_sync_when_due();
        self.save(generation, false).await;
    }

    /// Flushes the partial data to disk and writes the file now (before giving up, so a resume
    /// loses as little as possible, even after a crash of the machine).
    pub(crate) async fn flush(&self) {
        let running = lock(&self.syncing).take();
        if let Some(task) = running {
            let _ = task.await;
        }
        if let Some(task) = self.sync_task() {
            let _ = task.await;
        }
        let generation = lock(&self.blocks).marks;
        self.save(generation, true).await;
    }

    /// Starts a background flush of the partial data when none runs and one is due.
    fn start_sync_when_due(&self) {
        if self.data.is_none() {
            return;
        }
        let mut running = lock(&self.syncing);
        if running.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        let due = lock(&self.blocks)
            .last_sync
            .is_none_or(|t| t.elapsed() >= SYNC_EVERY);
        if due {
            *running = self.sync_task();
        }
    }

    /// A task that flushes the partial data and then counts the blocks written before it as
    /// on disk.
    fn sync_task(&self) -> Option<tokio::task::JoinHandle<()>> {
        let file = self.data.clone()?;
        let blocks = self.blocks.clone();
        let written = {
            let mut b = lock(&blocks);
            b.last_sync = Some(Instant::now());
            b.all.clone()
        };
        Some(tokio::task::spawn_blocking(move || {
            match file.sync_data() {
                Ok(()) => lock(&blocks).durable.extend(written),
                Err(e) => tracing::debug!(error = %e, "could not flush the partial download"),
            }
        }))
    }

    /// Writes the file unless a write that began after mark number `generation` already did;
    /// `durable` (a flush) writes it in any case and flushes it to disk.
    async fn save(&self, generation: u64, durable: bool) {
        let mut saved = self.saved.lock().await;
        if *saved >= generation && !durable {
            return;
        }
        let (state, marks) = {
            let b = lock(&self.blocks);
            let mut state = b.state.clone();
            if self.data.is_some() {
                state.done = to_ranges(&b.durable);
                state.written = to_ranges(&b.all);
                state.boot_id = boot_id().map(str::to_owned);
            } else {
                state.done = to_ranges(&b.all);
            }
            (state, b.marks)
        };
        let path = self.path.clone();
        let result = tokio::task::spawn_blocking(move || -> Result<(), String> {
            let json = serde_json::to_vec(&state).map_err(|e| e.to_string())?;
            if durable {
                return evo_core::cache::write_atomically(&path, &json).map_err(|e| e.to_string());
            }
            // Written whole then renamed, so a reader never sees half a file.
            let temp = evo_core::cache::temp_path_for(&path);
            std::fs::write(&temp, &json).map_err(|e| e.to_string())?;
            std::fs::rename(&temp, &path).map_err(|e| {
                let _ = std::fs::remove_file(&temp);
                e.to_string()
            })
        })
        .await;
        match result {
            Ok(Ok(())) => *saved = marks,
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
            written: Vec::new(),
            boot_id: None,
            crc64: BTreeMap::new(),
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
            written: Vec::new(),
            boot_id: None,
            crc64: BTreeMap::new(),
        };
        let w = StateWriter::new(path.clone(), state.clone(), None);
        w.mark_with_crc(3, Some(u64::MAX)).await;
        w.mark_with_crc(4, Some(7)).await;
        w.mark_with_crc(4, None).await;
        w.flush().await;
        let loaded = load(&path).unwrap();
        assert!(loaded.same_transfer_as(&state));
        assert_eq!(loaded.done, vec![(3, 5)]);
        assert_eq!(loaded.crc64, [(3, u64::MAX)].into_iter().collect());
        std::fs::write(&path, b"{not json").unwrap();
        assert!(load(&path).is_none());
        w.remove();
        assert!(!path.exists());
    }

    /// A download's state names each block as soon as it is marked (not every 2 s), so a
    /// killed process fetches again only the blocks that were in flight.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_download_state_names_every_marked_block_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let data = Arc::new(std::fs::File::create(dir.path().join("partial")).unwrap());
        let w = StateWriter::new(path.clone(), state_with(100, 10, vec![]), Some(data));
        for (i, index) in [0u64, 5, 6, 2].into_iter().enumerate() {
            w.mark(index).await;
            let loaded = load(&path).unwrap();
            assert_eq!(loaded.boot_id.as_deref(), boot_id());
            assert_eq!(loaded.done_set().len(), i + 1, "{loaded:?}");
            assert!(loaded.done_set().contains(&index));
        }
        // After a flush every block is on disk: `done` alone covers them.
        w.flush().await;
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.done, vec![(0, 1), (2, 3), (5, 7)]);
    }

    /// Blocks written but not flushed count only on the boot that wrote them.
    #[test]
    fn written_blocks_count_only_on_the_same_boot() {
        let mut state = state_with(100, 10, vec![(0, 1)]);
        state.written = vec![(0, 4)];
        state.boot_id = Some("another boot".into());
        assert_eq!(state.done_set(), [0].into_iter().collect());
        state.boot_id = None;
        assert_eq!(state.done_set(), [0].into_iter().collect());
        if let Some(this) = boot_id() {
            state.boot_id = Some(this.to_owned());
            assert_eq!(state.done_set(), (0..4).collect());
            assert_eq!(state.durable_set(), [0].into_iter().collect());
        }
    }

    /// Concurrent marks never leave an older state on disk than the last finished mark.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_marks_never_lose_a_finished_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let w = Arc::new(StateWriter::new(
            path.clone(),
            state_with(2000, 1, vec![]),
            None,
        ));
        let tasks: Vec<_> = (0..8u64)
            .map(|t| {
                let (w, path) = (w.clone(), path.clone());
                tokio::spawn(async move {
                    for i in 0..25 {
                        let index = t * 100 + i;
                        w.mark(index).await;
                        assert!(load(&path).unwrap().done_set().contains(&index));
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(load(&path).unwrap().done_set().len(), 200);
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
            written: Vec::new(),
            boot_id: None,
            crc64: BTreeMap::new(),
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
