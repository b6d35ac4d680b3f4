//! evo-io against a server that lies: sizes no blob has, bodies longer than the memory limit,
//! `Range` headers ignored, no ETag. The SDK answers with typed errors, never an abort, a huge
//! allocation or a corrupt file.

mod support;

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
