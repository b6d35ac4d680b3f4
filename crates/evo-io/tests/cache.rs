//! The download cache with keys of more than a name (sub-folders), and checks by size and
//! version instead of a digest, on the evo-emulator's blob service.

use crate::support;

use std::sync::Arc;

use evo_emulator::{BlobStorage, Emulator};
use evo_io::{BlobClient, Destination, ErrorKind, Source};
use support::*;

const CONTAINER: &str = "evo-io-cache";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_keys_in_folders_and_checks_by_size_and_version() {
    let emu = Emulator::builder()
        .blob_storage(BlobStorage::Memory)
        .start()
        .await
        .unwrap();
    let url = emu.blob_url(CONTAINER, "keyed", "rcw");
    let bytes = data(100_000, 3);
    let size = bytes.len() as u64;
    let recorder = Arc::new(Recorder::new(HyperTransport::shared()));
    let c = BlobClient::builder(recorder.clone())
        .block_size(64 * 1024)
        .build();
    c.upload(url.clone(), Source::bytes(bytes.clone()))
        .await
        .unwrap();
    let etag = c
        .download(url.clone(), Destination::memory())
        .await
        .unwrap()
        .etag
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cache, env) = cache_in(dir.path());
    let keyed = |name: &str| {
        c.download_to_cache(&cache, &env, "files", name, url.clone())
            .in_folder("file-1")
            .in_folder("7")
    };

    // Filed under its folders, checked by size and version (quotes aside).
    let path = keyed("a.bin")
        .expect_size(size)
        .expect_etag(etag.trim_matches('"'))
        .await
        .unwrap();
    let scope = cache.location(&env, "files").unwrap();
    assert_eq!(path, scope.join("file-1").join("7").join("a.bin"));
    assert!(std::fs::read(&path).unwrap() == bytes);

    // Folders from a server are checked like names; nothing is asked of the server.
    recorder.seen.lock().unwrap().clear();
    for bad in ["..", "a/b", "", "/etc"] {
        let err = c
            .download_to_cache(&cache, &env, "files", "x.bin", url.clone())
            .in_folder(bad)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    assert!(recorder.seen().is_empty());

    // A cached file of the expected size is reused without a request.
    assert_eq!(keyed("a.bin").expect_size(size).await.unwrap(), path);
    assert!(recorder.seen().is_empty());

    // One of another size is fetched again.
    std::fs::write(&path, b"short").unwrap();
    keyed("a.bin").expect_size(size).await.unwrap();
    assert!(std::fs::read(&path).unwrap() == bytes);

    // A blob of another size or version is refused before a range is fetched, and nothing is
    // published under the name.
    recorder.seen.lock().unwrap().clear();
    let err = keyed("b.bin").expect_size(size + 1).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    let err = keyed("b.bin").expect_etag("\"0xOTHER\"").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Changed, "{err}");
    assert!(!path.with_file_name("b.bin").exists());
    assert_eq!(recorder.count("GET", ""), 0, "{:?}", recorder.seen());

    // The same checks on a plain download.
    let err = c
        .download(url.clone(), Destination::memory())
        .expect_size(size - 1)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity);
    let fine = c
        .download(url, Destination::memory())
        .expect_size(size)
        .expect_etag(etag)
        .await
        .unwrap();
    assert_eq!(fine.into_bytes().len() as u64, size);
}
