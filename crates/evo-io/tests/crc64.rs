//! Cheap integrity: Azure's CRC-64 per block (`x-ms-content-crc64`, checked by the emulator as
//! Azure checks it), the whole blob's CRC-64 combined from the blocks' and kept in its
//! metadata (`evo_crc64`), checked by downloads as the ranges arrive; MD5 on request.

use crate::support;

use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use evo_core::Body;
use evo_emulator::{BlobStorage, Emulator, Fault, FaultPlan, RouteClass};
use evo_io::{BlobClient, BlobDigest, Destination, ErrorKind, Integrity, Source, Step};
use md5::Digest as _;
use support::*;

const BS: u64 = 64 * 1024;
const CONTAINER: &str = "evo-io";
const META: &str = "x-ms-meta-evo_crc64";

fn builder(transport: evo_core::SharedTransport) -> evo_io::BlobClientBuilder {
    BlobClient::builder(transport)
        .block_size(BS)
        .single_put_max(0)
        .concurrency(4)
        .retry(
            evo_core::RetryPolicy::default()
                .with_max_attempts(4)
                .with_initial_backoff(Duration::from_millis(10))
                .with_max_backoff(Duration::from_millis(50)),
        )
}

fn client(transport: evo_core::SharedTransport) -> BlobClient {
    builder(transport).build()
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .blob_storage(BlobStorage::Memory)
        .start()
        .await
        .unwrap()
}

fn md5(bytes: &[u8]) -> [u8; 16] {
    md5::Md5::digest(bytes).into()
}

fn is_block(s: &Seen) -> bool {
    s.method == "PUT" && s.query.contains("comp=block&")
}

fn is_commit(s: &Seen) -> bool {
    s.method == "PUT" && s.query.ends_with("comp=blocklist")
}

/// The byte offset a Put Block's `blockid` names.
fn offset_of(s: &Seen) -> u64 {
    use base64::Engine as _;
    let id = s.query.split("blockid=").nth(1).unwrap();
    let id = id
        .replace("%2B", "+")
        .replace("%2F", "/")
        .replace("%3D", "=");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(id)
        .unwrap();
    String::from_utf8(raw).unwrap().parse().unwrap()
}

/// Names of the files in `dir` (hidden ones included).
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_carry_crc64_and_the_blob_keeps_the_combined_crc() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let bytes = data(12 * BS as usize + 5, 81);
    let path = dir.path().join("src.bin");
    std::fs::write(&path, &bytes).unwrap();
    let whole = azure_crc64(&bytes);
    let sources = [
        ("file", Source::file(&path)),
        ("bytes", Source::bytes(bytes.clone())),
        (
            "reader",
            Source::reader(std::io::Cursor::new(bytes.clone()), None),
        ),
    ];
    for (name, source) in sources {
        let recorder = Arc::new(Recorder::new(HyperTransport::shared()));
        let url = emu.blob_url(CONTAINER, &format!("crc-{name}"), "rcw");
        let report = client(recorder.clone())
            .upload(url.clone(), source)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.crc64, Some(whole), "{name}");
        assert_eq!(report.md5, None, "{name}: no MD5 by default");
        let seen = recorder.seen();
        let blocks: Vec<&Seen> = seen.iter().filter(|s| is_block(s)).collect();
        assert_eq!(blocks.len(), 13, "{name}");
        for s in &blocks {
            let offset = offset_of(s) as usize;
            let end = (offset + BS as usize).min(bytes.len());
            assert_eq!(
                header_str(&s.headers, "x-ms-content-crc64"),
                Some(crc64_header(azure_crc64(&bytes[offset..end])).as_str()),
                "{name}: the block at {offset}"
            );
            assert!(!s.headers.contains_key("content-md5"), "{name}");
        }
        let commits: Vec<&Seen> = seen.iter().filter(|s| is_commit(s)).collect();
        assert_eq!(commits.len(), 1, "{name}");
        assert_eq!(
            header_str(&commits[0].headers, META),
            Some(crc64_header(whole).as_str()),
            "{name}"
        );
        assert!(!commits[0].headers.contains_key("x-ms-blob-content-md5"));
        // The committed blob holds the combined CRC in its metadata.
        let stored = head(&url).await;
        assert_eq!(
            header_str(&stored, META),
            Some(crc64_header(whole).as_str()),
            "{name}"
        );
    }

    // A small source goes in one Put Blob with the same header and metadata.
    let recorder = Arc::new(Recorder::new(HyperTransport::shared()));
    let single = BlobClient::builder(recorder.clone()).build();
    let small = data(1000, 82);
    let url = emu.blob_url(CONTAINER, "crc-single", "rcw");
    let report = single
        .upload(url.clone(), Source::bytes(small.clone()))
        .await
        .unwrap();
    assert_eq!(report.crc64, Some(azure_crc64(&small)));
    let put = &recorder.seen()[0];
    assert_eq!(
        header_str(&put.headers, "x-ms-content-crc64"),
        Some(crc64_header(azure_crc64(&small)).as_str())
    );
    assert!(!put.headers.contains_key("content-md5"));
    assert_eq!(
        header_str(&head(&url).await, META),
        Some(crc64_header(azure_crc64(&small)).as_str())
    );
    let got = single
        .download(url, Destination::memory())
        .await
        .unwrap()
        .into_bytes();
    assert!(got == small);
}

/// Replaces the body of matching Put Blocks with one byte changed, keeping their headers (as a
/// faulty link or proxy would).
fn corrupting(
    transport: evo_core::SharedTransport,
    which: impl Fn(&http::Request<Body>) -> bool + Send + Sync + 'static,
) -> Recorder {
    Recorder::new(transport).rewrite(move |r| {
        if is_put_block(r) && which(r) {
            let body = std::mem::replace(r.body_mut(), Body::empty());
            *r.body_mut() = flip_byte(body, 7, 0x20);
        }
        None
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_corrupted_on_the_way_is_refused_sent_again_and_never_committed() {
    let emu = emulator().await;
    let bytes = data(6 * BS as usize, 83);
    let id = evo_io::block_id(2 * BS)
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let third_block = format!("blockid={id}");
    let is_third = {
        let third_block = third_block.clone();
        move |r: &http::Request<Body>| r.uri().query().unwrap().contains(&third_block)
    };

    // Corrupted once: the emulator refuses it as Azure does, and the block goes again.
    let once = AtomicBool::new(false);
    let third = is_third.clone();
    let recorder = Arc::new(corrupting(HyperTransport::shared(), move |r| {
        third(r) && !once.swap(true, Ordering::SeqCst)
    }));
    let url = emu.blob_url(CONTAINER, "corrupted-once", "rcw");
    let report = client(recorder.clone())
        .upload(url.clone(), Source::bytes(bytes.clone()))
        .await
        .unwrap();
    assert!(report.retries >= 1, "{report:?}");
    let attempts: Vec<Option<u16>> = recorder
        .seen()
        .iter()
        .filter(|s| is_block(s) && s.query.contains(&third_block))
        .map(|s| s.status)
        .collect();
    assert_eq!(attempts, vec![Some(400), Some(201)]);
    let got = client(HyperTransport::shared())
        .download(url, Destination::memory())
        .await
        .unwrap()
        .into_bytes();
    assert!(got == bytes, "the committed blob differs");

    // Corrupted every time: the upload fails on that block, and nothing is committed.
    let recorder = Arc::new(corrupting(HyperTransport::shared(), is_third));
    let url = emu.blob_url(CONTAINER, "corrupted-always", "rcw");
    let error = client(recorder.clone())
        .upload(url.clone(), Source::bytes(bytes.clone()))
        .resume(false)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Status, "{error}");
    assert_eq!(error.step(), Step::PutBlock);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(error.block().map(|b| b.index), Some(2));
    assert_eq!(error.attempts(), 4);
    assert_eq!(error.committed(), evo_io::Committed::Nothing);
    let api = error.core().and_then(evo_core::Error::as_api).unwrap();
    assert_eq!(api.storage_error_code(), Some("Crc64Mismatch"));
    assert!(!recorder.seen().iter().any(is_commit), "a commit was sent");
    let response = HyperTransport::shared()
        .send(
            http::Request::head(url.as_str())
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "the blob exists");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_with_a_flipped_byte_fails_the_crc_check_and_leaves_no_file() {
    let emu = emulator().await;
    let bytes = data(8 * BS as usize + 3, 84);
    let url = emu.blob_url(CONTAINER, "flipped", "rcw");
    client(HyperTransport::shared())
        .upload(url.clone(), Source::bytes(bytes.clone()))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.bin");
    // The second blob read is the first range (the first is the HEAD probe).
    let flip_a_range = || FaultPlan::none().with_nth(RouteClass::BlobRead, Fault::FlipByte, 2);
    let c = client(HyperTransport::shared());

    emu.set_faults(flip_a_range());
    let error = c
        .download(url.clone(), Destination::file(&target))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Integrity, "{error}");
    assert_eq!(error.step(), Step::Verify);
    assert!(error.message().contains("CRC-64"), "{error}");
    assert!(!error.resumable());
    assert!(
        files_in(dir.path()).is_empty(),
        "left behind: {:?}",
        files_in(dir.path())
    );

    emu.set_faults(flip_a_range());
    let error = c
        .download(url.clone(), Destination::memory())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Integrity, "{error}");

    emu.set_faults(flip_a_range());
    let mut out = Vec::new();
    let error = c
        .download(url.clone(), Destination::writer(&mut out))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Integrity, "{error}");

    // Without the check the flipped byte goes through: the check is what caught it.
    emu.set_faults(flip_a_range());
    let got = c
        .download(url.clone(), Destination::memory())
        .verify_crc64(false)
        .await
        .unwrap()
        .into_bytes();
    assert_eq!(got.len(), bytes.len());
    assert!(got != bytes, "no byte was flipped");

    // Unfaulted, every destination verifies and gets the blob.
    emu.set_faults(FaultPlan::none());
    c.download(url.clone(), Destination::file(&target))
        .await
        .unwrap();
    assert!(std::fs::read(&target).unwrap() == bytes);
    assert_eq!(files_in(dir.path()), vec!["out.bin".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_download_checks_the_ranges_an_earlier_run_kept() {
    let emu = emulator().await;
    let bytes = data(12 * BS as usize + 1, 85);
    let url = emu.blob_url(CONTAINER, "resumed-check", "rcw");
    client(HyperTransport::shared())
        .upload(url.clone(), Source::bytes(bytes.clone()))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.bin");
    let partial = dir.path().join(".out.bin.evo-download");

    let killed = |n: u64| {
        let recorder =
            Arc::new(Recorder::new(HyperTransport::shared()).gate(hold_after(n, is_ranged_get)));
        let (url, target) = (url.clone(), target.clone());
        async move {
            kill_after(
                client(recorder.clone())
                    .download(url, Destination::file(&target))
                    .into_future(),
                &recorder,
                "GET",
                "",
                206,
                n as usize,
                Some(&download_state(&target)),
            )
            .await;
        }
    };

    // Untouched, the kept ranges are read back once and the whole verifies.
    killed(6).await;
    let report = client(HyperTransport::shared())
        .download(url.clone(), Destination::file(&target))
        .await
        .unwrap();
    assert!(report.resumed_bytes >= BS, "{report:?}");
    assert!(std::fs::read(&target).unwrap() == bytes);
    std::fs::remove_file(&target).unwrap();

    // A byte of a kept range changed on disk: the resumed download fails and keeps nothing.
    killed(6).await;
    {
        use std::io::{Read as _, Seek as _, Write as _};
        let mut file = std::fs::File::options()
            .read(true)
            .write(true)
            .open(&partial)
            .unwrap();
        let mut byte = [0u8; 1];
        file.seek(std::io::SeekFrom::Start(10)).unwrap();
        file.read_exact(&mut byte).unwrap();
        file.seek(std::io::SeekFrom::Start(10)).unwrap();
        file.write_all(&[byte[0] ^ 1]).unwrap();
    }
    let error = client(HyperTransport::shared())
        .download(url.clone(), Destination::file(&target))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Integrity, "{error}");
    assert!(
        files_in(dir.path()).is_empty(),
        "left behind: {:?}",
        files_in(dir.path())
    );
    // The next download starts over and succeeds.
    let report = client(HyperTransport::shared())
        .download(url, Destination::file(&target))
        .await
        .unwrap();
    assert_eq!(report.resumed_bytes, 0);
    assert!(std::fs::read(&target).unwrap() == bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_md5_option_sets_content_md5_and_both_sets_both() {
    let emu = emulator().await;
    let bytes = data(5 * BS as usize + 9, 86);
    for integrity in [Integrity::Md5, Integrity::Both] {
        let recorder = Arc::new(Recorder::new(HyperTransport::shared()));
        let c = builder(recorder.clone()).integrity(integrity).build();
        let url = emu.blob_url(CONTAINER, &format!("{integrity:?}"), "rcw");
        let report = c
            .upload(url.clone(), Source::bytes(bytes.clone()))
            .await
            .unwrap();
        assert_eq!(
            report.md5,
            Some(BlobDigest::Md5(md5(&bytes))),
            "{integrity:?}"
        );
        let seen = recorder.seen();
        let blocks: Vec<&Seen> = seen.iter().filter(|s| is_block(s)).collect();
        let commit = seen.iter().find(|s| is_commit(s)).unwrap();
        let stored = head(&url).await;
        assert_eq!(
            header_str(&stored, "content-md5"),
            Some(BlobDigest::Md5(md5(&bytes)).to_base64().as_str()),
            "{integrity:?}"
        );
        // Never both checksums on one Put Block: Azure refuses that.
        match integrity {
            Integrity::Md5 => {
                assert_eq!(report.crc64, None);
                for s in &blocks {
                    assert!(s.headers.contains_key("content-md5"));
                    assert!(!s.headers.contains_key("x-ms-content-crc64"));
                }
                assert!(!commit.headers.contains_key(META));
                assert!(!stored.contains_key(META));
            }
            _ => {
                assert_eq!(report.crc64, Some(azure_crc64(&bytes)));
                for s in &blocks {
                    assert!(!s.headers.contains_key("content-md5"));
                    assert!(s.headers.contains_key("x-ms-content-crc64"));
                }
                assert_eq!(
                    header_str(&stored, META),
                    Some(crc64_header(azure_crc64(&bytes)).as_str())
                );
            }
        }
        assert!(commit.headers.contains_key("x-ms-blob-content-md5"));
        // The per-upload option wins over the client's.
        let url = emu.blob_url(CONTAINER, &format!("{integrity:?}-override"), "rcw");
        let report = c
            .upload(url.clone(), Source::bytes(bytes.clone()))
            .integrity(Integrity::Crc64)
            .await
            .unwrap();
        assert_eq!(
            (report.md5, report.crc64),
            (None, Some(azure_crc64(&bytes)))
        );
    }

    // An MD5-only blob still verifies against its stored MD5 (no CRC-64 to check).
    let url = emu.blob_url(CONTAINER, "Md5", "r");
    emu.set_faults(FaultPlan::none().with_nth(RouteClass::BlobRead, Fault::FlipByte, 2));
    let error = client(HyperTransport::shared())
        .download(url, Destination::memory())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Integrity, "{error}");
    assert!(error.message().contains("digest mismatch"), "{error}");
}
