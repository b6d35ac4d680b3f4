//! An upload resumes only from blocks its own source sent: a changed source, blocks someone
//! else staged under the same ids, or blocks the server has since thrown away never end up in
//! the committed blob.

use crate::support;

use std::future::IntoFuture;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use evo_emulator::{BlobStorage, Emulator};
use evo_io::{BlobClient, Destination, Source};
use support::*;

const BS: u64 = 64 * 1024;
const CONTAINER: &str = "evo-io";
/// Blocks of the test files (12 whole ones and a 1-byte tail).
const BLOCKS: usize = 13;

fn client(transport: evo_core::SharedTransport) -> BlobClient {
    BlobClient::builder(transport)
        .block_size(BS)
        .single_put_max(0)
        .concurrency(4)
        .build()
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .blob_storage(BlobStorage::Memory)
        .blob_url_ttl(Duration::from_secs(30 * 24 * 3600))
        .uncommitted_block_ttl(Duration::from_secs(3600))
        .start()
        .await
        .unwrap()
}

/// Uploads `source` and drops the upload after 5 blocks were staged (and, for a file source,
/// recorded in its state file `state`).
async fn killed_after_five_blocks(url: &url::Url, source: Source<'_>, state: Option<&Path>) {
    let first = Arc::new(Recorder::new(HyperTransport::shared()).gate(hold_after(5, is_put_block)));
    kill_after(
        client(first.clone())
            .upload(url.clone(), source)
            .into_future(),
        &first,
        "PUT",
        "comp=block&",
        201,
        5,
        state,
    )
    .await;
}

async fn blob(emu: &Emulator, name: &str) -> Vec<u8> {
    client(HyperTransport::shared())
        .download(emu.blob_url(CONTAINER, name, "r"), Destination::memory())
        .await
        .unwrap()
        .into_bytes()
        .to_vec()
}

/// Offsets of the bytes the upload's source fingerprint samples (`state.rs`: the first and
/// last 64 KiB, and 4 KiB at 32 evenly spaced offsets).
fn sampled(len: u64, offset: u64) -> bool {
    let (edge, sample, samples) = (64 * 1024, 4 * 1024, 32);
    let span = len - sample;
    offset < edge
        || offset >= len - edge
        || (0..samples).any(|i| {
            let start = span / (samples - 1) * i;
            (start..start + sample).contains(&offset)
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_changed_since_the_kill_is_sent_whole() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src.bin");
    let old = data(12 * BS as usize + 1, 1);
    // Changed the ordinary way (new modification time), and with the old modification time put
    // back (as a copy that keeps times does): both have the size of the old content.
    for keep_mtime in [false, true] {
        std::fs::write(&source, &old).unwrap();
        let name = format!("changed-{keep_mtime}");
        let url = emu.blob_url(CONTAINER, &name, "rcw");
        killed_after_five_blocks(&url, Source::file(&source), Some(&upload_state(&source))).await;
        let mtime = std::fs::metadata(&source).unwrap().modified().unwrap();
        let mut new = old.clone();
        new[..100].copy_from_slice(&[0xAB; 100]);
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&source, &new).unwrap();
        if keep_mtime {
            let file = std::fs::File::options().write(true).open(&source).unwrap();
            file.set_modified(mtime).unwrap();
        }
        let recorder = Arc::new(Recorder::new(HyperTransport::shared()));
        let report = client(recorder.clone())
            .upload(url.clone(), Source::file(&source))
            .await
            .unwrap();
        assert_eq!(report.reused_blocks, 0, "keep_mtime {keep_mtime}");
        assert_eq!(recorder.count("PUT", "comp=block&"), BLOCKS);
        assert_eq!(report.crc64, Some(azure_crc64(&new)));
        assert!(
            blob(&emu, &name).await == new,
            "keep_mtime {keep_mtime}: blob differs"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_someone_else_staged_under_our_ids_are_never_committed() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src.bin");
    let mine = data(12 * BS as usize + 1, 2);
    std::fs::write(&source, &mine).unwrap();
    let url = emu.blob_url(CONTAINER, "foreign", "rcw");
    // Another upload of other content of the same size to the same blob, killed mid-way.
    let theirs = data(12 * BS as usize + 1, 3);
    killed_after_five_blocks(&url, Source::bytes(theirs.clone()), None).await;
    let report = client(HyperTransport::shared())
        .upload(url.clone(), Source::file(&source))
        .await
        .unwrap();
    assert_eq!(report.reused_blocks, 0);
    assert_eq!(report.crc64, Some(azure_crc64(&mine)));
    assert!(blob(&emu, "foreign").await == mine, "blob differs");

    // Bytes (and readers) resume only when asked to.
    let url = emu.blob_url(CONTAINER, "bytes", "rcw");
    killed_after_five_blocks(&url, Source::bytes(theirs.clone()), None).await;
    let report = client(HyperTransport::shared())
        .upload(url.clone(), Source::bytes(mine.clone()))
        .await
        .unwrap();
    assert_eq!(report.reused_blocks, 0);
    assert!(blob(&emu, "bytes").await == mine, "blob differs");
    killed_after_five_blocks(&url, Source::bytes(theirs.clone()), None).await;
    let report = client(HyperTransport::shared())
        .upload(url.clone(), Source::bytes(theirs.clone()))
        .resume(true)
        .await
        .unwrap();
    assert_eq!(report.reused_blocks, 5);
    assert!(blob(&emu, "bytes").await == theirs, "blob differs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_expired_before_the_commit_are_staged_again_once() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src.bin");
    let bytes = data(12 * BS as usize + 1, 4);
    std::fs::write(&source, &bytes).unwrap();
    let url = emu.blob_url(CONTAINER, "expired", "rcw");
    killed_after_five_blocks(&url, Source::file(&source), Some(&upload_state(&source))).await;
    // The server drops uncommitted blocks after an hour; this URL may not list blocks, so only
    // the state file speaks for the 5 staged blocks, and the commit finds them gone.
    emu.advance_clock(Duration::from_secs(2 * 3600));
    let recorder = Arc::new(Recorder::new(HyperTransport::shared()).rewrite(|r| {
        let listing = r.method() == "GET"
            && r.uri()
                .query()
                .is_some_and(|q| q.contains("comp=blocklist"));
        listing.then(|| response(403, "AuthorizationPermissionMismatch"))
    }));
    let report = client(recorder.clone())
        .upload(url.clone(), Source::file(&source))
        .await
        .unwrap();
    assert_eq!(report.crc64, Some(azure_crc64(&bytes)));
    assert_eq!(report.reused_blocks, 0, "the reused blocks were sent again");
    let seen = recorder.seen();
    let is_commit = |s: &Seen| s.method == "PUT" && s.query.ends_with("comp=blocklist");
    let commits: Vec<Option<u16>> = seen
        .iter()
        .filter(|s| is_commit(s))
        .map(|s| s.status)
        .collect();
    assert_eq!(commits, vec![Some(400), Some(201)]);
    // Before the refused commit the blocks the state file named were skipped; after it, every
    // block was staged again.
    let refused = seen.iter().position(is_commit).unwrap();
    let puts = |s: &[Seen]| {
        s.iter()
            .filter(|s| s.method == "PUT" && s.query.contains("comp=block&"))
            .count()
    };
    assert!(
        puts(&seen[..refused]) < BLOCKS,
        "blocks were reused at first"
    );
    assert_eq!(puts(&seen[refused..]), BLOCKS);
    assert!(blob(&emu, "expired").await == bytes, "blob differs");
    assert!(!dir.path().join(".src.bin.evo-upload").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staged_block_changed_where_the_fingerprint_does_not_look_is_sent_again() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src.bin");
    let old = data(12 * BS as usize + 1, 5);
    let len = old.len() as u64;
    std::fs::write(&source, &old).unwrap();
    let url = emu.blob_url(CONTAINER, "changed-in-place", "rcw");
    killed_after_five_blocks(&url, Source::file(&source), Some(&upload_state(&source))).await;
    // A byte of a staged block that the fingerprint does not sample, changed with the size and
    // the modification time kept: only the block's recorded CRC-64 tells.
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(".src.bin.evo-upload")).unwrap())
            .unwrap();
    let done: Vec<u64> = state["done"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r[0].as_u64().unwrap()..r[1].as_u64().unwrap())
        .collect();
    assert_eq!(done.len(), 5, "{state}");
    assert_eq!(
        state["crc64"].as_object().map(|m| m.len()),
        Some(5),
        "{state}"
    );
    let offset = done
        .iter()
        .flat_map(|&i| i * BS..(i + 1) * BS)
        .find(|&o| !sampled(len, o))
        .expect("a staged byte outside the samples");
    let mtime = std::fs::metadata(&source).unwrap().modified().unwrap();
    let mut new = old.clone();
    new[offset as usize] ^= 0x55;
    std::fs::write(&source, &new).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&source)
        .unwrap()
        .set_modified(mtime)
        .unwrap();

    let recorder = Arc::new(Recorder::new(HyperTransport::shared()));
    let report = client(recorder.clone())
        .upload(url.clone(), Source::file(&source))
        .await
        .unwrap();
    // The fingerprint let the other staged blocks be reused; the changed one went again.
    assert_eq!(report.reused_blocks, 4, "{report:?}");
    assert_eq!(recorder.count("PUT", "comp=block&"), BLOCKS - 4);
    assert_eq!(report.crc64, Some(azure_crc64(&new)));
    assert!(blob(&emu, "changed-in-place").await == new, "blob differs");
    assert_eq!(
        header_str(&head(&url).await, "x-ms-meta-evo_crc64"),
        Some(crc64_header(azure_crc64(&new)).as_str())
    );
}
