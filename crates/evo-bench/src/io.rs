//! The io benchmark: orchestration (emulator, source file, child processes, report) and the
//! evo-io side of each measurement; and what the benchmarks beside the Python SDK share: its
//! folder and script ([`beside_python`]), each side's child ([`PythonBench::side_command`],
//! [`child_result`]), the emulator with its TLS blob listener ([`tls_emulator`]), the evo-rs
//! child's hub connection ([`child_hub_connection`]) and settings from the environment
//! ([`env_number`]). The best of their rounds is [`crate::best_of`], their network profiles
//! [`crate::profiles`].

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
use evo_emulator::{BlobStorage, Emulator, EmulatorBuilder, Seed, WanProfile};
use evo_hyper::HyperTransport;
use evo_io::{BlobClient, Destination, Source};

use crate::profiles::NetworkProfiles;

/// Block size of both sides.
const BLOCK_SIZE: u64 = 8 << 20;
/// Blocks in flight on both sides.
const CONCURRENCY: usize = 8;
/// Measurement rounds; the best round of each side counts.
const ROUNDS: usize = 5;

/// One child's measurement.
#[derive(Debug, Clone, Copy)]
struct Measurement {
    seconds: f64,
    /// CPU seconds of the child inside its clock.
    cpu: f64,
    peak_bytes: u64,
}

/// Where a benchmark beside the official Python SDK runs: its temporary folder, the peers'
/// Python and the Python side's script, written out in that folder.
pub(crate) struct PythonBench<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) python: &'a Path,
    pub(crate) script: &'a Path,
}

/// The module the Python scripts take their peak memory from (see its docstring: not
/// `ru_maxrss`, which carries the orchestrator's peak into a child it spawns).
const PYTHON_PEAK_MODULE: &str = include_str!("../python/bench_peak.py");

/// Finds the peers' Python, makes the folder `evo-bench-{name}-{pid}` in the system's
/// temporary folder, writes `script` there as `{name}_bench.py` (with the modules the scripts
/// share beside it), runs `run`, then removes the folder whatever `run` returned.
pub(crate) fn beside_python(
    name: &str,
    script: &str,
    run: impl FnOnce(&PythonBench<'_>) -> Result<(), String>,
) -> Result<(), String> {
    let python = std::panic::catch_unwind(evo_testkit::python).map_err(|_| {
        "the Python venv with the official Evo SDK is missing: run `bash scripts/install-peers.sh`"
            .to_owned()
    })?;
    let dir = std::env::temp_dir().join(format!("evo-bench-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let result = (|| {
        let path = dir.join(format!("{name}_bench.py"));
        for (path, text) in [
            (path.clone(), script),
            (dir.join("bench_peak.py"), PYTHON_PEAK_MODULE),
        ] {
            std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        run(&PythonBench {
            dir: &dir,
            python: &python,
            script: &path,
        })
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

impl PythonBench<'_> {
    /// The command of `side`'s child in a round: `rust` runs this program's subcommand `child`,
    /// the other side the Python script with `SSL_CERT_FILE` = `ca`; `args` adds what both
    /// take, and the Rust child gets the path of `ca` last.
    pub(crate) fn side_command(
        &self,
        side: &str,
        child: &str,
        ca: &Path,
        args: impl FnOnce(&mut Command),
    ) -> Result<Command, String> {
        let mut command = if side == "rust" {
            let mut c = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
            c.arg(child);
            c
        } else {
            let mut c = Command::new(self.python);
            c.arg(self.script).env("SSL_CERT_FILE", ca);
            c
        };
        args(&mut command);
        if side == "rust" {
            command.arg(ca);
        }
        Ok(command)
    }
}

/// The emulator of a benchmark beside the Python SDK: one seeded organization with one
/// workspace (whose id comes back too), blobs over a TLS listener on a random loopback port
/// 443 whose CA is written to `ca`, and whatever `configure` adds.
pub(crate) fn tls_emulator(
    rt: &tokio::runtime::Runtime,
    ca: &Path,
    configure: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder,
) -> Result<(Emulator, uuid::Uuid), String> {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Bench", "workspaces": [{"name": "Bench"}]}]}"#,
    )
    .map_err(|e| format!("the seed: {e}"))?;
    let emulator = rt.block_on(async {
        configure(Emulator::builder().seed(seed))
            .blob_listener_on_random_loopback_443()
            .ca_cert_path(ca)
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
    Ok((emulator, workspace))
}

/// The environment (`hub`, `org`, `workspace`) and the connector of an evo-rs client: evo-hyper
/// trusting the CA in `ca_pem`, sending `token`.
pub(crate) fn hub_connection(
    hub: url::Url,
    org: uuid::Uuid,
    workspace: uuid::Uuid,
    token: String,
    ca_pem: &[u8],
) -> Result<(Environment, ApiConnector), String> {
    let transport = HyperTransport::builder()
        .add_root_certificate(ca_pem)
        .build()
        .map_err(|e| format!("building the transport: {e}"))?;
    let connector = ApiConnector::builder(hub.clone())
        .transport(Arc::new(transport))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
        .build()
        .map_err(|e| format!("building the connector: {e}"))?;
    Ok((Environment::new(hub, org, workspace), connector))
}

/// What an evo-rs child is to reach: its `HUB ORG WORKSPACE` arguments, parsed, and the token
/// in `EVO_TOKEN`.
pub(crate) struct ChildTarget {
    pub(crate) hub: url::Url,
    pub(crate) org: uuid::Uuid,
    pub(crate) workspace: uuid::Uuid,
    pub(crate) token: String,
}

impl ChildTarget {
    /// Reads the token and parses the arguments.
    pub(crate) fn parse(hub: &str, org: &str, workspace: &str) -> Result<Self, String> {
        let token = std::env::var("EVO_TOKEN").map_err(|_| "EVO_TOKEN is not set".to_owned())?;
        let hub: url::Url = hub.parse().map_err(|e| format!("bad hub URL: {e}"))?;
        let org: uuid::Uuid = org.parse().map_err(|e| format!("bad org id: {e}"))?;
        let workspace: uuid::Uuid = workspace
            .parse()
            .map_err(|e| format!("bad workspace id: {e}"))?;
        Ok(ChildTarget {
            hub,
            org,
            workspace,
            token,
        })
    }
}

/// [`hub_connection`] from an evo-rs child's `HUB ORG WORKSPACE` arguments, the token in
/// `EVO_TOKEN` ([`ChildTarget`]) and the CA's PEM file `ca`.
pub(crate) fn child_hub_connection(
    hub: &str,
    org: &str,
    workspace: &str,
    ca: &str,
) -> Result<(Environment, ApiConnector), String> {
    let target = ChildTarget::parse(hub, org, workspace)?;
    let ca_pem = std::fs::read(ca).map_err(|e| format!("reading {ca}: {e}"))?;
    hub_connection(
        target.hub,
        target.org,
        target.workspace,
        target.token,
        &ca_pem,
    )
}

/// The comma-separated MiB sizes in the environment variable `name`, or `default` when it is
/// not set.
pub(crate) fn env_mib_list(name: &str, default: &[u64]) -> Result<Vec<u64>, String> {
    match std::env::var(name) {
        Ok(v) => v
            .split(',')
            .map(|s| s.trim().parse::<u64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| format!("{name}={v:?} is not a list of MiB sizes")),
        Err(_) => Ok(default.to_vec()),
    }
}

/// The number in the environment variable `name` (`what` says what kind, for the error), or
/// `default` when it is not set.
pub(crate) fn env_number<T: std::str::FromStr>(
    name: &str,
    default: T,
    what: &str,
) -> Result<T, String> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v:?} is not {what}")),
        Err(_) => Ok(default),
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))
}

/// Runs the whole benchmark and prints the report; the last line is the summary (of `lan` at
/// the largest size).
pub fn orchestrate() -> Result<(), String> {
    let sizes_mib = env_mib_list("EVO_BENCH_IO_MIB", &[256, 1024])?;
    let profiles = NetworkProfiles::from_env()?;
    let dir = std::env::temp_dir().join(format!("evo-bench-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let result = (|| {
        println!(
            "io-bench: sizes {sizes_mib:?} MiB, blocks of {} MiB, {CONCURRENCY} in flight, emulator (memory storage); {}",
            BLOCK_SIZE >> 20,
            profiles.describe()
        );
        let largest = sizes_mib.iter().copied().max().unwrap_or(0);
        let summary_profile = if profiles.names.contains(&"lan") {
            "lan"
        } else {
            profiles.names.first().copied().unwrap_or("lan")
        };
        let mut summary = None;
        for &profile in &profiles.names {
            for &size_mib in &sizes_mib {
                let wan = profiles.emulator_profile(profile);
                let ratios = run(&dir, profile, wan, size_mib << 20)?;
                if profile == summary_profile && size_mib == largest {
                    summary = Some(ratios);
                }
            }
        }
        let [upload, download, peak] = summary.ok_or("no rounds were run")?;
        println!(
            "io-bench: upload {upload:.2}x baseline, download {download:.2}x baseline, peak {peak} MiB"
        );
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The rounds of one size under one profile, on an emulator of their own; prints them and
/// their best, and returns evo-io's upload and download ratios to bare hyper and its peak MiB.
fn run(dir: &Path, profile: &str, wan: WanProfile, size: u64) -> Result<[f64; 3], String> {
    let source = dir.join("source.bin");
    if std::fs::metadata(&source).map(|m| m.len()).ok() != Some(size) {
        write_source(&source, size)?;
    }
    let rt = runtime()?;
    let emulator = rt.block_on(async {
        Emulator::builder()
            .blob_storage(BlobStorage::Memory)
            .blob_url_ttl(Duration::from_secs(4 * 3600))
            .wan_profile(wan)
            .start()
            .await
            .map_err(|e| format!("starting the emulator: {e}"))
    })?;
    let at = format!("{profile} {:5} MiB", size >> 20);
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut best: HashMap<(&str, &str), Measurement> = HashMap::new();
    let mut peaks: HashMap<&str, u64> = HashMap::new();
    for round in 0..ROUNDS {
        for op in ["upload", "download"] {
            let mut sides: Vec<&str> = if op == "upload" {
                vec!["sdk", "baseline", "wire"]
            } else {
                vec!["sdk", "baseline"]
            };
            // Rotate who goes first, so no side always meets a warm or a cold machine.
            let turn = round % sides.len();
            sides.rotate_left(turn);
            for side in sides {
                let (url, path) = if op == "upload" {
                    (
                        emulator.blob_url("bench", &format!("{side}-up"), "rcw"),
                        source.clone(),
                    )
                } else {
                    let target = dir.join(format!("{side}-down.bin"));
                    let _ = std::fs::remove_file(&target);
                    (emulator.blob_url("bench", "sdk-up", "r"), target)
                };
                // Earlier downloads leave dirty pages; write them back before the clock starts.
                let _ = Command::new("sync").status();
                let m = run_child(&exe, side, op, url.as_str(), &path)?;
                if op == "download" {
                    check_download(&source, &path)?;
                    let _ = std::fs::remove_file(&path);
                }
                println!(
                    "  {at} round {} {op:8} {side:8} {:7.1} MiB/s  cpu {:5.2} s/GiB  peak {:4} MiB",
                    round + 1,
                    mib_per_s(size, m.seconds),
                    cpu_per_gib(size, m.cpu),
                    m.peak_bytes >> 20
                );
                let slot = best.entry((op, side)).or_insert(m);
                if m.seconds < slot.seconds {
                    slot.seconds = m.seconds;
                }
                slot.cpu = slot.cpu.min(m.cpu);
                let peak = peaks.entry(side).or_default();
                *peak = (*peak).max(m.peak_bytes);
            }
        }
    }
    rt.block_on(emulator.shutdown());
    let rate = |op: &str, side: &str| {
        best.get(&(op, side))
            .map_or(f64::NAN, |m| mib_per_s(size, m.seconds))
    };
    println!(
        "{at} upload  : evo-io {:7.1} MiB/s, bare hyper {:7.1} MiB/s, bare hyper handed its digests {:7.1} MiB/s (best of {ROUNDS})",
        rate("upload", "sdk"),
        rate("upload", "baseline"),
        rate("upload", "wire")
    );
    println!(
        "{at} download: evo-io {:7.1} MiB/s, bare hyper {:7.1} MiB/s (best of {ROUNDS})",
        rate("download", "sdk"),
        rate("download", "baseline")
    );
    let cpu = |op: &str, side: &str| {
        best.get(&(op, side))
            .map_or(f64::NAN, |m| cpu_per_gib(size, m.cpu))
    };
    println!(
        "{at} client CPU per GiB (lowest over rounds): upload evo-io {:.2} s, bare hyper {:.2} s, handed its digests {:.2} s; download evo-io {:.2} s, bare hyper {:.2} s",
        cpu("upload", "sdk"),
        cpu("upload", "baseline"),
        cpu("upload", "wire"),
        cpu("download", "sdk"),
        cpu("download", "baseline")
    );
    let peak = |side: &str| peaks.get(side).copied().unwrap_or(0) >> 20;
    println!(
        "{at} peak resident memory: evo-io {} MiB, bare hyper {} MiB",
        peak("sdk"),
        peak("baseline").max(peak("wire"))
    );
    println!(
        "{at} upload against bare hyper handed its digests (requests alone, no hashing in its clock): {:.2}x",
        rate("upload", "sdk") / rate("upload", "wire")
    );
    Ok([
        rate("upload", "sdk") / rate("upload", "baseline"),
        rate("download", "sdk") / rate("download", "baseline"),
        peak("sdk") as f64,
    ])
}

/// Writes `size` pseudo-random bytes (not compressible, not all zero).
pub(crate) fn write_source(path: &Path, size: u64) -> Result<(), String> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?,
    );
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut buf = vec![0u8; 1 << 20];
    let mut written = 0;
    while written < size {
        for chunk in buf.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        let n = (size - written).min(buf.len() as u64) as usize;
        file.write_all(&buf[..n]).map_err(|e| e.to_string())?;
        written += n as u64;
    }
    // On the device, as a user's file at rest is: an upload that reads past the page cache
    // would otherwise make the kernel write it out during the first round.
    let file = file.into_inner().map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())
}

/// The downloaded file must equal the source.
pub(crate) fn check_download(source: &Path, downloaded: &Path) -> Result<(), String> {
    use std::io::Read as _;
    let mut a = std::fs::File::open(source).map_err(|e| e.to_string())?;
    let mut b = std::fs::File::open(downloaded).map_err(|e| e.to_string())?;
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = a.read(&mut x).map_err(|e| e.to_string())?;
        let mut m = 0;
        while m < n {
            let k = b.read(&mut y[m..n]).map_err(|e| e.to_string())?;
            if k == 0 {
                break;
            }
            m += k;
        }
        if n != m || x[..n] != y[..n] {
            return Err(format!("{} differs from the source", downloaded.display()));
        }
        if n == 0 {
            return Ok(());
        }
    }
}

fn run_child(
    exe: &Path,
    side: &str,
    op: &str,
    url: &str,
    path: &Path,
) -> Result<Measurement, String> {
    let mut command = Command::new(exe);
    command.args(["io-child", side, op, url]).arg(path);
    let result = child_result(&format!("{side} {op}"), &mut command)?;
    match (
        result.number("seconds"),
        result.number("cpu"),
        result.number("peak_bytes"),
    ) {
        (Some(seconds), Some(cpu), Some(peak_bytes)) => Ok(Measurement {
            seconds,
            cpu,
            peak_bytes,
        }),
        _ => Err(format!("malformed child result {:?}", result.line)),
    }
}

/// The `result key=value ...` line a measured child prints.
pub(crate) struct ChildResult {
    /// The line, without `result `.
    pub(crate) line: String,
}

impl ChildResult {
    /// The value of `key`, when present and a number.
    pub(crate) fn number<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.line
            .split_whitespace()
            .find_map(|field| field.strip_prefix(key)?.strip_prefix('='))?
            .parse()
            .ok()
    }
}

/// Runs a measured child (`what` names it in errors) and finds its `result ...` line.
pub(crate) fn child_result(what: &str, command: &mut Command) -> Result<ChildResult, String> {
    let output = command
        .output()
        .map_err(|e| format!("starting the {what} child: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "the {what} child failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("result "))
        .ok_or_else(|| format!("the {what} child printed no result: {stdout}"))?;
    Ok(ChildResult {
        line: line.to_owned(),
    })
}

/// Throughput of `size` bytes moved in `seconds`.
pub(crate) fn mib_per_s(size: u64, seconds: f64) -> f64 {
    (size as f64 / (1 << 20) as f64) / seconds
}

/// CPU seconds per GiB moved.
pub(crate) fn cpu_per_gib(size: u64, cpu_seconds: f64) -> f64 {
    cpu_seconds / (size as f64 / f64::from(1u32 << 30))
}

/// The peak resident memory of this process (VmHWM) in bytes.
pub(crate) fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// `io-child <sdk|baseline|wire> <upload|download> <url> <path>`: one measured transfer.
pub fn child(args: &[String]) -> Result<(), String> {
    let [side, op, url, path] = args else {
        return Err(
            "usage: evo-bench io-child <sdk|baseline|wire> <upload|download> <url> <path>".into(),
        );
    };
    let url: url::Url = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    let path = PathBuf::from(path);
    let rt = runtime()?;
    // The `wire` side is handed its upload digests, computed before its clock starts.
    let digests = match (side.as_str(), op.as_str()) {
        ("wire", "upload") => Some(crate::baseline::UploadDigests::compute(&path, BLOCK_SIZE)?),
        _ => None,
    };
    let (started, cpu) = (Instant::now(), crate::rusage::own_cpu_seconds());
    rt.block_on(async {
        match (side.as_str(), op.as_str()) {
            ("sdk", "upload") => sdk_client()?
                .upload(url, Source::file(&path))
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            ("sdk", "download") => sdk_client()?
                .download(url, Destination::file(&path))
                .overwrite(true)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            ("baseline" | "wire", "upload") => {
                crate::baseline::upload(url, &path, BLOCK_SIZE, CONCURRENCY, digests.as_ref()).await
            }
            ("baseline", "download") => {
                crate::baseline::download(url, &path, BLOCK_SIZE, CONCURRENCY).await
            }
            _ => Err(format!("unknown side/operation {side} {op}")),
        }
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = crate::rusage::own_cpu_seconds() - cpu;
    println!(
        "result seconds={seconds:.4} cpu={cpu:.4} peak_bytes={}",
        peak_rss()
    );
    Ok(())
}

fn sdk_client() -> Result<BlobClient, String> {
    let transport = HyperTransport::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    // Fixed, like the baseline it is compared with: the same blocks, as many in flight.
    Ok(BlobClient::builder(Arc::new(transport))
        .block_size(BLOCK_SIZE)
        .concurrency(CONCURRENCY)
        .adaptive(false)
        .build())
}
