//! Azure's CRC-64 on Put Block and Put Blob (`x-ms-content-crc64`: checked, a mismatch
//! rejected, the computed value answered) and user metadata (`x-ms-meta-*`) kept at commit and
//! answered by Get Blob and Get Blob Properties.

use crate::common;

use common::*;

/// Azure's CRC-64 from its definition (reflected polynomial 0x9A6C9329AC4BC9B5, inverted
/// before and after), bit by bit, independent of the emulator's implementation.
fn crc64(data: &[u8]) -> u64 {
    let mut crc = !0u64;
    for &b in data {
        crc ^= u64::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x9A6C_9329_AC4B_C9B5
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn crc_header(data: &[u8]) -> String {
    b64(&crc64(data).to_le_bytes())
}

#[test]
fn the_reference_crc_has_the_catalogue_check_value() {
    assert_eq!(crc64(b"123456789"), 0xAE8B_1486_0A79_9888);
}

#[tokio::test]
async fn put_block_checks_and_answers_the_crc64() {
    let emu = start().await;
    let c = client();
    let url = emu.blob_url("crc", "blocks.bin", "rcw").to_string();
    let block = |id: &str| with_query(&url, &[("comp", "block"), ("blockid", &b64(id.as_bytes()))]);
    let data = b"some block bytes".to_vec();

    // The right CRC: accepted, answered back, no MD5 computed.
    let r = c
        .put(block("a"))
        .header("x-ms-content-crc64", crc_header(&data))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers()["x-ms-content-crc64"],
        crc_header(&data).as_str()
    );
    assert!(!r.headers().contains_key("content-md5"));

    // No checksum claimed: the CRC-64 is computed and answered (service versions >= 2019-02-02).
    let r = c.put(block("b")).body(data.clone()).send().await.unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers()["x-ms-content-crc64"],
        crc_header(&data).as_str()
    );

    // A CRC of other bytes: rejected, and the block is not stored.
    let r = c
        .put(block("c"))
        .header("x-ms-content-crc64", crc_header(b"other bytes"))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-ms-error-code"], "Crc64Mismatch");
    let list = c
        .get(with_query(
            &url,
            &[("comp", "blocklist"), ("blocklisttype", "uncommitted")],
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains(&b64(b"a")) && !list.contains(&b64(b"c")),
        "{list}"
    );

    // Not 8 bytes of base64: an invalid header.
    for bad in ["not base64!", &b64(&[1, 2, 3])] {
        let r = c
            .put(block("d"))
            .header("x-ms-content-crc64", bad)
            .body(data.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert_eq!(r.headers()["x-ms-error-code"], "InvalidHeaderValue");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn metadata_is_kept_at_commit_and_answered() {
    let emu = start().await;
    let c = client();
    let url = emu.blob_url("crc", "committed.bin", "rcw").to_string();
    let id = b64(b"0001");
    let r = c
        .put(with_query(&url, &[("comp", "block"), ("blockid", &id)]))
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let list = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>{id}</Latest></BlockList>"
    );
    let r = c
        .put(with_query(&url, &[("comp", "blocklist")]))
        .header("x-ms-meta-crc64", "0123abcd")
        .header("x-ms-meta-Other_Name", "v")
        .body(list.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    for response in [
        c.head(&url).send().await.unwrap(),
        c.get(&url).send().await.unwrap(),
    ] {
        assert_eq!(response.headers()["x-ms-meta-crc64"], "0123abcd");
        assert_eq!(response.headers()["x-ms-meta-other_name"], "v");
    }
    // A name that is no identifier is refused.
    let r = c
        .put(with_query(&url, &[("comp", "blocklist")]))
        .header("x-ms-meta-1bad", "v")
        .body(list)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-ms-error-code"], "InvalidMetadata");

    // Put Blob: the CRC-64 checked, metadata kept.
    let r = c
        .put(&url)
        .header("x-ms-blob-type", "BlockBlob")
        .header("x-ms-content-crc64", crc_header(b"whole"))
        .header("x-ms-meta-k", "w")
        .body("whole")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers()["x-ms-content-crc64"],
        crc_header(b"whole").as_str()
    );
    assert_eq!(
        c.head(&url).send().await.unwrap().headers()["x-ms-meta-k"],
        "w"
    );
    let r = c
        .put(&url)
        .header("x-ms-blob-type", "BlockBlob")
        .header("x-ms-content-crc64", crc_header(b"whale"))
        .body("whole")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-ms-error-code"], "Crc64Mismatch");
    emu.shutdown().await;
}
