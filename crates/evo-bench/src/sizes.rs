//! The workload sizes of the objects and blockmodels benchmarks, by data volume (issue #18:
//! every transfer benchmark at 256 MiB and 1 GiB), and whether the Python side of a block model
//! fits in this machine's memory.

/// Raw column bytes of one point of the objects benchmark: x, y, z and its one attribute,
/// float64 each.
pub(crate) const POINT_BYTES: u64 = 32;

/// Bytes of one block's value in the float64 column the blockmodels benchmark adds.
pub(crate) const BLOCK_BYTES: u64 = 8;

/// The Python SDK's peak resident memory at the default model ([`Grid::DEFAULT`]), as this
/// benchmark measured it: about 2.5 GiB (it holds the table it writes and the query's result,
/// each with its pyarrow copies, in memory), roughly 670 bytes per block.
pub(crate) const PYTHON_PEAK_AT_DEFAULT: u64 = 5 << 29;

/// The share of MemAvailable, in percent, that the Python side may be expected to take: the
/// rest is left for the orchestrator (its in-process emulator holds every uploaded blob) and
/// for whatever else runs on the machine.
pub(crate) const PYTHON_MEMORY_SHARE_PERCENT: u64 = 70;

/// The points of a point set whose raw column data is `mib` MiB.
pub(crate) fn points_for_mib(mib: u64) -> Result<usize, String> {
    if mib == 0 {
        return Err("a size must be at least 1 MiB".to_owned());
    }
    usize::try_from((mib << 20) / POINT_BYTES).map_err(|_| format!("{mib} MiB is too large"))
}

/// The blocks of a regular block model along each axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grid {
    pub(crate) nx: u32,
    pub(crate) ny: u32,
    pub(crate) nz: u32,
}

impl Grid {
    /// The benchmark's model before it was sized by volume, and still its default.
    pub(crate) const DEFAULT: Grid = Grid {
        nx: 200,
        ny: 200,
        nz: 100,
    };

    /// The number of blocks.
    pub(crate) fn blocks(self) -> u64 {
        u64::from(self.nx) * u64::from(self.ny) * u64::from(self.nz)
    }

    /// The grid whose float64 column holds at least `mib` MiB, shaped about 2:2:1 like
    /// [`Grid::DEFAULT`] so that the server's work per block stays comparable across sizes.
    /// `nz` is the nearest whole number to the exact shape's and `ny` rounds up, so that `nx`
    /// overshoots the wanted block count by less than one x row.
    pub(crate) fn for_mib(mib: u64) -> Result<Grid, String> {
        if mib == 0 {
            return Err("a size must be at least 1 MiB".to_owned());
        }
        let blocks = (mib << 20) / BLOCK_BYTES;
        // nx = ny = 2 nz gives 4 nz^3 blocks.
        let nz = ((blocks as f64 / 4.0).cbrt().round() as u64).max(1);
        let ny = ((blocks as f64 / nz as f64).sqrt().ceil() as u64).max(1);
        let nx = blocks.div_ceil(ny * nz).max(1);
        let axis = |n: u64| u32::try_from(n).map_err(|_| format!("{mib} MiB is too large"));
        Ok(Grid {
            nx: axis(nx)?,
            ny: axis(ny)?,
            nz: axis(nz)?,
        })
    }
}

impl std::fmt::Display for Grid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} x {} x {}", self.nx, self.ny, self.nz)
    }
}

/// The Python side's expected peak for a model of `blocks` blocks: its measured peak at the
/// default model, scaled linearly (it holds whole columns, so its memory grows with them).
pub(crate) fn python_need(blocks: u64) -> u64 {
    let need = u128::from(PYTHON_PEAK_AT_DEFAULT) * u128::from(blocks)
        / u128::from(Grid::DEFAULT.blocks());
    u64::try_from(need).unwrap_or(u64::MAX)
}

/// Why the Python side of a model of `blocks` blocks must not run when the machine has
/// `mem_available` bytes available, or `None` when it may (also when that is unknown: the
/// benchmark then runs as it always did).
pub(crate) fn python_skip_reason(blocks: u64, mem_available: Option<u64>) -> Option<String> {
    let available = mem_available?;
    let need = python_need(blocks);
    let allowed = u128::from(available) * u128::from(PYTHON_MEMORY_SHARE_PERCENT) / 100;
    (u128::from(need) > allowed).then(|| {
        format!(
            "it would need about {} MiB ({} MiB at {} blocks, scaled), more than {PYTHON_MEMORY_SHARE_PERCENT}% of MemAvailable ({} MiB)",
            need >> 20,
            PYTHON_PEAK_AT_DEFAULT >> 20,
            Grid::DEFAULT.blocks(),
            available >> 20
        )
    })
}

/// MemAvailable of this machine, in bytes, from `/proc/meminfo`.
pub(crate) fn mem_available() -> Option<u64> {
    parse_mem_available(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// MemAvailable, in bytes, from the text of `/proc/meminfo` (which gives it in kB, meaning KiB).
fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut fields = line.split_whitespace().skip(1);
    let kib: u64 = fields.next()?.parse().ok()?;
    (fields.next() == Some("kB")).then(|| kib.saturating_mul(1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_is_32_bytes_of_columns() {
        assert_eq!(points_for_mib(1).unwrap(), 32_768);
        assert_eq!(points_for_mib(256).unwrap(), 8_388_608);
        assert_eq!(points_for_mib(1024).unwrap(), 33_554_432);
        assert!(points_for_mib(0).is_err());
    }

    #[test]
    fn grids_hold_at_least_the_size_in_less_than_one_extra_row() {
        for mib in [1, 4, 8, 16, 31, 256, 1024, 4096] {
            let grid = Grid::for_mib(mib).unwrap();
            let wanted = (mib << 20) / BLOCK_BYTES;
            assert!(grid.blocks() >= wanted, "{mib} MiB: {grid}");
            assert!(
                grid.blocks() - wanted < u64::from(grid.ny) * u64::from(grid.nz),
                "{mib} MiB: {grid} overshoots by a row or more"
            );
            // About 2:2:1, within the rounding of nz and ny.
            for n in [grid.nx, grid.ny] {
                let shape = f64::from(n) / f64::from(grid.nz);
                assert!((1.8..=2.2).contains(&shape), "{mib} MiB: {grid}");
            }
        }
    }

    #[test]
    fn the_issue_sizes_have_these_grids() {
        assert_eq!(
            Grid::for_mib(256).unwrap(),
            Grid {
                nx: 407,
                ny: 407,
                nz: 203
            }
        );
        let grid = Grid::for_mib(1024).unwrap();
        assert_eq!(
            grid,
            Grid {
                nx: 645,
                ny: 645,
                nz: 323
            }
        );
        assert_eq!(grid.blocks(), 134_376_075);
        assert!(Grid::for_mib(0).is_err());
    }

    #[test]
    fn the_default_model_needs_its_measured_peak() {
        assert_eq!(Grid::DEFAULT.blocks(), 4_000_000);
        assert_eq!(python_need(Grid::DEFAULT.blocks()), PYTHON_PEAK_AT_DEFAULT);
        assert_eq!(python_need(2_000_000), PYTHON_PEAK_AT_DEFAULT / 2);
    }

    #[test]
    fn python_runs_up_to_70_percent_of_mem_available() {
        let blocks = Grid::DEFAULT.blocks();
        let need = PYTHON_PEAK_AT_DEFAULT;
        // 70% of 10 x need / 7 is exactly need: allowed.
        assert_eq!(python_skip_reason(blocks, Some(need * 10 / 7 + 1)), None);
        let reason = python_skip_reason(blocks, Some(need * 10 / 7 - 1024)).unwrap();
        assert!(reason.contains("2560 MiB"), "{reason}");
        assert!(reason.contains("70% of MemAvailable"), "{reason}");
        // 24 GiB available: 256 MiB of column (about 20 GiB for Python) is skipped, 8 MiB is not.
        let available = Some(24 << 30);
        let big = Grid::for_mib(256).unwrap().blocks();
        let small = Grid::for_mib(8).unwrap().blocks();
        assert!(python_skip_reason(big, available).is_some());
        assert_eq!(python_skip_reason(small, available), None);
        // Unknown memory: it runs, as before sizes existed.
        assert_eq!(python_skip_reason(big, None), None);
    }

    #[test]
    fn mem_available_is_read_in_kib() {
        let meminfo =
            "MemTotal:       24683664 kB\nMemFree:         1000 kB\nMemAvailable:   23484804 kB\n";
        assert_eq!(parse_mem_available(meminfo), Some(23_484_804 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 1 kB\n"), None);
        assert_eq!(parse_mem_available("MemAvailable: x kB\n"), None);
        assert_eq!(parse_mem_available("MemAvailable: 5 MB\n"), None);
    }
}
