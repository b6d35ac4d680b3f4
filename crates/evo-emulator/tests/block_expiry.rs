//! Uncommitted blocks expire a configurable period after the blob's last Put Block, as Azure
//! discards them after a week; the emulator's clock is advanced instead of sleeping.

use crate::common;

use std::time::Duration;

use common::{block_id, client, with_query};
use evo_emulator::{DEFAULT_UNCOMMITTED_BLOCK_TTL, Emulator};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

async fn put_block(url: &str, offset: u64, data: &[u8]) {
    let resp = client()
        .put(with_query(
            url,
            &[("comp", "block"), ("blockid", &block_id(offset))],
        ))
        .body(data.to_vec())
        .send()
        .await
        .expect("put block");
    assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.text().await);
}

async fn put_block_list(url: &str, offsets: &[u64]) -> (u16, String) {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<BlockList>");
    for o in offsets {
        xml.push_str(&format!("\n  <Latest>{}</Latest>", block_id(*o)));
    }
    xml.push_str("\n</BlockList>");
    let resp = client()
        .put(with_query(url, &[("comp", "blocklist")]))
        .header("content-type", "text/plain; charset=UTF-8")
        .body(xml)
        .send()
        .await
        .expect("put block list");
    let status = resp.status().as_u16();
    let code = resp
        .headers()
        .get("x-ms-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, code)
}

/// Get Block List `uncommitted`: the status and the uncommitted block names.
async fn uncommitted(url: &str) -> (u16, Vec<String>) {
    let resp = client()
        .get(with_query(
            url,
            &[("comp", "blocklist"), ("blocklisttype", "uncommitted")],
        ))
        .send()
        .await
        .expect("get block list");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let names = text
        .split("<Name>")
        .skip(1)
        .filter_map(|s| s.split_once("</Name>").map(|(n, _)| n.to_owned()))
        .collect();
    (status, names)
}

async fn get_blob(url: &str) -> (u16, Vec<u8>) {
    let resp = client().get(url).send().await.expect("get");
    let status = resp.status().as_u16();
    (status, resp.bytes().await.expect("body").to_vec())
}

#[test]
fn default_period_is_a_week() {
    assert_eq!(DEFAULT_UNCOMMITTED_BLOCK_TTL, 7 * DAY);
}

#[tokio::test]
async fn uncommitted_blocks_expire_a_week_after_the_last_put_block() {
    let emu = Emulator::builder().start().await.expect("starts");
    let url = emu.blob_url("test", "expiring.bin", "rcw").to_string();
    put_block(&url, 0, b"hello ").await;
    put_block(&url, 6, b"world").await;

    emu.advance_clock(7 * DAY - HOUR);
    let (status, names) = uncommitted(&url).await;
    assert_eq!(status, 200);
    assert_eq!(
        names,
        vec![block_id(0), block_id(6)],
        "blocks are kept just before the period ends"
    );

    emu.advance_clock(2 * HOUR);
    let (status, names) = uncommitted(&url).await;
    assert_eq!(
        (status, names),
        (404, Vec::new()),
        "a blob with only expired blocks is gone (BlobNotFound)"
    );
    let (status, code) = put_block_list(&url, &[0, 6]).await;
    assert_eq!(
        (status, code.as_str()),
        (400, "InvalidBlockList"),
        "expired blocks cannot be committed"
    );
    assert_eq!(get_blob(&url).await.0, 404);
}

#[tokio::test]
async fn expiry_keeps_the_committed_blob_and_drops_only_uncommitted_blocks() {
    let emu = Emulator::builder().start().await.expect("starts");
    let url = emu.blob_url("test", "committed.bin", "rcw").to_string();
    put_block(&url, 0, b"v1").await;
    assert_eq!(put_block_list(&url, &[0]).await.0, 201);
    // A second version is staged but never committed.
    put_block(&url, 0, b"v2-a").await;
    put_block(&url, 4, b"v2-b").await;
    assert_eq!(uncommitted(&url).await.1.len(), 2);

    emu.advance_clock(7 * DAY + Duration::from_secs(1));
    let (status, names) = uncommitted(&url).await;
    assert_eq!(status, 200, "the committed blob still exists");
    assert!(names.is_empty(), "uncommitted blocks expired: {names:?}");
    let (status, code) = put_block_list(&url, &[0, 4]).await;
    assert_eq!((status, code.as_str()), (400, "InvalidBlockList"));
    assert_eq!(get_blob(&url).await, (200, b"v1".to_vec()));
}

#[tokio::test]
async fn a_new_put_block_restarts_the_period_for_every_uncommitted_block() {
    let emu = Emulator::builder().start().await.expect("starts");
    let url = emu.blob_url("test", "kept.bin", "rcw").to_string();
    put_block(&url, 0, b"first ").await;
    emu.advance_clock(6 * DAY);
    put_block(&url, 6, b"second").await;
    // 8 days after the first block, 2 after the last: still alive.
    emu.advance_clock(2 * DAY);
    let (status, names) = uncommitted(&url).await;
    assert_eq!(status, 200);
    assert_eq!(names, vec![block_id(0), block_id(6)]);
    assert_eq!(put_block_list(&url, &[0, 6]).await.0, 201);
    assert_eq!(get_blob(&url).await, (200, b"first second".to_vec()));
}

#[tokio::test]
async fn the_period_is_configurable_and_expiry_applies_on_put_block_too() {
    let emu = Emulator::builder()
        .uncommitted_block_ttl(HOUR)
        .start()
        .await
        .expect("starts");
    let url = emu.blob_url("test", "short.bin", "rcw").to_string();
    put_block(&url, 0, b"old").await;
    emu.advance_clock(HOUR - Duration::from_secs(60));
    assert_eq!(uncommitted(&url).await.1, vec![block_id(0)]);
    emu.advance_clock(Duration::from_secs(120));
    // The next request touching the blob is a Put Block: the expired block goes first, so the
    // new block is alone and a list naming the old one is refused.
    put_block(&url, 3, b"new").await;
    assert_eq!(uncommitted(&url).await.1, vec![block_id(3)]);
    assert_eq!(put_block_list(&url, &[0, 3]).await.0, 400);
    assert_eq!(put_block_list(&url, &[3]).await.0, 201);
    assert_eq!(get_blob(&url).await, (200, b"new".to_vec()));
}

#[tokio::test]
async fn expired_blocks_leave_no_files_in_the_folder_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let emu = Emulator::builder()
        .blob_storage(evo_emulator::BlobStorage::Folder(dir.path().to_owned()))
        .start()
        .await
        .expect("starts");
    let files = || std::fs::read_dir(dir.path()).expect("read dir").count();
    let url = emu.blob_url("test", "on-disk.bin", "rcw").to_string();
    put_block(&url, 0, &[7u8; 1000]).await;
    put_block(&url, 1000, &[8u8; 1000]).await;
    assert_eq!(files(), 2, "one file per staged block");
    emu.advance_clock(7 * DAY);
    assert_eq!(uncommitted(&url).await.0, 404);
    assert_eq!(files(), 0, "expired blocks' files are deleted");
}
