//! A 256 MiB blob through the folder store: memory stays flat on upload and streamed download.

use crate::common;

use common::*;
use futures_util::StreamExt;
use md5::Digest;

/// Resident set size of this process, in bytes (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("rss field");
    pages * 4096
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_store_keeps_memory_flat_for_a_256_mib_blob() {
    const BLOCK: usize = 4 * 1024 * 1024;
    const BLOCKS: usize = 64;
    let dir = tempfile::tempdir().unwrap();
    let emu = evo_emulator::Emulator::builder()
        .blob_storage(evo_emulator::BlobStorage::Folder(dir.path().to_owned()))
        .start()
        .await
        .unwrap();
    let c = client();
    let url = emu.blob_url("big", "quarter-gib", "rcw").to_string();
    // One buffer, sent for every block with a different first byte; the client holds 2 blocks at most.
    let mut expected = md5::Md5::new();
    let base: Vec<u8> = (0..BLOCK).map(|i| (i % 253) as u8).collect();
    let start_rss = rss();
    let mut xml = String::from("<BlockList>");
    for i in 0..BLOCKS {
        let mut block = base.clone();
        block[0] = i as u8;
        expected.update(&block);
        let id = block_id((i * BLOCK) as u64);
        let r = c
            .put(with_query(&url, &[("comp", "block"), ("blockid", &id)]))
            .body(block)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        xml.push_str(&format!("<Latest>{id}</Latest>"));
    }
    xml.push_str("</BlockList>");
    let r = c
        .put(with_query(&url, &[("comp", "blocklist")]))
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let head = c.head(&url).send().await.unwrap();
    assert_eq!(
        head.headers()["content-length"],
        (BLOCK * BLOCKS).to_string().as_str()
    );

    let mut got = md5::Md5::new();
    let mut n = 0usize;
    let mut stream = c.get(&url).send().await.unwrap().bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        n += chunk.len();
        got.update(&chunk);
    }
    assert_eq!(n, BLOCK * BLOCKS);
    assert_eq!(got.finalize(), expected.finalize());
    let grown = rss().saturating_sub(start_rss);
    assert!(
        grown < 96 * 1024 * 1024,
        "RSS grew by {} MiB for a 256 MiB blob",
        grown / (1024 * 1024)
    );
}
