//! A few GiB through the emulator with flat memory: a generated source stream and a hashing
//! destination, so neither side holds the data; the peak resident memory of this test process
//! (client and in-process emulator with folder storage) stays far below the blob size.
//!
//! A test binary of its own: the peak is the process's, which other tests running beside it
//! in one binary would add to.

mod support;

use evo_emulator::{BlobStorage, Emulator};
use evo_io::{BlobClient, Destination, Source};
use sha2::Digest as _;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gibibytes_stream_through_with_flat_memory() {
    let gib: u64 = std::env::var("EVO_IO_LARGE_GIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let len = gib << 30;
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .blob_storage(BlobStorage::Folder(dir.path().join("blobs")))
        .start()
        .await
        .unwrap();
    let url = emu.blob_url("evo-io", "large", "rcw");
    // Adaptive concurrency within the block buffers of the former fixed 4 blocks of 8 MiB
    // (the default budget is 80 MiB, and the in-process emulator holds as many blocks again).
    let client = BlobClient::builder(HyperTransport::shared())
        .concurrency(4)
        .memory_budget(32 << 20)
        .build();
    let report = client
        .upload(
            url.clone(),
            Source::reader(GeneratedReader::new(len, 99), Some(len)),
        )
        .await
        .unwrap();
    assert_eq!(report.size, len);
    let mut sink = HashingWriter::default();
    let down = client
        .download(url, Destination::writer(&mut sink))
        .await
        .unwrap();
    assert_eq!(down.size, len);
    assert_eq!(sink.len, len);
    assert_eq!(
        <[u8; 32]>::from(sink.hasher.finalize()),
        generated_sha256(len, 99)
    );
    eprintln!(
        "concurrency up {:?}, down {:?}",
        report.concurrency, down.concurrency
    );
    let peak = peak_rss();
    eprintln!(
        "peak resident memory for {gib} GiB up and down: {} MiB",
        peak >> 20
    );
    assert!(
        peak < 256 << 20,
        "peak resident memory {} MiB is not flat",
        peak >> 20
    );
    emu.shutdown().await;
}
