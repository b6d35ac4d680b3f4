//! evo-io against Azurite (Microsoft's Azure Storage emulator), with service SAS URLs signed in
//! the test with Azurite's well-known key.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use evo_core::Progress;
use evo_io::{BlobClient, Destination, Digest, ErrorKind, Source};
use md5::Digest as _;
use support::*;

const BS: u64 = 64 * 1024;

fn client(transport: evo_core::SharedTransport) -> BlobClient {
    BlobClient::builder(transport)
        .block_size(BS)
        .single_put_max(0)
        .concurrency(4)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sizes_round_trip_through_blocks_and_single_put() {
    let az = AzuriteBlobs::start().await;
    let recorder = Arc::new(Recorder::new(HyperTransport::shared()));
    let staged = client(recorder.clone());
    let single = BlobClient::builder(recorder.clone()).block_size(BS).build();
    let dir = tempfile::tempdir().unwrap();
    for (i, len) in [0u64, 1, BS, 3 * BS, 3 * BS + 1, 5 * BS - 7].into_iter().enumerate() {
        for (mode, c) in [("blocks", &staged), ("single", &single)] {
            let name = format!("sizes-{mode}-{len}");
            let url = az.blob_url(&name);
            let bytes = data(len as usize, i as u64);
            let report = c
                .upload(url.clone(), Source::bytes(bytes.clone()))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(report.size, len);
            let expected_md5: [u8; 16] = md5::Md5::digest(&bytes).into();
            assert_eq!(report.md5, Digest::Md5(expected_md5));
            // Azurite stores the whole-blob MD5 we sent (x-ms-blob-content-md5 / Content-MD5).
            let head = HyperTransport::shared()
                .send(http::Request::head(url.as_str()).body(evo_core::Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(head.status(), 200);
            if len > 0 || mode == "single" {
                assert_eq!(
                    head.headers().get("content-md5").and_then(|v| v.to_str().ok()),
                    Some(report.md5.to_base64().as_str()),
                    "{name}"
                );
            }
            // Memory, file and writer destinations give the same bytes.
            let got = c
                .download(url.clone(), Destination::memory())
                .await
                .unwrap()
                .into_bytes();
            assert_eq!(got.as_ref(), bytes.as_slice(), "{name}");
            let target = dir.path().join(&name);
            let r = c
                .download(url.clone(), Destination::file(&target))
                .expect_digest(Digest::Md5(expected_md5))
                .await
                .unwrap();
            assert_eq!(r.size, len);
            assert_eq!(std::fs::read(&target).unwrap(), bytes, "{name}");
            let mut out = Vec::new();
            c.download(url, Destination::writer(&mut out)).await.unwrap();
            assert_eq!(out, bytes, "{name}");
        }
    }
    // Staged uploads sent Put Block with Content-MD5 and equal-length ids, then Put Block List.
    let seen = recorder.seen();
    let blocks: Vec<_> = seen.iter().filter(|s| s.query.contains("comp=block&")).collect();
    assert!(!blocks.is_empty());
    assert!(blocks.iter().all(|s| s.headers.contains_key("content-md5")));
    assert!(blocks.iter().all(|s| s.query.contains("blockid=") && s.query.split("blockid=").nth(1).unwrap().len() == 46));
    let commits: Vec<_> = seen.iter().filter(|s| s.query.ends_with("comp=blocklist") && s.method == "PUT").collect();
    assert!(commits.iter().all(|s| s.headers.contains_key("x-ms-blob-content-md5")));
    // No file besides the targets was left in the folder.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
