//! The workload sizes of the objects and blockmodels benchmarks, by data volume (issue #18:
//! every transfer benchmark at 256 MiB and 1 GiB): the points of a point set, the added columns
//! of a block model and its grid; and whether the Python side of a block model fits in this
//! machine's memory.

/// Raw column bytes of one point of the objects benchmark: x, y, z and its one attribute,
/// float64 each.
pub(crate) const POINT_BYTES: u64 = 32;

/// Bytes of one block's value in each float64 column the blockmodels benchmark adds.
pub(crate) const BLOCK_BYTES: u64 = 8;

/// The largest column, in MiB, that a sized blockmodels run adds: a size of S MiB is made of
/// n = ceil(S / 32) float64 columns of S / n MiB each ([`added_columns`]), so that the data
/// grows through the number of columns while the model's block count (and with it the Python
/// SDK's memory per block) stays about that of the default model.
pub(crate) const COLUMN_MIB_MAX: u64 = 32;

/// The Python SDK's expected peak resident memory per block of the model, beside its added
/// columns ([`PYTHON_COLUMN_COPIES`]): the interpreter and its libraries, the i, j, k columns
/// it writes, the indices its query returns and their copies. Measured (see
/// [`python_need`]), the peak less 2.25 times the added columns' bytes was about 280 MiB at
/// 4.2 million blocks (70 bytes a block) and about 235 MiB at 1 million (the interpreter
/// alone is about 90 MiB): 250 bytes a block covers the small models, with room at the large.
pub(crate) const PYTHON_BYTES_PER_BLOCK: u64 = 250;

/// How many times the bytes of its added columns the Python SDK is expected to hold at its
/// peak, beside [`PYTHON_BYTES_PER_BLOCK`]: the table it writes, its Parquet file and the
/// upload's copies, the query's result and its pyarrow table. Measured at 4.2 million blocks
/// (see [`python_need`]), the peak grew by 2.25 bytes per byte of added columns from 64 to
/// 256 MiB of them and from 256 MiB to 1 GiB; 3 leaves room for what this machine did not
/// show.
pub(crate) const PYTHON_COLUMN_COPIES: u64 = 3;

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

/// The float64 columns of a sized blockmodels run of `mib` MiB: how many ([`COLUMN_MIB_MAX`])
/// and the bytes of each, `mib` x 2^20 / n rounded down (the grid made for them rounds each up
/// to whole blocks, [`Grid::for_bytes`]).
pub(crate) fn added_columns(mib: u64) -> Result<(u32, u64), String> {
    if mib == 0 {
        return Err("a size must be at least 1 MiB".to_owned());
    }
    let too_large = || format!("{mib} MiB is too large");
    let n = mib.div_ceil(COLUMN_MIB_MAX);
    let bytes = mib.checked_mul(1 << 20).ok_or_else(too_large)? / n;
    Ok((u32::try_from(n).map_err(|_| too_large())?, bytes))
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

    /// The grid whose float64 column holds at least `bytes` bytes, shaped about 2:2:1 like
    /// [`Grid::DEFAULT`] so that the server's work per block stays comparable across sizes.
    /// `nz` is the nearest whole number to the exact shape's and `ny` rounds up, so that `nx`
    /// overshoots the wanted block count (`bytes` / 8, rounded up) by less than one x row.
    pub(crate) fn for_bytes(bytes: u64) -> Result<Grid, String> {
        if bytes == 0 {
            return Err("a column must be at least 1 byte".to_owned());
        }
        let blocks = bytes.div_ceil(BLOCK_BYTES);
        // nx = ny = 2 nz gives 4 nz^3 blocks.
        let nz = ((blocks as f64 / 4.0).cbrt().round() as u64).max(1);
        let ny = ((blocks as f64 / nz as f64).sqrt().ceil() as u64).max(1);
        let nx = blocks.div_ceil(ny * nz).max(1);
        let axis = |n: u64| {
            u32::try_from(n).map_err(|_| format!("a column of {bytes} bytes is too large"))
        };
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

/// The Python side's expected peak for a model of `blocks` blocks to which `column_bytes` of
/// float64 columns are added: [`PYTHON_BYTES_PER_BLOCK`] for each block and
/// [`PYTHON_COLUMN_COPIES`] times the columns' bytes (it holds whole tables, so its memory
/// grows with both), a conservative estimate. Its peaks measured by this benchmark (VmHWM,
/// the largest of 2-3 lan rounds, on a machine of 2 cores and 24 GiB; the first
/// measurements, with `ru_maxrss`, carried the orchestrator's peak and were up to 2.5 times
/// too high), and this estimate of them:
///
/// | workload | blocks | added columns | measured | estimate |
/// |---|---|---|---|---|
/// | default | 4,000,000 | 30.5 MiB (`grade`) | 408 MiB | 1045 MiB |
/// | 8 MiB | 1,048,576 | 1 x 8 MiB | 252 MiB | 274 MiB |
/// | 64 MiB | 4,203,318 | 2 x 32.1 MiB | 420 MiB | 1194 MiB |
/// | 256 MiB | 4,203,318 | 8 x 32.1 MiB | 852 MiB | 1771 MiB |
/// | 1024 MiB | 4,203,318 | 32 x 32.1 MiB | 2591 MiB | 4080 MiB |
pub(crate) fn python_need(blocks: u64, column_bytes: u64) -> u64 {
    let need = u128::from(PYTHON_BYTES_PER_BLOCK) * u128::from(blocks)
        + u128::from(PYTHON_COLUMN_COPIES) * u128::from(column_bytes);
    u64::try_from(need).unwrap_or(u64::MAX)
}

/// Why the Python side of a model of `blocks` blocks with `column_bytes` of added columns must
/// not run when the machine has `mem_available` bytes available, or `None` when it may (also
/// when that is unknown: the benchmark then runs as it always did).
pub(crate) fn python_skip_reason(
    blocks: u64,
    column_bytes: u64,
    mem_available: Option<u64>,
) -> Option<String> {
    let available = mem_available?;
    let need = python_need(blocks, column_bytes);
    let allowed = u128::from(available) * u128::from(PYTHON_MEMORY_SHARE_PERCENT) / 100;
    (u128::from(need) > allowed).then(|| {
        format!(
            "it would need about {} MiB ({PYTHON_BYTES_PER_BLOCK} bytes for each of {blocks} blocks and {PYTHON_COLUMN_COPIES} x the {} MiB of added columns), more than {PYTHON_MEMORY_SHARE_PERCENT}% of MemAvailable ({} MiB)",
            need >> 20,
            column_bytes >> 20,
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
    fn a_size_is_columns_of_at_most_32_mib() {
        assert_eq!(added_columns(8).unwrap(), (1, 8 << 20));
        assert_eq!(added_columns(32).unwrap(), (1, 32 << 20));
        assert_eq!(added_columns(33).unwrap(), (2, 33 << 19));
        assert_eq!(added_columns(64).unwrap(), (2, 32 << 20));
        assert_eq!(added_columns(100).unwrap(), (4, 25 << 20));
        assert_eq!(added_columns(256).unwrap(), (8, 32 << 20));
        assert_eq!(added_columns(1024).unwrap(), (32, 32 << 20));
        for mib in [1, 7, 31, 32, 33, 95, 96, 97, 1000, 4096] {
            let (n, bytes) = added_columns(mib).unwrap();
            let total = u64::from(n) * bytes;
            assert!(bytes <= COLUMN_MIB_MAX << 20, "{mib} MiB: {n} x {bytes}");
            assert!(
                total <= mib << 20 && (mib << 20) - total < u64::from(n),
                "{mib} MiB"
            );
            // No fewer columns would do.
            if n > 1 {
                assert!(
                    mib > (u64::from(n) - 1) * COLUMN_MIB_MAX,
                    "{mib} MiB: {n} columns"
                );
            }
        }
        assert!(added_columns(0).is_err());
        assert!(added_columns(u64::MAX).is_err());
    }

    #[test]
    fn grids_hold_at_least_the_bytes_in_less_than_one_extra_row() {
        let sizes = [1, 4, 8, 16, 31, 256, 1024, 4096].map(|mib| mib << 20);
        for bytes in sizes.into_iter().chain([8, 12, 1000, 33 << 19, 5_000_001]) {
            let grid = Grid::for_bytes(bytes).unwrap();
            let wanted = bytes.div_ceil(BLOCK_BYTES);
            assert!(grid.blocks() >= wanted, "{bytes} bytes: {grid}");
            assert!(
                grid.blocks() - wanted < u64::from(grid.ny) * u64::from(grid.nz),
                "{bytes} bytes: {grid} overshoots by a row or more"
            );
            // About 2:2:1, within the rounding of nz and ny (from 1 MiB up; a few blocks can
            // only make a line).
            if bytes >= 1 << 20 {
                for n in [grid.nx, grid.ny] {
                    let shape = f64::from(n) / f64::from(grid.nz);
                    assert!((1.8..=2.2).contains(&shape), "{bytes} bytes: {grid}");
                }
            }
        }
        assert_eq!(Grid::for_bytes(12).unwrap().blocks(), 2);
        assert!(Grid::for_bytes(0).is_err());
    }

    #[test]
    fn the_issue_sizes_have_these_grids() {
        // 256 MiB and 1 GiB are 8 and 32 columns of 32 MiB, each on this grid.
        let grid = Grid::for_bytes(32 << 20).unwrap();
        assert_eq!(
            grid,
            Grid {
                nx: 203,
                ny: 203,
                nz: 102
            }
        );
        assert_eq!(grid.blocks(), 4_203_318);
        // One column of 256 MiB or 1 GiB, as the sizes were before they were columns.
        assert_eq!(
            Grid::for_bytes(256 << 20).unwrap(),
            Grid {
                nx: 407,
                ny: 407,
                nz: 203
            }
        );
        let grid = Grid::for_bytes(1024 << 20).unwrap();
        assert_eq!(
            grid,
            Grid {
                nx: 645,
                ny: 645,
                nz: 323
            }
        );
        assert_eq!(grid.blocks(), 134_376_075);
    }

    /// The blocks and added column bytes of a sized run of `mib` MiB.
    fn sized(mib: u64) -> (u64, u64) {
        let (n, bytes) = added_columns(mib).unwrap();
        let blocks = Grid::for_bytes(bytes).unwrap().blocks();
        (blocks, u64::from(n) * blocks * BLOCK_BYTES)
    }

    #[test]
    fn the_estimate_is_above_each_measured_peak() {
        assert_eq!(Grid::DEFAULT.blocks(), 4_000_000);
        assert_eq!(python_need(1_000, 0), 250_000);
        assert_eq!(python_need(0, 1_000), 3_000);
        // Above each peak measured (python_need's table), and not three times it.
        let default = python_need(Grid::DEFAULT.blocks(), 32_000_000) >> 20;
        assert!(default > 408 && default < 3 * 408, "{default} MiB");
        for (mib, peak) in [(8, 252), (64, 420), (256, 852), (1024, 2591)] {
            let (blocks, bytes) = sized(mib);
            let need = python_need(blocks, bytes) >> 20;
            assert!(need > peak && need < 3 * peak, "{mib} MiB: {need} MiB");
        }
        assert_eq!(python_need(sized(256).0, sized(256).1) >> 20, 1771);
        assert_eq!(python_need(sized(1024).0, sized(1024).1) >> 20, 4080);
    }

    #[test]
    fn python_runs_up_to_70_percent_of_mem_available() {
        let (blocks, bytes) = sized(256);
        let need = python_need(blocks, bytes);
        // 70% of 10 x need / 7 is need: allowed.
        assert_eq!(
            python_skip_reason(blocks, bytes, Some(need * 10 / 7 + 1)),
            None
        );
        let reason = python_skip_reason(blocks, bytes, Some(need * 10 / 7 - 1024)).unwrap();
        assert!(reason.contains("about 1771 MiB"), "{reason}");
        assert!(
            reason.contains("250 bytes for each of 4203318 blocks"),
            "{reason}"
        );
        assert!(
            reason.contains("3 x the 256 MiB of added columns"),
            "{reason}"
        );
        assert!(reason.contains("70% of MemAvailable"), "{reason}");
        // 23 GiB available (this 24 GiB machine): the issue's 256 MiB and 1 GiB both run; so
        // would 8 GiB of columns not; nor one column of 1 GiB (134 million blocks), as the
        // sizes were before they were columns.
        let available = Some(23 << 30);
        for mib in [8, 256, 1024] {
            let (blocks, bytes) = sized(mib);
            assert_eq!(
                python_skip_reason(blocks, bytes, available),
                None,
                "{mib} MiB"
            );
        }
        let (blocks, bytes) = sized(8192);
        assert!(python_skip_reason(blocks, bytes, available).is_some());
        let one_column = Grid::for_bytes(1 << 30).unwrap().blocks();
        assert!(python_skip_reason(one_column, 1 << 30, available).is_some());
        // Unknown memory: it runs, as before sizes existed.
        assert_eq!(python_skip_reason(blocks, bytes, None), None);
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
