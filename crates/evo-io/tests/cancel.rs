//! Dropping a download stops it: the tasks that read its ranges' bodies stop with it, and the
//! server sees its connections go.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body as AxumBody;
use evo_io::{BlobClient, Destination};
use http::Method;
use support::hostile::{HostileServer, answer};
use support::*;

const SIZE: u64 = 64 << 20;
const RANGE: u64 = 8 << 20;

/// One body being streamed: its counter goes down when the server stops sending it (all of
/// it sent, or the client went away).
struct Streaming(Arc<AtomicUsize>);

impl Drop for Streaming {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `len` zero bytes, 16 KiB every 10 ms (an 8 MiB range takes five seconds), counted in
/// `sent`.
fn trickle(len: u64, streaming: &Arc<AtomicUsize>, sent: &Arc<AtomicU64>) -> AxumBody {
    streaming.fetch_add(1, Ordering::SeqCst);
    let guard = Streaming(streaming.clone());
    let sent = sent.clone();
    let pieces = futures_util::stream::unfold((0u64, guard), move |(done, guard)| {
        let sent = sent.clone();
        async move {
            if done >= len {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            let n = (len - done).min(16 * 1024);
            sent.fetch_add(n, Ordering::SeqCst);
            let piece = bytes::Bytes::from(vec![0u8; n as usize]);
            Some((Ok::<_, std::io::Error>(piece), (done + n, guard)))
        }
    });
    AxumBody::from_stream(pieces)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_download_stops_reading_its_ranges() {
    let streaming = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let (bodies, counted) = (streaming.clone(), sent.clone());
    let server = HostileServer::start(move |asked| {
        let etag = ("etag", "\"v1\"".to_owned());
        match (asked.method.clone(), asked.range()) {
            (Method::HEAD, _) => answer(200, &[("content-length", SIZE.to_string()), etag], ""),
            (Method::GET, Some(range)) => {
                let (first, last) = range
                    .trim_start_matches("bytes=")
                    .split_once('-')
                    .map(|(a, b)| (a.parse::<u64>().unwrap(), b.parse::<u64>().unwrap()))
                    .unwrap();
                let len = last - first + 1;
                let headers = [
                    ("content-length", len.to_string()),
                    ("content-range", format!("bytes {first}-{last}/{SIZE}")),
                    etag,
                ];
                answer(206, &headers, trickle(len, &bodies, &counted))
            }
            _ => answer(400, &[], "unexpected"),
        }
    })
    .await;
    let client = BlobClient::builder(HyperTransport::shared())
        .block_size(RANGE)
        .concurrency(2)
        .adaptive(false)
        .retry(evo_core::RetryPolicy::none())
        .build();
    for destination in ["memory", "file"] {
        let dir = tempfile::tempdir().unwrap();
        let target = match destination {
            "memory" => Destination::memory(),
            _ => Destination::file(dir.path().join("blob.bin")),
        };
        let download = client.download(server.url.clone(), target).into_future();
        let before = sent.load(Ordering::SeqCst);
        // Dropped half a second in, a few hundred KiB into its first two ranges.
        let cut = tokio::time::timeout(Duration::from_millis(500), download).await;
        assert!(
            cut.is_err(),
            "{destination}: the download cannot have finished"
        );
        assert!(
            sent.load(Ordering::SeqCst) > before,
            "{destination}: the ranges were being read"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while streaming.load(Ordering::SeqCst) > 0 {
            assert!(
                Instant::now() < deadline,
                "{destination}: {} range bodies still being read 5 s after the download was dropped",
                streaming.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let stopped = sent.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            sent.load(Ordering::SeqCst),
            stopped,
            "{destination}: nothing more is sent"
        );
    }
}
