//! The soak: many File API transfers of random sizes through the emulator under faults.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use evo_auth::{ClientCredentialsAuthorizer, OAuthConnector, Scopes};
use evo_core::{ApiConnector, Environment, RetryPolicy, SharedTransport};
use evo_emulator::{BlobStorage, Emulator, Fault, FaultPlan, RouteClass, Seed};
use evo_files::FilesClient;
use evo_io::{BlobClient, Destination, Source};
use futures_util::StreamExt as _;

use crate::data::{peak_rss, sha256_file, write_random_file};

const MIB: u64 = 1 << 20;

/// What the soak does and which faults the emulator injects.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// Files uploaded.
    pub uploads: usize,
    /// Files downloaded (each uploaded file in turn, again from the first when there are more
    /// downloads than uploads).
    pub downloads: usize,
    /// The largest file. Sizes are random from 0 B to this, log-uniform (many small files,
    /// some large); the first file is empty and the second has the largest size.
    pub max_size: u64,
    /// The seed of the sizes, the contents and the fault decisions.
    pub seed: u64,
    /// Transfers running at once.
    pub parallel: usize,
    /// The blob client's block size.
    pub block_size: u64,
    /// Blocks in flight per transfer.
    pub concurrency: usize,
    /// The share of File API and blob requests answered 503 with `Retry-After`.
    pub unavailable: f64,
    /// The `Retry-After` of those answers, in seconds.
    pub retry_after_secs: u64,
    /// The share of blob requests whose connection is reset in the middle of a body (the
    /// answer's for reads, the request's for writes).
    pub reset_mid_body: f64,
    /// The share of blob requests whose answer is cut short (a clean close after about half).
    pub truncated: f64,
    /// How often a blob URL is expired (the next blob request's URL answers 403 from then on).
    pub url_expiry: Duration,
    /// How often the bearer token is expired (the next File API request's token answers 401
    /// from then on).
    pub token_expiry: Duration,
    /// The most resident memory the process may reach (client and in-process emulator).
    pub memory_limit: u64,
}

impl SoakConfig {
    /// The full soak of `cargo xtask soak`: 200 uploads and 200 downloads up to 64 MiB, 10 %
    /// 503, 5 % resets mid-body, 2 % truncated bodies, a URL expiry every 30 s and a token
    /// expiry every 20 s.
    pub fn full() -> SoakConfig {
        SoakConfig {
            uploads: 200,
            downloads: 200,
            max_size: 64 * MIB,
            seed: 2026,
            parallel: 2,
            block_size: 4 * MIB,
            concurrency: 4,
            unavailable: 0.10,
            retry_after_secs: 1,
            reset_mid_body: 0.05,
            truncated: 0.02,
            url_expiry: Duration::from_secs(30),
            token_expiry: Duration::from_secs(20),
            memory_limit: 512 * MIB,
        }
    }

    /// A few seconds' worth for the test suite: the same faults at higher rates and shorter
    /// periods, on fewer and smaller files.
    pub fn quick() -> SoakConfig {
        SoakConfig {
            uploads: 24,
            downloads: 24,
            max_size: 4 * MIB,
            parallel: 3,
            block_size: 256 * 1024,
            unavailable: 0.15,
            reset_mid_body: 0.15,
            truncated: 0.08,
            retry_after_secs: 0,
            url_expiry: Duration::from_millis(100),
            token_expiry: Duration::from_millis(80),
            memory_limit: 256 * MIB,
            ..SoakConfig::full()
        }
    }

    /// The size of file `index`.
    pub fn size_of(&self, index: usize) -> u64 {
        match index {
            0 => 0,
            1 => self.max_size,
            _ => {
                let mut rng =
                    fastrand::Rng::with_seed(self.seed ^ (index as u64).wrapping_mul(0x9E37_79B9));
                // log-uniform in [1, max_size]
                let exp = rng.f64() * (self.max_size.max(1) as f64).ln();
                (exp.exp() as u64).clamp(1, self.max_size)
            }
        }
    }

    /// The emulator's fault plan.
    pub fn fault_plan(&self) -> FaultPlan {
        FaultPlan::seeded(self.seed)
            .with_every(RouteClass::Blob, Fault::ExpireUrl, self.url_expiry)
            .with_every(RouteClass::Files, Fault::ExpireToken, self.token_expiry)
            .with(
                RouteClass::Files,
                Fault::Unavailable {
                    retry_after_secs: self.retry_after_secs,
                },
                self.unavailable,
            )
            .with(
                RouteClass::Blob,
                Fault::Unavailable {
                    retry_after_secs: self.retry_after_secs,
                },
                self.unavailable,
            )
            .with(
                RouteClass::BlobRead,
                Fault::ResetMidBody,
                self.reset_mid_body,
            )
            .with(
                RouteClass::BlobWrite,
                Fault::ResetMidRequest,
                self.reset_mid_body,
            )
            .with(RouteClass::Blob, Fault::TruncatedBody, self.truncated)
    }
}

/// The outcome of a soak.
#[derive(Debug, Clone)]
pub struct SoakReport {
    /// Transfers made (uploads and downloads).
    pub transfers: usize,
    /// Transfers whose content came back with the SHA-256 it was sent with.
    pub identical: usize,
    /// Faults the emulator injected: each made the client retry a request, renew a URL or
    /// refresh its token.
    pub retries: u64,
    /// Faults per kind, for the record.
    pub faults: Vec<(String, u64)>,
    /// Peak resident memory of the process, when known.
    pub peak_bytes: Option<u64>,
    /// Bytes uploaded and downloaded (each counted once).
    pub bytes: u64,
    /// How long the soak took.
    pub elapsed: Duration,
    /// What went wrong, one line per failed transfer or broken bound.
    pub failures: Vec<String>,
}

impl SoakReport {
    /// True when every transfer was identical and no bound was broken.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.identical == self.transfers
    }
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let peak = self
            .peak_bytes
            .map_or_else(|| "unknown".to_owned(), |b| (b / MIB).to_string());
        write!(
            f,
            "soak: {}/{} transfers identical, {} retries, peak {} MiB",
            self.identical, self.transfers, self.retries, peak
        )
    }
}

/// Runs the soak in `work_dir` (local files and the emulator's blob folder go there).
pub async fn run(config: &SoakConfig, work_dir: &Path) -> Result<SoakReport, String> {
    let started = Instant::now();
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Soak", "workspaces": [{"name": "Soak"}]}]}"#,
    )
    .map_err(|e| format!("seed: {e}"))?;
    let emu = Emulator::builder()
        .seed(seed)
        .blob_storage(BlobStorage::Folder(work_dir.join("blobs")))
        .start()
        .await
        .map_err(|e| format!("starting the emulator: {e}"))?;
    let files = client(&emu, config)?;
    // Faults start once the client is set up (the first token request is not faulted).
    emu.set_faults(config.fault_plan());

    let indices = 0..config.uploads.max(config.downloads);
    let results: Vec<Vec<Result<u64, String>>> = futures_util::stream::iter(indices)
        .map(|i| transfer(&files, config, work_dir, i))
        .buffer_unordered(config.parallel.max(1))
        .collect()
        .await;
    let counters = emu.fault_counters();
    let mut report = SoakReport {
        transfers: 0,
        identical: 0,
        retries: counters.total(),
        faults: counters
            .iter()
            .map(|(class, kind, n)| (format!("{class:?} {kind:?}"), n))
            .collect(),
        peak_bytes: peak_rss(),
        bytes: 0,
        elapsed: started.elapsed(),
        failures: Vec::new(),
    };
    for result in results.into_iter().flatten() {
        report.transfers += 1;
        match result {
            Ok(bytes) => {
                report.identical += 1;
                report.bytes += bytes;
            }
            Err(e) => report.failures.push(e),
        }
    }
    if let Some(peak) = report.peak_bytes {
        if peak > config.memory_limit {
            report.failures.push(format!(
                "peak resident memory {} MiB is over the limit of {} MiB",
                peak / MIB,
                config.memory_limit / MIB
            ));
        }
    }
    emu.shutdown().await;
    Ok(report)
}

/// A File API client on the emulator: client-credentials tokens (renewed after a 401), retries
/// for the fault rates of the soak.
fn client(emu: &Emulator, config: &SoakConfig) -> Result<FilesClient, String> {
    let transport: SharedTransport = Arc::new(
        evo_hyper::HyperTransport::builder()
            .no_proxy()
            .build()
            .map_err(|e| format!("transport: {e}"))?,
    );
    let service = emu.service_client();
    let oauth = OAuthConnector::builder(transport.clone(), service.client_id)
        .issuer(emu.ims_url().as_str())
        .client_secret(service.client_secret)
        .build()
        .map_err(|e| format!("OAuth connector: {e}"))?;
    let authorizer = ClientCredentialsAuthorizer::new(oauth, Scopes::all_evo())
        .map_err(|e| format!("authorizer: {e}"))?;
    // With about one blob request in six faulted, ten attempts leave a failure chance of
    // about 1e-8 per request.
    let retries = RetryPolicy::default()
        .with_max_attempts(10)
        .with_initial_backoff(Duration::from_millis(20))
        .with_max_backoff(Duration::from_millis(500))
        .with_max_retry_after(Duration::from_secs(5));
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(transport.clone())
        .authorizer(Arc::new(authorizer))
        .retry_policy(retries.clone())
        .build()
        .map_err(|e| format!("API connector: {e}"))?;
    let workspace = emu
        .organizations()
        .first()
        .and_then(|o| o.workspaces.first().map(|w| w.0))
        .ok_or("the emulator has no workspace")?;
    let environment = Environment::new(emu.hub_url(), emu.org_id(), workspace);
    let blobs = BlobClient::builder(transport)
        .block_size(config.block_size)
        .concurrency(config.concurrency)
        .retry(retries)
        .max_renewals(1000)
        .renew_debounce(Duration::from_millis(10))
        .build();
    FilesClient::builder(environment, connector)
        .blob_client(blobs)
        .build()
        .map_err(|e| format!("files client: {e}"))
}

/// Uploads file `index` (when it is one of the uploads) and downloads it (when it is one of
/// the downloads); returns one result per transfer, `Ok(bytes)` when the content matched.
async fn transfer(
    files: &FilesClient,
    config: &SoakConfig,
    work_dir: &Path,
    index: usize,
) -> Vec<Result<u64, String>> {
    let uploads = config.uploads.max(1);
    let file = index % uploads;
    let size = config.size_of(file);
    let content_seed = config.seed.wrapping_mul(31).wrapping_add(file as u64);
    let remote = format!("soak/file-{file}.bin");
    let mut results = Vec::new();
    let source = work_dir.join(format!("up-{index}.bin"));
    let expected = match tokio::task::spawn_blocking({
        let source = source.clone();
        move || write_random_file(&source, size, content_seed)
    })
    .await
    {
        Ok(Ok(sha)) => sha,
        Ok(Err(e)) => return vec![Err(format!("file {file}: writing the source: {e}"))],
        Err(e) => return vec![Err(format!("file {file}: writing the source: {e}"))],
    };
    let file_id = if index < config.uploads {
        let uploaded = files.upload(remote.as_str(), Source::file(&source)).await;
        let _ = std::fs::remove_file(&source);
        match uploaded {
            Ok(meta) if meta.size == size => {
                results.push(Ok(size));
                meta.file_id
            }
            Ok(meta) => {
                results.push(Err(format!(
                    "upload {file}: {} bytes stored, {size} sent",
                    meta.size
                )));
                return results;
            }
            Err(e) => {
                results.push(Err(format!("upload {file} ({size} bytes): {e}")));
                return results;
            }
        }
    } else {
        let _ = std::fs::remove_file(&source);
        match files
            .get_by_path(remote.as_str(), &Default::default())
            .await
        {
            Ok(meta) => meta.file_id,
            Err(e) => return vec![Err(format!("download {file}: looking it up: {e}"))],
        }
    };
    if index >= config.downloads {
        return results;
    }
    let target = work_dir.join(format!("down-{index}.bin"));
    let downloaded = files
        .download(file_id, None, Destination::file(&target))
        .overwrite(true)
        .await;
    let result = match downloaded {
        Ok(_) => match sha256_file(&target) {
            Ok(sha) if sha == expected => Ok(size),
            Ok(sha) => Err(format!(
                "download {file} ({size} bytes): SHA-256 {} instead of {}",
                hex::encode(sha),
                hex::encode(expected)
            )),
            Err(e) => Err(format!("download {file}: reading it back: {e}")),
        },
        Err(e) => Err(format!("download {file} ({size} bytes): {e}")),
    };
    let _ = std::fs::remove_file(&target);
    results.push(result);
    results
}
