//! The blob protocol behind File API v2 (uploads committed from blocks, ranged downloads, block
//! errors and lists, signatures, folder storage of large blobs), driven with a plain HTTP
//! client.

use crate::common;

use common::*;
use md5::Digest;
use serde_json::Value;

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn upload_commit_then_file_appears_and_downloads_with_ranges() {
    let emu = start().await;
    let token = emu.issue_token(ALL);
    let c = client();
    let ws = create_workspace(&emu, &token, "Files").await;
    let fb = files_base(&emu, &ws);

    let (status, reg) = json(
        c.put(format!("{fb}/files/path/dir%20a/points.csv"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(
        reg.as_object().unwrap().len(),
        3,
        "{{file_id, upload, version_id}}"
    );
    let upload = reg["upload"].as_str().unwrap().to_owned();
    assert!(
        upload.starts_with(&format!("{}blob/", emu.blob_base_url())),
        "{upload}"
    );
    for p in ["sv=", "se=", "sp=", "sig="] {
        assert!(upload.contains(p), "{upload} lacks {p}");
    }
    // Not visible before the commit.
    assert_eq!(
        c.get(format!("{fb}/files/path/dir%20a/points.csv"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let (_, list) = json(
        c.get(format!("{fb}/files"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total"], 0);

    let data = pattern(2500);
    upload_blocks(&upload, &data, 1000).await;

    let (status, meta) = json(
        c.get(format!("{fb}/files/path/dir%20a/points.csv"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{meta}");
    assert_eq!(meta["name"], "points.csv");
    // `path` is the folder, as in the service's answers and its listings.
    assert_eq!(meta["path"], "/dir a/");
    assert_eq!(meta["size"], 2500);
    assert_eq!(meta["version_id"], reg["version_id"]);
    assert_eq!(meta["file_id"], reg["file_id"]);
    assert_eq!(meta["versions"], Value::Null);
    for k in [
        "created_at",
        "modified_at",
        "etag",
        "self",
        "download",
        "created_by",
        "modified_by",
    ] {
        assert!(!meta[k].is_null(), "missing {k}");
    }
    let (_, list) = json(
        c.get(format!("{fb}/files?limit=5000&offset=0&deleted=False"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["count"], 1);
    assert_eq!(list["limit"], 5000);
    assert_eq!(list["files"][0]["path"], "/dir a/");
    assert!(
        list["files"][0]["links"]["self"]
            .as_str()
            .unwrap()
            .starts_with("http")
    );
    assert_eq!(list["links"]["next"], Value::Null);
    assert_eq!(list["links"]["prev"], Value::Null);

    let download = meta["download"].as_str().unwrap().to_owned();
    let head = c.head(&download).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["accept-ranges"], "bytes");
    assert_eq!(head.headers()["content-length"], "2500");
    assert!(head.headers().contains_key("etag"));
    assert!(head.headers().contains_key("last-modified"));
    let etag = head.headers()["etag"].to_str().unwrap().to_owned();

    let whole = c.get(&download).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap().as_ref(), data.as_slice());

    let r = c
        .get(&download)
        .header("range", "bytes=900-1099")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 900-1099/2500");
    assert_eq!(r.headers()["content-length"], "200");
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[900..1100]);
    let r = c
        .get(&download)
        .header("range", "bytes=2400-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 2400-2499/2500");
    let r = c
        .get(&download)
        .header("range", "bytes=-10")
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[2490..]);
    let r = c
        .get(&download)
        .header("range", "bytes=2400-9999")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-range"], "bytes 2400-2499/2500");
    let r = c
        .get(&download)
        .header("range", "bytes=2500-2600")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()["content-range"], "bytes */2500");
    assert_eq!(r.headers()["x-ms-error-code"], "InvalidRange");
    let r = c
        .get(&download)
        .header("range", "bytes=0-9")
        .header("if-match", "\"0xDEAD\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
    assert_eq!(r.headers()["x-ms-error-code"], "ConditionNotMet");
    let r = c
        .get(&download)
        .header("range", "bytes=0-9")
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);

    // The download URL is read-only.
    let r = c
        .put(&download)
        .header("x-ms-blob-type", "BlockBlob")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.headers()["x-ms-error-code"],
        "AuthorizationPermissionMismatch"
    );
}

#[tokio::test]
async fn block_protocol_errors_and_block_lists() {
    let emu = start().await;
    let c = client();
    let url = emu.blob_url("test", "some/blob.bin", "rcw").to_string();
    let put_block = |id: String, body: Vec<u8>, md5: Option<String>| {
        let mut r = c
            .put(with_query(&url, &[("comp", "block"), ("blockid", &id)]))
            .body(body);
        if let Some(m) = md5 {
            r = r.header("content-md5", m);
        }
        r.send()
    };
    // not base64
    let r = put_block("%%%".into(), b"x".to_vec(), None).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-ms-error-code"], "InvalidQueryParameterValue");
    assert_eq!(r.headers()["content-type"], "application/xml");
    let body = r.text().await.unwrap();
    assert!(
        body.contains("<Code>InvalidQueryParameterValue</Code>"),
        "{body}"
    );
    // missing block id
    let r = c
        .put(with_query(&url, &[("comp", "block")]))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // good blocks, with and without MD5
    let r = put_block(
        b64(b"block-01"),
        b"hello ".to_vec(),
        Some(b64(&md5::Md5::digest(b"hello "))),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = put_block(b64(b"block-02"), b"world".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // wrong MD5
    let r = put_block(
        b64(b"block-03"),
        b"zzz".to_vec(),
        Some(b64(&md5::Md5::digest(b"other"))),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-ms-error-code"], "Md5Mismatch");
    // id of another length
    let r = put_block(b64(b"short"), b"x".to_vec(), None).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-ms-error-code"], "InvalidBlobOrBlock");

    // Get Block List before commit: uncommitted only
    let r = c
        .get(with_query(
            &url,
            &[("comp", "blocklist"), ("blocklisttype", "all")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/xml");
    let xml = r.text().await.unwrap();
    assert!(xml.contains("<CommittedBlocks></CommittedBlocks>"), "{xml}");
    assert!(
        xml.contains(&format!(
            "<Block><Name>{}</Name><Size>6</Size></Block>",
            b64(b"block-01")
        )),
        "{xml}"
    );
    // HEAD before commit: 404
    assert_eq!(c.head(&url).send().await.unwrap().status(), 404);

    // a list naming an unknown block
    let bad = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>{}</Latest><Latest>{}</Latest></BlockList>",
        b64(b"block-01"),
        b64(b"block-99")
    );
    let r = c
        .put(with_query(&url, &[("comp", "blocklist")]))
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-ms-error-code"], "InvalidBlockList");
    let r = c
        .put(with_query(&url, &[("comp", "blocklist")]))
        .body("<BlockList><Latest>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-ms-error-code"], "InvalidXmlDocument");

    // commit with a whole-blob MD5
    let whole_md5 = b64(&md5::Md5::digest(b"hello world"));
    let list = format!(
        "<BlockList><Uncommitted>{}</Uncommitted><Latest>{}</Latest></BlockList>",
        b64(b"block-01"),
        b64(b"block-02")
    );
    let r = c
        .put(with_query(&url, &[("comp", "blocklist")]))
        .header("x-ms-blob-content-md5", &whole_md5)
        .body(list)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("etag"));
    let head = c.head(&url).send().await.unwrap();
    assert_eq!(head.headers()["content-md5"].to_str().unwrap(), whole_md5);
    assert_eq!(head.headers()["content-length"], "11");
    assert_eq!(
        c.get(&url).send().await.unwrap().text().await.unwrap(),
        "hello world"
    );

    let r = c
        .get(with_query(&url, &[("comp", "blocklist")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-ms-blob-content-length"], "11");
    let xml = r.text().await.unwrap();
    assert!(
        xml.contains("<CommittedBlocks><Block>") && !xml.contains("UncommittedBlocks"),
        "{xml}"
    );
    let r = c
        .get(with_query(
            &url,
            &[("comp", "blocklist"), ("blocklisttype", "uncommitted")],
        ))
        .send()
        .await
        .unwrap();
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<UncommittedBlocks></UncommittedBlocks>")
    );

    // Re-commit reusing a committed block plus a new one.
    let r = put_block(b64(b"block-04"), b"!".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let list = format!(
        "<BlockList><Committed>{}</Committed><Uncommitted>{}</Uncommitted></BlockList>",
        b64(b"block-01"),
        b64(b"block-04")
    );
    assert_eq!(
        c.put(with_query(&url, &[("comp", "blocklist")]))
            .body(list)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        c.get(&url).send().await.unwrap().text().await.unwrap(),
        "hello !"
    );
    let head = c.head(&url).send().await.unwrap();
    assert!(
        !head.headers().contains_key("content-md5"),
        "no MD5 was given for this commit"
    );

    // Put Blob
    let r = c.put(&url).body("plain").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-ms-error-code"], "MissingRequiredHeader");
    let r = c
        .put(&url)
        .header("x-ms-blob-type", "BlockBlob")
        .body("plain body")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let got = c.get(&url).send().await.unwrap();
    assert_eq!(
        got.headers()["content-md5"].to_str().unwrap(),
        b64(&md5::Md5::digest(b"plain body"))
    );
    assert_eq!(got.text().await.unwrap(), "plain body");
}

#[tokio::test]
async fn signatures_are_checked_and_expire() {
    let emu = evo_emulator::Emulator::builder()
        .blob_url_ttl(std::time::Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let c = client();
    let url = emu.blob_url("test", "a.bin", "rcw").to_string();
    assert_eq!(
        c.put(&url)
            .header("x-ms-blob-type", "BlockBlob")
            .body("abc")
            .send()
            .await
            .unwrap()
            .status(),
        201
    );

    // tampered signature
    let mut u = url::Url::parse(&url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            if k == "sig" {
                // Swap the first character for a different one: a fixed
                // replacement would leave the signature intact whenever it
                // already began with that character.
                let first = if v.starts_with('A') { 'B' } else { 'A' };
                (k.into_owned(), format!("{first}{}", &v[1..]))
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    let r = c.get(u.as_str()).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["x-ms-error-code"], "AuthenticationFailed");
    let body = r.text().await.unwrap();
    assert!(
        body.starts_with("<?xml") && body.contains("<Code>AuthenticationFailed</Code>"),
        "{body}"
    );
    // another blob path with the same signature
    let other = url.replace("/a.bin?", "/b.bin?");
    assert_eq!(c.get(&other).send().await.unwrap().status(), 403);
    // extended permissions
    let widened = url.replace("sp=rcw", "sp=rcwd");
    assert_eq!(c.get(&widened).send().await.unwrap().status(), 403);
    // no signature at all
    let bare = url.split('?').next().unwrap().to_owned();
    assert_eq!(c.get(&bare).send().await.unwrap().status(), 403);

    // expire_blob_urls: old URLs fail, new ones work
    assert_eq!(c.get(&url).send().await.unwrap().status(), 200);
    emu.expire_blob_urls();
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Signature not valid in the specified time frame")
    );
    let fresh = emu.blob_url("test", "a.bin", "r").to_string();
    assert_eq!(c.get(&fresh).send().await.unwrap().status(), 200);
    // TTL expiry
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    assert_eq!(c.get(&fresh).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn folder_storage_streams_large_multi_block_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let emu = evo_emulator::Emulator::builder()
        .blob_storage(evo_emulator::BlobStorage::Folder(dir.path().to_owned()))
        .start()
        .await
        .unwrap();
    let c = client();
    let url = emu.blob_url("big", "blob", "rcw").to_string();
    let data = pattern(3 * 1024 * 1024 + 17);
    upload_blocks(&url, &data, 1024 * 1024).await;
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        4,
        "one file per block"
    );
    let got = c.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(got.as_ref(), data.as_slice());
    let r = c
        .get(&url)
        .header("range", "bytes=1048000-2097500")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[1048000..=2097500]);
    // Replacing the blob frees the old block files.
    assert_eq!(
        c.put(&url)
            .header("x-ms-blob-type", "BlockBlob")
            .body("tiny")
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert_eq!(
        c.get(&url).send().await.unwrap().text().await.unwrap(),
        "tiny"
    );
}
