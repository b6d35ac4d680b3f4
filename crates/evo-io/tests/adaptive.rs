//! Adaptive concurrency against the emulator's WAN profile: with a bandwidth cap per
//! connection (and room on loopback for many), more blocks in flight move more bytes, so a
//! transfer raises its limit; it never passes `max_concurrency` nor the blocks its memory
//! budget holds. The assertions are on the controller's decisions and on the requests in
//! flight a transport counted, not on wall time. A server that answers fast is near: a
//! transfer left at the default concurrency starts lower there.

use crate::support::*;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use evo_core::{Body, SharedTransport, Transport, TransportError};
use evo_emulator::{BlobStorage, Emulator, WanProfile};
use evo_io::{
    BlobClient, ConcurrencyReport, DEFAULT_CONCURRENCY, Destination, NEAR_CONCURRENCY, Source,
};
use futures_util::StreamExt as _;
use http::{Request, Response};

const BLOCK: u64 = 128 * 1024;
/// 32 blocks: enough completed blocks for the limit to double twice and be measured.
const LEN: usize = 32 * BLOCK as usize;
/// Each connection moves 1 MiB/s each way: a block takes about 125 ms on one connection.
const CAP: u64 = 1 << 20;

/// Counts the block requests (`Put Block`, ranged `GET`) in flight, and the most at once. A
/// request is in flight until its answer's body is read or dropped.
#[derive(Debug)]
struct InFlight {
    inner: SharedTransport,
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl InFlight {
    fn new() -> Arc<Self> {
        Arc::new(InFlight {
            inner: HyperTransport::shared(),
            now: Arc::default(),
            peak: Arc::default(),
        })
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    fn reset(&self) {
        self.peak.store(0, Ordering::SeqCst);
    }
}

/// Leaves the count when dropped.
struct Leave(Arc<AtomicUsize>);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl Transport for InFlight {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        if !(is_put_block(&request) || is_ranged_get(&request)) {
            return self.inner.send(request).await;
        }
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let leave = Leave(self.now.clone());
        let response = self.inner.send(request).await?;
        let (parts, body) = response.into_parts();
        let len = body.len_hint();
        // The body stream keeps the request in flight until it is read or dropped.
        let body = body.into_stream().map(move |chunk| {
            let _in_flight = &leave;
            chunk
        });
        Ok(Response::from_parts(parts, Body::from_stream(body, len)))
    }
}

async fn capped_emulator() -> Emulator {
    Emulator::builder()
        .blob_storage(BlobStorage::Memory)
        .wan_profile(WanProfile::new().bandwidth_per_connection(Some(CAP)))
        .start()
        .await
        .unwrap()
}

fn client(transport: Arc<InFlight>) -> evo_io::BlobClientBuilder {
    BlobClient::builder(transport)
        .block_size(BLOCK)
        .single_put_max(0)
        .concurrency(2)
        .max_concurrency(8)
}

/// The limit rose from the start, and neither the gate nor the transport saw more blocks in
/// flight than the ceiling, which is `max_concurrency` or what the budget holds.
fn assert_adapted(what: &str, c: &ConcurrencyReport, seen: usize, ceiling: usize) {
    eprintln!("{what}: {c:?}, {seen} requests in flight at most");
    assert!(c.adaptive, "{what}");
    assert_eq!((c.start, c.ceiling), (2, ceiling), "{what}");
    assert!(c.limit > c.start, "{what}: the limit never rose: {c:?}");
    assert!(c.peak_in_flight > c.start, "{what}: {c:?}");
    assert!(c.changes >= 1 && c.peak_limit <= ceiling, "{what}: {c:?}");
    assert!(c.peak_in_flight <= ceiling, "{what}: {c:?}");
    assert!(seen <= ceiling, "{what}: {seen} requests in flight");
    assert!(c.best_rate.is_some(), "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_per_connection_raises_the_blocks_in_flight_up_to_max_concurrency() {
    let emu = capped_emulator().await;
    let url = emu.blob_url("evo-io", "adaptive", "rcw");
    let bytes = data(LEN, 31);
    let transport = InFlight::new();
    // The default budget (80 MiB) holds far more than 8 blocks of 128 KiB: max_concurrency
    // is the ceiling.
    let c = client(transport.clone()).build();
    let up = c
        .upload(url.clone(), Source::bytes(bytes.clone()))
        .await
        .unwrap();
    assert_eq!((up.block_size, up.blocks), (BLOCK, 32));
    assert_adapted("upload", &up.concurrency, transport.peak(), 8);

    transport.reset();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("adaptive.bin");
    let down = c.download(url, Destination::file(&target)).await.unwrap();
    assert!(std::fs::read(&target).unwrap() == bytes, "file differs");
    assert_adapted("file download", &down.concurrency, transport.peak(), 8);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_budget_bounds_the_blocks_in_flight_as_the_limit_rises() {
    let emu = capped_emulator().await;
    let url = emu.blob_url("evo-io", "budgeted", "rcw");
    let bytes = data(LEN, 32);
    let transport = InFlight::new();
    // 5 blocks of 128 KiB fit in the budget: the ceiling is 5, not max_concurrency's 8.
    let budget = 5 * BLOCK + BLOCK / 2;
    let c = client(transport.clone()).memory_budget(budget).build();
    let up = c
        .upload(url.clone(), Source::reader(&bytes[..], Some(LEN as u64)))
        .await
        .unwrap();
    assert_adapted("streamed upload", &up.concurrency, transport.peak(), 5);
    assert!(up.concurrency.peak_in_flight as u64 * BLOCK <= budget);

    // In order into a writer: ranges waiting for the ones before them hold their places too.
    transport.reset();
    let mut out = HashingWriter::default();
    let down = c
        .download(url, Destination::writer(&mut out))
        .await
        .unwrap();
    assert_eq!(out.len, LEN as u64);
    assert_adapted("writer download", &down.concurrency, transport.peak(), 5);
    assert!(down.concurrency.peak_in_flight as u64 * BLOCK <= budget);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_adaptation_the_configured_concurrency_is_kept() {
    let emu = capped_emulator().await;
    let url = emu.blob_url("evo-io", "fixed", "rcw");
    let transport = InFlight::new();
    let c = client(transport.clone()).adaptive(false).build();
    let up = c
        .upload(url, Source::bytes(data(LEN / 2, 33)))
        .await
        .unwrap();
    let report = &up.concurrency;
    assert!(!report.adaptive);
    assert_eq!(
        (report.start, report.ceiling, report.limit, report.changes),
        (2, 2, 2, 0)
    );
    assert!(
        report.peak_in_flight <= 2 && transport.peak() <= 2,
        "{report:?}"
    );
    emu.shutdown().await;
}

/// An emulator whose every request waits `latency` before it is handled.
async fn emulator_with_latency(latency: std::time::Duration) -> Emulator {
    Emulator::builder()
        .blob_storage(BlobStorage::Memory)
        .wan_profile(WanProfile::new().latency(latency))
        .start()
        .await
        .unwrap()
}

/// Uploads a file (its block listing is the first answer) and downloads it to a file (its
/// probe is), with a client of small blocks that `configure` may change further; returns the
/// two starting levels.
async fn default_starts(
    emu: &Emulator,
    name: &str,
    configure: fn(evo_io::BlobClientBuilder) -> evo_io::BlobClientBuilder,
) -> (usize, usize) {
    let url = emu.blob_url("evo-io", name, "rcw");
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("up.bin"), dir.path().join("down.bin"));
    let bytes = data(LEN, 34);
    std::fs::write(&source, &bytes).unwrap();
    let c = configure(
        BlobClient::builder(HyperTransport::shared())
            .block_size(BLOCK)
            .single_put_max(0),
    )
    .build();
    let up = c.upload(url.clone(), Source::file(&source)).await.unwrap();
    let down = c.download(url, Destination::file(&target)).await.unwrap();
    assert!(std::fs::read(&target).unwrap() == bytes, "file differs");
    eprintln!(
        "{name}: upload {:?}, download {:?}",
        up.concurrency, down.concurrency
    );
    (up.concurrency.start, down.concurrency.start)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_near_server_lowers_the_default_start() {
    let emu = emulator_with_latency(std::time::Duration::ZERO).await;
    // Loopback answers within NEAR_ROUND_TRIP; a loaded machine can delay one answer past it,
    // so one of three tries must see the server as near.
    let mut seen = Vec::new();
    for attempt in 0..3 {
        let starts = default_starts(&emu, &format!("near-{attempt}"), |b| b).await;
        seen.push(starts);
        if starts == (NEAR_CONCURRENCY, NEAR_CONCURRENCY) {
            break;
        }
    }
    assert!(
        seen.contains(&(NEAR_CONCURRENCY, NEAR_CONCURRENCY)),
        "starts seen: {seen:?}"
    );
    // A start the caller chose is kept, near or not.
    let chosen = default_starts(&emu, "chosen", |b| b.concurrency(DEFAULT_CONCURRENCY)).await;
    assert_eq!(chosen, (DEFAULT_CONCURRENCY, DEFAULT_CONCURRENCY));
    // Bytes uploaded without resuming send nothing before their blocks: nothing is measured,
    // so the default start holds.
    let url = emu.blob_url("evo-io", "unmeasured", "rcw");
    let c = BlobClient::builder(HyperTransport::shared())
        .block_size(BLOCK)
        .single_put_max(0)
        .build();
    let up = c.upload(url, Source::bytes(data(LEN, 35))).await.unwrap();
    assert_eq!(up.concurrency.start, DEFAULT_CONCURRENCY);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_far_server_keeps_the_default_start() {
    // Every answer takes at least 20 ms, twice NEAR_ROUND_TRIP.
    let emu = emulator_with_latency(2 * evo_io::NEAR_ROUND_TRIP).await;
    let starts = default_starts(&emu, "far", |b| b).await;
    assert_eq!(starts, (DEFAULT_CONCURRENCY, DEFAULT_CONCURRENCY));
    emu.shutdown().await;
}
