//! The suite's own HTTP/1.1 server, on plain tokio sockets (it shares no code with any
//! client): one route per check.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::stream::{STREAM_CHUNK, STREAM_CHUNKS, STREAM_WAIT, chunk, fnv};

/// What the server shares with the checks: hits counted, and the signals of the streaming
/// checks.
#[derive(Default)]
pub(super) struct ServerState {
    pub(super) target_hits: AtomicUsize,
    pub(super) upload_first_chunk: Notify,
    pub(super) download_client_got_data: Notify,
}

pub(super) struct Server {
    port: u16,
    pub(super) state: Arc<ServerState>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub(super) async fn start() -> std::io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(ServerState::default());
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    // A failed connection only fails the check that made it.
                    let _ = serve(stream, state).await;
                });
            }
        });
        Ok(Server { port, state, task })
    }
    pub(super) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
    pub(super) fn stop(self) {
        self.task.abort();
    }
}

struct Head {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Reader = BufReader<tokio::net::tcp::OwnedReadHalf>;

async fn read_line(reader: &mut Reader) -> std::io::Result<String> {
    let mut line = Vec::new();
    loop {
        let byte = reader.read_u8().await?;
        if byte == b'\n' {
            break;
        }
        line.push(byte);
        if line.len() > 64 * 1024 {
            return Err(std::io::Error::other("line too long"));
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(std::io::Error::other)
}

async fn read_head(reader: &mut Reader) -> std::io::Result<Head> {
    let request_line = read_line(reader).await?;
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader).await?;
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    Ok(Head {
        method,
        target,
        headers,
    })
}

/// Reads a request body incrementally (Content-Length or chunked).
struct BodyReader {
    remaining: Option<u64>,
    chunked: bool,
    chunk_left: u64,
    done: bool,
}

impl BodyReader {
    fn new(head: &Head) -> BodyReader {
        let chunked = head
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let length = head.header("content-length").and_then(|v| v.parse().ok());
        BodyReader {
            remaining: if chunked {
                None
            } else {
                Some(length.unwrap_or(0))
            },
            chunked,
            chunk_left: 0,
            done: false,
        }
    }

    async fn next(&mut self, reader: &mut Reader) -> std::io::Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        if !self.chunked {
            let remaining = self.remaining.unwrap_or(0);
            if remaining == 0 {
                self.done = true;
                return Ok(None);
            }
            let mut buf = vec![0u8; remaining.min(64 * 1024) as usize];
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            buf.truncate(n);
            self.remaining = Some(remaining - n as u64);
            return Ok(Some(buf));
        }
        if self.chunk_left == 0 {
            let line = read_line(reader).await?;
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = u64::from_str_radix(size, 16).map_err(std::io::Error::other)?;
            if size == 0 {
                while !read_line(reader).await?.is_empty() {}
                self.done = true;
                return Ok(None);
            }
            self.chunk_left = size;
        }
        let mut buf = vec![0u8; self.chunk_left.min(64 * 1024) as usize];
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.truncate(n);
        self.chunk_left -= n as u64;
        if self.chunk_left == 0 {
            read_line(reader).await?;
        }
        Ok(Some(buf))
    }
}

async fn respond(
    writer: &mut tokio::net::tcp::OwnedWriteHalf,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {status} Conformance\r\nconnection: close\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    let no_body = status == 204 || status == 304 || (100..200).contains(&status);
    if !no_body {
        out.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    writer.write_all(out.as_bytes()).await?;
    if !no_body && !head_only {
        writer.write_all(body).await?;
    }
    writer.flush().await?;
    writer.shutdown().await
}

async fn serve(stream: TcpStream, state: Arc<ServerState>) -> std::io::Result<()> {
    let (read, mut writer) = stream.into_split();
    let mut reader = BufReader::new(read);
    let head = read_head(&mut reader).await?;
    let mut body = BodyReader::new(&head);
    let head_only = head.method == "HEAD";
    let path = head.target.split('?').next().unwrap_or_default().to_owned();
    if let Some(code) = path.strip_prefix("/status/") {
        while body.next(&mut reader).await?.is_some() {}
        let code: u16 = code.parse().unwrap_or(400);
        let text = format!("status {code}");
        return respond(&mut writer, code, &[], text.as_bytes(), head_only).await;
    }
    if let Some(code) = path.strip_prefix("/redirect/") {
        let code: u16 = code.parse().unwrap_or(302);
        return respond(
            &mut writer,
            code,
            &[("location", "/target")],
            b"redirecting",
            head_only,
        )
        .await;
    }
    match path.as_str() {
        "/target" => {
            state.target_hits.fetch_add(1, Ordering::SeqCst);
            respond(&mut writer, 200, &[], b"target", head_only).await
        }
        "/echo" => {
            let mut count = 0usize;
            let mut hash = 0u64;
            while let Some(data) = body.next(&mut reader).await? {
                count += data.len();
                hash = fnv(hash, &data);
            }
            let mut text = format!(
                "method: {}\ntarget: {}\nreceived: {count} {hash:016x}\n",
                head.method, head.target
            );
            for (name, value) in &head.headers {
                text.push_str(&format!("{name}: {value}\n"));
            }
            respond(&mut writer, 200, &[], text.as_bytes(), head_only).await
        }
        "/headers-out" => {
            respond(
                &mut writer,
                200,
                &[
                    ("x-multi", "a"),
                    ("x-multi", "b"),
                    ("x-conf-case", "MiXeD Value"),
                ],
                b"",
                head_only,
            )
            .await
        }
        "/upload-stream" => {
            let mut count = 0usize;
            let mut hash = 0u64;
            let mut signalled = false;
            while let Some(data) = body.next(&mut reader).await? {
                count += data.len();
                hash = fnv(hash, &data);
                if !signalled && count >= STREAM_CHUNK {
                    signalled = true;
                    state.upload_first_chunk.notify_one();
                }
            }
            let text = format!("received: {count} {hash:016x}");
            respond(&mut writer, 200, &[], text.as_bytes(), head_only).await
        }
        "/download-stream" => {
            let head = "HTTP/1.1 200 OK\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n";
            writer.write_all(head.as_bytes()).await?;
            for i in 0..STREAM_CHUNKS {
                let data = chunk(i);
                writer
                    .write_all(format!("{:x}\r\n", data.len()).as_bytes())
                    .await?;
                writer.write_all(&data).await?;
                writer.write_all(b"\r\n").await?;
                writer.flush().await?;
                if i == 0
                    && tokio::time::timeout(STREAM_WAIT, state.download_client_got_data.notified())
                        .await
                        .is_err()
                {
                    // The client never saw the first chunk: cut the response short so a
                    // buffering transport fails instead of passing slowly.
                    return Ok(());
                }
            }
            writer.write_all(b"0\r\n\r\n").await?;
            writer.flush().await?;
            writer.shutdown().await
        }
        _ => respond(&mut writer, 404, &[], b"no such route", head_only).await,
    }
}
