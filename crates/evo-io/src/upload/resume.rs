//! The resume state of an upload: where a file source keeps its state file, which blocks an
//! interrupted upload left on the server, and the block size a resume keeps.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use crate::blocks::{MAX_BLOCK_SIZE, MAX_BLOCKS};
use crate::error::BlockRef;
use crate::state::TransferState;

/// Where a file source keeps its resume state, what identifies the file, and the state an
/// earlier run saved there (not yet checked against this upload).
pub(super) struct StateSpec {
    pub(super) path: PathBuf,
    pub(super) modified_ns: Option<u128>,
    pub(super) fingerprint: Option<String>,
    pub(super) saved: Option<TransferState>,
}

impl StateSpec {
    /// The state of this upload's blocks (`len` bytes of the file to `blob`) in `block_size`
    /// blocks, with nothing staged yet.
    pub(super) fn fresh(&self, blob: String, len: u64, block_size: u64) -> TransferState {
        TransferState {
            version: TransferState::VERSION,
            blob,
            etag: None,
            source_modified_ns: self.modified_ns,
            source_fingerprint: self.fingerprint.clone(),
            size: len,
            block_size,
            done: Vec::new(),
            written: Vec::new(),
            boot_id: None,
            crc64: BTreeMap::new(),
        }
    }

    /// The block size of the saved state when it is this upload's (the same blob, file and
    /// size) in blocks another size than `planned` that a blob of `len` bytes can have:
    /// a resume keeps it, whatever the settings say now.
    pub(super) fn saved_block_size(&self, blob: String, len: u64, planned: u64) -> Option<u64> {
        let saved = self.saved.as_ref()?;
        let fresh = self.fresh(blob, len, planned);
        let size = saved.block_size;
        (saved.same_transfer_but_layout(&fresh) && usable_block_size(size, len)).then_some(size)
    }
}

/// The size of the block at offset 0 the server holds (`listed`) when it is one a blob of
/// `len` bytes can have: the block size of the upload that staged it, which a resume keeps.
pub(super) fn listed_block_size(listed: &HashMap<u64, u64>, len: u64) -> Option<u64> {
    let size = *listed.get(&0)?;
    (size <= len && usable_block_size(size, len)).then_some(size)
}

/// Whether blocks of `size` bytes can make a blob of `len` bytes.
fn usable_block_size(size: u64, len: u64) -> bool {
    (1..=MAX_BLOCK_SIZE).contains(&size) && len.div_ceil(size) <= MAX_BLOCKS
}

/// What an interrupted upload left on the server: block offset → size, and the CRC-64 its
/// state file recorded for a block (block index → CRC).
#[derive(Default)]
pub(super) struct Staged {
    pub(super) sizes: HashMap<u64, u64>,
    pub(super) crcs: BTreeMap<u64, u64>,
}

impl Staged {
    /// Whether the server holds a block of this offset and size, so it need not be sent.
    pub(super) fn holds(&self, block: BlockRef) -> bool {
        self.sizes.get(&block.offset) == Some(&block.len)
    }

    /// Whether `crc` (the source's block now) agrees with the CRC recorded when the block was
    /// staged; true when either is unknown.
    pub(super) fn agrees(&self, block: BlockRef, crc: Option<u64>) -> bool {
        let recorded = self.crcs.get(&block.index);
        recorded.is_none_or(|r| crc.is_none_or(|c| c == *r))
    }
}
