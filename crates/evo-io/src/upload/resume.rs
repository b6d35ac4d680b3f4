//! The resume state of an upload: where a file source keeps its state file, and which blocks
//! an interrupted upload left on the server.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use crate::error::BlockRef;

/// Where a file source keeps its resume state, and what identifies the file.
pub(super) struct StateSpec {
    pub(super) path: PathBuf,
    pub(super) modified_ns: Option<u128>,
    pub(super) fingerprint: Option<String>,
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
