//! evo-io against a server that lies: sizes no blob has, bodies longer than the memory limit,
//! `Range` headers ignored, no ETag. The SDK answers with typed errors, never an abort, a huge
//! allocation or a corrupt file.

use crate::support;

use std::time::Duration;

use evo_io::{BlobClient, Destination, ErrorKind};
use http::Method;
use support::hostile::{HostileServer, RawServer, answer};
use support::*;

const BS: u64 = 64 * 1024;

fn client() -> BlobClient {
    BlobClient::builder(HyperTransport::shared())
        .block_size(BS)
        .concurrency(2)
        .retry(
            evo_core::RetryPolicy::default()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build()
}

/// 2^62 bytes: far more than any blob (or any machine's memory) holds.
const ABSURD: u64 = 1 << 62;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_claimed_sizes_are_typed_errors_for_every_destination() {
    // The claim comes as a HEAD Content-Length, as a Content-Range total, and as the length of
    // a 200 body from a server that ignores Range.
    let servers = [
        HostileServer::start(|asked| match asked.method {
            Method::HEAD => answer(200, &[("content-length", ABSURD.to_string())], ""),
            _ => answer(404, &[], "no"),
        })
        .await,
        HostileServer::start(|asked| match asked.method {
            Method::HEAD => answer(405, &[], ""),
            _ => answer(
                206,
                &[("content-range", format!("bytes 0-0/{ABSURD}"))],
                "x",
            ),
        })
        .await,
    ];
    // Written raw: HTTP libraries will not send a length their body does not have.
    let whole = RawServer::start(|head| {
        if head.starts_with("HEAD") {
            b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n".to_vec()
        } else {
            format!("HTTP/1.1 200 OK\r\ncontent-length: {ABSURD}\r\n\r\nshort").into_bytes()
        }
    })
    .await;
    let mut urls: Vec<url::Url> = servers.iter().map(|s| s.url.clone()).collect();
    urls.push(whole.url.clone());
    let dir = tempfile::tempdir().unwrap();
    let c = client();
    for (i, url) in urls.iter().enumerate() {
        let memory = c
            .download(url.clone(), Destination::memory())
            .await
            .unwrap_err();
        assert!(
            matches!(memory.kind(), ErrorKind::Protocol | ErrorKind::TooLarge),
            "server {i}, memory: {memory}"
        );
        let mut sink = HashingWriter::default();
        let writer = c
            .download(url.clone(), Destination::writer(&mut sink))
            .await
            .unwrap_err();
        assert_eq!(
            writer.kind(),
            ErrorKind::Protocol,
            "server {i}, writer: {writer}"
        );
        let target = dir.path().join(format!("absurd-{i}"));
        let file = c
            .download(url.clone(), Destination::file(&target))
            .await
            .unwrap_err();
        assert_eq!(file.kind(), ErrorKind::Protocol, "server {i}, file: {file}");
        assert!(!target.exists());
        assert!(!format!("{memory} {writer} {file}").contains("SECRET"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_downloads_refuse_a_claimed_size_over_their_limit_before_fetching() {
    let server = HostileServer::start(|asked| match asked.method {
        Method::HEAD => answer(200, &[("content-length", (2u64 << 30).to_string())], ""),
        _ => answer(
            206,
            &[("content-range", "bytes 0-0/2147483648".into())],
            "x",
        ),
    })
    .await;
    // The default limit is 1 GiB.
    let err = client()
        .download(server.url.clone(), Destination::memory())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    assert!(err.message().contains("1073741824"), "{err}");
    assert!(
        server.asked_with(Method::GET).is_empty(),
        "nothing was fetched"
    );
    // A configured limit applies the same way.
    let small = BlobClient::builder(HyperTransport::shared())
        .max_memory_download(1000)
        .build();
    let server = HostileServer::start(|asked| match asked.method {
        Method::HEAD => answer(200, &[("content-length", "1001".into())], ""),
        _ => answer(404, &[], ""),
    })
    .await;
    let err = small
        .download(server.url.clone(), Destination::memory())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_body_without_a_length_stops_at_the_memory_limit() {
    // No HEAD, Range ignored, and a chunked body that goes on for 4 MiB: the limit (1 MiB) ends
    // the download as the data arrives.
    let server = HostileServer::start(|asked| match asked.method {
        Method::HEAD => answer(405, &[], ""),
        _ => {
            let chunks =
                (0..64).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![7u8; 64 << 10])));
            answer(
                200,
                &[],
                axum::body::Body::from_stream(futures_util::stream::iter(chunks)),
            )
        }
    })
    .await;
    let c = BlobClient::builder(HyperTransport::shared())
        .max_memory_download(1 << 20)
        .build();
    let err = c
        .download(server.url.clone(), Destination::memory())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_have_the_configured_block_size_whatever_size_the_server_claims() {
    // 100 TiB is a size a blob may have; its ranges are still one configured block each (not a
    // 50,000th of the claim, which would be a 2 GiB buffer per range).
    let claim: u64 = 100 << 40;
    let server = HostileServer::start(move |asked| match asked.method {
        Method::HEAD => answer(
            200,
            &[
                ("content-length", claim.to_string()),
                ("etag", "\"v1\"".into()),
            ],
            "",
        ),
        _ => answer(404, &[], "gone"),
    })
    .await;
    let mut sink = HashingWriter::default();
    let err = client()
        .download(server.url.clone(), Destination::writer(&mut sink))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND), "{err}");
    let ranges: Vec<String> = server
        .asked_with(Method::GET)
        .iter()
        .filter_map(|a| a.range())
        .collect();
    assert!(!ranges.is_empty());
    assert!(
        ranges.contains(&format!("bytes=0-{}", BS - 1)),
        "{ranges:?}"
    );
}

/// How the blob server below answers.
#[derive(Clone, Copy)]
struct Serving {
    etag: bool,
    honour_range: bool,
    stored_md5_of_other_data: bool,
}

/// A blob server for `bytes` (HEAD and GET) that may ignore `Range`, leave out the ETag, or
/// claim a stored MD5 the bytes do not have.
async fn blob_server(bytes: Vec<u8>, how: Serving) -> HostileServer {
    use base64::Engine as _;
    let md5_of = |b: &[u8]| {
        use md5::Digest as _;
        base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(b))
    };
    let stored = if how.stored_md5_of_other_data {
        md5_of(b"other data")
    } else {
        md5_of(&bytes)
    };
    let bytes = bytes::Bytes::from(bytes);
    HostileServer::start(move |asked| {
        let mut headers = vec![("content-md5", stored.clone())];
        if how.etag {
            headers.push(("etag", "\"v1\"".into()));
        }
        let range = asked.range().filter(|_| how.honour_range);
        match (&asked.method, range) {
            (&Method::HEAD, _) => {
                headers.push(("content-length", bytes.len().to_string()));
                answer(200, &headers, "")
            }
            (_, Some(range)) => {
                let (first, last) = range.trim_start_matches("bytes=").split_once('-').unwrap();
                let (first, last): (usize, usize) = (first.parse().unwrap(), last.parse().unwrap());
                let last = last.min(bytes.len() - 1);
                headers.push((
                    "content-range",
                    format!("bytes {first}-{last}/{}", bytes.len()),
                ));
                answer(206, &headers, bytes.slice(first..=last))
            }
            (_, None) => answer(200, &headers, bytes.clone()),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_ignores_range_after_head_is_read_once_not_once_per_block() {
    let bytes = data(20 * BS as usize + 5, 21);
    let how = Serving {
        etag: true,
        honour_range: false,
        stored_md5_of_other_data: false,
    };
    let dir = tempfile::tempdir().unwrap();
    for destination in ["memory", "file"] {
        let server = blob_server(bytes.clone(), how).await;
        let c = client();
        let got = match destination {
            "memory" => {
                let report = c
                    .download(server.url.clone(), Destination::memory())
                    .await
                    .unwrap();
                assert!(!report.ranged);
                report.into_bytes().to_vec()
            }
            _ => {
                let target = dir.path().join("ignored.bin");
                let report = c
                    .download(server.url.clone(), Destination::file(&target))
                    .await
                    .unwrap();
                assert!(!report.ranged);
                std::fs::read(&target).unwrap()
            }
        };
        assert!(got == bytes, "{destination}: content differs");
        let gets = server.asked_with(Method::GET).len();
        assert!(
            gets <= 2,
            "{destination}: {gets} GETs of the whole blob (concurrency 2)"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_etag_the_blob_comes_in_one_whole_get() {
    // Ranges that cannot be pinned to one version could mix two versions of the blob.
    let bytes = data(20 * BS as usize + 5, 22);
    let how = Serving {
        etag: false,
        honour_range: true,
        stored_md5_of_other_data: false,
    };
    let server = blob_server(bytes.clone(), how).await;
    let got = client()
        .download(server.url.clone(), Destination::memory())
        .await
        .unwrap()
        .into_bytes();
    assert!(got == bytes, "content differs");
    let gets = server.asked_with(Method::GET);
    assert_eq!(gets.len(), 1);
    assert_eq!(gets[0].range(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_md5_the_bytes_do_not_have_fails_the_download() {
    let bytes = data(5 * BS as usize, 23);
    let how = Serving {
        etag: true,
        honour_range: true,
        stored_md5_of_other_data: true,
    };
    let server = blob_server(bytes.clone(), how).await;
    let c = client();
    let err = c
        .download(server.url.clone(), Destination::memory())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("bad.bin");
    let err = c
        .download(server.url.clone(), Destination::file(&target))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    assert!(!target.exists());
    // Asked not to, the stored MD5 is not checked.
    let got = c
        .download(server.url.clone(), Destination::memory())
        .verify_stored_md5(false)
        .await
        .unwrap()
        .into_bytes();
    assert!(got == bytes);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partial_file_is_never_opened_through_a_symlink() {
    let bytes = data(6 * BS as usize, 24);
    let how = Serving {
        etag: true,
        honour_range: true,
        stored_md5_of_other_data: false,
    };
    let server = blob_server(bytes.clone(), how).await;
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    let target = dir.path().join("out.bin");
    std::os::unix::fs::symlink(&victim, dir.path().join(".out.bin.evo-download")).unwrap();
    client()
        .download(server.url.clone(), Destination::file(&target))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(
        !std::fs::symlink_metadata(&target)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(std::fs::read(&target).unwrap() == bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_file_locked_by_another_process_is_waited_for() {
    let bytes = data(6 * BS as usize, 25);
    let how = Serving {
        etag: true,
        honour_range: true,
        stored_md5_of_other_data: false,
    };
    let server = blob_server(bytes.clone(), how).await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("locked.bin");
    // The test plays the other process: it holds the OS lock on the partial file.
    let partial = dir.path().join(".locked.bin.evo-download");
    let other = std::fs::File::create(&partial).unwrap();
    other.lock().unwrap();
    let (url, to) = (server.url.clone(), target.clone());
    let download = tokio::spawn(async move {
        client()
            .download(url, Destination::file(&to))
            .await
            .map(|r| r.size)
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !download.is_finished(),
        "the download did not wait for the lock"
    );
    assert!(
        server.asked_with(Method::GET).is_empty(),
        "nothing was fetched while locked"
    );
    drop(other);
    assert_eq!(download.await.unwrap().unwrap(), bytes.len() as u64);
    assert!(std::fs::read(&target).unwrap() == bytes);
}
