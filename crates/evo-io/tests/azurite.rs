//! evo-io against Azurite (Microsoft's Azure Storage emulator), with service SAS URLs signed in
//! the test with Azurite's well-known key.

use crate::support;

use std::future::IntoFuture;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use evo_core::{Body, Progress};
use evo_io::{BlobClient, BlobDigest, Destination, ErrorKind, Integrity, Source};
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
    let recorder_md5 = Arc::new(Recorder::new(HyperTransport::shared()));
    let staged = client(recorder.clone());
    let single = BlobClient::builder(recorder.clone()).block_size(BS).build();
    let md5_builder = |r: &Arc<Recorder>| {
        BlobClient::builder(r.clone())
            .block_size(BS)
            .integrity(Integrity::Md5)
    };
    let staged_md5 = md5_builder(&recorder_md5).single_put_max(0).build();
    let single_md5 = md5_builder(&recorder_md5).build();
    let dir = tempfile::tempdir().unwrap();
    for (i, len) in [0u64, 1, BS, 3 * BS, 3 * BS + 1, 5 * BS - 7]
        .into_iter()
        .enumerate()
    {
        let modes = [
            ("blocks", &staged),
            ("single", &single),
            ("blocks-md5", &staged_md5),
            ("single-md5", &single_md5),
        ];
        for (mode, c) in modes {
            let name = format!("sizes-{mode}-{len}");
            let url = az.blob_url(&name);
            let bytes = data(len as usize, i as u64);
            let report = c
                .upload(url.clone(), Source::bytes(bytes.clone()))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(report.size, len);
            let expected_md5: [u8; 16] = md5::Md5::digest(&bytes).into();
            let head = head(&url).await;
            if mode.ends_with("md5") {
                assert_eq!(report.md5, Some(BlobDigest::Md5(expected_md5)));
                assert_eq!(report.crc64, None);
                // Azurite stores the whole-blob MD5 we sent (x-ms-blob-content-md5 /
                // Content-MD5).
                if len > 0 || mode == "single-md5" {
                    assert_eq!(
                        header_str(&head, "content-md5"),
                        Some(BlobDigest::Md5(expected_md5).to_base64().as_str()),
                        "{name}"
                    );
                }
            } else {
                assert_eq!(report.crc64, Some(azure_crc64(&bytes)));
                assert_eq!(report.md5, None);
                // Azurite keeps the combined CRC-64 in the blob's metadata.
                assert_eq!(
                    header_str(&head, "x-ms-meta-evo_crc64"),
                    Some(crc64_header(azure_crc64(&bytes)).as_str()),
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
                .expect_digest(BlobDigest::Md5(expected_md5))
                .await
                .unwrap();
            assert_eq!(r.size, len);
            assert_eq!(std::fs::read(&target).unwrap(), bytes, "{name}");
            let mut out = Vec::new();
            c.download(url, Destination::writer(&mut out))
                .await
                .unwrap();
            assert_eq!(out, bytes, "{name}");
        }
    }
    // Staged uploads sent Put Block with x-ms-content-crc64 (or Content-MD5, never both) and
    // equal-length ids, then Put Block List with the blob's CRC-64 metadata (or MD5).
    for (r, check, whole) in [
        (&recorder, "x-ms-content-crc64", "x-ms-meta-evo_crc64"),
        (&recorder_md5, "content-md5", "x-ms-blob-content-md5"),
    ] {
        let seen = r.seen();
        let blocks: Vec<_> = seen
            .iter()
            .filter(|s| s.query.contains("comp=block&"))
            .collect();
        assert!(!blocks.is_empty());
        assert!(blocks.iter().all(|s| s.headers.contains_key(check)
            && s.headers.contains_key("content-md5")
                != s.headers.contains_key("x-ms-content-crc64")));
        assert!(blocks.iter().all(|s| s.query.contains("blockid=")
            && s.query.split("blockid=").nth(1).unwrap().len() == 46));
        let commits: Vec<_> = seen
            .iter()
            .filter(|s| s.query.ends_with("comp=blocklist") && s.method == "PUT")
            .collect();
        assert!(commits.iter().all(|s| s.headers.contains_key(whole)));
    }
    // No file besides the targets was left in the folder.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_upload_resumes_from_the_blocks_the_server_holds() {
    let az = AzuriteBlobs::start().await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    let bytes = data(10 * BS as usize + 3, 7);
    std::fs::write(&source, &bytes).unwrap();
    let state_file = dir.path().join(".source.bin.evo-upload");
    // "rcw": the server lists its uncommitted blocks. "cw": Get Block List is refused (403), so
    // the state file beside the source says what was sent.
    for perms in ["rcw", "cw"] {
        let name = format!("resume-{perms}");
        let url = az.blob_url_until(&name, perms, SystemTime::now() + Duration::from_secs(3600));
        let first =
            Arc::new(Recorder::new(HyperTransport::shared()).gate(hold_after(4, is_put_block)));
        let c = client(first.clone());
        kill_after(
            c.upload(url.clone(), Source::file(&source)).into_future(),
            &first,
            "PUT",
            "comp=block&",
            201,
            4,
            Some(&state_file),
        )
        .await;
        assert!(
            state_file.exists(),
            "{perms}: the state file is kept after a kill"
        );

        let second = Arc::new(Recorder::new(HyperTransport::shared()));
        let report = client(second.clone())
            .upload(url.clone(), Source::file(&source))
            .await
            .unwrap();
        assert_eq!(report.reused_blocks, 4, "{perms}");
        assert_eq!(second.count("PUT", "comp=block&"), 11 - 4, "{perms}");
        let listed = second
            .seen()
            .into_iter()
            .find(|s| s.method == "GET" && s.query.contains("comp=blocklist"))
            .unwrap();
        assert_eq!(
            listed.status,
            Some(if perms == "rcw" { 200 } else { 403 }),
            "{perms}"
        );
        assert!(
            !state_file.exists(),
            "{perms}: the state file is removed after the commit"
        );
        let got = client(HyperTransport::shared())
            .download(az.blob_url(&name), Destination::memory())
            .await
            .unwrap()
            .into_bytes();
        assert!(got.as_ref() == bytes.as_slice(), "{perms}: content differs");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_download_resumes_and_never_mixes_versions() {
    let az = AzuriteBlobs::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = az.blob_url("dl-resume");
    let v1 = data(12 * BS as usize, 1);
    let plain = client(HyperTransport::shared());
    plain
        .upload(url.clone(), Source::bytes(v1.clone()))
        .await
        .unwrap();
    let target = dir.path().join("out.bin");

    let first =
        Arc::new(Recorder::new(HyperTransport::shared()).gate(hold_after(5, is_ranged_get)));
    kill_after(
        client(first.clone())
            .download(url.clone(), Destination::file(&target))
            .into_future(),
        &first,
        "GET",
        "",
        206,
        5,
        Some(&download_state(&target)),
    )
    .await;
    assert!(
        !target.exists(),
        "nothing is published before the download completes"
    );
    assert!(dir.path().join(".out.bin.evo-download").exists());
    assert!(dir.path().join(".out.bin.evo-download.json").exists());

    let second = Arc::new(Recorder::new(HyperTransport::shared()));
    let report = client(second.clone())
        .download(url.clone(), Destination::file(&target))
        .await
        .unwrap();
    assert!(
        report.resumed_bytes >= BS && report.resumed_bytes <= 5 * BS,
        "{report:?}"
    );
    let fetched = second
        .seen()
        .iter()
        .filter(|s| s.status == Some(206) && s.method == "GET")
        .count() as u64;
    assert_eq!(fetched, 12 - report.resumed_bytes / BS);
    assert!(std::fs::read(&target).unwrap() == v1);
    assert!(!dir.path().join(".out.bin.evo-download").exists());
    assert!(!dir.path().join(".out.bin.evo-download.json").exists());

    // Kill another download of v1, replace the blob (new ETag), resume: it must start over.
    let target2 = dir.path().join("out2.bin");
    let third =
        Arc::new(Recorder::new(HyperTransport::shared()).gate(hold_after(5, is_ranged_get)));
    kill_after(
        client(third.clone())
            .download(url.clone(), Destination::file(&target2))
            .into_future(),
        &third,
        "GET",
        "",
        206,
        5,
        Some(&download_state(&target2)),
    )
    .await;
    let v2 = data(12 * BS as usize, 2);
    plain
        .upload(url.clone(), Source::bytes(v2.clone()))
        .await
        .unwrap();
    let report = plain
        .download(url.clone(), Destination::file(&target2))
        .await
        .unwrap();
    assert_eq!(report.resumed_bytes, 0);
    assert!(
        std::fs::read(&target2).unwrap() == v2,
        "the new version, unmixed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_sas_mid_transfer_is_renewed_once_for_all_blocks() {
    let az = AzuriteBlobs::start().await;
    let signer = az.signer();
    for direction in ["upload", "download"] {
        let name = format!("expiry-{direction}");
        let bytes = data(16 * BS as usize, 3);
        if direction == "download" {
            client(HyperTransport::shared())
                .upload(az.blob_url(&name), Source::bytes(bytes.clone()))
                .await
                .unwrap();
        }
        let expiry = SystemTime::now() + Duration::from_secs(3);
        let short = az.blob_url_until(&name, "rcw", expiry);
        // After 3 block requests, every request waits until the short URL has expired.
        let deadline = tokio::time::Instant::now() + Duration::from_millis(5500);
        let count = AtomicU64::new(0);
        let matches: fn(&http::Request<Body>) -> bool = if direction == "upload" {
            is_put_block
        } else {
            is_ranged_get
        };
        let recorder = Arc::new(Recorder::new(HyperTransport::shared()).gate(move |r| {
            (matches(r) && count.fetch_add(1, Ordering::SeqCst) >= 3).then(|| {
                Box::pin(tokio::time::sleep_until(deadline))
                    as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
            })
        }));
        let renewals = Arc::new(AtomicU64::new(0));
        let (r, s, n) = (renewals.clone(), signer.clone(), name.clone());
        let renew = move || {
            let (r, s, n) = (r.clone(), s.clone(), n.clone());
            async move {
                r.fetch_add(1, Ordering::SeqCst);
                Ok(s.blob_url(&n))
            }
        };
        let c = client(recorder.clone());
        if direction == "upload" {
            let report = c
                .upload(short, Source::bytes(bytes.clone()))
                .renew_with(renew)
                .await
                .unwrap();
            assert!(report.retries >= 1);
        } else {
            let got = c
                .download(short, Destination::memory())
                .renew_with(renew)
                .await
                .unwrap()
                .into_bytes();
            assert!(got.as_ref() == bytes.as_slice());
        }
        assert!(
            recorder.seen().iter().any(|s| s.status == Some(403)),
            "{direction}: the short URL was refused"
        );
        assert_eq!(
            renewals.load(Ordering::SeqCst),
            1,
            "{direction}: one shared renewal"
        );
        let got = client(HyperTransport::shared())
            .download(az.blob_url(&name), Destination::memory())
            .await
            .unwrap()
            .into_bytes();
        assert!(got.as_ref() == bytes.as_slice(), "{direction}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_head_and_without_range_support_downloads_still_work() {
    let az = AzuriteBlobs::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = az.blob_url("no-range");
    let bytes = data(5 * BS as usize + 11, 4);
    client(HyperTransport::shared())
        .upload(url.clone(), Source::bytes(bytes.clone()))
        .await
        .unwrap();
    // HEAD refused (405): the size and ETag come from a first ranged GET.
    let no_head = Arc::new(
        Recorder::new(HyperTransport::shared())
            .rewrite(|r| (r.method() == "HEAD").then(|| response(405, ""))),
    );
    let report = client(no_head.clone())
        .download(url.clone(), Destination::file(dir.path().join("a")))
        .await
        .unwrap();
    assert!(report.ranged && report.etag.is_some());
    assert!(std::fs::read(dir.path().join("a")).unwrap() == bytes);
    // Range stripped on the way (a server or proxy that ignores it): whole-body answers.
    let no_range = Arc::new(Recorder::new(HyperTransport::shared()).rewrite(|r| {
        r.headers_mut().remove("range");
        (r.method() == "HEAD").then(|| response(405, ""))
    }));
    let c = client(no_range.clone());
    let report = c
        .download(url.clone(), Destination::file(dir.path().join("b")))
        .expect_digest(BlobDigest::Sha256(sha2::Sha256::digest(&bytes).into()))
        .await
        .unwrap();
    assert!(!report.ranged);
    assert!(std::fs::read(dir.path().join("b")).unwrap() == bytes);
    let got = c
        .download(url.clone(), Destination::memory())
        .await
        .unwrap()
        .into_bytes();
    assert!(got.as_ref() == bytes.as_slice());
    // Range ignored but HEAD works: every ranged GET gets a 200 and cuts its range out.
    let only_range_ignored = Arc::new(Recorder::new(HyperTransport::shared()).rewrite(|r| {
        r.headers_mut().remove("range");
        None
    }));
    let got = client(only_range_ignored)
        .download(url, Destination::memory())
        .await
        .unwrap()
        .into_bytes();
    assert!(got.as_ref() == bytes.as_slice());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_content_range_or_digest_publishes_nothing() {
    let az = AzuriteBlobs::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = az.blob_url("checked");
    let bytes = data(4 * BS as usize, 5);
    client(HyperTransport::shared())
        .upload(url.clone(), Source::bytes(bytes.clone()))
        .await
        .unwrap();
    let shifted = Arc::new(
        Recorder::new(HyperTransport::shared()).after(|_, mut resp| {
            if resp.status() == 206 {
                let total = 4 * BS;
                let value = format!("bytes 1-{}/{total}", BS);
                if resp.headers()["content-range"] != "bytes 0-0/262144" {
                    resp.headers_mut()
                        .insert("content-range", value.parse().unwrap());
                }
            }
            resp
        }),
    );
    let target = dir.path().join("t.bin");
    let err = client(shifted)
        .download(url.clone(), Destination::file(&target))
        .resume(false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.block().is_some());
    assert!(err.to_string().contains("asked for bytes"), "{err}");
    assert!(!target.exists());
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 0, "no partial file without resume");

    let wrong = BlobDigest::Sha256([0; 32]);
    let err = client(HyperTransport::shared())
        .download(url.clone(), Destination::file(&target))
        .expect_digest(wrong)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(!target.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let err = client(HyperTransport::shared())
        .download(url.clone(), Destination::memory())
        .expect_digest(BlobDigest::Md5([1; 16]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_downloads_once_verifies_and_keeps_names_inside() {
    let az = AzuriteBlobs::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (cache, env) = cache_in(dir.path());
    let url = az.blob_url("cached");
    let bytes = data(6 * BS as usize, 6);
    client(HyperTransport::shared())
        .upload(url.clone(), Source::bytes(bytes.clone()))
        .await
        .unwrap();
    let sha = BlobDigest::Sha256(sha2::Sha256::digest(&bytes).into());

    let recorder = Arc::new(Recorder::new(HyperTransport::shared()));
    let c = client(recorder.clone());
    let (a, b) = tokio::join!(
        c.download_to_cache(&cache, &env, "files", "cached.bin", url.clone())
            .expect_digest(sha.clone())
            .into_future(),
        c.download_to_cache(&cache, &env, "files", "cached.bin", url.clone())
            .into_future(),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    assert!(a.starts_with(cache.root()));
    assert!(std::fs::read(&a).unwrap() == bytes);
    assert_eq!(
        recorder.count("HEAD", ""),
        1,
        "the second request waited for the first"
    );
    assert_eq!(recorder.count("GET", ""), 6);

    for bad in ["../escape.bin", "a/b", "/etc/passwd", "..", ""] {
        let err = c
            .download_to_cache(&cache, &env, "files", bad, url.clone())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    assert_eq!(
        recorder.count("HEAD", ""),
        1,
        "refused names send no request"
    );

    // A wrong expected digest publishes nothing under the name.
    let err = c
        .download_to_cache(&cache, &env, "files", "other.bin", url.clone())
        .expect_digest(BlobDigest::Sha256([9; 32]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(
        !cache
            .file_path(&env, "files", "other.bin")
            .unwrap()
            .exists()
    );
    // A cached file that no longer matches its digest is fetched again.
    std::fs::write(&a, b"tampered").unwrap();
    let again = c
        .download_to_cache(&cache, &env, "files", "cached.bin", url)
        .expect_digest(sha)
        .await
        .unwrap();
    assert!(std::fs::read(again).unwrap() == bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_the_failure_but_never_the_signature() {
    let az = AzuriteBlobs::start().await;
    let url = az.blob_url("missing");
    let sig = url
        .query_pairs()
        .find(|(k, _)| k == "sig")
        .unwrap()
        .1
        .into_owned();
    let err = client(HyperTransport::shared())
        .download(url.clone(), Destination::memory())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
    let shown = format!("{err} {err:?}");
    let shown = format!("{shown} {}", evo_core::Error::from(err));
    assert!(!shown.contains(&sig), "{shown}");
    assert!(shown.contains("REDACTED"), "{shown}");

    // A refused URL without a renewal callback is final and says so.
    let mut forged = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "sig" {
                "AAAA".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let err = client(HyperTransport::shared())
        .upload(forged, Source::bytes(data(3 * BS as usize, 1)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
    assert_eq!(err.committed(), evo_io::Committed::Nothing);
    assert!(!format!("{err:?}").contains("AAAA"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_counts_bytes_and_readers_stream_in_order() {
    let az = AzuriteBlobs::start().await;
    let len = 7 * BS + 5;
    let url = az.blob_url("streamed");
    let events = Mutex::new(Vec::<Progress>::new());
    let record = |p: &Progress| events.lock().unwrap().push(*p);
    let report = client(HyperTransport::shared())
        .upload(
            url.clone(),
            Source::reader(GeneratedReader::new(len, 11), None),
        )
        .feedback(&record)
        .await
        .unwrap();
    assert_eq!((report.size, report.blocks), (len, 8));
    let seen = events.lock().unwrap().clone();
    assert!(seen.windows(2).all(|w| w[0].bytes_done <= w[1].bytes_done));
    assert_eq!(seen.last().unwrap().bytes_done, len);
    events.lock().unwrap().clear();
    let mut out = HashingWriter::default();
    client(HyperTransport::shared())
        .download(url.clone(), Destination::writer(&mut out))
        .feedback(&record)
        .await
        .unwrap();
    assert_eq!(out.len, len);
    assert_eq!(
        <[u8; 32]>::from(out.hasher.finalize()),
        generated_sha256(len, 11)
    );
    let seen = events.lock().unwrap().clone();
    assert_eq!(seen.last().unwrap().bytes_done, len);
    assert!(seen.iter().all(|p| p.bytes_total == Some(len)));

    // A reader that is shorter than announced commits nothing.
    let err = client(HyperTransport::shared())
        .upload(
            az.blob_url("short"),
            Source::reader(GeneratedReader::new(3 * BS, 1), Some(4 * BS)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Local, "{err}");
    let err = client(HyperTransport::shared())
        .download(az.blob_url("short"), Destination::memory())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
}

/// Azurite (3.35) accepts `x-ms-content-crc64` but does not check it: a block that changed on
/// the way is stored. The CRC-64 kept in the blob's metadata still catches it at download.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azurite_does_not_check_block_crc64_but_the_download_check_catches_the_damage() {
    let az = AzuriteBlobs::start().await;
    let bytes = data(4 * BS as usize, 91);
    // A Put Block whose CRC-64 is wrong: Azure answers 400 Crc64Mismatch, Azurite stores it.
    let url = az.blob_url("wrong-crc");
    let mut block_url = url.clone();
    block_url
        .query_pairs_mut()
        .append_pair("comp", "block")
        .append_pair("blockid", &evo_io::block_id(0));
    let response = HyperTransport::shared()
        .send(
            http::Request::put(block_url.as_str())
                .header("x-ms-content-crc64", crc64_header(azure_crc64(b"other")))
                .header("content-length", 5)
                .body(Body::from_bytes(&b"bytes"[..]))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        201,
        "Azurite now checks x-ms-content-crc64: assert the refusal here"
    );

    // An upload whose third block is damaged on the way commits on Azurite...
    let recorder = Arc::new(Recorder::new(HyperTransport::shared()).rewrite(|r| {
        let third = r.uri().query().is_some_and(|q| {
            q.contains("comp=block&") && q.contains(&evo_io::block_id(2 * BS).replace('=', "%3D"))
        });
        if third {
            let body = std::mem::replace(r.body_mut(), Body::empty());
            *r.body_mut() = flip_byte(body, 3, 1);
        }
        None
    }));
    let url = az.blob_url("damaged");
    let report = client(recorder)
        .upload(url.clone(), Source::bytes(bytes.clone()))
        .await
        .unwrap();
    assert_eq!(report.crc64, Some(azure_crc64(&bytes)));
    // ...and every download of it fails the check instead of handing out the damaged bytes.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("damaged.bin");
    let error = client(HyperTransport::shared())
        .download(url.clone(), Destination::file(&target))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Integrity, "{error}");
    assert!(!target.exists());
    let error = client(HyperTransport::shared())
        .download(url, Destination::memory())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Integrity, "{error}");
}
