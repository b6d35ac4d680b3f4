//! evo-io against the evo-emulator's blob service, with its fault injection.

use crate::support;

use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use evo_core::Body;
use evo_emulator::{BlobStorage, Emulator, Fault, FaultKind, FaultPlan, RouteClass};
use evo_io::{BlobClient, BlobDigest, Destination, Integrity, Source};
use md5::Digest as _;
use support::*;

const BS: u64 = 64 * 1024;
const CONTAINER: &str = "evo-io";

fn client(transport: evo_core::SharedTransport) -> BlobClient {
    BlobClient::builder(transport)
        .block_size(BS)
        .single_put_max(0)
        .concurrency(4)
        .retry(
            evo_core::RetryPolicy::default()
                .with_max_attempts(10)
                .with_initial_backoff(Duration::from_millis(20))
                .with_max_backoff(Duration::from_millis(200)),
        )
        .renew_debounce(Duration::from_millis(50))
        .build()
}

async fn emulator(plan: FaultPlan) -> Emulator {
    if std::env::var_os("EVO_IO_TRACE").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("evo_io=trace")
            .with_test_writer()
            .try_init();
    }
    Emulator::builder()
        .blob_storage(BlobStorage::Memory)
        .faults(plan)
        .start()
        .await
        .unwrap()
}

fn kind_of(fault: &Fault) -> FaultKind {
    fault.kind()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_blob_fault_kind_is_retried_per_block_and_the_result_is_identical() {
    let only = std::env::var("EVO_IO_FAULT").ok();
    let faults = [
        Fault::Status(500),
        Fault::Status(503),
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        Fault::ResetBeforeBody,
        Fault::ResetMidBody,
        Fault::TruncatedBody,
        Fault::Latency(Duration::from_millis(30)),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, fault) in faults.iter().enumerate() {
        if only
            .as_deref()
            .is_some_and(|o| !format!("{fault:?}").starts_with(o))
        {
            continue;
        }
        // Faults on about a fifth of the blob requests, at most 8 of them per run.
        let plan =
            FaultPlan::seeded(40 + i as u64).with_limited(RouteClass::Blob, fault.clone(), 0.2, 8);
        let emu = emulator(plan).await;
        let started = std::time::Instant::now();
        let name = format!("faults-{i}");
        let url = emu.blob_url(CONTAINER, &name, "rcw");
        let bytes = data(20 * BS as usize + 17, i as u64);
        let c = client(HyperTransport::shared());
        let up = c
            .upload(url.clone(), Source::bytes(bytes.clone()))
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: upload: {e}"));
        let md5: [u8; 16] = md5::Md5::digest(&bytes).into();
        assert_eq!(up.crc64, Some(azure_crc64(&bytes)));
        let got = c
            .download(url.clone(), Destination::memory())
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: download: {e}"))
            .into_bytes();
        assert!(
            got.as_ref() == bytes.as_slice(),
            "{fault:?}: memory download differs"
        );
        let target = dir.path().join(&name);
        let report = c
            .download(url.clone(), Destination::file(&target))
            .expect_digest(BlobDigest::Md5(md5))
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: file download: {e}"));
        assert!(
            std::fs::read(&target).unwrap() == bytes,
            "{fault:?}: file differs"
        );
        let injected = emu.fault_counters().get(RouteClass::Blob, kind_of(fault));
        assert!(injected > 0, "{fault:?} was never injected");
        if !matches!(fault, Fault::Latency(_)) {
            assert!(up.retries + report.retries > 0 || injected > 0, "{fault:?}");
        }
        eprintln!(
            "{fault:?}: {:?}, {} retries",
            started.elapsed(),
            up.retries + report.retries
        );
        emu.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_past_the_retry_budget_say_which_block_and_that_nothing_was_committed() {
    let emu =
        emulator(FaultPlan::seeded(1).with(RouteClass::BlobWrite, Fault::Status(503), 1.0)).await;
    let url = emu.blob_url(CONTAINER, "always-503", "rcw");
    let c = BlobClient::builder(HyperTransport::shared())
        .block_size(BS)
        .single_put_max(0)
        .retry(
            evo_core::RetryPolicy::default()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build();
    let err = c
        .upload(url, Source::bytes(data(3 * BS as usize, 1)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), evo_io::ErrorKind::Status);
    assert_eq!(err.step(), evo_io::Step::PutBlock);
    assert_eq!(err.attempts(), 3);
    assert!(err.block().is_some());
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.committed(), evo_io::Committed::Nothing);
    let core: evo_core::Error = err.into();
    assert_eq!(core.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_retry_budget_caps_the_retries_of_blocks() {
    let emu =
        emulator(FaultPlan::seeded(2).with(RouteClass::BlobWrite, Fault::Status(503), 1.0)).await;
    let url = emu.blob_url(CONTAINER, "budgeted", "rcw");
    let budget = evo_core::RetryBudget::new(10);
    let c = BlobClient::builder(HyperTransport::shared())
        .block_size(BS)
        .single_put_max(0)
        .concurrency(1)
        .retry(
            evo_core::RetryPolicy::default()
                .with_max_attempts(50)
                .with_initial_backoff(Duration::from_millis(1))
                .with_budget(budget.clone()),
        )
        .build();
    let err = c
        .upload(url, Source::bytes(data(2 * BS as usize, 2)))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.attempts(), 3, "the budget held two retries: {err}");
    assert_eq!(budget.available("127.0.0.1"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_expired_mid_transfer_are_renewed_through_the_callback() {
    let emu = Arc::new(emulator(FaultPlan::none()).await);
    for direction in ["upload", "download"] {
        let name = format!("expire-{direction}");
        let bytes = data(16 * BS as usize, 9);
        if direction == "download" {
            client(HyperTransport::shared())
                .upload(
                    emu.blob_url(CONTAINER, &name, "rcw"),
                    Source::bytes(bytes.clone()),
                )
                .await
                .unwrap();
        }
        let url = emu.blob_url(CONTAINER, &name, "rcw");
        // On the 4th block request, every URL issued so far expires.
        let count = AtomicU64::new(0);
        let e = emu.clone();
        let matches: fn(&http::Request<Body>) -> bool = if direction == "upload" {
            is_put_block
        } else {
            is_ranged_get
        };
        let recorder = Arc::new(Recorder::new(HyperTransport::shared()).gate(move |r| {
            if matches(r) && count.fetch_add(1, Ordering::SeqCst) == 3 {
                e.expire_blob_urls();
            }
            None
        }));
        let renewals = Arc::new(AtomicU64::new(0));
        let (r, e, n) = (renewals.clone(), emu.clone(), name.clone());
        let renew = move || {
            let (r, e, n) = (r.clone(), e.clone(), n.clone());
            async move {
                r.fetch_add(1, Ordering::SeqCst);
                Ok(e.blob_url(CONTAINER, &n, "rcw"))
            }
        };
        let c = client(recorder.clone());
        if direction == "upload" {
            c.upload(url, Source::bytes(bytes.clone()))
                .renew_with(renew)
                .await
                .unwrap();
        } else {
            let got = c
                .download(url, Destination::memory())
                .renew_with(renew)
                .await
                .unwrap()
                .into_bytes();
            assert!(got.as_ref() == bytes.as_slice());
        }
        assert!(
            recorder.seen().iter().any(|s| s.status == Some(403)),
            "{direction}"
        );
        assert_eq!(
            renewals.load(Ordering::SeqCst),
            1,
            "{direction}: one shared renewal"
        );
        let got = client(HyperTransport::shared())
            .download(emu.blob_url(CONTAINER, &name, "r"), Destination::memory())
            .await
            .unwrap()
            .into_bytes();
        assert!(got.as_ref() == bytes.as_slice(), "{direction}");
    }
    // The ExpireUrl fault (the URL in use expires on the 5th blob request) is recovered too.
    emu.set_faults(FaultPlan::none().with_nth(RouteClass::Blob, Fault::ExpireUrl, 5));
    let name = "expire-fault";
    let bytes = data(10 * BS as usize, 10);
    let e = emu.clone();
    let renew = move || {
        let e = e.clone();
        async move { Ok(e.blob_url(CONTAINER, name, "rcw")) }
    };
    client(HyperTransport::shared())
        .upload(
            emu.blob_url(CONTAINER, name, "rcw"),
            Source::bytes(bytes.clone()),
        )
        .renew_with(renew)
        .await
        .unwrap();
    assert_eq!(
        emu.fault_counters()
            .get(RouteClass::Blob, FaultKind::ExpireUrl),
        1
    );
    let got = client(HyperTransport::shared())
        .download(emu.blob_url(CONTAINER, name, "r"), Destination::memory())
        .await
        .unwrap()
        .into_bytes();
    assert!(got.as_ref() == bytes.as_slice());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_transfers_resume_on_the_emulator() {
    let emu = emulator(FaultPlan::none()).await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src.bin");
    let bytes = data(12 * BS as usize + 1, 12);
    std::fs::write(&source, &bytes).unwrap();
    let url = emu.blob_url(CONTAINER, "resumed", "rcw");

    let first = Arc::new(Recorder::new(HyperTransport::shared()).gate(hold_after(5, is_put_block)));
    kill_after(
        client(first.clone())
            .upload(url.clone(), Source::file(&source))
            .into_future(),
        &first,
        "PUT",
        "",
        201,
        5,
        Some(&upload_state(&source)),
    )
    .await;
    let second = Arc::new(Recorder::new(HyperTransport::shared()));
    let report = client(second.clone())
        .upload(url.clone(), Source::file(&source))
        .await
        .unwrap();
    assert_eq!(report.reused_blocks, 5);
    assert_eq!(second.count("PUT", "comp=block&"), 13 - 5);
    // The blocks not sent again still count in the whole-blob CRC-64 (from the state file),
    // which the blob keeps in its metadata.
    assert_eq!(report.crc64, Some(azure_crc64(&bytes)));
    assert_eq!(
        header_str(&head(&url).await, "x-ms-meta-evo_crc64"),
        Some(crc64_header(azure_crc64(&bytes)).as_str())
    );

    let target = dir.path().join("out.bin");
    let third =
        Arc::new(Recorder::new(HyperTransport::shared()).gate(hold_after(6, is_ranged_get)));
    kill_after(
        client(third.clone())
            .download(url.clone(), Destination::file(&target))
            .into_future(),
        &third,
        "GET",
        "",
        206,
        6,
        Some(&download_state(&target)),
    )
    .await;
    assert!(!target.exists());
    let report = client(HyperTransport::shared())
        .download(url, Destination::file(&target))
        .await
        .unwrap();
    assert!(report.resumed_bytes >= BS, "{report:?}");
    assert!(std::fs::read(&target).unwrap() == bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_sizes_that_are_not_multiples_of_64_hash_correctly_from_every_source() {
    // MD5 works on 64-byte pieces: such blocks leave a part-piece in the whole-blob hash between
    // blocks. The emulator checks every block's Content-MD5 or CRC-64; the report must hold the
    // file's MD5 and CRC-64.
    let emu = emulator(FaultPlan::none()).await;
    let bytes = data(25 * 1000 + 7, 64);
    let md5: [u8; 16] = md5::Md5::digest(&bytes).into();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.bin");
    std::fs::write(&path, &bytes).unwrap();
    for integrity in [Integrity::Md5, Integrity::Both, Integrity::Crc64] {
        let c = BlobClient::builder(HyperTransport::shared())
            .block_size(1000)
            .single_put_max(0)
            .concurrency(3)
            .integrity(integrity)
            .build();
        let sources = [
            ("file", Source::file(&path)),
            ("bytes", Source::bytes(bytes.clone())),
            (
                "reader",
                Source::reader(std::io::Cursor::new(bytes.clone()), None),
            ),
        ];
        for (name, source) in sources {
            let name = format!("{name}-{integrity:?}");
            let url = emu.blob_url(CONTAINER, &format!("odd-{name}"), "rcw");
            let report = c
                .upload(url.clone(), source)
                .resume(false)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(report.blocks, 26, "{name}");
            let want_md5 = (integrity != Integrity::Crc64).then_some(BlobDigest::Md5(md5));
            assert_eq!(report.md5, want_md5, "{name}");
            let want_crc = (integrity != Integrity::Md5).then(|| azure_crc64(&bytes));
            assert_eq!(report.crc64, want_crc, "{name}");
            let got = c
                .download(url, Destination::memory())
                .expect_digest(BlobDigest::Md5(md5))
                .await
                .unwrap_or_else(|e| panic!("{name}: download: {e}"))
                .into_bytes();
            assert!(got == bytes, "{name}");
        }
    }
}
