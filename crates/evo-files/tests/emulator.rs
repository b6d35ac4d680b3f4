//! `FilesClient` against the in-process emulator: every method, versions, delete/restore,
//! paging and filters, path validation, resume, and transfers under injected faults.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use evo_core::{Cache, Progress};
use evo_emulator::{Fault, FaultKind, FaultPlan, RestoreConflict, RouteClass};
use evo_files::{
    BlobDigest, Destination, Error, FilesClient, GetOptions, ListFilesQuery, OrderBy,
    RestoreOutcome, SortField, Source, TimeFilter,
};
use futures_util::TryStreamExt;

use common::{data, sha256, start, start_with};

const KIB: usize = 1024;

#[tokio::test]
async fn unicode_and_spaces_round_trip() {
    let s = start(|b| b).await;
    let path = "données/été 2024/a b+c&d=e?#%20.csv";
    let bytes = data(10 * KIB, 1);
    let meta = s.files.upload_bytes(path, bytes.clone()).await.unwrap();
    assert_eq!(meta.name, "a b+c&d=e?#%20.csv");
    assert_eq!(meta.size, bytes.len() as u64);

    let by_path = s
        .files
        .get_by_path(path, &GetOptions::new().include_versions(true))
        .await
        .unwrap();
    assert_eq!(by_path.file_id, meta.file_id);
    assert_eq!(by_path.name, meta.name);
    // `folder` is the service's `path` (the folder) in every model; `full_path()` the file's.
    assert_eq!(by_path.folder, "/données/été 2024/");
    assert_eq!(by_path.full_path(), path);
    let version = &by_path.versions.as_ref().unwrap()[0];
    assert_eq!(
        (version.folder.as_str(), version.full_path()),
        (by_path.folder.as_str(), path.to_owned())
    );
    let by_leading_slash = s
        .files
        .get_by_path(format!("/{path}").as_str(), &GetOptions::new())
        .await
        .unwrap();
    assert_eq!(by_leading_slash.file_id, meta.file_id);

    let listed: Vec<_> = s
        .files
        .list_all(ListFilesQuery::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].full_path(), path);

    let back = s
        .files
        .download_to_memory(meta.file_id, None)
        .await
        .unwrap();
    assert_eq!(&back[..], &bytes[..]);
}

#[tokio::test]
async fn file_reader_and_empty_uploads() {
    let s = start(|b| b).await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("source file.bin");
    let bytes = data(300 * KIB, 2);
    std::fs::write(&local, &bytes).unwrap();

    let from_file = s
        .files
        .upload_file("a/from file.bin", &local)
        .await
        .unwrap();
    let from_reader = s
        .files
        .upload_reader(
            "a/from reader.bin",
            std::io::Cursor::new(bytes.clone()),
            None,
        )
        .await
        .unwrap();
    let empty = s
        .files
        .upload_bytes("a/empty.bin", Vec::new())
        .await
        .unwrap();
    assert_eq!(from_file.size, bytes.len() as u64);
    assert_eq!(from_reader.size, bytes.len() as u64);
    assert_eq!(empty.size, 0);

    for id in [from_file.file_id, from_reader.file_id] {
        let back = s.files.download_to_memory(id, None).await.unwrap();
        assert_eq!(sha256(&back), sha256(&bytes));
    }
    assert!(
        s.files
            .download_to_memory(empty.file_id, None)
            .await
            .unwrap()
            .is_empty()
    );

    let target = dir.path().join("out/down loaded.bin");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let meta = s
        .files
        .download_to_path(from_file.file_id, None, &target, false)
        .await
        .unwrap();
    assert_eq!(meta.version_id, from_file.version_id);
    assert_eq!(std::fs::read(&target).unwrap(), bytes);
    // An existing target is not replaced unless asked.
    let err = s
        .files
        .download_to_path(from_file.file_id, None, &target, false)
        .await
        .unwrap_err();
    assert!(err.as_transfer().is_some(), "{err}");
    s.files
        .download_to_path(from_reader.file_id, None, &target, true)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), bytes);
}

#[tokio::test]
async fn versions_by_path_and_by_id() {
    let s = start(|b| b).await;
    let v1 = data(1000, 10);
    let v2 = data(2000, 11);
    let v3 = data(3000, 12);
    let m1 = s
        .files
        .upload_bytes("v/points.csv", v1.clone())
        .await
        .unwrap();
    let m2 = s
        .files
        .upload_bytes("v/points.csv", v2.clone())
        .await
        .unwrap();
    assert_eq!(m1.file_id, m2.file_id, "same path, same file");
    assert_ne!(m1.version_id, m2.version_id);
    let m3 = s
        .files
        .upload_new_version(m1.file_id, Source::bytes(v3.clone()))
        .await
        .unwrap();
    assert_eq!(m3.file_id, m1.file_id);
    assert_eq!(m3.size, 3000);

    let latest = s
        .files
        .get_by_path("v/points.csv", &GetOptions::new().include_versions(true))
        .await
        .unwrap();
    assert_eq!(latest.version_id, m3.version_id);
    let versions = latest.versions_newest_first();
    let ids: Vec<&str> = versions.iter().map(|v| v.version_id.as_str()).collect();
    assert_eq!(ids, [&m3.version_id, &m2.version_id, &m1.version_id]);
    assert_eq!(
        versions.iter().map(|v| v.size).collect::<Vec<_>>(),
        [3000, 2000, 1000]
    );
    let without = s
        .files
        .get_by_id(m1.file_id, &GetOptions::new())
        .await
        .unwrap();
    assert!(without.versions.is_none());

    let old = s
        .files
        .get_by_id(m1.file_id, &GetOptions::new().version(&m1.version_id))
        .await
        .unwrap();
    assert_eq!(old.size, 1000);
    for (version, bytes) in [
        (&m1.version_id, &v1),
        (&m2.version_id, &v2),
        (&m3.version_id, &v3),
    ] {
        let back = s
            .files
            .download_to_memory(m1.file_id, Some(version))
            .await
            .unwrap();
        assert_eq!(&back[..], &bytes[..], "version {version}");
    }
    let missing = s
        .files
        .get_by_id(m1.file_id, &GetOptions::new().version("999999"))
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    let unknown = s
        .files
        .upload_new_version(uuid::Uuid::new_v4(), Source::bytes(vec![1]))
        .await
        .unwrap_err();
    assert!(unknown.is_not_found(), "{unknown}");
    assert!(
        unknown
            .problem_type()
            .is_some_and(|t| t.ends_with("/files/not-found")),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn delete_and_restore() {
    let s = start(|b| b).await;
    let a = s
        .files
        .upload_bytes("d/a.txt", b"a".to_vec())
        .await
        .unwrap();
    let b = s
        .files
        .upload_bytes("d/b.txt", b"b".to_vec())
        .await
        .unwrap();

    s.files.delete_by_path("d/a.txt").await.unwrap();
    s.files.delete_by_id(b.file_id).await.unwrap();

    let gone = s
        .files
        .get_by_path("d/a.txt", &GetOptions::new())
        .await
        .unwrap_err();
    assert!(gone.is_gone(), "{gone}");
    let gone = s
        .files
        .get_by_id(b.file_id, &GetOptions::new())
        .await
        .unwrap_err();
    assert!(gone.is_gone(), "{gone}");
    let deleted = s
        .files
        .get_by_id(a.file_id, &GetOptions::new().include_deleted(true))
        .await
        .unwrap();
    assert!(deleted.is_deleted());
    let live = s.files.list_page(&ListFilesQuery::new()).await.unwrap();
    assert_eq!(live.total, Some(0));
    let bin = s
        .files
        .list_page(&ListFilesQuery::new().deleted(true))
        .await
        .unwrap();
    let mut names: Vec<String> = bin.items.iter().map(|f| f.full_path()).collect();
    names.sort();
    assert_eq!(names, ["d/a.txt", "d/b.txt"]);
    assert!(bin.items.iter().all(|f| f.deleted_at.is_some()));

    assert_eq!(
        s.files.restore(a.file_id).await.unwrap(),
        RestoreOutcome::Restored
    );
    let back = s
        .files
        .get_by_path("d/a.txt", &GetOptions::new())
        .await
        .unwrap();
    assert_eq!(back.file_id, a.file_id);
    assert_eq!(
        &s.files.download_to_memory(a.file_id, None).await.unwrap()[..],
        b"a"
    );

    // Another file took b's path: the restore moves b and answers 303 with its metadata.
    let taker = s
        .files
        .upload_bytes("d/b.txt", b"new".to_vec())
        .await
        .unwrap();
    assert_ne!(taker.file_id, b.file_id);
    match s.files.restore(b.file_id).await.unwrap() {
        RestoreOutcome::Moved { metadata, location } => {
            assert_eq!(metadata.file_id, b.file_id);
            assert_ne!(metadata.name, "b.txt");
            assert!(!metadata.is_deleted());
            assert!(location.is_some());
        }
        other => panic!("expected a move, got {other:?}"),
    }
    assert_eq!(
        &s.files.download_to_memory(b.file_id, None).await.unwrap()[..],
        b"b"
    );
}

#[tokio::test]
async fn restore_conflict_is_409() {
    let s = start(|b| b.restore_conflict(RestoreConflict::Reject)).await;
    let a = s
        .files
        .upload_bytes("c/a.txt", b"1".to_vec())
        .await
        .unwrap();
    s.files.delete_by_id(a.file_id).await.unwrap();
    s.files
        .upload_bytes("c/a.txt", b"2".to_vec())
        .await
        .unwrap();
    let err = s.files.restore(a.file_id).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert!(
        err.problem_type()
            .is_some_and(|t| t.ends_with("/files/already-exists")),
        "{err:?}"
    );
}

#[tokio::test]
async fn paging_filters_and_order() {
    let s = start(|b| b).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let name = if i % 2 == 0 {
            format!("p/Survey {i}.csv")
        } else {
            format!("p/other {i}.csv")
        };
        ids.push(
            s.files
                .upload_bytes(name.as_str(), vec![i as u8])
                .await
                .unwrap()
                .file_id,
        );
    }
    let page = s
        .files
        .list_page(&ListFilesQuery::new().limit(3))
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (Some(7), 3));
    assert!(page.next.is_some() && !page.is_last());
    let last = s
        .files
        .list_page(&ListFilesQuery::new().limit(3).offset(6))
        .await
        .unwrap();
    assert_eq!((last.offset, last.items.len()), (6, 1));
    assert!(last.next.is_none() && last.is_last());

    let s_recorder = s.recorder.clone();
    s_recorder.clear();
    let all: Vec<_> = s
        .files
        .list_all(ListFilesQuery::new().limit(3))
        .try_collect()
        .await
        .unwrap();
    let mut got: Vec<_> = all.iter().map(|f| f.file_id).collect();
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        s_recorder.count(|l| l.starts_with("GET") && l.contains("/files?")),
        3
    );

    let survey: Vec<_> = s
        .files
        .list_all(ListFilesQuery::new().file_name("survey"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(survey.len(), 4, "case-insensitive partial match");

    let newest_first = s
        .files
        .list_page(&ListFilesQuery::new().order_by(OrderBy::desc(SortField::CreatedAt)))
        .await
        .unwrap();
    let order: Vec<_> = newest_first.items.iter().map(|f| f.created_at).collect();
    let mut sorted = order.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(order, sorted);

    let future = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let none = s
        .files
        .list_page(&ListFilesQuery::new().created(TimeFilter::since(future)))
        .await
        .unwrap();
    assert_eq!(none.total, Some(0));
    let all_before = s
        .files
        .list_page(&ListFilesQuery::new().modified(TimeFilter::before(future)))
        .await
        .unwrap();
    assert_eq!(all_before.total, Some(7));
    let me = s.emu.test_user_id();
    let mine = s
        .files
        .list_page(&ListFilesQuery::new().author(me))
        .await
        .unwrap();
    assert_eq!(mine.total, Some(7));
    let nobody = s
        .files
        .list_page(&ListFilesQuery::new().author(uuid::Uuid::new_v4()))
        .await
        .unwrap();
    assert_eq!(nobody.total, Some(0));
}

#[tokio::test]
async fn invalid_paths_fail_before_any_request() {
    let s = start(|b| b).await;
    s.recorder.clear();
    let long = "x/".repeat(600) + "y";
    for bad in [
        "",
        "/",
        "a/",
        "a//b",
        "a/../b",
        "..",
        "./a",
        "a\nb",
        "a\0b",
        "a\tb",
        long.as_str(),
    ] {
        let e = s.files.upload_bytes(bad, b"x".to_vec()).await.unwrap_err();
        assert!(matches!(e, Error::InvalidPath { .. }), "{bad:?}: {e}");
        let e = s
            .files
            .get_by_path(bad, &GetOptions::new())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidPath { .. }), "{bad:?}: {e}");
        let e = s.files.delete_by_path(bad).await.unwrap_err();
        assert!(matches!(e, Error::InvalidPath { .. }), "{bad:?}: {e}");
    }
    let e = s
        .files
        .resume_upload(uuid::Uuid::new_v4(), "1; drop", Source::bytes(vec![]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not a decimal number"), "{e}");
    let e = s
        .files
        .list_page(&ListFilesQuery::new().limit(0))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("page size"), "{e}");
    assert_eq!(
        s.recorder.lines(),
        Vec::<String>::new(),
        "no request was sent"
    );
}

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
