//! A 2 GiB body streams up and down through ApiConnector + HyperTransport with flat memory.
//! (Its own test binary, so no other test's allocations count towards the peak.)

use crate::common;

use bytes::Bytes;
use common::{TestServer, connector, text};
use evo_core::Body;
use futures_util::StreamExt;
use http::{Method, Response};
use http_body_util::BodyExt;

const TOTAL: u64 = 2 * 1024 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;

/// The process's peak resident set size (VmHWM) in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a number of kB");
    kib * 1024
}

/// `TOTAL` bytes as `CHUNK`-sized chunks whose content depends on the position.
fn generated() -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let count = TOTAL / CHUNK as u64;
    futures_util::stream::iter(0..count).map(|i| Ok(Bytes::from(vec![(i % 251) as u8; CHUNK])))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gib_stream_up_and_down_with_flat_memory() {
    let server = TestServer::start(|req| async move {
        if req.method() == Method::PUT {
            // Count the upload frame by frame, checking every byte's position-derived value.
            let mut body = req.into_body();
            let mut count = 0u64;
            let mut wrong = 0u64;
            while let Some(frame) = body.frame().await {
                let Ok(data) = frame.map(|f| f.into_data()) else {
                    return text(500, "upload failed");
                };
                let Ok(data) = data else { continue };
                for (k, b) in data.iter().enumerate() {
                    let pos = count + k as u64;
                    if *b != ((pos / CHUNK as u64) % 251) as u8 {
                        wrong += 1;
                    }
                }
                count += data.len() as u64;
            }
            text(200, format!("{count} {wrong}"))
        } else {
            Response::new(Body::from_stream(generated(), Some(TOTAL)))
        }
    })
    .await;
    let c = connector(server.url("/"));
    let before = peak_rss();

    let answer = c
        .request(Method::PUT, "/blob")
        .body(
            Body::from_stream(generated(), Some(TOTAL)),
            Some("application/octet-stream"),
        )
        .send_bytes()
        .await
        .unwrap();
    assert_eq!(answer, format!("{TOTAL} 0"));

    let response = c.request(Method::GET, "/blob").send().await.unwrap();
    assert_eq!(
        response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok()),
        Some(TOTAL.to_string().as_str())
    );
    let mut stream = response.into_body().into_stream();
    let mut count = 0u64;
    let mut wrong = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        // Sample the content (checking every byte of 2 GiB at opt-level 1 is slow).
        for (k, b) in chunk.iter().enumerate().step_by(4096) {
            let pos = count + k as u64;
            if *b != ((pos / CHUNK as u64) % 251) as u8 {
                wrong += 1;
            }
        }
        count += chunk.len() as u64;
    }
    assert_eq!(count, TOTAL);
    assert_eq!(wrong, 0);

    let growth = peak_rss().saturating_sub(before);
    println!(
        "peak RSS before: {} MiB, growth: {} MiB",
        before / (1024 * 1024),
        growth / (1024 * 1024)
    );
    assert!(
        growth < 200 * 1024 * 1024,
        "peak RSS grew by {} MiB while streaming 2 GiB each way",
        growth / (1024 * 1024)
    );
}
