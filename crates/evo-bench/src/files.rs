//! The files benchmark: evo-rs (`evo_files::FilesClient` on `evo_hyper::HyperTransport`) against
//! the official Python SDK (`evo.files` from PyPI), both uploading and then downloading the same
//! file through the File API of one in-process emulator, on loopback (`lan`) and under the
//! emulator's WAN profile (`wan`: added latency per request, a bandwidth cap per connection),
//! at each size asked for (default 256 MiB and 1 GiB).
//!
//! The Python SDK only accepts `https` blob URLs on the default port, so the emulator serves
//! blobs over TLS on port 443 of a random `127.x.y.z` address (set up as in
//! crates/evo-files/tests/python_interop.rs); both sides use that endpoint (HTTP/1.1 only, as
//! Azure's) and trust the emulator's CA (Python through `SSL_CERT_FILE`, Rust through the
//! transport builder's root certificate). Each side runs as its own child process per round
//! (so its peak resident memory and CPU time are its own) and times inside itself around the
//! upload and around the download only, taking its own CPU time (`getrusage`) around each; the
//! orchestrator also takes each child's whole CPU time (start-up included) by `getrusage` of
//! its children. The downloads are compared with the source after the child exits, outside
//! every clock.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use evo_emulator::{BlobStorage, Emulator, WanProfile};
use evo_files::FilesClient;

use crate::io::{
    PythonBench, check_download, child_hub_connection, child_result, env_mib_list, env_number,
    mib_per_s, peak_rss, tls_emulator, write_source,
};
use crate::profiles::NetworkProfiles;
use crate::rusage::{children_cpu_seconds, own_cpu_seconds};

/// The Python side, written next to the benchmark's files at run time.
const PYTHON_SCRIPT: &str = include_str!("../python/files_bench.py");
/// The two sides, in the order of the first round.
const SIDES: [&str; 2] = ["rust", "python"];

/// One child's round: an upload and a download of the whole file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Round {
    pub(crate) upload_seconds: f64,
    pub(crate) download_seconds: f64,
    /// CPU seconds of the child inside the upload and download clocks.
    pub(crate) upload_cpu: f64,
    pub(crate) download_cpu: f64,
    /// CPU seconds of the whole child process (start-up included), measured by the parent.
    pub(crate) process_cpu: f64,
    pub(crate) peak_bytes: u64,
}

/// The best of each side's rounds at one size and profile.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Best {
    pub(crate) upload_seconds: f64,
    pub(crate) download_seconds: f64,
    /// Lowest CPU seconds per GiB moved (upload and download together) inside the clocks.
    pub(crate) cpu_per_gib: f64,
    /// Lowest whole-process CPU seconds per GiB moved.
    pub(crate) process_cpu_per_gib: f64,
    pub(crate) peak_bytes: u64,
}

impl Best {
    pub(crate) fn new(round: &Round, size: u64) -> Self {
        let gib = 2.0 * size as f64 / f64::from(1u32 << 30);
        Best {
            upload_seconds: round.upload_seconds,
            download_seconds: round.download_seconds,
            cpu_per_gib: (round.upload_cpu + round.download_cpu) / gib,
            process_cpu_per_gib: round.process_cpu / gib,
            peak_bytes: round.peak_bytes,
        }
    }

    pub(crate) fn merge(&mut self, other: Best) {
        self.upload_seconds = self.upload_seconds.min(other.upload_seconds);
        self.download_seconds = self.download_seconds.min(other.download_seconds);
        self.cpu_per_gib = self.cpu_per_gib.min(other.cpu_per_gib);
        self.process_cpu_per_gib = self.process_cpu_per_gib.min(other.process_cpu_per_gib);
        self.peak_bytes = self.peak_bytes.max(other.peak_bytes);
    }

    /// Merges `round` (of a file of `size` bytes) into the best of `key` in `results`.
    pub(crate) fn keep<K: std::hash::Hash + Eq>(
        results: &mut HashMap<K, Best>,
        key: K,
        round: &Round,
        size: u64,
    ) {
        let best = Best::new(round, size);
        results
            .entry(key)
            .and_modify(|b| b.merge(best))
            .or_insert(best);
    }
}

impl Round {
    /// The report line of round `round` of `side` with a file of `size` bytes.
    pub(crate) fn line(&self, round: usize, side: &str, size: u64) -> String {
        format!(
            "round {} {side:6} upload {:7.1} MiB/s  download {:7.1} MiB/s  cpu {:5.2} + {:5.2} s (process {:5.2} s)  peak {:4} MiB",
            round + 1,
            mib_per_s(size, self.upload_seconds),
            mib_per_s(size, self.download_seconds),
            self.upload_cpu,
            self.download_cpu,
            self.process_cpu,
            self.peak_bytes >> 20
        )
    }
}

/// Where and as whom both sides reach the emulator.
struct Target {
    hub: String,
    org: String,
    workspace: String,
    ca: PathBuf,
    token: String,
}

/// The benchmark's settings, from the environment.
struct Settings {
    /// The network profiles to measure; the summary line needs both.
    profiles: NetworkProfiles,
    sizes_mib: Vec<u64>,
    rounds: usize,
}

impl Settings {
    fn from_env() -> Result<Self, String> {
        let sizes_mib = env_mib_list("EVO_BENCH_FILES_MIB", &[256, 1024])?;
        let rounds = env_number("EVO_BENCH_ROUNDS", 3usize, "a whole number")?.max(1);
        Ok(Settings {
            profiles: NetworkProfiles::from_env()?,
            sizes_mib,
            rounds,
        })
    }
}

/// Runs the whole benchmark and prints the report; the last line is the summary.
pub fn orchestrate() -> Result<(), String> {
    let settings = Settings::from_env()?;
    crate::io::beside_python("files", PYTHON_SCRIPT, |bench| run(bench, &settings))
}

fn run(bench: &PythonBench<'_>, settings: &Settings) -> Result<(), String> {
    let (dir, python) = (bench.dir, bench.python);
    println!(
        "files-bench: sizes {:?} MiB, {} rounds, {}",
        settings.sizes_mib,
        settings.rounds,
        settings.profiles.describe()
    );
    println!(
        "  rust  : evo_files::FilesClient defaults on evo_hyper::HyperTransport defaults + the emulator's CA (evo-io: blocks of at most {} MiB, {} in flight at first ({} when the first answer came within {} ms), adaptive up to {} within {} MiB; files read by uploads and written by downloads past the page cache where the file system and device allow, see BlobClientBuilder::direct_reads and direct_writes)",
        evo_io::DEFAULT_BLOCK_SIZE >> 20,
        evo_io::DEFAULT_CONCURRENCY,
        evo_io::NEAR_CONCURRENCY,
        evo_io::NEAR_ROUND_TRIP.as_millis(),
        evo_io::DEFAULT_MAX_CONCURRENCY,
        evo_io::DEFAULT_MEMORY_BUDGET >> 20
    );
    println!(
        "  python: evo-files {} / evo-sdk-common {} defaults, AioTransport defaults, SSL_CERT_FILE = the emulator's CA (4 MiB chunks, min(32, cpus + 4) = {} workers)",
        python_version(python, "evo-files"),
        python_version(python, "evo-sdk-common"),
        std::thread::available_parallelism().map_or(0, |n| (n.get() + 4).min(32))
    );
    let mut results: HashMap<(&str, u64, &str), Best> = HashMap::new();
    for &profile in &settings.profiles.names {
        let wan = settings.profiles.emulator_profile(profile);
        for &size_mib in &settings.sizes_mib {
            let size = size_mib << 20;
            let source = dir.join(format!("source-{size_mib}.bin"));
            if !source.exists() {
                write_source(&source, size)?;
            }
            // A fresh emulator per size, blobs in files: the rounds' uploads stay on disk.
            let store = dir.join(format!("store-{profile}-{size_mib}"));
            let (rt, emulator, target) = start_emulator(dir, &store, wan)?;
            for round in 0..settings.rounds {
                let mut sides = SIDES;
                // Alternate who goes first, so neither side always meets a warm or a cold machine.
                sides.rotate_left(round % SIDES.len());
                for side in sides {
                    let measured = run_round(bench, &target, &source, side, round)?;
                    println!(
                        "  {profile} {size_mib:5} MiB {}",
                        measured.line(round, side, size)
                    );
                    Best::keep(&mut results, (profile, size_mib, side), &measured, size);
                }
            }
            rt.block_on(emulator.shutdown());
            let _ = std::fs::remove_dir_all(&store);
        }
    }
    report(settings, &results)
}

/// Prints each profile and size, then the summary line (at the largest size).
fn report(settings: &Settings, results: &HashMap<(&str, u64, &str), Best>) -> Result<(), String> {
    let get = |profile: &str, size_mib: u64, side: &str| {
        results
            .get(&(profile, size_mib, side))
            .copied()
            .ok_or_else(|| format!("no {side} result for {profile} {size_mib} MiB"))
    };
    let rate = |size_mib: u64, seconds: f64| mib_per_s(size_mib << 20, seconds);
    for &profile in &settings.profiles.names {
        for &size_mib in &settings.sizes_mib {
            let (r, p) = (
                get(profile, size_mib, "rust")?,
                get(profile, size_mib, "python")?,
            );
            println!(
                "{profile} {size_mib} MiB (best of {}): upload evo-rs {:.1} MiB/s python {:.1} MiB/s {:.2}x; download evo-rs {:.1} MiB/s python {:.1} MiB/s {:.2}x; client CPU per GiB evo-rs {:.2} s python {:.2} s {:.2}x (whole process {:.2} s / {:.2} s); peak evo-rs {} MiB python {} MiB",
                settings.rounds,
                rate(size_mib, r.upload_seconds),
                rate(size_mib, p.upload_seconds),
                p.upload_seconds / r.upload_seconds,
                rate(size_mib, r.download_seconds),
                rate(size_mib, p.download_seconds),
                p.download_seconds / r.download_seconds,
                r.cpu_per_gib,
                p.cpu_per_gib,
                r.cpu_per_gib / p.cpu_per_gib,
                r.process_cpu_per_gib,
                p.process_cpu_per_gib,
                r.peak_bytes >> 20,
                p.peak_bytes >> 20
            );
        }
    }
    if !settings.profiles.all() {
        println!("files-bench: no summary line: it needs both profiles (EVO_BENCH_PROFILES)");
        return Ok(());
    }
    let largest = settings.sizes_mib.iter().copied().max().unwrap_or(0);
    let ratio = |profile: &str, upload: bool| -> Result<f64, String> {
        let (r, p) = (
            get(profile, largest, "rust")?,
            get(profile, largest, "python")?,
        );
        Ok(if upload {
            p.upload_seconds / r.upload_seconds
        } else {
            p.download_seconds / r.download_seconds
        })
    };
    let (r, p) = (get("lan", largest, "rust")?, get("lan", largest, "python")?);
    let peak = |side: &str| {
        results
            .iter()
            .filter(|((_, _, s), _)| *s == side)
            .map(|(_, b)| b.peak_bytes)
            .max()
            .unwrap_or(0)
            >> 20
    };
    println!(
        "summary at {largest} MiB; cpu: evo-rs client CPU per GiB divided by Python's (lan, inside the clocks), lower is better; peak: the largest over every size and profile"
    );
    println!(
        "files-bench: lan upload {:.2}x python, lan download {:.2}x python, wan upload {:.2}x python, wan download {:.2}x python, cpu {:.2}x python, peak rust {} MiB, python {} MiB",
        ratio("lan", true)?,
        ratio("lan", false)?,
        ratio("wan", true)?,
        ratio("wan", false)?,
        r.cpu_per_gib / p.cpu_per_gib,
        peak("rust"),
        peak("python")
    );
    Ok(())
}

type Started = (tokio::runtime::Runtime, Emulator, Target);

/// An emulator with the File API and a TLS blob listener on a loopback port 443, blobs in
/// `store`, playing `wan`.
fn start_emulator(dir: &Path, store: &Path, wan: WanProfile) -> Result<Started, String> {
    let ca = dir.join("emulator-ca.pem");
    let rt = crate::io::runtime()?;
    let (emulator, workspace) = tls_emulator(&rt, &ca, |builder| {
        builder
            .blob_storage(BlobStorage::Folder(store.to_owned()))
            .blob_url_ttl(Duration::from_secs(4 * 3600))
            .wan_profile(wan)
    })?;
    let target = Target {
        hub: emulator.hub_url().to_string(),
        org: emulator.org_id().to_string(),
        workspace: workspace.to_string(),
        ca,
        token: emulator.issue_token(&["evo.file"]),
    };
    Ok((rt, emulator, target))
}

/// One side's round in its own child process; the download is checked afterwards.
fn run_round(
    bench: &PythonBench<'_>,
    target: &Target,
    source: &Path,
    side: &str,
    round: usize,
) -> Result<Round, String> {
    let remote = format!("bench/{side}-round-{}.bin", round + 1);
    let downloaded = bench.dir.join(format!("{side}-down.bin"));
    let _ = std::fs::remove_file(&downloaded);
    // Earlier downloads leave dirty pages; write them back before the clocks start.
    let _ = Command::new("sync").status();
    let command = bench.side_command(side, "files-child", &target.ca, |c| {
        c.args([&target.hub, &target.org, &target.workspace])
            .arg(source)
            .arg(&remote)
            .arg(&downloaded)
            .env("EVO_TOKEN", &target.token);
    })?;
    let measured = run_child(side, command)?;
    check_download(source, &downloaded)?;
    let _ = std::fs::remove_file(&downloaded);
    Ok(measured)
}

/// The installed version of a Python distribution, or `?`.
pub(crate) fn python_version(python: &Path, distribution: &str) -> String {
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

/// Runs one side's child and reads its `result ...` line (the azurite benchmark's children
/// print the same fields); the child's whole CPU time is taken around it.
pub(crate) fn run_child(side: &str, mut command: Command) -> Result<Round, String> {
    let before = children_cpu_seconds();
    let result = child_result(side, &mut command)?;
    let process_cpu = children_cpu_seconds() - before;
    match (
        result.number::<f64>("upload_seconds"),
        result.number::<f64>("download_seconds"),
        result.number::<f64>("upload_cpu"),
        result.number::<f64>("download_cpu"),
        result.number::<u64>("peak_bytes"),
    ) {
        (
            Some(upload_seconds),
            Some(download_seconds),
            Some(upload_cpu),
            Some(download_cpu),
            Some(peak_bytes),
        ) if upload_seconds > 0.0 && download_seconds > 0.0 => Ok(Round {
            upload_seconds,
            download_seconds,
            upload_cpu,
            download_cpu,
            process_cpu,
            peak_bytes,
        }),
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
    let (environment, connector) = child_hub_connection(hub, org, workspace, ca)?;
    let files = FilesClient::new(environment, connector)
        .map_err(|e| format!("building the files client: {e}"))?;
    let source_len = std::fs::metadata(source)
        .map_err(|e| format!("reading {source}: {e}"))?
        .len();
    let rt = crate::io::runtime()?;
    let (upload, download, file_id, size) = rt.block_on(async {
        let (started, cpu) = (Instant::now(), own_cpu_seconds());
        let uploaded = files
            .upload_file(remote.as_str(), source)
            .await
            .map_err(|e| format!("upload: {e}"))?;
        let upload = (started.elapsed().as_secs_f64(), own_cpu_seconds() - cpu);

        let (started, cpu) = (Instant::now(), own_cpu_seconds());
        let downloaded = files
            .download_to_path(uploaded.file_id, None, target, false)
            .await
            .map_err(|e| format!("download: {e}"))?;
        let download = (started.elapsed().as_secs_f64(), own_cpu_seconds() - cpu);
        Ok::<_, String>((upload, download, downloaded.file_id, downloaded.size))
    })?;
    if size != source_len {
        return Err(format!(
            "the File API reports {size} bytes, the source has {source_len}"
        ));
    }
    print_result(upload, download, &format!("file_id={file_id} size={size}"));
    Ok(())
}

/// Prints the `result ...` line of an evo-rs child that [`run_child`] reads: the seconds and
/// CPU seconds of the upload and of the download (each a pair), the peak, then `extra`.
pub(crate) fn print_result(upload: (f64, f64), download: (f64, f64), extra: &str) {
    println!(
        "result upload_seconds={:.4} download_seconds={:.4} upload_cpu={:.4} download_cpu={:.4} peak_bytes={} {extra}",
        upload.0,
        download.0,
        upload.1,
        download.1,
        peak_rss()
    );
}
