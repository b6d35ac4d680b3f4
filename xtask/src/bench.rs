//! `cargo xtask bench [io] [files] [objects] [api] [blockmodels] [azurite]`: builds the benchmark programs (crates/evo-bench) in release
//! mode and runs them. Benchmarks report ratios against a baseline or peer measured in the same
//! run, so the numbers compare like with like on whatever machine runs them. Never part of the
//! tests.

/// Runs the benchmarks named in `args` (default: `io` then `files`). `objects` (evo-rs beside
/// the official Python `evo-objects` with pyarrow, saving then reading back a 10-million-point
/// set through the emulator's TLS blob listener; best of 3) prints last `objects-bench: upload
/// X.XXx python, download Y.YYx python, peak rust Z MiB, python W MiB`. `blockmodels` (evo-rs
/// beside the official Python `evo-blockmodels` with pyarrow, adding a float column to a
/// 4-million-block regular model and querying three columns back; best of 3) prints last
/// `blockmodels-bench: update X.XXx python, query Y.YYx python, peak rust Z MiB, python W MiB`.
/// Both run under the lan and wan profiles (`EVO_BENCH_PROFILES`), report throughput and client
/// CPU per GiB beside each time, and take their summary line from lan. Both can also be sized
/// by data volume: `EVO_BENCH_OBJECTS_MIB=256,1024` (point sets of that many MiB of raw
/// columns) and `EVO_BENCH_BLOCKMODELS_MIB=256,1024` (that many MiB of added float64 columns,
/// in columns of at most 32 MiB on a model of at most about 4.2 million blocks, all queried
/// back; the Python side is left out of a size it would not fit in this machine's memory, and
/// the summary is then of the largest size both ran).
/// `azurite` (evo-io beside the official Python `evo.common.io`, uploading a file of
/// `EVO_BENCH_AZURITE_MIB` MiB, default 256, to a fresh SAS URL of Azurite, the real Azure
/// Storage emulator, over HTTPS on a loopback port 443, and downloading it back; best of 3,
/// order alternated) prints last `azurite-bench: upload X.XXx python, download Y.YYx python,
/// cpu Z.ZZx python, peak rust A MiB, python B MiB` (cpu: evo-rs client CPU per GiB over
/// Python's, lower is better).
pub fn run(args: &[String]) -> Result<(), String> {
    let which: Vec<&str> = if args.is_empty() {
        vec!["io", "files"]
    } else {
        args.iter().map(String::as_str).collect()
    };
    for bench in which {
        match bench {
            "io" => io()?,
            "files" => files()?,
            "objects" => run_bench("objects")?,
            "api" => api()?,
            "blockmodels" => run_bench("blockmodels")?,
            "azurite" => run_bench("azurite")?,
            other => {
                return Err(format!(
                    "unknown benchmark {other:?} (known: io, files, objects, api, blockmodels, azurite)"
                ));
            }
        }
    }
    Ok(())
}

/// evo-io upload and download of a file against the emulator, beside bare hyper sending the
/// same requests (computing the same digests in its clock), at 256 MiB and 1 GiB
/// (`EVO_BENCH_IO_MIB`), on loopback (`lan`) and under the emulator's WAN profile (`wan`;
/// `EVO_BENCH_PROFILES`); best of 5 rounds, order rotated, with throughput, client CPU per GiB
/// and peak memory. Each size and profile ends with the upload against bare hyper handed its
/// digests (requests alone). The last line printed is `io-bench: upload X.XXx baseline,
/// download Y.YYx baseline, peak Z MiB`, of lan at the largest size.
fn io() -> Result<(), String> {
    run_bench("io")
}

/// evo-rs (`evo_files::FilesClient` on `evo_hyper::HyperTransport`) beside the official Python
/// SDK (`evo.files`, from the peers' venv: `scripts/install-peers.sh`), each uploading and then
/// downloading a file through the emulator's File API and its TLS blob listener (HTTP/1.1 only,
/// as Azure's) on a loopback port 443 (needs root or CAP_NET_BIND_SERVICE), on loopback (`lan`)
/// and under the emulator's WAN profile (`wan`), at 256 MiB and 1 GiB (`EVO_BENCH_FILES_MIB`,
/// `EVO_BENCH_WAN_LATENCY_MS`, `EVO_BENCH_WAN_MBIT`, `EVO_BENCH_ROUNDS`, `EVO_BENCH_PROFILES`); best of 3 rounds, order
/// alternated. Each side reports throughput, client CPU seconds per GiB (getrusage) and peak
/// memory. The last line printed is `files-bench: lan upload A.AAx python, lan download B.BBx
/// python, wan upload C.CCx python, wan download D.DDx python, cpu E.EEx python, peak rust Z
/// MiB, python W MiB` (ratios at the largest size; cpu: evo-rs client CPU per GiB over
/// Python's, lower is better).
fn files() -> Result<(), String> {
    run_bench("files")
}

/// API calls (list workspaces with page size 50, get a workspace) at concurrency 1 and 16
/// against the emulator, evo-rs beside the official Python SDK and bare hyper: calls per second
/// and client CPU per call. The last line printed is `api-bench: c16 X.XXx python, Y.YYx bare
/// hyper, cpu Z.ZZx python` (cpu: evo-rs client CPU per call over Python's).
fn api() -> Result<(), String> {
    run_bench("api")
}

/// Runs `evo-bench <name>` built in release mode.
fn run_bench(name: &str) -> Result<(), String> {
    crate::ci::run_release("evo-bench", &[name], &format!("the {name} benchmark"))
}
