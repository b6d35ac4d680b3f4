//! The read timeout is an idle timeout: an upload to a server that reads slowly but steadily
//! succeeds however long the whole block takes, and one to a server that stops reading fails
//! soon after it stopped (issue 16).

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use evo_io::{BlobClient, ErrorKind, Source};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const READ_TIMEOUT: Duration = Duration::from_millis(1500);

/// A blob server on a real socket that reads request bodies at a set pace: `slice` bytes,
/// then a pause, and answers `201 Created` once the whole body arrived. With `stop_after`,
/// it stops reading after that many body bytes and holds the connection open, never
/// answering. Its receive buffer is small, so the client sends only as fast as it reads.
struct PacedServer {
    url: url::Url,
    received: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl PacedServer {
    async fn start(slice: usize, pause: Duration, stop_after: Option<u64>) -> PacedServer {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(64 * 1024).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(16).unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(AtomicU64::new(0));
        let counter = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match socket.read(&mut byte).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => head.push(byte[0]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                    let length: u64 = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    let mut buf = vec![0u8; slice];
                    let mut got = 0u64;
                    while got < length {
                        if stop_after.is_some_and(|s| got >= s) {
                            // Stalled: the connection stays open, nothing more is read.
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                        }
                        let want = (length - got).min(slice as u64) as usize;
                        match socket.read_exact(&mut buf[..want]).await {
                            Ok(_) => got += want as u64,
                            Err(_) => return,
                        }
                        counter.store(got, Ordering::Relaxed);
                        tokio::time::sleep(pause).await;
                    }
                    let _ = socket
                        .write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n")
                        .await;
                });
            }
        });
        PacedServer {
            url: format!("http://127.0.0.1:{port}/c/blob?sig=SECRET")
                .parse()
                .unwrap(),
            received,
            task,
        }
    }
}

impl Drop for PacedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One attempt per request, and the whole source in one `Put Blob`.
fn client() -> BlobClient {
    BlobClient::builder(HyperTransport::shared())
        .single_put_max(64 << 20)
        .retry(evo_core::RetryPolicy::none())
        .read_timeout(READ_TIMEOUT)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upload_that_keeps_moving_is_not_cut_off() {
    // 24 MiB at about 8 MiB/s: three seconds for the block, twice the read timeout; the
    // client's socket buffers (a few MiB) drain within a third of it once all is sent.
    let len = 24u64 << 20;
    let server = PacedServer::start(256 * 1024, Duration::from_millis(30), None).await;
    let started = Instant::now();
    let report = client()
        .upload(server.url.clone(), Source::bytes(data(len as usize, 7)))
        .await
        .expect("a slow but steady upload succeeds");
    assert_eq!(report.size, len);
    assert_eq!(server.received.load(Ordering::Relaxed), len);
    assert!(
        started.elapsed() > READ_TIMEOUT,
        "the block took longer than the read timeout: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_to_a_server_that_stops_reading_times_out() {
    let len = 24u64 << 20;
    let server = PacedServer::start(256 * 1024, Duration::from_millis(1), Some(1 << 20)).await;
    let started = Instant::now();
    let error = client()
        .upload(server.url.clone(), Source::bytes(data(len as usize, 8)))
        .await
        .expect_err("a stalled server never answers");
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(error.to_string().contains("read timeout"), "{error}");
    assert!(server.received.load(Ordering::Relaxed) < len);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the stall was noticed: {:?}",
        started.elapsed()
    );
}
