//! Benchmark programs of evo-rs, run by `cargo xtask bench` (never by the tests).
//!
//! `evo-bench io` measures evo-io uploads and downloads of a file (256 MiB and 1 GiB) against
//! the in-process emulator, beside a baseline that sends the same requests with bare hyper at the same block
//! size and concurrency, computing the same `Content-MD5` digests inside its clock. A second
//! upload baseline (`wire`) is handed its digests before its clock starts, so it times the
//! requests alone; its ratio is printed too. Every measured transfer runs in its own child
//! process (`evo-bench io-child ...`) so that each side's peak resident memory (VmHWM) is its
//! own, and after a `sync`, so that one side's dirty pages are not written back on another's
//! clock.
//!
//! `evo-bench files` uploads and then downloads a 256 MiB file through the emulator's File API
//! with evo-rs (`evo_files::FilesClient` on `evo_hyper::HyperTransport`) and with the official
//! Python SDK (`evo.files`, the performance peer), both over the emulator's TLS blob listener,
//! and reports MiB/s, the evo-rs/python ratios and each side's peak resident memory.
//!
//! `evo-bench api` makes API calls (list workspaces, get a workspace) at concurrency 1 and 16
//! with evo-rs, the official Python SDK and bare hyper, and reports calls per second and client
//! CPU per call (see `api.rs`).
//!
//! `evo-bench azurite` uploads a 256 MiB file to a SAS URL of Azurite (Microsoft's Azure Storage
//! emulator, a server nobody here wrote) and downloads it back, with evo-io
//! (`evo_io::BlobClient` on `evo_hyper::HyperTransport`) and with the official Python SDK's
//! `evo.common.io` (`StorageDestination.upload_file`, `HTTPSource.download_file`), both over
//! Azurite's HTTPS listener; best of 3 rounds (see `azurite.rs`).
//!
//! Every measured side runs in its own child process and takes its own CPU time (`getrusage`)
//! around what it times; the files benchmark also takes each child's whole CPU time.
//!
//! `evo-bench objects` saves and then reads back a point set of 10 million points (x, y, z and
//! one float attribute; or of `EVO_BENCH_OBJECTS_MIB` MiB of columns, or of
//! `EVO_BENCH_OBJECTS_POINTS` points) with evo-rs (`evo_objects`) and with the official Python
//! SDK (`evo.objects` with pyarrow), blobs over the emulator's TLS listener; best of 3 rounds.
//!
//! `evo-bench blockmodels` adds a float column to a 4-million-block regular model and queries
//! three columns back (or, sized by `EVO_BENCH_BLOCKMODELS_MIB`, adds that many MiB of float64
//! columns, in columns of at most 32 MiB on a model of at most about 4.2 million blocks, and
//! queries them back) with evo-rs (`evo_blockmodels`) and with the official Python SDK
//! (`evo.blockmodels` with pyarrow), blobs over the emulator's TLS listener; best of 3 rounds.
//! Python's side of a model too large for this machine's memory is left out.
//!
//! The io, files, objects and blockmodels benchmarks run under each network profile
//! (`EVO_BENCH_PROFILES=lan,wan`, the default; see `profiles.rs`) and report each operation's
//! throughput and client CPU per GiB beside its time; `EVO_BENCH_ROUNDS` sets their rounds.

mod api;
mod azurite;
mod baseline;
mod best_of;
mod blockmodels;
mod files;
mod io;
mod objects;
mod profiles;
mod rusage;
mod sizes;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("io") => io::orchestrate(),
        Some("io-child") => io::child(&args[1..]),
        Some("files") => files::orchestrate(),
        Some("files-child") => files::child(&args[1..]),
        Some("objects") => objects::orchestrate(),
        Some("api") => api::orchestrate(),
        Some("api-child") => api::child(&args[1..]),
        Some("objects-child") => objects::child(&args[1..]),
        Some("blockmodels") => blockmodels::orchestrate(),
        Some("blockmodels-child") => blockmodels::child(&args[1..]),
        Some("azurite") => azurite::orchestrate(),
        Some("azurite-child") => azurite::child(&args[1..]),
        _ => Err(
            "usage: evo-bench io | files | objects | api | blockmodels | azurite | io-child ... | files-child ... | objects-child ... | api-child ... | blockmodels-child ... | azurite-child ..."
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("evo-bench: {message}");
            ExitCode::FAILURE
        }
    }
}
