//! The geometry of a block model: block counts, block sizes and the four kinds of size
//! options (`regular`, `fully-sub-blocked`, `flexible`, `variable-octree`).

use serde::{Deserialize, Serialize};

/// Numbers of blocks (or parent blocks) along x, y and z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size3 {
    /// Along x.
    pub nx: u32,
    /// Along y.
    pub ny: u32,
    /// Along z.
    pub nz: u32,
}

impl Size3 {
    /// `nx, ny, nz`.
    pub const fn new(nx: u32, ny: u32, nz: u32) -> Self {
        Size3 { nx, ny, nz }
    }
    /// `nx × ny × nz`.
    pub fn count(&self) -> u64 {
        u64::from(self.nx) * u64::from(self.ny) * u64::from(self.nz)
    }
}

/// A block size along x, y and z, in the model's size unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlockSize {
    /// Along x.
    pub x: f64,
    /// Along y.
    pub y: f64,
    /// Along z.
    pub z: f64,
}

impl BlockSize {
    /// `x, y, z`.
    pub const fn new(x: f64, y: f64, z: f64) -> Self {
        BlockSize { x, y, z }
    }
}

/// The geometry of a block model: one of the four kinds of block models, tagged by
/// `model_type`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model_type")]
#[non_exhaustive]
pub enum SizeOptions {
    /// `regular`: `n_blocks` blocks of `block_size`.
    #[serde(rename = "regular")]
    Regular {
        /// Blocks along x, y, z.
        n_blocks: Size3,
        /// The size of every block.
        block_size: BlockSize,
    },
    /// `fully-sub-blocked`: parent blocks each split into all or none of its sub-blocks.
    #[serde(rename = "fully-sub-blocked")]
    FullySubBlocked {
        /// Parent blocks along x, y, z.
        n_parent_blocks: Size3,
        /// Sub-blocks per parent along x, y, z (1 to 100).
        n_subblocks_per_parent: Size3,
        /// The size of a parent block.
        parent_block_size: BlockSize,
    },
    /// `flexible`: parent blocks split into runs of sub-blocks.
    #[serde(rename = "flexible")]
    Flexible {
        /// Parent blocks along x, y, z.
        n_parent_blocks: Size3,
        /// Sub-blocks per parent along x, y, z (1 to 100).
        n_subblocks_per_parent: Size3,
        /// The size of a parent block.
        parent_block_size: BlockSize,
    },
    /// `variable-octree`: parent blocks split as an octree.
    #[serde(rename = "variable-octree")]
    VariableOctree {
        /// Parent blocks along x, y, z.
        n_parent_blocks: Size3,
        /// Sub-blocks per parent along x, y, z (powers of two, 1 to 64).
        n_subblocks_per_parent: Size3,
        /// The size of a parent block.
        parent_block_size: BlockSize,
    },
}

impl SizeOptions {
    /// The (parent) block counts, the size of a (parent) block and, for sub-blocked models, the
    /// sub-blocks per parent block.
    pub fn dimensions(&self) -> (&Size3, &BlockSize, Option<&Size3>) {
        match self {
            SizeOptions::Regular {
                n_blocks,
                block_size,
            } => (n_blocks, block_size, None),
            SizeOptions::FullySubBlocked {
                n_parent_blocks,
                n_subblocks_per_parent,
                parent_block_size,
            }
            | SizeOptions::Flexible {
                n_parent_blocks,
                n_subblocks_per_parent,
                parent_block_size,
            }
            | SizeOptions::VariableOctree {
                n_parent_blocks,
                n_subblocks_per_parent,
                parent_block_size,
            } => (
                n_parent_blocks,
                parent_block_size,
                Some(n_subblocks_per_parent),
            ),
        }
    }

    /// The `model_type` string.
    pub fn model_type(&self) -> &'static str {
        match self {
            SizeOptions::Regular { .. } => "regular",
            SizeOptions::FullySubBlocked { .. } => "fully-sub-blocked",
            SizeOptions::Flexible { .. } => "flexible",
            SizeOptions::VariableOctree { .. } => "variable-octree",
        }
    }

    /// The number of blocks of a regular model (`None` for sub-blocked models, whose number
    /// of blocks depends on their data).
    pub fn regular_block_count(&self) -> Option<u64> {
        match self {
            SizeOptions::Regular { n_blocks, .. } => Some(n_blocks.count()),
            _ => None,
        }
    }

    /// Checks the limits the service enforces (counts at least 1, sizes above 0 and below
    /// 1,000,000, sub-blocks 1 to 100 and powers of two up to 64 for octrees).
    pub fn validate(&self) -> Result<(), String> {
        let size_ok = |s: &BlockSize| {
            [s.x, s.y, s.z]
                .iter()
                .all(|v| v.is_finite() && *v > 0.0 && *v < 1_000_000.0)
        };
        let count_ok = |n: &Size3| n.nx >= 1 && n.ny >= 1 && n.nz >= 1;
        let (n, s, sub) = self.dimensions();
        if !count_ok(n) {
            return Err(format!("every block count must be at least 1, got {n:?}"));
        }
        if !size_ok(s) {
            return Err(format!(
                "every block size must be above 0 and below 1,000,000, got {s:?}"
            ));
        }
        if let Some(sub) = sub {
            let octree = matches!(self, SizeOptions::VariableOctree { .. });
            let each = [sub.nx, sub.ny, sub.nz];
            let ok = if octree {
                each.iter()
                    .all(|v| (1..=64).contains(v) && v.is_power_of_two())
            } else {
                each.iter().all(|v| (1..=100).contains(v))
            };
            if !ok {
                return Err(format!(
                    "sub-blocks per parent must be {}, got {sub:?}",
                    if octree {
                        "powers of two from 1 to 64"
                    } else {
                        "1 to 100"
                    }
                ));
            }
        }
        Ok(())
    }
}
