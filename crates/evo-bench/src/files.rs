//! The files benchmark: evo-rs (`evo_files::FilesClient` on `evo_hyper::HyperTransport`) against
//! the official Python SDK (`evo.files` from PyPI), both uploading and then downloading the same
//! file through the File API of one in-process emulator.
//!
//! The Python SDK only accepts `https` blob URLs on the default port, so the emulator serves
//! blobs over TLS on port 443 of a random `127.x.y.z` address (set up as in
//! crates/evo-files/tests/python_interop.rs); both sides use that endpoint and trust the
//! emulator's CA (Python through `SSL_CERT_FILE`, Rust through the transport builder's root
//! certificate). Each side runs as its own child process per round (so its peak resident memory
//! is its own) and times inside itself around the upload and around the download only. The
//! downloads are compared with the source after the child exits, outside every clock.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_files::FilesClient;
use evo_hyper::HyperTransport;

use crate::io::{check_download, child_result, mib_per_s, peak_rss, write_source};

/// Measurement rounds; the best round of each side and operation counts.
const ROUNDS: usize = 3;
/// The Python side, written next to the benchmark's files at run time.
const PYTHON_SCRIPT: &str = include_str!("../python/files_bench.py");
/// The two sides, in the order of the first round.
const SIDES: [&str; 2] = ["rust", "python"];

/// One child's round: an upload and a download of the whole file.
#[derive(Debug, Clone, Copy)]
struct Round {
    upload_seconds: f64,
    download_seconds: f64,
    peak_bytes: u64,
}

/// Where and as whom both sides reach the emulator.
struct Target {
    hub: String,
    org: String,
    workspace: String,
    ca: PathBuf,
    token: String,
}

/// Runs the whole benchmark and prints the report; the last line is the summary.
pub fn orchestrate() -> Result<(), String> {
    let size_mib: u64 = std::env::var("EVO_BENCH_FILES_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let size = size_mib << 20;
    let python = std::panic::catch_unwind(evo_testkit::python)
        .map_err(|_| "the Python venv with the official Evo SDK is missing: run `bash scripts/install-peers.sh`".to_owned())?;
    let dir = std::env::temp_dir().join(format!("evo-bench-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let result = run(&dir, size, &python);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run(dir: &Path, size: u64, python: &Path) -> Result<(), String> {
    let source = dir.join("source.bin");
    write_source(&source, size)?;
    let script = dir.join("files_bench.py");
    std::fs::write(&script, PYTHON_SCRIPT)
        .map_err(|e| format!("writing {}: {e}", script.display()))?;
    let ca = dir.join("emulator-ca.pem");
    let rt = crate::io::runtime()?;
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Bench", "workspaces": [{"name": "Bench"}]}]}"#,
    )
    .map_err(|e| format!("the seed: {e}"))?;
    let emulator = rt.block_on(async {
        Emulator::builder()
            .seed(seed)
            .blob_listener_on_random_loopback_443()
            .ca_cert_path(&ca)
            .start()
            .await
            .map_err(|e| {
                format!("starting the emulator with a TLS blob listener on a loopback port 443 (needs root or CAP_NET_BIND_SERVICE): {e}")
            })
    })?;
    let workspace = emulator
        .organizations()
        .first()
        .and_then(|org| org.workspaces.first())
        .map(|w| w.0)
        .ok_or("the seeded workspace is missing")?;
    let target = Target {
        hub: emulator.hub_url().to_string(),
        org: emulator.org_id().to_string(),
        workspace: workspace.to_string(),
        ca,
        token: emulator.issue_token(&["evo.file"]),
    };
    println!(
        "files-bench: {} MiB up then down through the File API of the emulator (memory storage) at {}, blobs over TLS at {}",
        size >> 20,
        emulator.hub_url(),
        emulator.blob_base_url()
    );
    println!(
        "  rust  : evo_files::FilesClient defaults on evo_hyper::HyperTransport defaults + the emulator's CA (evo-io: {} MiB blocks, 8 in flight)",
        evo_io::DEFAULT_BLOCK_SIZE >> 20
    );
    println!(
        "  python: evo-files {} / evo-sdk-common {} defaults, AioTransport defaults, SSL_CERT_FILE = the emulator's CA (4 MiB chunks, min(32, cpus + 4) = {} workers)",
        python_version(python, "evo-files"),
        python_version(python, "evo-sdk-common"),
        std::thread::available_parallelism().map_or(0, |n| (n.get() + 4).min(32))
    );
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut best: HashMap<(&str, &str), f64> = HashMap::new();
    let mut peaks: HashMap<&str, u64> = HashMap::new();
    for round in 0..ROUNDS {
        let mut sides = SIDES;
        // Alternate who goes first, so neither side always meets a warm or a cold machine.
        sides.rotate_left(round % SIDES.len());
        for side in sides {
            let remote = format!("bench/{side}-round-{}.bin", round + 1);
            let downloaded = dir.join(format!("{side}-down.bin"));
            let _ = std::fs::remove_file(&downloaded);
            // Earlier downloads leave dirty pages; write them back before the clocks start.
            let _ = Command::new("sync").status();
            let mut command = if side == "rust" {
                let mut c = Command::new(&exe);
                c.arg("files-child");
                c
            } else {
                let mut c = Command::new(python);
                c.arg(&script).env("SSL_CERT_FILE", &target.ca);
                c
            };
            command
                .args([&target.hub, &target.org, &target.workspace])
                .arg(&source)
                .arg(&remote)
                .arg(&downloaded)
                .env("EVO_TOKEN", &target.token);
            if side == "rust" {
                command.arg(&target.ca);
            }
            let measured = run_child(side, command)?;
            check_download(&source, &downloaded)?;
            let _ = std::fs::remove_file(&downloaded);
            println!(
                "  round {} {side:6} upload {:7.1} MiB/s  download {:7.1} MiB/s  peak {:4} MiB  (download byte-identical)",
                round + 1,
                mib_per_s(size, measured.upload_seconds),
                mib_per_s(size, measured.download_seconds),
                measured.peak_bytes >> 20
            );
            for (op, seconds) in [
                ("upload", measured.upload_seconds),
                ("download", measured.download_seconds),
            ] {
                let slot = best.entry((op, side)).or_insert(seconds);
                *slot = slot.min(seconds);
            }
            let peak = peaks.entry(side).or_default();
            *peak = (*peak).max(measured.peak_bytes);
        }
    }
    rt.block_on(emulator.shutdown());
    let rate = |op: &str, side: &str| {
        best.get(&(op, side))
            .map_or(f64::NAN, |s| mib_per_s(size, *s))
    };
    for op in ["upload", "download"] {
        println!(
            "{op:8}: evo-rs {:7.1} MiB/s, python {:7.1} MiB/s, evo-rs/python {:.2}x (best of {ROUNDS})",
            rate(op, "rust"),
            rate(op, "python"),
            rate(op, "rust") / rate(op, "python")
        );
    }
    let peak = |side: &str| peaks.get(side).copied().unwrap_or(0) >> 20;
    println!(
        "peak resident memory (whole child process, max over rounds): evo-rs {} MiB (VmHWM), python {} MiB (ru_maxrss)",
        peak("rust"),
        peak("python")
    );
    println!(
        "files-bench: upload {:.2}x python, download {:.2}x python, peak rust {} MiB, python {} MiB",
        rate("upload", "rust") / rate("upload", "python"),
        rate("download", "rust") / rate("download", "python"),
        peak("rust"),
        peak("python")
    );
    Ok(())
}

/// The installed version of a Python distribution, or `?`.
fn python_version(python: &Path, distribution: &str) -> String {
    Command::new(python)
        .args([
            "-c",
            "import sys, importlib.metadata as m; print(m.version(sys.argv[1]))",
            distribution,
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".to_owned())
}

/// Runs one side's child and reads its `result ...` line.
fn run_child(side: &str, mut command: Command) -> Result<Round, String> {
    let result = child_result(side, &mut command)?;
    match (
        result.number::<f64>("upload_seconds"),
        result.number::<f64>("download_seconds"),
        result.number::<u64>("peak_bytes"),
    ) {
        (Some(upload_seconds), Some(download_seconds), Some(peak_bytes))
            if upload_seconds > 0.0 && download_seconds > 0.0 =>
        {
            Ok(Round {
                upload_seconds,
                download_seconds,
                peak_bytes,
            })
        }
        _ => Err(format!("malformed {side} child result {:?}", result.line)),
    }
}

/// `files-child HUB ORG WORKSPACE SOURCE REMOTE TARGET CA`: the evo-rs side of one round,
/// with the token in `EVO_TOKEN`. Prints the same `result ...` line as the Python script.
pub fn child(args: &[String]) -> Result<(), String> {
    let [hub, org, workspace, source, remote, target, ca] = args else {
        return Err(
            "usage: evo-bench files-child HUB ORG WORKSPACE SOURCE REMOTE TARGET CA (token in EVO_TOKEN)"
                .into(),
        );
    };
    let token = std::env::var("EVO_TOKEN").map_err(|_| "EVO_TOKEN is not set".to_owned())?;
    let hub: url::Url = hub.parse().map_err(|e| format!("bad hub URL: {e}"))?;
    let org: uuid::Uuid = org.parse().map_err(|e| format!("bad org id: {e}"))?;
    let workspace: uuid::Uuid = workspace
        .parse()
        .map_err(|e| format!("bad workspace id: {e}"))?;
    let ca_pem = std::fs::read(ca).map_err(|e| format!("reading {ca}: {e}"))?;
    let transport = HyperTransport::builder()
        .add_root_certificate(ca_pem)
        .build()
        .map_err(|e| format!("building the transport: {e}"))?;
    let connector = ApiConnector::builder(hub.clone())
        .transport(Arc::new(transport))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
        .build()
        .map_err(|e| format!("building the connector: {e}"))?;
    let files = FilesClient::new(Environment::new(hub, org, workspace), connector)
        .map_err(|e| format!("building the files client: {e}"))?;
    let source_len = std::fs::metadata(source)
        .map_err(|e| format!("reading {source}: {e}"))?
        .len();
    let rt = crate::io::runtime()?;
    let (upload_seconds, download_seconds, file_id, size) = rt.block_on(async {
        let started = Instant::now();
        let uploaded = files
            .upload_file(remote.as_str(), source)
            .await
            .map_err(|e| format!("upload: {e}"))?;
        let upload_seconds = started.elapsed().as_secs_f64();

        let started = Instant::now();
        let downloaded = files
            .download_to_path(uploaded.file_id, None, target, false)
            .await
            .map_err(|e| format!("download: {e}"))?;
        let download_seconds = started.elapsed().as_secs_f64();
        Ok::<_, String>((
            upload_seconds,
            download_seconds,
            downloaded.file_id,
            downloaded.size,
        ))
    })?;
    if size != source_len {
        return Err(format!(
            "the File API reports {size} bytes, the source has {source_len}"
        ));
    }
    println!(
        "result upload_seconds={upload_seconds:.4} download_seconds={download_seconds:.4} peak_bytes={} file_id={file_id} size={size}",
        peak_rss()
    );
    Ok(())
}
