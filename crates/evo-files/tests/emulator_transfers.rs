//! `FilesClient` transfers against the in-process emulator: the download cache, progress and
//! digest checks, resume, URL renewal, injected faults, and the environment's hub URL.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use evo_core::{Cache, Progress};
use evo_emulator::{Fault, FaultKind, FaultPlan, RouteClass};
use evo_files::{BlobDigest, Destination, FilesClient, GetOptions, ListFilesQuery, Source};

use common::{data, sha256, start, start_with};

const KIB: usize = 1024;

#[tokio::test]
async fn download_into_the_cache_once() {
    let s = start(|b| b).await;
    let bytes = data(64 * KIB, 20);
    let meta = s
        .files
        .upload_bytes("cache/Ünïcode name.bin", bytes.clone())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path()).unwrap();
    s.recorder.clear();
    let (a, b) = tokio::join!(
        s.files.download_to_cache(meta.file_id, None, &cache),
        s.files.download_to_cache(meta.file_id, None, &cache)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    assert_eq!(std::fs::read(&a).unwrap(), bytes);
    let rel = a.strip_prefix(cache.root()).unwrap();
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        parts,
        [
            s.environment.org_id.to_string(),
            s.environment.workspace_id.to_string(),
            "filev2".to_owned(),
            meta.file_id.to_string(),
            meta.version_id.clone(),
            "Ünïcode name.bin".to_owned(),
        ]
    );
    let blob_gets = |r: &common::Recorder| r.count(|l| l.starts_with("GET /blob/"));
    let first = blob_gets(&s.recorder);
    assert!(first >= 1);
    let again = s
        .files
        .download_to_cache(meta.file_id, None, &cache)
        .await
        .unwrap();
    assert_eq!(again, a);
    assert_eq!(
        blob_gets(&s.recorder),
        first,
        "a cached file is not fetched again"
    );
    // A damaged cached copy (wrong size) is replaced.
    std::fs::write(&a, b"short").unwrap();
    s.files
        .download_to_cache(meta.file_id, None, &cache)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), bytes);
    // A name longer than a file system allows (328 bytes, as in the Python SDK's fixtures).
    let long_name = format!("{}.csv", "points".repeat(54));
    let long = s
        .files
        .upload_bytes(format!("cache/{long_name}").as_str(), b"long".to_vec())
        .await
        .unwrap();
    assert_eq!(long.name, long_name);
    let cached = s
        .files
        .download_to_cache(long.file_id, None, &cache)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&cached).unwrap(), b"long");
    assert!(cached.file_name().unwrap().len() <= 200);
}

#[tokio::test]
async fn progress_and_digest_checks() {
    let s = start_with(|b| b, |b| b.block_size(64 * KIB as u64).single_put_max(0)).await;
    let bytes = data(200 * KIB, 30);
    let last = Arc::new(AtomicU64::new(0));
    let seen = last.clone();
    let feedback = move |p: &Progress| {
        seen.fetch_max(p.bytes_done, Ordering::SeqCst);
    };
    let meta = s
        .files
        .upload("prog/x.bin", Source::bytes(bytes.clone()))
        .feedback(&feedback)
        .await
        .unwrap();
    assert_eq!(last.load(Ordering::SeqCst), bytes.len() as u64);

    let good = BlobDigest::sha256_hex(&sha256(&bytes)).unwrap();
    let done = s
        .files
        .download(meta.file_id, None, Destination::memory())
        .expect_digest(good)
        .await
        .unwrap();
    assert_eq!(done.metadata.file_id, meta.file_id);
    assert_eq!(&done.report.into_bytes()[..], &bytes[..]);
    let bad = BlobDigest::sha256_hex(&sha256(b"something else")).unwrap();
    let err = s
        .files
        .download(meta.file_id, None, Destination::memory())
        .expect_digest(bad)
        .await
        .unwrap_err();
    assert!(err.as_transfer().is_some(), "{err}");
}

/// An upload interrupted by a failing blob store is continued with `resume_upload`: the
/// blocks already staged are not sent again, and the result is byte-identical.
#[tokio::test]
async fn resume_an_interrupted_upload() {
    let s = start_with(
        |b| b,
        |b| {
            b.block_size(64 * KIB as u64)
                .single_put_max(0)
                .concurrency(1)
                .retry(evo_core::RetryPolicy::none())
        },
    )
    .await;
    let bytes = data(64 * KIB * 6, 40);
    // The 4th blob write (the 4th Put Block) fails, and the client does not retry.
    s.emu
        .set_faults(FaultPlan::none().with_nth(RouteClass::BlobWrite, Fault::Status(500), 4));
    let err = s
        .files
        .upload_bytes("resume/big.bin", bytes.clone())
        .await
        .unwrap_err();
    assert!(
        err.is_retryable(),
        "a 500 from the blob store is transient: {err}"
    );
    assert!(err.as_transfer().is_some(), "{err}");
    let (file_id, version_id) = err.resume_point().expect("the error says how to resume");
    let version_id = version_id.to_owned();
    assert_eq!(
        s.emu
            .fault_counters()
            .get(RouteClass::BlobWrite, FaultKind::Status),
        1
    );
    let not_yet = s
        .files
        .get_by_path("resume/big.bin", &GetOptions::new())
        .await
        .unwrap_err();
    assert!(
        not_yet.is_not_found(),
        "an unfinished upload is not visible: {not_yet}"
    );

    s.emu.set_faults(FaultPlan::none());
    s.recorder.clear();
    let meta = s
        .files
        .resume_upload(file_id, &version_id, Source::bytes(bytes.clone()))
        .await
        .unwrap();
    assert_eq!(
        (meta.file_id, meta.version_id.as_str()),
        (file_id, version_id.as_str())
    );
    let puts = s
        .recorder
        .count(|l| l.starts_with("PUT /blob/") && l.contains("comp=block&"));
    assert!(puts < 6, "{puts} blocks sent again; 3 were already staged");
    let back = s.files.download_to_memory(file_id, None).await.unwrap();
    assert_eq!(sha256(&back), sha256(&bytes));
}

/// Pre-signed URLs that expire mid-transfer are renewed through the File API: `PUT
/// /files/{id}?version_id=` for the upload, `GET /files/{id}?version_id=` for the download.
#[tokio::test]
async fn expired_urls_are_renewed_through_the_file_api() {
    let s = start_with(|b| b, |b| b.block_size(64 * KIB as u64).single_put_max(0)).await;
    let bytes = data(64 * KIB * 5 + 17, 50);
    s.emu
        .set_faults(FaultPlan::none().with_nth(RouteClass::BlobWrite, Fault::ExpireUrl, 3));
    s.recorder.clear();
    let meta = s
        .files
        .upload_bytes("expiry/x.bin", bytes.clone())
        .await
        .unwrap();
    let renewals = s.recorder.count(|l| {
        l.starts_with(&format!("PUT /file/v2/orgs/{}", s.environment.org_id))
            && l.contains(&format!(
                "/files/{}?version_id={}",
                meta.file_id, meta.version_id
            ))
    });
    assert!(renewals >= 1, "{:#?}", s.recorder.lines());

    s.emu
        .set_faults(FaultPlan::none().with_nth(RouteClass::BlobRead, Fault::ExpireUrl, 2));
    s.recorder.clear();
    let back = s
        .files
        .download_to_memory(meta.file_id, None)
        .await
        .unwrap();
    assert_eq!(sha256(&back), sha256(&bytes));
    let renewals = s.recorder.count(|l| {
        l.starts_with("GET /file/v2/")
            && l.contains(&format!(
                "/files/{}?version_id={}",
                meta.file_id, meta.version_id
            ))
    });
    assert!(renewals >= 1, "{:#?}", s.recorder.lines());
}

/// Uploads and downloads under every kind of transient fault still give identical bytes.
/// (On a multi-threaded runtime; the other tests use the default current-thread one.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_survive_injected_faults() {
    // One guaranteed fault of each kind (the n-th request a rule sees; these rules come first
    // so no random rule takes their turn), then random faults, so that every kind is exercised
    // whatever the scheduling.
    let plan = FaultPlan::seeded(7)
        .with_nth(RouteClass::BlobWrite, Fault::Status(500), 2)
        .with_nth(
            RouteClass::BlobWrite,
            Fault::TooManyRequests {
                retry_after_secs: 1,
            },
            4,
        )
        .with_nth(RouteClass::BlobWrite, Fault::ResetBeforeBody, 6)
        .with_nth(RouteClass::BlobWrite, Fault::ExpireUrl, 8)
        .with_nth(RouteClass::BlobRead, Fault::ResetMidBody, 3)
        .with_nth(RouteClass::BlobRead, Fault::TruncatedBody, 5)
        .with_nth(RouteClass::BlobRead, Fault::ExpireUrl, 7)
        .with_nth(RouteClass::Files, Fault::Status(503), 2)
        .with_nth(
            RouteClass::Files,
            Fault::TooManyRequests {
                retry_after_secs: 0,
            },
            3,
        )
        .with(RouteClass::Blob, Fault::Status(503), 0.08)
        .with(
            RouteClass::Blob,
            Fault::TooManyRequests {
                retry_after_secs: 0,
            },
            0.05,
        )
        .with(RouteClass::Blob, Fault::ResetBeforeBody, 0.05)
        .with(RouteClass::BlobRead, Fault::ResetMidBody, 0.05)
        .with(RouteClass::BlobRead, Fault::TruncatedBody, 0.05)
        .with(RouteClass::Files, Fault::Status(502), 0.1);
    let s = start_with(
        |b| b.faults(plan),
        |b| {
            b.block_size(64 * KIB as u64)
                .single_put_max(0)
                .concurrency(4)
        },
    )
    .await;
    let bytes = data(64 * KIB * 24 + 1234, 60);
    let meta = s
        .files
        .upload_bytes("faults/data.bin", bytes.clone())
        .await
        .unwrap();
    assert_eq!(meta.size, bytes.len() as u64);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("back.bin");
    s.files
        .download_to_path(meta.file_id, None, &target, false)
        .await
        .unwrap();
    assert_eq!(sha256(&std::fs::read(&target).unwrap()), sha256(&bytes));
    let back = s
        .files
        .download_to_memory(meta.file_id, None)
        .await
        .unwrap();
    assert_eq!(sha256(&back), sha256(&bytes));
    let counters = s.emu.fault_counters();
    for (class, kind) in [
        (RouteClass::Blob, FaultKind::Status),
        (RouteClass::BlobWrite, FaultKind::Status),
        (RouteClass::BlobWrite, FaultKind::TooManyRequests),
        (RouteClass::BlobWrite, FaultKind::ResetBeforeBody),
        (RouteClass::BlobWrite, FaultKind::ExpireUrl),
        (RouteClass::BlobRead, FaultKind::ResetMidBody),
        (RouteClass::BlobRead, FaultKind::TruncatedBody),
        (RouteClass::BlobRead, FaultKind::ExpireUrl),
        (RouteClass::Files, FaultKind::Status),
        (RouteClass::Files, FaultKind::TooManyRequests),
    ] {
        assert!(
            counters.get(class, kind) > 0,
            "no {kind:?} fault was injected on {class:?}: {counters:?}"
        );
    }
}

#[tokio::test]
async fn client_uses_the_hub_url_of_the_environment() {
    let s = start(|b| b).await;
    // A connector built for another base URL is re-targeted at the hub.
    let other = evo_core::ApiConnector::builder("http://127.0.0.1:9/elsewhere/".parse().unwrap())
        .transport(s.transport.clone())
        .authorizer(Arc::new(evo_core::StaticTokenAuthorizer::new(
            s.emu.issue_token(&["evo.file"]),
        )))
        .build()
        .unwrap();
    let files = FilesClient::new(s.environment.clone(), other).unwrap();
    assert_eq!(files.connector().base_url(), &s.environment.hub_url);
    files.list_page(&ListFilesQuery::new()).await.unwrap();
}
