//! Progress comes inside blocks, at least every MiB that moves, not once per 8 MiB block; it
//! never goes back, never passes the total, and ends at it, with broken bodies retried.

use crate::support::*;

use std::sync::Mutex;

use evo_core::Progress;
use evo_emulator::{BlobStorage, Emulator, Fault, FaultPlan, RouteClass};
use evo_io::{BlobClient, Destination, Source};

const MIB: u64 = 1 << 20;
const BLOCK: u64 = 8 * MIB;

/// The reported `bytes_done` values are in order, within the total, and end at it.
fn assert_well_formed(what: &str, done: &[u64], total: u64) {
    assert!(!done.is_empty(), "{what}: no progress reported");
    assert!(
        done.windows(2).all(|w| w[0] <= w[1]),
        "{what}: progress went back: {done:?}"
    );
    assert!(
        done.iter().all(|&d| d <= total),
        "{what}: past the total: {done:?}"
    );
    assert_eq!(done.last(), Some(&total), "{what}: {done:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_reported_inside_blocks_and_counts_retried_bytes_once() {
    // Broken bodies on a few blob requests: retried blocks must not be counted twice.
    let plan = FaultPlan::seeded(17).with_limited(RouteClass::Blob, Fault::ResetMidBody, 0.25, 3);
    let emu = Emulator::builder()
        .blob_storage(BlobStorage::Memory)
        .faults(plan)
        .start()
        .await
        .unwrap();
    let url = emu.blob_url("evo-io", "progress", "rcw");
    let total = 3 * BLOCK + 12_345;
    let bytes = data(total as usize, 5);
    // One block at a time, so that the steps between reports are those of one block.
    let client = BlobClient::builder(HyperTransport::shared())
        .block_size(BLOCK)
        .single_put_max(0)
        .concurrency(1)
        .build();
    let events = Mutex::new(Vec::<u64>::new());
    let record = |p: &Progress| events.lock().unwrap().push(p.bytes_done);
    let take = || std::mem::take(&mut *events.lock().unwrap());

    client
        .upload(url.clone(), Source::bytes(bytes.clone()))
        .feedback(&record)
        .await
        .unwrap();
    let up = take();
    assert_well_formed("upload", &up, total);
    assert!(
        up.iter().any(|d| d % BLOCK != 0 && *d < total),
        "the upload reported only at block ends: {up:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    for destination in ["memory", "file"] {
        let target = dir.path().join("progress.bin");
        let got = match destination {
            "memory" => client
                .download(url.clone(), Destination::memory())
                .feedback(&record)
                .await
                .unwrap()
                .into_bytes()
                .to_vec(),
            _ => {
                client
                    .download(url.clone(), Destination::file(&target))
                    .feedback(&record)
                    .await
                    .unwrap();
                std::fs::read(&target).unwrap()
            }
        };
        assert!(got == bytes, "{destination}: content differs");
        let down = take();
        assert_well_formed(destination, &down, total);
        // Reports come as the first body chunk past each MiB arrives: steps of a MiB and a
        // chunk at most (a chunk is well under a MiB), where per-block reports step by 8 MiB.
        let widest = std::iter::once(0)
            .chain(down.iter().copied())
            .collect::<Vec<_>>()
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap();
        assert!(
            widest <= 2 * MIB,
            "{destination}: {widest} bytes between two reports: {down:?}"
        );
    }
    emu.shutdown().await;
}
