//! The azurite benchmark: the blob path of evo-rs (`evo_io::BlobClient` on
//! `evo_hyper::HyperTransport`) against the official Python SDK's `evo.common.io`
//! (`StorageDestination.upload_file` and `HTTPSource.download_file` on `evo.aio.AioTransport`,
//! the calls its own services make for their blobs), on Azurite, Microsoft's Azure Storage
//! emulator: a server nobody here wrote, unlike the emulator the other benchmarks use.
//!
//! Azurite runs on loopback (`evo_testkit::Azurite::start_https_on_random_loopback_443`): the
//! Python SDK only accepts `https` blob URLs on the default port, so Azurite serves HTTPS
//! (HTTP/1.1, as Azure) on port 443 of a random `127.x.y.z` address with a certificate signed by
//! a CA made for the run (needs root or CAP_NET_BIND_SERVICE); both sides trust that CA (Python
//! through `SSL_CERT_FILE`, Rust through the transport builder's root certificate). The
//! orchestrator creates a container with Shared Key auth, writes a file of incompressible bytes
//! (`EVO_BENCH_AZURITE_MIB`, default 256) and takes its SHA-256, outside every clock. Each round
//! (`EVO_BENCH_ROUNDS`, default 3; the best round of each side counts; who goes first alternates)
//! signs one fresh service SAS URL (`rcw`, `evo_testkit::AzuriteSigner`) per side for a new blob;
//! the side, in a child process of its own (so its peak resident memory and CPU time are its
//! own), uploads the file to that URL as a block blob and downloads the blob back to a new file,
//! each with its library's defaults. Each child times itself around the upload and around the
//! download only, taking its own CPU time (`getrusage`) around each; the orchestrator also takes
//! each child's whole CPU time (start-up and the check included) by `getrusage` of its children.
//! After its clocks each child checks its download against the source, by size and by SHA-256,
//! and fails the run on a mismatch. A `sync` before each child keeps one side's dirty pages from
//! being written back on the other's clock.

use std::collections::HashMap;
use std::io::Read as _;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use evo_core::{Body, Transport as _};
use evo_hyper::HyperTransport;
use evo_io::{BlobClient, Destination, Source};
use sha2::Digest as _;

use crate::files::{Best, print_result, python_version, run_child};
use crate::io::{PythonBench, env_number, mib_per_s, write_source};
use crate::rusage::own_cpu_seconds;

/// The Python side, written next to the benchmark's files at run time.
const PYTHON_SCRIPT: &str = include_str!("../python/azurite_bench.py");
/// The two sides, in the order of the first round.
const SIDES: [&str; 2] = ["rust", "python"];
/// The container both sides' blobs go to.
const CONTAINER: &str = "bench";

/// The benchmark's settings, from the environment.
struct Settings {
    size_mib: u64,
    rounds: usize,
}

impl Settings {
    fn from_env() -> Result<Self, String> {
        let number = |name: &str, default: u64| env_number(name, default, "a whole number");
        Ok(Settings {
            size_mib: number("EVO_BENCH_AZURITE_MIB", 256)?.max(1),
            rounds: number("EVO_BENCH_ROUNDS", 3)?.max(1) as usize,
        })
    }
}

/// Runs the whole benchmark and prints the report; the last line is the summary.
pub fn orchestrate() -> Result<(), String> {
    let settings = Settings::from_env()?;
    crate::io::beside_python("azurite", PYTHON_SCRIPT, |bench| run(bench, &settings))
}

fn run(bench: &PythonBench<'_>, settings: &Settings) -> Result<(), String> {
    let (dir, python) = (bench.dir, bench.python);
    let size = settings.size_mib << 20;
    let source = dir.join("source.bin");
    write_source(&source, size)?;
    let source_sha256 = sha256_file(&source)?.1;

    let rt = crate::io::runtime()?;
    // Dropped (killed) before the runtime, at the end of this function.
    let azurite = std::panic::catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(evo_testkit::Azurite::start_https_on_random_loopback_443(
            &dir.join("azurite"),
        ))
    }))
    .map_err(|_| "starting Azurite over HTTPS on a loopback port 443 failed (see above)")?;
    let ca = azurite
        .ca_pem
        .clone()
        .ok_or("Azurite started without its CA")?;
    let signer = azurite.signer(CONTAINER);
    let transport = Arc::new(transport_trusting(&ca)?);
    rt.block_on(create_container(&signer, &transport))?;

    println!(
        "azurite-bench: {} MiB, {} rounds, Azurite {} (azurite-blob, disk persistence) over HTTPS (HTTP/1.1) at {}, one fresh service SAS URL (rcw) per side and round",
        settings.size_mib,
        settings.rounds,
        azurite_version(),
        azurite.account_url
    );
    println!(
        "  rust  : evo_io::BlobClient defaults on evo_hyper::HyperTransport defaults + Azurite's CA (blocks of at most {} MiB, {} in flight at first ({} when the first answer came within {} ms), adaptive up to {} within {} MiB, CRC-64 per block)",
        evo_io::DEFAULT_BLOCK_SIZE >> 20,
        BlobClient::builder(transport).build().concurrency(),
        evo_io::NEAR_CONCURRENCY,
        evo_io::NEAR_ROUND_TRIP.as_millis(),
        evo_io::DEFAULT_MAX_CONCURRENCY,
        evo_io::DEFAULT_MEMORY_BUDGET >> 20
    );
    println!(
        "  python: evo-sdk-common {} evo.common.io StorageDestination.upload_file / HTTPSource.download_file defaults, AioTransport defaults, SSL_CERT_FILE = Azurite's CA (4 MiB chunks, min(32, cpus + 4) = {} workers)",
        python_version(python, "evo-sdk-common"),
        std::thread::available_parallelism().map_or(0, |n| (n.get() + 4).min(32))
    );

    let mut results: HashMap<&str, Best> = HashMap::new();
    for round in 0..settings.rounds {
        let mut sides = SIDES;
        // Alternate who goes first, so neither side always meets a warm or a cold machine.
        sides.rotate_left(round % SIDES.len());
        for side in sides {
            let url = signer.blob_url_until(
                &format!("{side}-round-{}.bin", round + 1),
                "rcw",
                SystemTime::now() + Duration::from_secs(4 * 3600),
            );
            let downloaded = dir.join(format!("{side}-down.bin"));
            let _ = std::fs::remove_file(&downloaded);
            let command = bench.side_command(side, "azurite-child", &ca, |c| {
                c.arg(url.as_str())
                    .arg(&source)
                    .arg(&downloaded)
                    .arg(&source_sha256);
            })?;
            // Earlier rounds leave dirty pages; write them back before the clocks start.
            let _ = Command::new("sync").status();
            let measured = run_child(side, command)?;
            let _ = std::fs::remove_file(&downloaded);
            println!("  {}", measured.line(round, side, size));
            Best::keep(&mut results, side, &measured, size);
        }
    }
    drop(azurite);
    report(settings, &results)
}

/// Prints the best of each side, then the summary line.
fn report(settings: &Settings, results: &HashMap<&str, Best>) -> Result<(), String> {
    let get = |side: &str| {
        results
            .get(side)
            .copied()
            .ok_or_else(|| format!("no {side} result"))
    };
    let (r, p) = (get("rust")?, get("python")?);
    let size = settings.size_mib << 20;
    println!(
        "{} MiB (best of {}): upload evo-rs {:.1} MiB/s python {:.1} MiB/s; download evo-rs {:.1} MiB/s python {:.1} MiB/s; client CPU per GiB moved (inside the clocks) evo-rs {:.2} s python {:.2} s (whole process {:.2} s / {:.2} s); peak evo-rs {} MiB python {} MiB",
        settings.size_mib,
        settings.rounds,
        mib_per_s(size, r.upload_seconds),
        mib_per_s(size, p.upload_seconds),
        mib_per_s(size, r.download_seconds),
        mib_per_s(size, p.download_seconds),
        r.cpu_per_gib,
        p.cpu_per_gib,
        r.process_cpu_per_gib,
        p.process_cpu_per_gib,
        r.peak_bytes >> 20,
        p.peak_bytes >> 20
    );
    println!(
        "cpu: evo-rs client CPU per GiB divided by Python's (inside the clocks), lower is better; peak: the largest over the rounds"
    );
    println!(
        "azurite-bench: upload {:.2}x python, download {:.2}x python, cpu {:.2}x python, peak rust {} MiB, python {} MiB",
        p.upload_seconds / r.upload_seconds,
        p.download_seconds / r.download_seconds,
        r.cpu_per_gib / p.cpu_per_gib,
        r.peak_bytes >> 20,
        p.peak_bytes >> 20
    );
    Ok(())
}

/// Creates the container (Create Container with Shared Key auth).
async fn create_container(
    signer: &evo_testkit::AzuriteSigner,
    transport: &HyperTransport,
) -> Result<(), String> {
    let (url, headers) = signer.create_container_request();
    let mut request = http::Request::put(url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let request = request
        .body(Body::empty())
        .map_err(|e| format!("the Create Container request: {e}"))?;
    let response = transport
        .send(request)
        .await
        .map_err(|e| format!("creating the container: {e}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect(1 << 20)
        .await
        .unwrap_or_default();
    if !status.is_success() {
        return Err(format!(
            "creating the container: {status} {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(())
}

/// evo-hyper's transport with its defaults, also trusting the CA in the PEM file `ca`.
fn transport_trusting(ca: &Path) -> Result<HyperTransport, String> {
    let pem = std::fs::read(ca).map_err(|e| format!("reading {}: {e}", ca.display()))?;
    HyperTransport::builder()
        .add_root_certificate(pem)
        .build()
        .map_err(|e| format!("building the transport: {e}"))
}

/// The installed Azurite's version (its npm package's), or `?`.
fn azurite_version() -> String {
    let manifest = evo_testkit::peers_dir().join("node/node_modules/azurite/package.json");
    std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| {
            let rest = &text[text.find("\"version\"")? + "\"version\"".len()..];
            let rest = &rest[rest.find('"')? + 1..];
            Some(rest[..rest.find('"')?].to_owned())
        })
        .unwrap_or_else(|| "?".to_owned())
}

/// The size and the SHA-256 (lowercase hex) of a file.
fn sha256_file(path: &Path) -> Result<(u64, String), String> {
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("opening {}: {e}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let (mut buf, mut size) = (vec![0u8; 1 << 20], 0u64);
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((size, hex))
}

/// `azurite-child SAS_URL SOURCE TARGET SOURCE_SHA256 CA`: the evo-rs side of one round. Prints
/// the same `result ...` line as the Python script.
pub fn child(args: &[String]) -> Result<(), String> {
    let [url, source, target, expected_sha256, ca] = args else {
        return Err("usage: evo-bench azurite-child SAS_URL SOURCE TARGET SOURCE_SHA256 CA".into());
    };
    let url: url::Url = url.parse().map_err(|e| format!("bad SAS URL: {e}"))?;
    let (source, target) = (PathBuf::from(source), PathBuf::from(target));
    let client = BlobClient::builder(Arc::new(transport_trusting(Path::new(ca))?)).build();
    let rt = crate::io::runtime()?;
    let (upload, download) = rt.block_on(async {
        let (started, cpu) = (Instant::now(), own_cpu_seconds());
        client
            .upload(url.clone(), Source::file(&source))
            .await
            .map_err(|e| format!("upload: {e}"))?;
        let upload = (started.elapsed().as_secs_f64(), own_cpu_seconds() - cpu);

        let (started, cpu) = (Instant::now(), own_cpu_seconds());
        client
            .download(url, Destination::file(&target))
            .await
            .map_err(|e| format!("download: {e}"))?;
        let download = (started.elapsed().as_secs_f64(), own_cpu_seconds() - cpu);
        Ok::<_, String>((upload, download))
    })?;
    // Outside the clocks: the download must be the source.
    let source_size = std::fs::metadata(&source)
        .map_err(|e| format!("reading {}: {e}", source.display()))?
        .len();
    let (size, sha256) = sha256_file(&target)?;
    if size != source_size {
        return Err(format!(
            "downloaded {size} bytes, the source has {source_size}"
        ));
    }
    if sha256 != *expected_sha256 {
        return Err(format!(
            "the download's SHA-256 is {sha256}, the source's {expected_sha256}"
        ));
    }
    print_result(upload, download, &format!("size={size} sha256={sha256}"));
    Ok(())
}
