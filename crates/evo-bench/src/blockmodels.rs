//! The blockmodels benchmark: evo-rs (`evo_blockmodels::BlockModelsClient` on
//! `evo_hyper::HyperTransport`) against the official Python SDK (`evo.blockmodels` with
//! pyarrow), each adding a float column to a regular block model and querying three columns
//! back, through one in-process emulator, blobs over its TLS listener (set up as in the files
//! benchmark).
//!
//! The model is of 4 million blocks (200 × 200 × 100) by default. `EVO_BENCH_BLOCKMODELS_MIB`
//! (comma-separated MiB) sizes it by data volume instead: at S MiB the added float64 column
//! holds S MiB, so the model has at least S x 2^20 / 8 blocks, on a grid shaped about 2:2:1
//! like the default (the block count rounds up by less than one x row; each grid is printed).
//! `EVO_BENCH_BLOCKMODELS_MIB=256,1024` gives issue #18's sizes. The Python SDK holds whole
//! columns in memory (about 2.5 GiB at 4 million blocks): where its expected peak, scaled from
//! that, is above 70% of MemAvailable, its side is not run, which is printed; evo-rs still runs
//! and reports its numbers, with no ratio. The summary line is of the largest size at which
//! both sides ran, which is printed before it.
//!
//! Before each round the orchestrator makes a fresh model with two float columns (`a`, `b`)
//! for each side. Both sides build the new column's values before their clocks start (Python
//! also its i, j, k columns; evo-rs makes those inside its clock). The update clock covers
//! writing the Parquet file, uploading it, notifying and waiting for the job; the query clock
//! covers the query, its job, downloading the result and decoding it into Arrow (Python into
//! one pyarrow Table, as its API gives; evo-rs batch by batch, as its API streams). Each side
//! runs in its own child process per round (its own peak resident memory and CPU time, taken by
//! `getrusage` around each clock); best of 3 rounds (`EVO_BENCH_ROUNDS`), order alternated,
//! under each network profile (`EVO_BENCH_PROFILES`, default lan and wan), a fresh emulator for
//! each profile and size. Throughput and CPU per GiB are of the blob bytes each operation moved
//! (the update's Parquet file, the query's result), as the emulator counted them.

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
use crate::sizes::{BLOCK_BYTES, Grid, mem_available, python_skip_reason};

const PYTHON_SCRIPT: &str = include_str!("../python/blockmodels_bench.py");
const SIDES: [&str; 2] = ["rust", "python"];

/// One size of the benchmark: how the report names it and its model's grid.
type Model = (Workload, Grid);

/// The models to measure: one of each of `sizes_mib` (`EVO_BENCH_BLOCKMODELS_MIB`), or the
/// default [`Grid::DEFAULT`] when there are none.
fn models(sizes_mib: &[u64]) -> Result<Vec<Model>, String> {
    let model = |grid: Grid, label: String| {
        (
            Workload {
                bytes: grid.blocks() * BLOCK_BYTES,
                label,
            },
            grid,
        )
    };
    if sizes_mib.is_empty() {
        let grid = Grid::DEFAULT;
        return Ok(vec![model(grid, format!("{} blocks", grid.blocks()))]);
    }
    sizes_mib
        .iter()
        .map(|&mib| {
            let grid = Grid::for_mib(mib).map_err(|e| format!("EVO_BENCH_BLOCKMODELS_MIB: {e}"))?;
            Ok(model(grid, format!("{mib} MiB")))
        })
        .collect()
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
            "blockmodels-bench: a float column added to a regular model, then three columns queried back, through the emulator, blobs over TLS; {rounds} rounds; {}",
            profiles.describe()
        );
        for (workload, grid) in &models {
            println!(
                "  {}: {grid} = {} blocks, the added column {:.1} MiB",
                workload.label,
                grid.blocks(),
                workload.bytes as f64 / f64::from(1u32 << 20)
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

/// Whether Python's side may run at a model of `grid` (`at` names the profile and size in what
/// is printed): not when it would not fit in memory, which is printed with the reason.
fn python_runs(at: &str, grid: Grid) -> bool {
    // Checked before each profile's rounds rather than once for all: whoever else is on the
    // machine may have taken memory since. Not between rounds, so that both sides of a size
    // are the best of as many rounds.
    let available = mem_available();
    if let Some(why) = python_skip_reason(grid.blocks(), available) {
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

/// The rounds under `profile` at `model`, on an emulator of their own.
fn run(
    bench: &PythonBench<'_>,
    (profile, (workload, grid)): (&'static str, &Model),
    profiles: &NetworkProfiles,
    rounds: usize,
    best: &mut BestOf,
) -> Result<(), String> {
    let grid = *grid;
    let blocks = usize::try_from(grid.blocks()).map_err(|e| e.to_string())?;
    let ca = bench.dir.join("emulator-ca.pem");
    let rt = crate::io::runtime()?;
    let wan = profiles.emulator_profile(profile);
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
    let sides: &[&str] = if python_runs(&format!("{profile} {}", workload.label), grid) {
        &SIDES
    } else {
        &["rust"]
    };
    for round in 0..rounds {
        let mut sides = sides.to_vec();
        let turn = round % sides.len();
        // Alternate who goes first, so neither side always meets a warm or a cold machine.
        sides.rotate_left(turn);
        for side in sides {
            // A fresh model with two columns for this side and round (not timed).
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
                    .arg(&cache)
                    .env("EVO_TOKEN", &token);
            })?;
            let (received, sent) = (emulator.blob_bytes_received(), emulator.blob_bytes_sent());
            let result = child_result(side, &mut command)?;
            // evo-rs downloads the result once more outside its clocks (`query_split`).
            let untimed = result.number::<u64>("untimed_sent_bytes").unwrap_or(0);
            let moved = [
                emulator.blob_bytes_received() - received,
                (emulator.blob_bytes_sent() - sent).saturating_sub(untimed),
            ];
            let _ = std::fs::remove_dir_all(&cache);
            rt.block_on(setup.delete(bm))
                .map_err(|e| format!("deleting the model: {e}"))?;
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
    rt.block_on(emulator.shutdown());
    Ok(())
}

/// `blockmodels-child HUB ORG WORKSPACE BM NX NY NZ CACHE CA`: the evo-rs side of one round
/// (token in `EVO_TOKEN`). Prints the same `result ...` line as the Python script.
pub fn child(args: &[String]) -> Result<(), String> {
    let [hub, org, workspace, bm, nx, ny, nz, _cache, ca] = args else {
        return Err("usage: evo-bench blockmodels-child HUB ORG WORKSPACE BM NX NY NZ CACHE CA (token in EVO_TOKEN)".into());
    };
    let bm: uuid::Uuid = bm.parse().map_err(|e| format!("bad model id: {e}"))?;
    let mut blocks = 1usize;
    for n in [nx, ny, nz] {
        let n: usize = n.parse().map_err(|e| format!("bad grid size {n:?}: {e}"))?;
        blocks = blocks.checked_mul(n).ok_or("the grid is too large")?;
    }
    let client = client(child_hub_connection(hub, org, workspace, ca)?)?;
    // The same values as the Python side, before the clock.
    let grade: ArrayRef = Arc::new(Float64Array::from_iter_values(
        (0..blocks).map(|b| (b % 97) as f64 * 0.125),
    ));
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
            .update_columns(bm, &ColumnChanges::new().add("grade", grade, None))
            .await
            .map_err(|e| format!("adding the column: {e}"))?;
        let update = (started.elapsed().as_secs_f64(), own_cpu_seconds() - cpu);

        let (started, cpu) = (Instant::now(), own_cpu_seconds());
        let result = client
            .query(bm, &Query::new(["a", "b", "grade"]))
            .await
            .map_err(|e| format!("querying: {e}"))?;
        // Where the query's time goes: the job and the download, then the decoding.
        let fetched_seconds = started.elapsed().as_secs_f64();
        let mut batches = Box::pin(result.batches());
        let (mut rows, mut checksum) = (0usize, 0.0f64);
        while let Some(batch) = batches.next().await {
            let batch = batch.map_err(|e| format!("decoding: {e}"))?;
            rows += batch.num_rows();
            for name in ["a", "b", "grade"] {
                let column = batch.column_by_name(name).ok_or("a column is missing")?;
                let values = column
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .ok_or("not float64")?;
                checksum += values.values().iter().sum::<f64>();
            }
        }
        let query = (started.elapsed().as_secs_f64(), own_cpu_seconds() - cpu);
        let (job_seconds, download_seconds, result_bytes) = query_split(&client, bm).await?;
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

/// After the timed query (so outside its clock): the same query again, its job watched every
/// 5 ms to see how long the server's work takes, then its result downloaded alone. Says how
/// much of the timed query is the server's and how much the transfer's.
async fn query_split(
    client: &BlockModelsClient,
    bm: uuid::Uuid,
) -> Result<(f64, f64, u64), String> {
    let started = Instant::now();
    let (_, job) = client
        .start_query(bm, &Query::new(["a", "b", "grade"]))
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
        assert_eq!(models[0].0.label, "4000000 blocks");
        assert_eq!(models[0].0.bytes, 32_000_000);
    }

    #[test]
    fn sizes_are_mib_of_the_added_column() {
        let sized = models(&[8, 4]).unwrap();
        assert_eq!(sized[0].1, Grid::for_mib(8).unwrap());
        assert_eq!(sized[0].0.label, "8 MiB");
        assert_eq!(sized[0].0.bytes, 8 << 20);
        assert!(sized[1].0.bytes >= 4 << 20);
        assert!(models(&[0]).is_err());
    }
}
