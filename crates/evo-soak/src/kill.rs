//! The kill test: a child process uploading (then one downloading) a large blob is killed with
//! `SIGKILL` half-way through; the next run resumes, and the emulator's byte counters show how
//! much was sent again.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use evo_emulator::{BlobStorage, Emulator, Fault, FaultPlan, RouteClass};
use evo_io::{BlobClient, Destination, Source};
use tokio::process::Command;

use crate::data::{sha256_file, write_random_file};

const MIB: u64 = 1 << 20;

/// The sizes of the kill test.
#[derive(Debug, Clone)]
pub struct KillConfig {
    /// The blob's size.
    pub size: u64,
    /// The blob client's block size (in the child and in the bound).
    pub block_size: u64,
    /// Blocks in flight (in the child and in the bound).
    pub concurrency: usize,
    /// A delay the emulator adds to each blob request, so the parent can catch the child
    /// half-way on a fast machine.
    pub latency: Duration,
    /// The longest one run of the child may take.
    pub timeout: Duration,
}

impl KillConfig {
    /// 1 GiB in 8 MiB blocks, 4 at a time (`cargo xtask soak`).
    pub fn full() -> KillConfig {
        KillConfig {
            size: 1 << 30,
            block_size: 8 * MIB,
            concurrency: 4,
            latency: Duration::from_millis(5),
            timeout: Duration::from_secs(600),
        }
    }

    /// 64 MiB in 1 MiB blocks, 4 at a time (the test suite).
    pub fn quick() -> KillConfig {
        KillConfig {
            size: 64 * MIB,
            block_size: MIB,
            concurrency: 4,
            latency: Duration::from_millis(20),
            timeout: Duration::from_secs(120),
        }
    }

    /// The most a resumed transfer may send again: every block that was in flight.
    pub fn bound(&self) -> u64 {
        self.concurrency as u64 * self.block_size
    }
}

/// The outcome of one killed and resumed transfer.
#[derive(Debug, Clone)]
pub struct KillReport {
    /// `upload` or `download`.
    pub direction: &'static str,
    /// The blob's size.
    pub size: u64,
    /// Bytes moved (by the emulator's counter) when the child was killed.
    pub at_kill: u64,
    /// Bytes moved in all, both runs.
    pub total: u64,
    /// `total - size`: bytes sent more than once.
    pub resent: u64,
    /// The allowed `resent`: concurrency × block size.
    pub bound: u64,
    /// Whether the result has the source's SHA-256.
    pub identical: bool,
}

impl KillReport {
    /// True when the result is identical and little was sent again.
    pub fn passed(&self) -> bool {
        self.identical && self.resent <= self.bound && self.at_kill < self.size
    }
}

impl fmt::Display for KillReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kill {}: {} MiB, killed after {} MiB, {} bytes sent again (at most {}), {}",
            self.direction,
            self.size / MIB,
            self.at_kill / MIB,
            self.resent,
            self.bound,
            if self.identical {
                "identical"
            } else {
                "DIFFERENT"
            }
        )
    }
}

/// Runs the upload and the download kill tests with `program` as the child (the `evo-soak`
/// binary: `program child upload|download URL PATH BLOCK_SIZE CONCURRENCY`).
pub async fn run(
    program: &Path,
    config: &KillConfig,
    work_dir: &Path,
) -> Result<Vec<KillReport>, String> {
    let emu = Emulator::builder()
        .blob_storage(BlobStorage::Folder(work_dir.join("blobs")))
        .start()
        .await
        .map_err(|e| format!("starting the emulator: {e}"))?;
    emu.set_faults(FaultPlan::none().with(RouteClass::Blob, Fault::Latency(config.latency), 1.0));
    let source = work_dir.join("source.bin");
    let expected = tokio::task::spawn_blocking({
        let source = source.clone();
        let size = config.size;
        move || write_random_file(&source, size, 7)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("writing the source: {e}"))?;
    let url = emu.blob_url("soak", "killed.bin", "racwd");
    let mut reports = Vec::new();

    // Upload: killed half-way, then run again to the end.
    let args = child_args("upload", &url, &source, config);
    let at_kill = kill_half_way(program, &args, config, || emu.blob_bytes_received()).await?;
    run_to_end(program, &args, config).await?;
    let total = emu.blob_bytes_received();
    let check = work_dir.join("uploaded.bin");
    let transport: evo_core::SharedTransport = Arc::new(
        evo_hyper::HyperTransport::builder()
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?,
    );
    let sent_before_check = emu.blob_bytes_sent();
    BlobClient::new(transport)
        .download(url.clone(), Destination::file(&check))
        .await
        .map_err(|e| format!("reading the uploaded blob back: {e}"))?;
    let identical = sha256_file(&check).map_err(|e| e.to_string())? == expected;
    let _ = std::fs::remove_file(&check);
    reports.push(KillReport {
        direction: "upload",
        size: config.size,
        at_kill,
        total,
        resent: total.saturating_sub(config.size),
        bound: config.bound(),
        identical,
    });

    // Download of the same blob: killed half-way, then run again to the end.
    let target = work_dir.join("downloaded.bin");
    let base = emu.blob_bytes_sent();
    debug_assert!(base >= sent_before_check);
    let args = child_args("download", &url, &target, config);
    let at_kill = kill_half_way(program, &args, config, || emu.blob_bytes_sent() - base).await?;
    run_to_end(program, &args, config).await?;
    let total = emu.blob_bytes_sent() - base;
    let identical = sha256_file(&target).map_err(|e| e.to_string())? == expected;
    let _ = std::fs::remove_file(&target);
    let _ = std::fs::remove_file(&source);
    reports.push(KillReport {
        direction: "download",
        size: config.size,
        at_kill,
        total,
        resent: total.saturating_sub(config.size),
        bound: config.bound(),
        identical,
    });
    emu.shutdown().await;
    Ok(reports)
}

fn child_args(direction: &str, url: &url::Url, path: &Path, config: &KillConfig) -> Vec<String> {
    vec![
        "child".into(),
        direction.into(),
        url.to_string(),
        path.display().to_string(),
        config.block_size.to_string(),
        config.concurrency.to_string(),
    ]
}

/// Starts the child and kills it (`SIGKILL`) once `moved()` passes half the size; returns the
/// bytes moved at that moment.
async fn kill_half_way(
    program: &Path,
    args: &[String],
    config: &KillConfig,
    moved: impl Fn() -> u64,
) -> Result<u64, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", program.display()))?;
    let started = Instant::now();
    loop {
        if moved() >= config.size / 2 {
            // tokio's kill sends SIGKILL on Unix: no destructor, no flush, no clean-up runs.
            child
                .kill()
                .await
                .map_err(|e| format!("killing the child: {e}"))?;
            return Ok(moved());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the child ended ({status}) before it was half-way; make the transfer larger or slower"
            ));
        }
        if started.elapsed() > config.timeout {
            return Err("the child did not get half-way in time".into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn run_to_end(program: &Path, args: &[String], config: &KillConfig) -> Result<(), String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", program.display()))?;
    let status = tokio::time::timeout(config.timeout, child.wait())
        .await
        .map_err(|_| "the resumed run did not finish in time".to_owned())?
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the resumed run failed: {status}"))
    }
}

/// The child's side: one upload of `path` to `url`, or one download of `url` to `path`, with
/// resume on (the default), as any program using evo-io would do it.
pub async fn child(args: &[String]) -> Result<(), String> {
    let [direction, url, path, block_size, concurrency] = args else {
        return Err("usage: child upload|download URL PATH BLOCK_SIZE CONCURRENCY".into());
    };
    let url: url::Url = url.parse().map_err(|e| format!("URL: {e}"))?;
    let path = PathBuf::from(path);
    let transport: evo_core::SharedTransport = Arc::new(
        evo_hyper::HyperTransport::builder()
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?,
    );
    let concurrency = concurrency.parse().map_err(|_| "concurrency")?;
    // The bound counts `concurrency` blocks in flight: adaptive growth must not pass it.
    let client = BlobClient::builder(transport)
        .block_size(block_size.parse().map_err(|_| "block size")?)
        .concurrency(concurrency)
        .max_concurrency(concurrency)
        .build();
    match direction.as_str() {
        "upload" => {
            let report = client
                .upload(url, Source::file(&path))
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "child: uploaded {} bytes, {} blocks reused",
                report.size, report.reused_blocks
            );
        }
        "download" => {
            let report = client
                .download(url, Destination::file(&path))
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "child: downloaded {} bytes, {} resumed",
                report.size, report.resumed_bytes
            );
        }
        other => return Err(format!("unknown direction {other:?}")),
    }
    Ok(())
}
