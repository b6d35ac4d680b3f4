//! `FilesClient` against the in-process emulator: every method, versions, delete/restore,
//! paging and filters, and path validation. Transfers are in `emulator_transfers`.

use crate::common;

use evo_emulator::RestoreConflict;
use evo_files::{
    Error, GetOptions, ListFilesQuery, OrderBy, RestoreOutcome, SortField, Source, TimeFilter,
};
use futures_util::TryStreamExt;

use common::{data, sha256, start};

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
