//! Upload a file to a workspace, list it, download it back and compare digests.
//!
//! ```text
//! cargo run --release --example files [-- PATH]
//! ```
//!
//! Starts the embedded Evo emulator (nothing leaves this machine), uploads PATH (or a generated
//! 256 MiB file of random bytes) with a progress bar, lists it, downloads it back with a
//! progress bar, compares SHA-256 digests and prints the throughput of both transfers.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use evo_core::{ApiConnector, Environment, Progress, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_files::{Destination, FilesClient, ListFilesQuery, Source};
use evo_hyper::HyperTransport;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest as _, Sha256};

const GENERATED_SIZE: u64 = 256 * 1024 * 1024;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = tempfile::tempdir()?;
    let source = match std::env::args_os().nth(1) {
        Some(path) => PathBuf::from(path),
        None => {
            let path = scratch.path().join("generated 256 MiB.bin");
            println!("generating {} ...", path.display());
            generate(&path, GENERATED_SIZE)?;
            path
        }
    };
    let size = std::fs::metadata(&source)?.len();
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload.bin".into());

    // The embedded emulator, with one workspace.
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Example Org", "workspaces": [{"name": "Files example"}]}]}"#,
    )?;
    let emulator = Emulator::builder().seed(seed).start().await?;
    let workspace = emulator.organizations()[0].workspaces[0].0;
    let environment = Environment::new(emulator.hub_url(), emulator.org_id(), workspace);
    println!("emulator on {}, workspace {workspace}", emulator.hub_url());

    let connector = ApiConnector::builder(emulator.hub_url())
        .transport(Arc::new(HyperTransport::new()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(
            emulator.issue_token(&["evo.file"]),
        )))
        .build()?;
    let files = FilesClient::new(environment, connector)?;

    // Upload.
    let remote = format!("examples/{name}");
    let up_bar = progress_bar(size, "upload");
    let feedback = |p: &Progress| up_bar.set_position(p.bytes_done);
    let started = Instant::now();
    let uploaded = files
        .upload(remote.as_str(), Source::file(&source))
        .feedback(&feedback)
        .await?;
    let upload_time = started.elapsed();
    up_bar.finish();
    println!(
        "uploaded {remote}: file {} version {}, {} bytes in {:.2?} ({:.1} MiB/s)",
        uploaded.file_id,
        uploaded.version_id,
        uploaded.size,
        upload_time,
        mib_per_s(size, upload_time)
    );

    // List.
    let page = files
        .list_page(&ListFilesQuery::new().file_name(&name))
        .await?;
    for f in &page.items {
        println!(
            "listed: {:<40} {:>12} bytes  version {}  modified {}",
            f.full_path(),
            f.size,
            f.version_id,
            f.modified_at
        );
    }

    // Download.
    let target = scratch.path().join("downloaded.bin");
    let down_bar = progress_bar(size, "download");
    let feedback = |p: &Progress| down_bar.set_position(p.bytes_done);
    let started = Instant::now();
    files
        .download(uploaded.file_id, None, Destination::file(&target))
        .feedback(&feedback)
        .await?;
    let download_time = started.elapsed();
    down_bar.finish();
    println!(
        "downloaded {} bytes in {:.2?} ({:.1} MiB/s)",
        size,
        download_time,
        mib_per_s(size, download_time)
    );

    // Compare.
    let (a, b) = (sha256_file(&source)?, sha256_file(&target)?);
    println!("sha256 source   {a}\nsha256 download {b}");
    emulator.shutdown().await;
    if a != b {
        return Err("the downloaded file differs from the source".into());
    }
    println!("identical");
    Ok(())
}

fn progress_bar(len: u64, label: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>8} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.set_prefix(label);
    bar
}

fn mib_per_s(bytes: u64, time: std::time::Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / time.as_secs_f64().max(1e-9)
}

/// Writes `len` pseudo-random bytes to `path`, 1 MiB at a time.
fn generate(path: &Path, len: u64) -> std::io::Result<()> {
    let mut rng = fastrand::Rng::with_seed(0x5EED);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        rng.fill(&mut chunk[..n]);
        out.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    out.flush()
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}
