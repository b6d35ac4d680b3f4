//! The blockmodels benchmark: evo-rs (`evo_blockmodels::BlockModelsClient` on
//! `evo_hyper::HyperTransport`) against the official Python SDK (`evo.blockmodels` with
//! pyarrow), each adding float64 columns to a regular block model and querying columns back,
//! through one in-process emulator, blobs over its TLS listener (set up as in the files
//! benchmark).
//!
//! By default the model is of 4 million blocks (200 × 200 × 100), one column `grade`
//! ((b % 97) × 0.125 for block b) is added, and `a`, `b` and `grade` are queried back.
//! `EVO_BENCH_BLOCKMODELS_MIB` (comma-separated MiB) sizes the workload by data volume instead,
//! through the number of columns: at S MiB, n = ceil(S / 32) float64 columns `grade0` ..
//! `grade{n-1}` of S / n MiB each are added (S MiB in all, each column rounded up by less than
//! a row of blocks), on a grid of at least S × 2^20 / n / 8 blocks shaped about 2:2:1 like the
//! default. So 256 MiB is 8 columns of 32 MiB on 4.2 million blocks (203 × 203 × 102), 1024 MiB
//! 32 such columns, 8 MiB one column of 8 MiB on about a million blocks; each grid is printed.
//! `EVO_BENCH_BLOCKMODELS_MIB=256,1024` gives issue #18's sizes. A sized run queries back the n
//! added columns alone (not `a` and `b`), so that its query moves about S MiB too (beside the
//! i, j, k indices both sides' queries return). Their values, ((b × M_c) mod (2^31 - 1)) ×
//! 10^-6 for block b with an odd multiplier M_c of each column c ([`Added::value`]), are the
//! same on both sides and compress poorly (written by pyarrow, a column of 32 MiB keeps about
//! 93% of its bytes under gzip and all under snappy, which both SDKs write for block models),
//! so the Parquet files moved are about the columns' size. The default's `grade`, 97 values
//! over and over, compresses to almost nothing, so its update moves little. Throughput is of
//! the blob bytes each operation moved either way (see below).
//!
//! The Python SDK holds whole tables in memory: where its expected peak
//! ([`python_need`](crate::sizes::python_need), of the blocks and of the added columns' bytes)
//! is above 70% of MemAvailable, its side is not run, which is printed; evo-rs still runs and
//! reports its numbers, with no ratio. The summary line is of the largest size at which both
//! sides ran, which is printed before it.
//!
//! Each side's round has a fresh emulator of its own, on which the orchestrator makes a model
//! with two float columns (`a`, `b`): an emulator keeps every blob and model it was given (a
//! deleted model is only marked deleted), so at 1 GiB the rounds' blobs would otherwise pile up
//! in the orchestrator's memory beside Python's. Both sides build the new columns' values before
//! their clocks start (Python also its i, j, k columns; evo-rs makes those inside its clock).
//! The update clock covers writing the Parquet file, uploading it, notifying and waiting for the
//! job; the query clock covers the query, its job, downloading the result and decoding it into
//! Arrow (Python into one pyarrow Table, as its API gives; evo-rs batch by batch, as its API
//! streams). Each side sums the columns it read: the orchestrator checks that both sides read
//! every block (`rows`) and that their sums agree, and stops with an error where they do not.
//! Each side runs in its own child process per round (its own peak resident memory, `VmHWM`,
//! and its CPU time, taken by `getrusage` around each clock); best of 3 rounds
//! (`EVO_BENCH_ROUNDS`), order alternated, under each network profile (`EVO_BENCH_PROFILES`,
//! default lan and wan).
//! Throughput and CPU per GiB are of the blob bytes each operation moved (the update's Parquet
//! file, the query's result), as the emulator counted them.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use evo_blockmodels::evo_tables::arrow_array::{ArrayRef, Float64Array};
use evo_blockmodels::{
    BlockModelsClient, BlockSize, ColumnChanges, NewBlockModel, Query, Size3, SizeOptions,
};
use evo_core::{ApiConnector, Environment};
use futures_util::StreamExt as _;

use crate::best_of::{BestOf, Workload};
use crate::io::{
    PythonBench, child_hub_connection, child_result, env_mib_list, env_number, hub_connection,
    peak_rss, tls_emulator,
};
use crate::profiles::NetworkProfiles;
use crate::rusage::own_cpu_seconds;
use crate::sizes::{BLOCK_BYTES, Grid, added_columns, mem_available, python_skip_reason};

const PYTHON_SCRIPT: &str = include_str!("../python/blockmodels_bench.py");
const SIDES: [&str; 2] = ["rust", "python"];

/// The modulus of a sized run's column values ([`Added::value`]): 2^31 - 1, a prime. A smaller
/// one (1000003 was tried) repeats its values within a column of 32 MiB, and such a column
/// compressed to a third (zstd), a half (gzip) or two thirds (snappy) of its size.
const MODULUS: u64 = 2_147_483_647;

/// The multiplier of a sized run's first column (Knuth's 2^32 / golden ratio, odd); column c's
/// is this plus 2c, so each is odd, distinct modulo [`MODULUS`] and below 2^32 for any count of
/// columns a run could have. A sized run's columns are of at most 32 MiB, so its blocks are
/// about 2^22 at most (and any count below 2^28 would do): b × M_c stays below 2^60, with no
/// overflow in u64 here nor in numpy's int64 in the Python script.
const MULTIPLIER: u64 = 2_654_435_761;

/// The float64 columns a round adds to its model, and so what it queries back. The child's
/// COLUMNS argument, the same on both sides: `0` for [`Added::Grade`], n for
/// [`Added::Sized`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Added {
    /// The default workload: the column `grade`, (b % 97) × 0.125 for block b, queried back
    /// with `a` and `b`.
    Grade,
    /// A sized run's n columns `grade0` .. `grade{n-1}`, ((b × M_c) mod (2^31 - 1)) × 10^-6
    /// for block b in column c ([`MULTIPLIER`]), queried back alone.
    Sized(u32),
}

impl Added {
    /// The child's COLUMNS argument.
    fn arg(self) -> String {
        match self {
            Added::Grade => "0".to_owned(),
            Added::Sized(n) => n.to_string(),
        }
    }

    /// The columns of a child's COLUMNS argument.
    fn parse(arg: &str) -> Result<Added, String> {
        match arg.parse::<u32>() {
            Ok(0) => Ok(Added::Grade),
            Ok(n) => Ok(Added::Sized(n)),
            Err(e) => Err(format!("bad column count {arg:?}: {e}")),
        }
    }

    /// How many columns are added.
    fn count(self) -> u32 {
        match self {
            Added::Grade => 1,
            Added::Sized(n) => n,
        }
    }

    /// The names of the added columns.
    fn names(self) -> Vec<String> {
        match self {
            Added::Grade => vec!["grade".to_owned()],
            Added::Sized(n) => (0..n).map(|c| format!("grade{c}")).collect(),
        }
    }

    /// The columns the query reads back (beside the indices).
    fn queried(self) -> Vec<String> {
        match self {
            Added::Grade => ["a", "b", "grade"].map(str::to_owned).to_vec(),
            Added::Sized(_) => self.names(),
        }
    }

    /// The value of block `block` in added column `column` (0-based), as the Python script
    /// computes it too: integer arithmetic, then one float64 multiplication.
    fn value(self, column: u32, block: u64) -> f64 {
        match self {
            Added::Grade => (block % 97) as f64 * 0.125,
            Added::Sized(_) => {
                let multiplier = MULTIPLIER + 2 * u64::from(column);
                ((block * multiplier) % MODULUS) as f64 * 1e-6
            }
        }
    }
}

/// One size of the benchmark: how the report names it (its bytes are those of all the added
/// columns), its model's grid and the columns added.
type Model = (Workload, Grid, Added);

/// The models to measure: one of each of `sizes_mib` (`EVO_BENCH_BLOCKMODELS_MIB`), or the
/// default [`Grid::DEFAULT`] with [`Added::Grade`] when there are none.
fn models(sizes_mib: &[u64]) -> Result<Vec<Model>, String> {
    let model = |grid: Grid, added: Added, label: String| {
        (
            Workload {
                bytes: grid.blocks() * BLOCK_BYTES * u64::from(added.count()),
                label,
            },
            grid,
            added,
        )
    };
    if sizes_mib.is_empty() {
        let grid = Grid::DEFAULT;
        return Ok(vec![model(
            grid,
            Added::Grade,
            format!("{} blocks", grid.blocks()),
        )]);
    }
    sizes_mib
        .iter()
        .map(|&mib| {
            let sized = || {
                let (n, bytes) = added_columns(mib)?;
                Ok::<_, String>((n, Grid::for_bytes(bytes)?))
            };
            let (n, grid) = sized().map_err(|e| format!("EVO_BENCH_BLOCKMODELS_MIB: {e}"))?;
            Ok(model(grid, Added::Sized(n), format!("{mib} MiB")))
        })
        .collect()
}

/// Whether two sides' checksums (sums of the columns read, printed to 7 significant digits)
/// are of the same values: within a millionth of each other, more than the printing's rounding
/// and the sums' different orders of addition can make, and enough to catch a side that read
/// other columns, a share of the blocks or nothing.
fn checksums_agree(x: f64, y: f64) -> bool {
    (x - y).abs() <= 1e-6 * x.abs().max(y.abs())
}

/// The block models client of a hub connection ([`hub_connection`], [`child_hub_connection`]).
fn client(
    (environment, connector): (Environment, ApiConnector),
) -> Result<BlockModelsClient, String> {
    BlockModelsClient::new(environment, connector)
        .map_err(|e| format!("building the block models client: {e}"))
}

/// Runs the whole benchmark and prints the report; the last line is the summary.
pub fn orchestrate() -> Result<(), String> {
    let models = models(&env_mib_list("EVO_BENCH_BLOCKMODELS_MIB", &[])?)?;
    let rounds = env_number("EVO_BENCH_ROUNDS", 3usize, "a whole number")?.max(1);
    let profiles = NetworkProfiles::from_env()?;
    crate::io::beside_python("blockmodels", PYTHON_SCRIPT, |bench| {
        println!(
            "blockmodels-bench: float64 columns added to a regular model, then queried back, through the emulator, blobs over TLS; {rounds} rounds; {}",
            profiles.describe()
        );
        for (workload, grid, added) in &models {
            println!(
                "  {}: {grid} = {} blocks, {}",
                workload.label,
                grid.blocks(),
                describe(workload, *added)
            );
        }
        let mut best = BestOf::new(["update", "query"]);
        for &profile in &profiles.names {
            for model in &models {
                run(bench, (profile, model), &profiles, rounds, &mut best)?;
            }
        }
        best.report("blockmodels", rounds)
    })
}

/// What a model's added columns are and what its query reads, for the report.
fn describe(workload: &Workload, added: Added) -> String {
    let mib = |bytes: u64| bytes as f64 / f64::from(1u32 << 20);
    match added {
        Added::Grade => format!(
            "the added column grade {:.1} MiB; a, b and grade queried",
            mib(workload.bytes)
        ),
        Added::Sized(n) => format!(
            "{n} added column{} of {:.1} MiB, {:.1} MiB in all, all queried",
            if n == 1 { "" } else { "s" },
            mib(workload.bytes / u64::from(n)),
            mib(workload.bytes)
        ),
    }
}

/// Whether Python's side may run at a model of `grid` with `column_bytes` of added columns
/// (`at` names the profile and size in what is printed): not when it would not fit in memory,
/// which is printed with the reason.
fn python_runs(at: &str, grid: Grid, column_bytes: u64) -> bool {
    // Checked before each profile's rounds rather than once for all: whoever else is on the
    // machine may have taken memory since. Not between rounds, so that both sides of a size
    // are the best of as many rounds.
    let available = mem_available();
    if let Some(why) = python_skip_reason(grid.blocks(), column_bytes, available) {
        println!(
            "  {at}: the python side is not run: {why}; evo-rs runs alone, and this size has no ratio"
        );
        return false;
    }
    if available.is_none() {
        println!(
            "  {at}: MemAvailable could not be read from /proc/meminfo: the python side runs unchecked"
        );
    }
    true
}

/// The rounds under `profile` at `model`, each side's round on an emulator of its own.
fn run(
    bench: &PythonBench<'_>,
    (profile, (workload, grid, added)): (&'static str, &Model),
    profiles: &NetworkProfiles,
    rounds: usize,
    best: &mut BestOf,
) -> Result<(), String> {
    let (grid, added) = (*grid, *added);
    let blocks = usize::try_from(grid.blocks()).map_err(|e| e.to_string())?;
    let ca = bench.dir.join("emulator-ca.pem");
    let rt = crate::io::runtime()?;
    let wan = profiles.emulator_profile(profile);
    let at = format!("{profile} {}", workload.label);
    let sides: &[&str] = if python_runs(&at, grid, workload.bytes) {
        &SIDES
    } else {
        &["rust"]
    };
    // The first checksum of this model, and whose: every other side's and round's must agree.
    let mut first_checksum: Option<(&str, f64)> = None;
    for round in 0..rounds {
        let mut sides = sides.to_vec();
        let turn = round % sides.len();
        // Alternate who goes first, so neither side always meets a warm or a cold machine.
        sides.rotate_left(turn);
        for side in sides {
            // A fresh emulator for each side's round: an emulator keeps every blob and model it
            // was given (a deleted model is only marked deleted), which at 1 GiB would add up
            // to several GiB a round, beside the Python side's own peak.
            let (emulator, workspace) = tls_emulator(&rt, &ca, |builder| builder.wan_profile(wan))?;
            let token = emulator.issue_token(&["evo.blocksync"]);
            let ca_pem = std::fs::read(&ca).map_err(|e| format!("reading the CA: {e}"))?;
            let setup = client(hub_connection(
                emulator.hub_url(),
                emulator.org_id(),
                workspace,
                token.clone(),
                &ca_pem,
            )?)?;
            let (hub, org, ws) = (
                emulator.hub_url().to_string(),
                emulator.org_id().to_string(),
                workspace.to_string(),
            );
            // A model with two columns for this side and round (not timed).
            let bm = rt.block_on(async {
                let (model, _) = setup
                    .create(
                        &NewBlockModel::new(
                            format!("{side}-{round}"),
                            SizeOptions::Regular {
                                n_blocks: Size3::new(grid.nx, grid.ny, grid.nz),
                                block_size: BlockSize::new(10.0, 10.0, 5.0),
                            },
                        )
                        .size_unit("m"),
                    )
                    .await
                    .map_err(|e| format!("creating the model: {e}"))?;
                let a: ArrayRef = Arc::new(Float64Array::from_iter_values(
                    (0..blocks).map(|b| b as f64),
                ));
                let b: ArrayRef = Arc::new(Float64Array::from_iter_values(
                    (0..blocks).map(|b| (b % 11) as f64),
                ));
                setup
                    .update_columns(
                        model.bm_uuid,
                        &ColumnChanges::new().add("a", a, None).add("b", b, None),
                    )
                    .await
                    .map_err(|e| format!("filling the model: {e}"))?;
                Ok::<_, String>(model.bm_uuid)
            })?;
            let cache = bench.dir.join(format!("{side}-cache-{round}"));
            let _ = Command::new("sync").status();
            let mut command = bench.side_command(side, "blockmodels-child", &ca, |c| {
                c.args([&hub, &org, &ws, &bm.to_string()])
                    .args([grid.nx, grid.ny, grid.nz].map(|n| n.to_string()))
                    .arg(added.arg())
                    .arg(&cache)
                    .env("EVO_TOKEN", &token);
            })?;
            let (received, sent) = (emulator.blob_bytes_received(), emulator.blob_bytes_sent());
            let result = child_result(side, &mut command)?;
            let checksum = result
                .number::<f64>("checksum")
                .ok_or_else(|| format!("the {side} child printed no checksum: {}", result.line))?;
            match first_checksum {
                None => first_checksum = Some((side, checksum)),
                Some((first, expected)) if !checksums_agree(checksum, expected) => {
                    return Err(format!(
                        "{at} round {}: {side} read columns summing to {checksum:e}, {first} to {expected:e}: the sides did not read the same values",
                        round + 1
                    ));
                }
                Some(_) => {}
            }
            // evo-rs downloads the result once more outside its clocks (`query_split`).
            let untimed = result.number::<u64>("untimed_sent_bytes").unwrap_or(0);
            let moved = [
                emulator.blob_bytes_received() - received,
                (emulator.blob_bytes_sent() - sent).saturating_sub(untimed),
            ];
            let _ = std::fs::remove_dir_all(&cache);
            rt.block_on(emulator.shutdown());
            // evo-rs also says where its query time went (the job and download, then the
            // decoding), to show what a faster client can still win.
            let split = |[_, query_seconds]: [f64; 2]| {
                result
                    .number::<f64>("fetched_seconds")
                    .map(|f| {
                        let alone = match (
                            result.number::<f64>("job_seconds"),
                            result.number::<f64>("download_seconds"),
                        ) {
                            (Some(j), Some(d)) => format!(
                                "; alone: job {j:.2} s, download {d:.2} s of {} MiB",
                                result.number::<u64>("result_bytes").unwrap_or(0) >> 20
                            ),
                            _ => String::new(),
                        };
                        format!(
                            "  (job and download {f:.2} s, decode {:.2} s{alone})",
                            query_seconds - f
                        )
                    })
                    .unwrap_or_default()
            };
            best.round(
                (profile, workload),
                round,
                side,
                &result,
                (blocks, moved),
                split,
            )?;
        }
    }
    Ok(())
}

/// `blockmodels-child HUB ORG WORKSPACE BM NX NY NZ COLUMNS CACHE CA`: the evo-rs side of one
/// round (token in `EVO_TOKEN`), adding the columns of COLUMNS ([`Added`]: `0` for the default
/// `grade`, n for `grade0` .. `grade{n-1}`) and querying back what [`Added::queried`] says.
/// Prints the same `result ...` line as the Python script.
pub fn child(args: &[String]) -> Result<(), String> {
    let [hub, org, workspace, bm, nx, ny, nz, added, _cache, ca] = args else {
        return Err("usage: evo-bench blockmodels-child HUB ORG WORKSPACE BM NX NY NZ COLUMNS CACHE CA (token in EVO_TOKEN)".into());
    };
    let added = Added::parse(added)?;
    let bm: uuid::Uuid = bm.parse().map_err(|e| format!("bad model id: {e}"))?;
    let mut blocks = 1usize;
    for n in [nx, ny, nz] {
        let n: usize = n.parse().map_err(|e| format!("bad grid size {n:?}: {e}"))?;
        blocks = blocks.checked_mul(n).ok_or("the grid is too large")?;
    }
    let client = client(child_hub_connection(hub, org, workspace, ca)?)?;
    // The same values as the Python side, before the clock.
    let mut changes = ColumnChanges::new();
    for (column, name) in (0..).zip(added.names()) {
        let values: ArrayRef = Arc::new(Float64Array::from_iter_values(
            (0..blocks as u64).map(|b| added.value(column, b)),
        ));
        changes = changes.add(name, values, None);
    }
    let queried = added.queried();
    let rt = crate::io::runtime()?;
    let (
        (update_seconds, update_cpu),
        (query_seconds, query_cpu),
        fetched_seconds,
        rows,
        checksum,
        job_seconds,
        download_seconds,
        result_bytes,
    ) = rt.block_on(async {
        let (started, cpu) = (Instant::now(), own_cpu_seconds());
        client
            .update_columns(bm, &changes)
            .await
            .map_err(|e| format!("adding the column: {e}"))?;
        let update = (started.elapsed().as_secs_f64(), own_cpu_seconds() - cpu);

        let (started, cpu) = (Instant::now(), own_cpu_seconds());
        let result = client
            .query(bm, &Query::new(&queried))
            .await
            .map_err(|e| format!("querying: {e}"))?;
        // Where the query's time goes: the job and the download, then the decoding.
        let fetched_seconds = started.elapsed().as_secs_f64();
        let mut batches = Box::pin(result.batches());
        let (mut rows, mut checksum) = (0usize, 0.0f64);
        while let Some(batch) = batches.next().await {
            let batch = batch.map_err(|e| format!("decoding: {e}"))?;
            rows += batch.num_rows();
            for name in &queried {
                let column = batch
                    .column_by_name(name)
                    .ok_or_else(|| format!("the column {name} is missing"))?;
                let values = column
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .ok_or("not float64")?;
                checksum += values.values().iter().sum::<f64>();
            }
        }
        let query = (started.elapsed().as_secs_f64(), own_cpu_seconds() - cpu);
        let (job_seconds, download_seconds, result_bytes) =
            query_split(&client, bm, &queried).await?;
        Ok::<_, String>((
            update,
            query,
            fetched_seconds,
            rows,
            checksum,
            job_seconds,
            download_seconds,
            result_bytes,
        ))
    })?;
    println!(
        "result update_seconds={update_seconds:.4} query_seconds={query_seconds:.4} update_cpu={update_cpu:.4} query_cpu={query_cpu:.4} fetched_seconds={fetched_seconds:.4} job_seconds={job_seconds:.4} download_seconds={download_seconds:.4} result_bytes={result_bytes} untimed_sent_bytes={result_bytes} peak_bytes={} rows={rows} checksum={checksum:.6e}",
        peak_rss()
    );
    Ok(())
}

/// After the timed query (so outside its clock): the same query (of the columns `queried`)
/// again, its job watched every 5 ms to see how long the server's work takes, then its result
/// downloaded alone. Says how much of the timed query is the server's and how much the
/// transfer's.
async fn query_split(
    client: &BlockModelsClient,
    bm: uuid::Uuid,
    queried: &[String],
) -> Result<(f64, f64, u64), String> {
    let started = Instant::now();
    let (_, job) = client
        .start_query(bm, &Query::new(queried))
        .await
        .map_err(|e| format!("querying: {e}"))?;
    let state = loop {
        let state = job.status().await.map_err(|e| format!("polling: {e}"))?;
        if state.job_status.is_terminal() {
            break state;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let url = state
        .payload
        .as_ref()
        .and_then(|p| p.get("download_url"))
        .and_then(|u| u.as_str())
        .ok_or_else(|| {
            format!(
                "the query job ended {:?} without a download URL: {:?}",
                state.job_status, state.payload
            )
        })?
        .parse::<url::Url>()
        .map_err(|e| e.to_string())?;
    let job_seconds = started.elapsed().as_secs_f64();
    let file = std::env::temp_dir().join(format!("evo-bench-split-{}.parquet", job.job_id()));
    let started = Instant::now();
    client
        .blob_client()
        .download(url, evo_io::Destination::file(&file))
        .overwrite(true)
        .await
        .map_err(|e| format!("downloading: {e}"))?;
    let download_seconds = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&file);
    Ok((job_seconds, download_seconds, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_sizes_the_model_is_the_default() {
        let models = models(&[]).unwrap();
        assert_eq!(models.len(), 1);
        assert_eq!(models[0].1, Grid::DEFAULT);
        assert_eq!(models[0].2, Added::Grade);
        assert_eq!(models[0].0.label, "4000000 blocks");
        assert_eq!(models[0].0.bytes, 32_000_000);
        assert_eq!(Added::Grade.names(), ["grade"]);
        assert_eq!(Added::Grade.queried(), ["a", "b", "grade"]);
        assert_eq!(Added::Grade.arg(), "0");
    }

    #[test]
    fn sizes_are_mib_of_added_columns_of_at_most_32_mib() {
        let sized = models(&[8, 256, 1024, 33]).unwrap();
        // 8 MiB: one column of exactly 8 MiB (128 x 128 x 64).
        assert_eq!(sized[0].1, Grid::for_bytes(8 << 20).unwrap());
        assert_eq!(sized[0].2, Added::Sized(1));
        assert_eq!(sized[0].0.label, "8 MiB");
        assert_eq!(sized[0].0.bytes, 8 << 20);
        // 256 MiB and 1 GiB: 8 and 32 columns of 32 MiB, each rounded up to a whole row.
        let column = Grid::for_bytes(32 << 20).unwrap();
        let row_bytes = u64::from(column.ny) * u64::from(column.nz) * BLOCK_BYTES;
        for ((workload, grid, added), (mib, n)) in sized[1..3].iter().zip([(256, 8), (1024, 32)]) {
            assert_eq!((*grid, *added), (column, Added::Sized(n)), "{mib} MiB");
            assert_eq!(workload.label, format!("{mib} MiB"));
            assert_eq!(workload.bytes, u64::from(n) * column.blocks() * BLOCK_BYTES);
            assert!(workload.bytes >= mib << 20, "{mib} MiB");
            assert!(
                workload.bytes - (mib << 20) < u64::from(n) * row_bytes,
                "{mib} MiB"
            );
        }
        // 33 MiB: two columns of 16.5 MiB.
        assert_eq!(sized[3].2, Added::Sized(2));
        assert_eq!(sized[3].1, Grid::for_bytes(33 << 19).unwrap());
        assert!(models(&[0]).is_err());
    }

    #[test]
    fn the_columns_argument_says_what_is_added_and_queried() {
        for added in [Added::Grade, Added::Sized(1), Added::Sized(32)] {
            assert_eq!(Added::parse(&added.arg()).unwrap(), added);
        }
        assert!(Added::parse("x").is_err());
        assert!(Added::parse("-1").is_err());
        let three = Added::Sized(3);
        assert_eq!(three.count(), 3);
        assert_eq!(three.names(), ["grade0", "grade1", "grade2"]);
        // A sized run queries its added columns alone.
        assert_eq!(three.queried(), three.names());
    }

    #[test]
    fn the_values_are_those_of_the_python_script() {
        // As blockmodels_bench.py's added_columns computes them (exactly, printed by Python's
        // repr) for blocks 0, 1, 2 and 4203317 (the last of a 32 MiB column).
        let sized = Added::Sized(2);
        let blocks = [0, 1, 2, 4_203_317];
        let values = |column| blocks.map(|b| sized.value(column, b));
        assert_eq!(values(0), [0.0, 506.952114, 1013.904228, 1135.520742]);
        assert_eq!(
            values(1),
            [0.0, 506.952116, 1013.904232, 1143.9273759999999]
        );
        assert_eq!(
            blocks.map(|b| Added::Grade.value(0, b)),
            [0.0, 0.125, 0.25, 2.0]
        );
        // The sum of 256 MiB's 8 columns, as Python's numpy gives it.
        let (blocks, sized) = (4_203_318u64, Added::Sized(8));
        let sum: f64 = (0..8)
            .map(|c| (0..blocks).map(|b| sized.value(c, b)).sum::<f64>())
            .sum();
        assert!(checksums_agree(sum, 36_106_226_614.158_83), "{sum}");
    }

    #[test]
    fn the_values_neither_overflow_nor_repeat_soon() {
        // Integer arithmetic below 2^63 (numpy's int64) at any column and block a run has.
        let largest = (MULTIPLIER + 2 * 1023).checked_mul((1 << 28) - 1).unwrap();
        assert!(largest < 1 << 63);
        // Odd, distinct multipliers modulo the prime, so no two columns are alike and none
        // repeats within a column of 32 MiB.
        let m = |c: u64| (MULTIPLIER + 2 * c) % MODULUS;
        assert!(MULTIPLIER % 2 == 1 && m(0) != 0);
        assert!((1..1024).all(|c| m(c) != m(0)));
        let column: std::collections::HashSet<u64> = (0..4_203_318u64)
            .map(|b| Added::Sized(1).value(0, b).to_bits())
            .collect();
        assert_eq!(column.len(), 4_203_318);
    }

    #[test]
    fn checksums_agree_within_a_millionth() {
        let x = 36_106_226_614.158_83;
        // As each side prints it: 7 significant digits.
        let printed: f64 = format!("{x:.6e}").parse().unwrap();
        assert!(checksums_agree(x, printed));
        assert!(checksums_agree(printed, x));
        assert!(checksums_agree(x, x * (1.0 + 0.9e-6)));
        assert!(!checksums_agree(x, x * (1.0 + 1.1e-6)));
        assert!(!checksums_agree(x, 0.0));
        assert!(checksums_agree(0.0, 0.0));
    }

    #[test]
    fn the_report_describes_the_columns() {
        let sized = models(&[256]).unwrap();
        assert_eq!(
            describe(&sized[0].0, sized[0].2),
            "8 added columns of 32.1 MiB, 256.6 MiB in all, all queried"
        );
        let default = models(&[]).unwrap();
        assert_eq!(
            describe(&default[0].0, default[0].2),
            "the added column grade 30.5 MiB; a, b and grade queried"
        );
    }
}
