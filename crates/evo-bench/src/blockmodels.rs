//! The blockmodels benchmark: evo-rs (`evo_blockmodels::BlockModelsClient` on
//! `evo_hyper::HyperTransport`) against the official Python SDK (`evo.blockmodels` with
//! pyarrow), each adding a float column to a 4-million-block regular model (200 × 200 × 100)
//! and querying three columns back, through one in-process emulator, blobs over its TLS
//! listener (set up as in the files benchmark).
//!
//! Before each round the orchestrator makes a fresh model with two float columns (`a`, `b`)
//! for each side. Both sides build the new column's values before their clocks start (Python
//! also its i, j, k columns; evo-rs makes those inside its clock). The update clock covers
//! writing the Parquet file, uploading it, notifying and waiting for the job; the query clock
//! covers the query, its job, downloading the result and decoding it into Arrow (Python into
//! one pyarrow Table, as its API gives; evo-rs batch by batch, as its API streams). Each side
//! runs in its own child process per round (its own peak resident memory and CPU time, taken by
//! `getrusage` around each clock); best of 3 rounds (`EVO_BENCH_ROUNDS`), under each network
//! profile (`EVO_BENCH_PROFILES`, default lan and wan, a fresh emulator each). Throughput and
//! CPU per GiB are of the blob bytes each operation moved (the update's Parquet file, the
//! query's result), as the emulator counted them.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use evo_blockmodels::evo_tables::arrow_array::{ArrayRef, Float64Array};
use evo_blockmodels::{
    BlockModelsClient, BlockSize, ColumnChanges, NewBlockModel, Query, Size3, SizeOptions,
};
use evo_core::{ApiConnector, Environment};
use futures_util::StreamExt as _;

use crate::best_of::BestOf;
use crate::io::{
    PythonBench, child_hub_connection, child_result, env_number, hub_connection, peak_rss,
    tls_emulator,
};
use crate::profiles::NetworkProfiles;
use crate::rusage::own_cpu_seconds;

const PYTHON_SCRIPT: &str = include_str!("../python/blockmodels_bench.py");
const SIDES: [&str; 2] = ["rust", "python"];
const N: (u32, u32, u32) = (200, 200, 100);

/// The block models client of a hub connection ([`hub_connection`], [`child_hub_connection`]).
fn client(
    (environment, connector): (Environment, ApiConnector),
) -> Result<BlockModelsClient, String> {
    BlockModelsClient::new(environment, connector)
        .map_err(|e| format!("building the block models client: {e}"))
}

/// The number of blocks of the benchmark model.
fn blocks() -> usize {
    (N.0 * N.1 * N.2) as usize
}

/// Runs the whole benchmark and prints the report; the last line is the summary.
pub fn orchestrate() -> Result<(), String> {
    let rounds = env_number("EVO_BENCH_ROUNDS", 3usize, "a whole number")?.max(1);
    let profiles = NetworkProfiles::from_env()?;
    crate::io::beside_python("blockmodels", PYTHON_SCRIPT, |bench| {
        println!(
            "blockmodels-bench: a float column added to a {}-block regular model ({} x {} x {}), then three columns queried back, through the emulator, blobs over TLS; {}",
            blocks(),
            N.0,
            N.1,
            N.2,
            profiles.describe()
        );
        let mut best = BestOf::new(["update", "query"]);
        for &profile in &profiles.names {
            run(bench, profile, &profiles, rounds, &mut best)?;
        }
        best.report("blockmodels", rounds)
    })
}

/// The rounds under `profile`, on an emulator of their own.
fn run(
    bench: &PythonBench<'_>,
    profile: &'static str,
    profiles: &NetworkProfiles,
    rounds: usize,
    best: &mut BestOf,
) -> Result<(), String> {
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
    for round in 0..rounds {
        let mut sides = SIDES;
        sides.rotate_left(round % SIDES.len());
        for side in sides {
            // A fresh model with two columns for this side and round (not timed).
            let bm = rt.block_on(async {
                let (model, _) = setup
                    .create(
                        &NewBlockModel::new(
                            format!("{side}-{round}"),
                            SizeOptions::Regular {
                                n_blocks: Size3::new(N.0, N.1, N.2),
                                block_size: BlockSize::new(10.0, 10.0, 5.0),
                            },
                        )
                        .size_unit("m"),
                    )
                    .await
                    .map_err(|e| format!("creating the model: {e}"))?;
                let a: ArrayRef = Arc::new(Float64Array::from_iter_values(
                    (0..blocks()).map(|b| b as f64),
                ));
                let b: ArrayRef = Arc::new(Float64Array::from_iter_values(
                    (0..blocks()).map(|b| (b % 11) as f64),
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
                    .args([N.0, N.1, N.2].map(|n| n.to_string()))
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
            best.round(profile, round, side, &result, (blocks(), moved), split)?;
        }
    }
    rt.block_on(emulator.shutdown());
    Ok(())
}

/// `blockmodels-child HUB ORG WORKSPACE BM NX NY NZ CACHE CA`: the evo-rs side of one round
/// (token in `EVO_TOKEN`). Prints the same `result ...` line as the Python script.
pub fn child(args: &[String]) -> Result<(), String> {
    let [hub, org, workspace, bm, _nx, _ny, _nz, _cache, ca] = args else {
        return Err("usage: evo-bench blockmodels-child HUB ORG WORKSPACE BM NX NY NZ CACHE CA (token in EVO_TOKEN)".into());
    };
    let bm: uuid::Uuid = bm.parse().map_err(|e| format!("bad model id: {e}"))?;
    let client = client(child_hub_connection(hub, org, workspace, ca)?)?;
    // The same values as the Python side, before the clock.
    let grade: ArrayRef = Arc::new(Float64Array::from_iter_values(
        (0..blocks()).map(|b| (b % 97) as f64 * 0.125),
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
