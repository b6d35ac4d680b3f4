//! Block-blob storage, in memory or in a folder.
//!
//! Blocks are immutable once written: the folder store writes each Put Block to its own file and
//! a committed blob is the list of its blocks, so committing never copies data and reads stream
//! block files one after the other (memory stays flat for multi-GiB blobs). A block file is
//! deleted when the last reference to it goes away.
//!
//! Uncommitted blocks expire as on Azure: when no Put Block reached a blob for the store's
//! uncommitted-block lifetime (a week by default) and no Put Block List committed them, they are
//! discarded. The check is lazy: [`BlobStore::expire_uncommitted`] runs on every request that
//! touches the blob, with the emulator's (advanceable) clock.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use time::OffsetDateTime;

use super::block_file::{BlockReader, BlockWriter, READ_CHUNK};
use super::checksum::{Computed, Expected, Hasher};
pub(crate) use super::error::StoreError;

/// Where blob bytes are kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BlobStorage {
    /// In memory (fine for tests; every byte uploaded stays in RAM until overwritten).
    #[default]
    Memory,
    /// In files under this folder (created if missing); memory use stays flat for large blobs.
    Folder(PathBuf),
}

/// The bytes of one block.
#[derive(Debug)]
enum BlockData {
    Memory(Bytes),
    File(PathBuf),
}

impl Drop for BlockData {
    fn drop(&mut self) {
        if let BlockData::File(path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[derive(Debug, Clone)]
struct Block {
    /// The id as the client spelled it (base64).
    name: String,
    size: u64,
    data: Arc<BlockData>,
}

#[derive(Debug, Default)]
struct BlobState {
    /// Uncommitted blocks keyed by decoded id, plus the order they arrived in.
    uncommitted: HashMap<Vec<u8>, Block>,
    uncommitted_order: Vec<Vec<u8>>,
    /// Decoded id length every block of this blob must have.
    id_len: Option<usize>,
    committed: Option<Committed>,
    /// When the last Put Block landed; uncommitted blocks expire a lifetime after it.
    last_put_block: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
struct Committed {
    blocks: Vec<(Vec<u8>, Block)>,
    /// Put Blob bodies are stored as one hidden block: Get Block List shows no blocks.
    from_put_blob: bool,
    size: u64,
    etag: String,
    last_modified: OffsetDateTime,
    content_md5: Option<String>,
    content_type: Option<String>,
    metadata: Metadata,
}

/// A blob's user metadata (`x-ms-meta-NAME: value`), names in lower case, in the order given.
pub(crate) type Metadata = Vec<(String, String)>;

/// Which list an id of a Put Block List names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    Committed,
    Uncommitted,
    Latest,
}

/// Properties of a committed blob.
#[derive(Debug, Clone)]
pub(crate) struct Props {
    pub(crate) size: u64,
    pub(crate) etag: String,
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) content_md5: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) metadata: Metadata,
}

/// What Get Block List shows.
#[derive(Debug, Clone, Default)]
pub(crate) struct BlockListView {
    pub(crate) committed: Vec<(String, u64)>,
    pub(crate) uncommitted: Vec<(String, u64)>,
    pub(crate) props: Option<Props>,
}

/// The block-blob store.
#[derive(Debug)]
pub(crate) struct BlobStore {
    folder: Option<PathBuf>,
    /// How long uncommitted blocks survive after the blob's last Put Block.
    uncommitted_ttl: time::Duration,
    blobs: Mutex<HashMap<String, BlobState>>,
    next_file: AtomicU64,
    last_etag: Mutex<u128>,
    /// Body bytes received by Put Block and Put Blob, per blob key (failed uploads included).
    received: Mutex<HashMap<String, u64>>,
}

type BodyStream = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, String>> + Send>>;

impl BlobStore {
    /// A store in `storage` whose uncommitted blocks live `uncommitted_ttl` after the last Put Block.
    pub(crate) fn new(
        storage: &BlobStorage,
        uncommitted_ttl: std::time::Duration,
    ) -> std::io::Result<Self> {
        let folder = match storage {
            BlobStorage::Memory => None,
            BlobStorage::Folder(p) => {
                std::fs::create_dir_all(p)?;
                Some(p.clone())
            }
        };
        Ok(Self {
            folder,
            uncommitted_ttl: time::Duration::try_from(uncommitted_ttl)
                .unwrap_or(time::Duration::MAX),
            blobs: Mutex::new(HashMap::new()),
            next_file: AtomicU64::new(0),
            last_etag: Mutex::new(0),
            received: Mutex::new(HashMap::new()),
        })
    }

    /// Body bytes received by Put Block and Put Blob for every blob whose key starts with
    /// `prefix` (`""`: all blobs).
    pub(crate) fn bytes_received(&self, prefix: &str) -> u64 {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, n)| *n)
            .sum()
    }

    fn count_received(&self, key: &str, n: usize) {
        *self
            .received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_owned())
            .or_default() += n as u64;
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, BlobState>> {
        self.blobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Discards the uncommitted blocks of `key` when its last Put Block is at least the
    /// uncommitted-block lifetime before `now`; a blob left with nothing is forgotten entirely
    /// (it answers 404 `BlobNotFound`, as Azure does). Returns whether blocks were discarded.
    pub(crate) fn expire_uncommitted(&self, key: &str, now: OffsetDateTime) -> bool {
        let mut blobs = self.lock();
        let Some(state) = blobs.get_mut(key) else {
            return false;
        };
        let expired = state.last_put_block.is_some_and(|last| {
            last.checked_add(self.uncommitted_ttl)
                .is_some_and(|deadline| now >= deadline)
        });
        if !expired {
            return false;
        }
        let discarded = state.uncommitted.len();
        state.uncommitted.clear();
        state.uncommitted_order.clear();
        state.last_put_block = None;
        if state.committed.is_none() {
            blobs.remove(key);
        }
        tracing::debug!(blob = key, discarded, "uncommitted blocks expired");
        true
    }

    fn new_etag(&self) -> String {
        let now = OffsetDateTime::now_utc().unix_timestamp_nanos().max(0) as u128;
        let mut last = self.last_etag.lock().unwrap_or_else(|e| e.into_inner());
        *last = (*last + 1).max(now);
        format!("\"0x{:X}\"", *last)
    }

    /// Writes a body of `length` bytes (as announced; the body decides) to a new block; returns
    /// the data, its size and what `hasher` computed over it.
    async fn write_block(
        &self,
        key: &str,
        mut body: BodyStream,
        length: u64,
        mut hasher: Hasher,
        from_client: bool,
    ) -> Result<(Arc<BlockData>, u64, Computed), StoreError> {
        let io_err =
            |e: std::io::Error| StoreError::new(500, "InternalError", format!("storage I/O: {e}"));
        match &self.folder {
            None => {
                // Sized once from the announced length (bounded: the body may be shorter), so
                // the block is not copied again as it grows.
                let mut buf = BytesMut::with_capacity(length.min(MAX_PREALLOCATION) as usize);
                while let Some(chunk) = body.next().await {
                    let chunk = chunk.map_err(|e| StoreError::new(400, "InvalidInput", e))?;
                    if from_client {
                        self.count_received(key, chunk.len());
                    }
                    hasher.update(&chunk);
                    buf.extend_from_slice(&chunk);
                }
                let size = buf.len() as u64;
                Ok((
                    Arc::new(BlockData::Memory(buf.freeze())),
                    size,
                    hasher.finish(),
                ))
            }
            Some(folder) => {
                let n = self.next_file.fetch_add(1, Ordering::Relaxed);
                let path = folder.join(format!("block-{}-{n}.bin", std::process::id()));
                // Owning the path from the start deletes the file on every error path.
                let data = Arc::new(BlockData::File(path.clone()));
                let mut writer = BlockWriter::create(&path).await.map_err(io_err)?;
                let mut size = 0u64;
                while let Some(chunk) = body.next().await {
                    let chunk = chunk.map_err(|e| StoreError::new(400, "InvalidInput", e))?;
                    if from_client {
                        self.count_received(key, chunk.len());
                    }
                    hasher.update(&chunk);
                    size += chunk.len() as u64;
                    writer.push(chunk).await.map_err(io_err)?;
                }
                writer.finish().await.map_err(io_err)?;
                Ok((data, size, hasher.finish()))
            }
        }
    }

    /// Put Block. `id` is the id as sent (base64), `decoded` its decoded bytes, `body` the body
    /// and its announced length, `expected` the checksums it claims; `now` restarts the expiry
    /// period of every uncommitted block of the blob.
    pub(crate) async fn put_block(
        &self,
        key: &str,
        id: &str,
        decoded: Vec<u8>,
        (body, length): (BodyStream, u64),
        expected: Expected,
        now: OffsetDateTime,
    ) -> Result<Computed, StoreError> {
        self.check_id_len(key, decoded.len())?;
        let hasher = Hasher::for_block(&expected);
        let (data, size, computed) = self.write_block(key, body, length, hasher, true).await?;
        computed.check(&expected)?;
        let mut blobs = self.lock();
        let state = blobs.entry(key.to_owned()).or_default();
        if state.id_len.is_some_and(|l| l != decoded.len()) {
            return Err(invalid_block_id());
        }
        state.id_len = Some(decoded.len());
        state.last_put_block = Some(state.last_put_block.map_or(now, |last| last.max(now)));
        if !state.uncommitted.contains_key(&decoded) {
            state.uncommitted_order.push(decoded.clone());
        }
        state.uncommitted.insert(
            decoded,
            Block {
                name: id.to_owned(),
                size,
                data,
            },
        );
        Ok(computed)
    }

    fn check_id_len(&self, key: &str, len: usize) -> Result<(), StoreError> {
        let blobs = self.lock();
        if let Some(state) = blobs.get(key) {
            if state.id_len.is_some_and(|l| l != len) {
                return Err(invalid_block_id());
            }
        }
        Ok(())
    }

    /// Put Block List: commits the named blocks in order; returns the new properties.
    pub(crate) fn put_block_list(
        &self,
        key: &str,
        list: Vec<(ListKind, Vec<u8>)>,
        content_md5: Option<String>,
        content_type: Option<String>,
        metadata: Metadata,
    ) -> Result<Props, StoreError> {
        let etag = self.new_etag();
        let mut blobs = self.lock();
        let state = blobs.entry(key.to_owned()).or_default();
        let mut chosen = Vec::with_capacity(list.len());
        for (kind, id) in &list {
            let committed = || {
                state
                    .committed
                    .as_ref()
                    .filter(|c| !c.from_put_blob)
                    .and_then(|c| {
                        c.blocks
                            .iter()
                            .find(|(i, _)| i == id)
                            .map(|(_, b)| b.clone())
                    })
            };
            let block = match kind {
                ListKind::Uncommitted => state.uncommitted.get(id).cloned(),
                ListKind::Committed => committed(),
                ListKind::Latest => state.uncommitted.get(id).cloned().or_else(committed),
            };
            match block {
                Some(b) => chosen.push((id.clone(), b)),
                None => {
                    return Err(StoreError::new(
                        400,
                        "InvalidBlockList",
                        "The specified block list is invalid.",
                    ));
                }
            }
        }
        if chosen.len() > 50_000 {
            return Err(StoreError::new(
                400,
                "BlockListTooLong",
                "The block list may not contain more than 50,000 blocks.",
            ));
        }
        let size = chosen.iter().map(|(_, b)| b.size).sum();
        let committed = Committed {
            blocks: chosen,
            from_put_blob: false,
            size,
            etag,
            last_modified: OffsetDateTime::now_utc(),
            content_md5,
            content_type,
            metadata,
        };
        let props = committed.props();
        state.committed = Some(committed);
        state.uncommitted.clear();
        state.uncommitted_order.clear();
        state.last_put_block = None;
        if list.is_empty() {
            state.id_len = None;
        }
        Ok(props)
    }

    /// Stores `bytes` whole as the blob `key` (`application/octet-stream`, no metadata): a
    /// blob a service writes itself (a data file a compute job wrote), its MD5 computed here.
    pub(crate) async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<Props, StoreError> {
        use md5::Digest as _;
        let md5 = md5::Md5::digest(&bytes).into();
        let ctype = Some("application/octet-stream".to_owned());
        self.put_service_blob(key, vec![bytes], md5, ctype).await
    }

    /// Put Blob: replaces the blob with one body.
    pub(crate) async fn put_blob(
        &self,
        key: &str,
        body: BodyStream,
        length: u64,
        expected: Expected,
        content_type: Option<String>,
        metadata: Metadata,
    ) -> Result<(Props, Computed), StoreError> {
        use base64::Engine;
        // Put Blob always sets the blob's Content-MD5, and computes the CRC-64 when claimed.
        let hasher = Hasher::new(true, expected.crc64.is_some());
        let (data, size, computed) = self.write_block(key, body, length, hasher, true).await?;
        computed.check(&expected)?;
        let md5 = computed.md5.unwrap_or_default();
        let etag = self.new_etag();
        let committed = Committed {
            blocks: vec![(
                Vec::new(),
                Block {
                    name: String::new(),
                    size,
                    data,
                },
            )],
            from_put_blob: true,
            size,
            etag,
            last_modified: OffsetDateTime::now_utc(),
            content_md5: Some(base64::engine::general_purpose::STANDARD.encode(md5)),
            content_type,
            metadata,
        };
        let props = committed.props();
        self.replace_with(key, committed);
        Ok((props, computed))
    }

    /// Makes `committed` the blob `key`, dropping its uncommitted blocks (Put Blob's rule).
    fn replace_with(&self, key: &str, committed: Committed) {
        let mut blobs = self.lock();
        let state = blobs.entry(key.to_owned()).or_default();
        state.committed = Some(committed);
        state.uncommitted.clear();
        state.uncommitted_order.clear();
        state.last_put_block = None;
        state.id_len = None;
    }

    /// Stores `segments`, in order, as the committed blob `key`, the way a service writes a blob
    /// it produced itself and whose MD5 it already knows (`md5`, set as the blob's
    /// `Content-MD5`): in memory the segments are kept as they are, never copied into one
    /// buffer; no byte counts as received from a client. Get Block List shows no blocks, as
    /// after Put Blob.
    pub(crate) async fn put_service_blob(
        &self,
        key: &str,
        segments: Vec<Bytes>,
        md5: [u8; 16],
        content_type: Option<String>,
    ) -> Result<Props, StoreError> {
        use base64::Engine;
        let size: u64 = segments.iter().map(|s| s.len() as u64).sum();
        let block = |data, size| {
            (
                Vec::new(),
                Block {
                    name: String::new(),
                    size,
                    data,
                },
            )
        };
        let blocks = if self.folder.is_some() {
            let body = futures_util::stream::iter(segments.into_iter().map(Ok)).boxed();
            let hasher = Hasher::new(false, false);
            let (data, size, _) = self.write_block(key, body, size, hasher, false).await?;
            vec![block(data, size)]
        } else {
            let kept = |s: Bytes| block(Arc::new(BlockData::Memory(s.clone())), s.len() as u64);
            segments.into_iter().map(kept).collect()
        };
        let committed = Committed {
            blocks,
            from_put_blob: true,
            size,
            etag: self.new_etag(),
            last_modified: OffsetDateTime::now_utc(),
            content_md5: Some(base64::engine::general_purpose::STANDARD.encode(md5)),
            content_type,
            metadata: Vec::new(),
        };
        let props = committed.props();
        self.replace_with(key, committed);
        Ok(props)
    }

    /// Get Block List at `now` (expired uncommitted blocks are discarded first); `None` when the
    /// blob has neither committed nor uncommitted blocks.
    pub(crate) fn block_list(&self, key: &str, now: OffsetDateTime) -> Option<BlockListView> {
        self.expire_uncommitted(key, now);
        let blobs = self.lock();
        let state = blobs.get(key)?;
        if state.committed.is_none() && state.uncommitted.is_empty() {
            return None;
        }
        let committed = state
            .committed
            .as_ref()
            .filter(|c| !c.from_put_blob)
            .map(|c| {
                c.blocks
                    .iter()
                    .map(|(_, b)| (b.name.clone(), b.size))
                    .collect()
            })
            .unwrap_or_default();
        let uncommitted = state
            .uncommitted_order
            .iter()
            .filter_map(|id| state.uncommitted.get(id))
            .map(|b| (b.name.clone(), b.size))
            .collect();
        Some(BlockListView {
            committed,
            uncommitted,
            props: state.committed.as_ref().map(Committed::props),
        })
    }

    /// Properties of the committed blob.
    pub(crate) fn props(&self, key: &str) -> Option<Props> {
        self.lock()
            .get(key)?
            .committed
            .as_ref()
            .map(Committed::props)
    }

    /// Streams `range` (start, end exclusive) of the committed blob whose ETag is `etag`.
    /// Returns `None` when the blob is gone or changed since `props` was read.
    pub(crate) fn read(
        &self,
        key: &str,
        etag: &str,
        start: u64,
        end: u64,
    ) -> Option<impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static> {
        let blobs = self.lock();
        let committed = blobs.get(key)?.committed.as_ref()?;
        if committed.etag != etag {
            return None;
        }
        let mut parts = VecDeque::new();
        let mut pos = 0u64;
        for (_, b) in &committed.blocks {
            let (bs, be) = (pos, pos + b.size);
            pos = be;
            let s = start.max(bs);
            let e = end.min(be);
            if s < e {
                parts.push_back((b.data.clone(), s - bs, e - s));
            }
        }
        drop(blobs);
        Some(read_stream(parts))
    }
}

impl Committed {
    fn props(&self) -> Props {
        Props {
            size: self.size,
            etag: self.etag.clone(),
            last_modified: self.last_modified,
            content_md5: self.content_md5.clone(),
            content_type: self.content_type.clone(),
            metadata: self.metadata.clone(),
        }
    }
}

fn invalid_block_id() -> StoreError {
    StoreError::new(
        400,
        "InvalidBlobOrBlock",
        "The specified blob or block content is invalid: all block ids of a blob must have the same length.",
    )
}

/// The largest piece of an in-memory block a download's body is handed at once.
const MEMORY_CHUNK: u64 = 64 * 1024;

/// The most memory reserved up front for one block from its announced length (64 MiB); a
/// larger block grows as its bytes arrive.
const MAX_PREALLOCATION: u64 = 64 << 20;

struct ReadState {
    parts: VecDeque<(Arc<BlockData>, u64, u64)>,
    /// The block file being read and how many of its bytes are still wanted.
    file: Option<(BlockReader, u64)>,
    done: bool,
}

fn read_stream(
    parts: VecDeque<(Arc<BlockData>, u64, u64)>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::unfold(
        ReadState {
            parts,
            file: None,
            done: false,
        },
        |mut st| async move {
            if st.done {
                return None;
            }
            loop {
                if let Some((reader, remaining)) = st.file.take() {
                    if remaining == 0 {
                        continue;
                    }
                    let n = remaining.min(READ_CHUNK);
                    match reader.read(n).await {
                        Ok((reader, chunk)) => {
                            st.file = Some((reader, remaining - n));
                            return Some((Ok(chunk), st));
                        }
                        Err(e) => {
                            st.done = true;
                            return Some((Err(e), st));
                        }
                    }
                }
                let (data, offset, len) = st.parts.pop_front()?;
                match &*data {
                    BlockData::Memory(b) => {
                        let n = len.min(MEMORY_CHUNK);
                        let chunk = b.slice(offset as usize..(offset + n) as usize);
                        if n < len {
                            st.parts.push_front((data.clone(), offset + n, len - n));
                        }
                        return Some((Ok(chunk), st));
                    }
                    BlockData::File(path) => match BlockReader::open(path, offset).await {
                        Ok(reader) => st.file = Some((reader, len)),
                        Err(e) => {
                            st.done = true;
                            return Some((Err(e), st));
                        }
                    },
                }
            }
        },
    )
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
