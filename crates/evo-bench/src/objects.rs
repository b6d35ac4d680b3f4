//! The objects benchmark: evo-rs (`evo_objects::ObjectsClient` on `evo_hyper::HyperTransport`)
//! against the official Python SDK (`evo.objects` with pyarrow), each saving and then reading
//! back a point set (x, y, z and one float attribute) through one in-process emulator, blobs
//! over its TLS listener (set up as in the files benchmark).
//!
//! The point set is of 10 million points by default (the workload issue #12's target is
//! measured at). `EVO_BENCH_OBJECTS_MIB` (comma-separated MiB) sizes it by data volume
//! instead: S MiB is a point set of S MiB of raw column data, 32 bytes a point (four float64),
//! so S x 2^20 / 32 points; `EVO_BENCH_OBJECTS_MIB=256,1024` gives issue #18's sizes.
//! `EVO_BENCH_OBJECTS_POINTS` sets a point count and, when set, alone decides the workload, so
//! that commands from before the sizes still measure what they did. Each size is reported on
//! its own; the summary line is of the largest.
//!
//! Both sides build their columns from the same formulas before their clocks start, with an
//! offset of their own in each round (data files are content-addressed: the same values again
//! would not be uploaded again). The upload clock covers writing the Parquet tables, uploading
//! them and posting the object; the download clock covers getting the object and downloading
//! and decoding both tables into Arrow. Each side runs in its own child process per round (its
//! own peak resident memory and CPU time, taken by `getrusage` around each clock); best of 3
//! rounds (`EVO_BENCH_ROUNDS`), order alternated, under each network profile
//! (`EVO_BENCH_PROFILES`, default lan and wan), a fresh emulator for each profile and size.
//! Throughput and CPU per GiB are of the blob bytes each operation moved, as the emulator
//! counted them.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use evo_objects::evo_tables::arrow_array::{Array, Float64Array, RecordBatch};
use evo_objects::{GetOptions, ObjectsClient, SpatialObject};

use crate::best_of::{BestOf, Workload};
use crate::io::{
    PythonBench, child_hub_connection, child_result, env_mib_list, env_number, peak_rss,
    tls_emulator,
};
use crate::profiles::NetworkProfiles;
use crate::rusage::own_cpu_seconds;
use crate::sizes::{POINT_BYTES, points_for_mib};

const PYTHON_SCRIPT: &str = include_str!("../python/objects_bench.py");
const SIDES: [&str; 2] = ["rust", "python"];
const DEFAULT_POINTS: usize = 10_000_000;

/// One size of the benchmark: how the report names it and its number of points.
type PointSet = (Workload, usize);

/// The point sets to measure: `points` alone when given (`EVO_BENCH_OBJECTS_POINTS`), else one
/// of each of `sizes_mib` (`EVO_BENCH_OBJECTS_MIB`), else [`DEFAULT_POINTS`].
fn point_sets(points: Option<usize>, sizes_mib: &[u64]) -> Result<Vec<PointSet>, String> {
    let of_points = |points: usize| {
        (
            Workload {
                bytes: points as u64 * POINT_BYTES,
                label: format!("{points} points"),
            },
            points,
        )
    };
    match (points, sizes_mib) {
        (Some(points), _) => Ok(vec![of_points(points)]),
        (None, []) => Ok(vec![of_points(DEFAULT_POINTS)]),
        (None, sizes) => sizes
            .iter()
            .map(|&mib| {
                Ok((
                    Workload {
                        bytes: mib << 20,
                        label: format!("{mib} MiB"),
                    },
                    points_for_mib(mib).map_err(|e| format!("EVO_BENCH_OBJECTS_MIB: {e}"))?,
                ))
            })
            .collect(),
    }
}

/// Runs the whole benchmark and prints the report; the last line is the summary.
pub fn orchestrate() -> Result<(), String> {
    let points = match std::env::var_os("EVO_BENCH_OBJECTS_POINTS") {
        Some(_) => Some(env_number(
            "EVO_BENCH_OBJECTS_POINTS",
            DEFAULT_POINTS,
            "a whole number",
        )?),
        None => None,
    };
    let sizes_mib = env_mib_list("EVO_BENCH_OBJECTS_MIB", &[])?;
    if points.is_some() && !sizes_mib.is_empty() {
        println!(
            "objects-bench: EVO_BENCH_OBJECTS_POINTS is set, so EVO_BENCH_OBJECTS_MIB is not used"
        );
    }
    let sets = point_sets(points, &sizes_mib)?;
    let rounds = env_number("EVO_BENCH_ROUNDS", 3usize, "a whole number")?.max(1);
    let profiles = NetworkProfiles::from_env()?;
    crate::io::beside_python("objects", PYTHON_SCRIPT, |bench| {
        run(bench, &sets, rounds, &profiles)
    })
}

fn run(
    bench: &PythonBench<'_>,
    sets: &[PointSet],
    rounds: usize,
    profiles: &NetworkProfiles,
) -> Result<(), String> {
    let ca = bench.dir.join("emulator-ca.pem");
    let described: Vec<String> = sets
        .iter()
        .map(|(w, points)| {
            format!(
                "{points} points ({:.1} MiB of columns)",
                w.bytes as f64 / f64::from(1u32 << 20)
            )
        })
        .collect();
    println!(
        "objects-bench: point sets (x, y, z + one float attribute) of {} saved then read back through the emulator, blobs over TLS; {rounds} rounds; {}",
        described.join(", "),
        profiles.describe()
    );
    let mut best = BestOf::new(["upload", "download"]);
    for &profile in &profiles.names {
        for (workload, points) in sets {
            // A fresh emulator per size: it keeps every uploaded blob in memory.
            let rt = crate::io::runtime()?;
            let wan = profiles.emulator_profile(profile);
            let (emulator, workspace) = tls_emulator(&rt, &ca, |builder| builder.wan_profile(wan))?;
            let (hub, org, ws) = (
                emulator.hub_url().to_string(),
                emulator.org_id().to_string(),
                workspace.to_string(),
            );
            let token = emulator.issue_token(&["evo.object"]);
            for round in 0..rounds {
                let mut sides = SIDES;
                sides.rotate_left(round % SIDES.len());
                for side in sides {
                    let path = format!("bench/{side}-round-{}.json", round + 1);
                    let cache = bench.dir.join(format!("{side}-cache-{round}"));
                    let _ = Command::new("sync").status();
                    // Values of their own for each side and round: no upload is a deduplicated one.
                    let offset =
                        (round * SIDES.len() + 1 + usize::from(side == "python")).to_string();
                    let mut command = bench.side_command(side, "objects-child", &ca, |c| {
                        c.args([&hub, &org, &ws, &path, &points.to_string(), &offset])
                            .arg(&cache)
                            .env("EVO_TOKEN", &token);
                    })?;
                    let (received, sent) =
                        (emulator.blob_bytes_received(), emulator.blob_bytes_sent());
                    let result = child_result(side, &mut command)?;
                    let moved = [
                        emulator.blob_bytes_received() - received,
                        emulator.blob_bytes_sent() - sent,
                    ];
                    let _ = std::fs::remove_dir_all(&cache);
                    best.round(
                        (profile, workload),
                        round,
                        side,
                        &result,
                        (*points, moved),
                        |_| String::new(),
                    )?;
                }
            }
            rt.block_on(emulator.shutdown());
        }
    }
    best.report("objects", rounds)
}

/// `objects-child HUB ORG WORKSPACE PATH POINTS OFFSET CACHE CA`: the evo-rs side of one round (token
/// in `EVO_TOKEN`). Prints the same `result ...` line as the Python script.
pub fn child(args: &[String]) -> Result<(), String> {
    let [hub, org, workspace, path, points, offset, _cache, ca] = args else {
        return Err(
            "usage: evo-bench objects-child HUB ORG WORKSPACE PATH POINTS OFFSET CACHE CA (token in EVO_TOKEN)"
                .into(),
        );
    };
    let points: usize = points
        .parse()
        .map_err(|e| format!("bad point count: {e}"))?;
    let offset: f64 = offset.parse().map_err(|e| format!("bad offset: {e}"))?;
    let (environment, connector) = child_hub_connection(hub, org, workspace, ca)?;
    let objects = ObjectsClient::new(environment, connector)
        .map_err(|e| format!("building the objects client: {e}"))?;

    // The same columns as the Python side, before the clock.
    let x = Float64Array::from_iter_values((0..points).map(|i| i as f64 * 0.5 + offset));
    let y = Float64Array::from_iter_values((0..points).map(|i| i as f64 * -0.25));
    let z = Float64Array::from_iter_values((0..points).map(|i| (i as f64).sqrt()));
    let grade =
        Float64Array::from_iter_values((0..points).map(|i| (i as f64 % 97.0) * 0.125 + offset));
    let positions = evo_objects::evo_tables::positions(x, y, z).map_err(|e| e.to_string())?;
    let point_set =
        SpatialObject::point_set("bench", positions).attribute("grade", Arc::new(grade));

    let rt = crate::io::runtime()?;
    let (upload, download, rows, checksum) = rt.block_on(async {
        let (started, cpu) = (Instant::now(), own_cpu_seconds());
        objects
            .create_spatial(path.as_str(), &point_set)
            .await
            .map_err(|e| format!("saving: {e}"))?;
        let upload = (started.elapsed().as_secs_f64(), own_cpu_seconds() - cpu);
        drop(point_set);

        let (started, cpu) = (Instant::now(), own_cpu_seconds());
        let object = objects
            .get_by_path(path.as_str(), &GetOptions::new())
            .await
            .map_err(|e| format!("getting: {e}"))?;
        let positions: Vec<RecordBatch> = objects
            .read_positions(&object)
            .await
            .map_err(|e| format!("reading positions: {e}"))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("decoding positions: {e}"))?;
        let grade: Vec<RecordBatch> = objects
            .read_attribute(&object, "grade")
            .await
            .map_err(|e| format!("reading the attribute: {e}"))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("decoding the attribute: {e}"))?;
        let download = (started.elapsed().as_secs_f64(), own_cpu_seconds() - cpu);
        let rows: usize = positions.iter().map(RecordBatch::num_rows).sum();
        let checksum: f64 = positions
            .iter()
            .chain(&grade)
            .flat_map(|b| b.columns().iter())
            .filter_map(|c| c.as_any().downcast_ref::<Float64Array>())
            .map(|a| a.values().iter().sum::<f64>())
            .sum();
        Ok::<_, String>((upload, download, rows, checksum))
    })?;
    println!(
        "result upload_seconds={:.4} download_seconds={:.4} upload_cpu={:.4} download_cpu={:.4} peak_bytes={} rows={rows} checksum={checksum:.6e}",
        upload.0,
        download.0,
        upload.1,
        download.1,
        peak_rss()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_sizes_the_set_is_of_ten_million_points() {
        let sets = point_sets(None, &[]).unwrap();
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].1, 10_000_000);
        assert_eq!(sets[0].0.label, "10000000 points");
        assert_eq!(sets[0].0.bytes, 320_000_000);
    }

    #[test]
    fn sizes_are_mib_of_columns() {
        let sets = point_sets(None, &[256, 1024]).unwrap();
        let points: Vec<usize> = sets.iter().map(|s| s.1).collect();
        assert_eq!(points, [8_388_608, 33_554_432]);
        assert_eq!(sets[1].0.bytes, 1 << 30);
        assert_eq!(sets[1].0.label, "1024 MiB");
        assert!(point_sets(None, &[8, 0]).is_err());
    }

    #[test]
    fn a_point_count_alone_decides_the_workload() {
        let sets = point_sets(Some(100_000), &[256, 1024]).unwrap();
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].1, 100_000);
        assert_eq!(sets[0].0.label, "100000 points");
    }
}
