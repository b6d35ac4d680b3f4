//! A conformance suite for [`Transport`] implementations.
//!
//! [`run`] starts a small HTTP/1.1 server on `127.0.0.1` (an ephemeral port, written here on
//! plain tokio sockets so it shares no code with any client) and checks that the transport:
//! returns statuses as they are, does not follow redirects, keeps request and response headers
//! (repeated ones included), sends the query string unchanged, sends in-memory bodies with
//! their length, streams request and response bodies (each side waits for the other's first
//! chunk, so a transport that buffers a whole body fails), returns HEAD responses without a
//! body, and reports a refused connection as [`TransportErrorKind::Connect`] with
//! `request_sent() == false`.
//!
//! ```no_run
//! # async fn demo(transport: std::sync::Arc<dyn evo_core::Transport>) {
//! let report = evo_core::test_util::conformance::run(transport).await;
//! report.assert_passed();
//! # }
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderValue, Method, Request, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::body::Body;
use crate::error::TransportErrorKind;
use crate::transport::Transport;

/// How long one check may take.
const CHECK_LIMIT: Duration = Duration::from_secs(30);
/// How long one side of a streaming check waits for the other's first chunk.
const STREAM_WAIT: Duration = Duration::from_secs(10);
/// The size of the streamed bodies (4 MiB in 64 KiB chunks).
const STREAM_CHUNK: usize = 64 * 1024;
const STREAM_CHUNKS: usize = 64;

/// The outcome of one check.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The check's name.
    pub name: &'static str,
    /// `Err` with what went wrong.
    pub outcome: Result<(), String>,
}

/// The outcome of every check of [`run`].
#[derive(Debug, Clone)]
pub struct ConformanceReport {
    /// One entry per check, in the order run.
    pub results: Vec<CheckResult>,
}

impl ConformanceReport {
    /// True when every check passed.
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.outcome.is_ok())
    }
    /// The failed checks.
    pub fn failures(&self) -> Vec<&CheckResult> {
        self.results.iter().filter(|r| r.outcome.is_err()).collect()
    }
    /// Panics with the list of failed checks unless all passed.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "transport conformance failed:\n{self}");
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.results {
            match &r.outcome {
                Ok(()) => writeln!(f, "ok    {}", r.name)?,
                Err(e) => writeln!(f, "FAIL  {}: {e}", r.name)?,
            }
        }
        Ok(())
    }
}

/// Runs every check against `transport` and reports each outcome. Needs a tokio runtime.
pub async fn run(transport: Arc<dyn Transport>) -> ConformanceReport {
    let mut results = Vec::new();
    let server = match Server::start().await {
        Ok(s) => s,
        Err(e) => {
            results.push(CheckResult {
                name: "start the local server",
                outcome: Err(e.to_string()),
            });
            return ConformanceReport { results };
        }
    };
    macro_rules! check {
        ($name:literal, $f:ident) => {{
            let outcome = match tokio::time::timeout(CHECK_LIMIT, $f(&*transport, &server)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("did not finish within {CHECK_LIMIT:?}")),
            };
            results.push(CheckResult {
                name: $name,
                outcome,
            });
        }};
    }
    check!("statuses are returned unchanged", statuses);
    check!("redirects are returned, not followed", redirects);
    check!("request headers are preserved", request_headers);
    check!("response headers are preserved", response_headers);
    check!("the query string is sent unchanged", query_string);
    check!("in-memory request bodies are sent whole", in_memory_body);
    check!("request bodies are streamed", request_streaming);
    check!("response bodies are streamed", response_streaming);
    check!("HEAD responses have no body", head_has_no_body);
    check!(
        "a refused connection is a Connect error, not sent",
        connect_refused
    );
    server.stop();
    ConformanceReport { results }
}

type CheckOutcome = Result<(), String>;

fn request(method: Method, url: String, body: Body) -> Result<Request<Body>, String> {
    Request::builder()
        .method(method)
        .uri(url)
        .body(body)
        .map_err(|e| format!("cannot build the request: {e}"))
}

async fn send(
    transport: &dyn Transport,
    request: Request<Body>,
) -> Result<http::Response<Body>, String> {
    transport
        .send(request)
        .await
        .map_err(|e| format!("the transport failed: {e}"))
}

async fn text(body: Body) -> Result<String, String> {
    let bytes = body
        .collect(64 * 1024 * 1024)
        .await
        .map_err(|e| format!("reading the response body failed: {e}"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

async fn statuses(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    for code in [
        200u16, 201, 202, 204, 304, 400, 401, 403, 404, 409, 410, 429, 500, 502, 503,
    ] {
        let url = server.url(&format!("/status/{code}"));
        let response = send(transport, request(Method::GET, url, Body::empty())?).await?;
        if response.status().as_u16() != code {
            return Err(format!("/status/{code} came back as {}", response.status()));
        }
        let _ = text(response.into_body()).await?;
    }
    Ok(())
}

async fn redirects(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let before = server.state.target_hits.load(Ordering::SeqCst);
    for code in [301u16, 302, 303, 307, 308] {
        let url = server.url(&format!("/redirect/{code}"));
        let response = send(transport, request(Method::GET, url, Body::empty())?).await?;
        if response.status().as_u16() != code {
            return Err(format!(
                "expected the {code} itself, got {}",
                response.status()
            ));
        }
        if response
            .headers()
            .get("location")
            .map(HeaderValue::as_bytes)
            != Some(b"/target")
        {
            return Err(format!("the Location header of the {code} was not kept"));
        }
        let body = text(response.into_body()).await?;
        if body != "redirecting" {
            return Err(format!("the body of the {code} was {body:?}"));
        }
    }
    let after = server.state.target_hits.load(Ordering::SeqCst);
    if after != before {
        return Err("the redirect target was requested: redirects were followed".into());
    }
    Ok(())
}

async fn request_headers(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let mut req = request(Method::GET, server.url("/echo"), Body::empty())?;
    let headers = req.headers_mut();
    headers.insert("x-conf-single", HeaderValue::from_static("one"));
    headers.append("x-conf-multi", HeaderValue::from_static("a"));
    headers.append("x-conf-multi", HeaderValue::from_static("b"));
    headers.insert("x-conf-case", HeaderValue::from_static("MiXeD Value; q=1"));
    let response = send(transport, req).await?;
    let echo = text(response.into_body()).await?;
    for expected in ["x-conf-single: one", "x-conf-case: MiXeD Value; q=1"] {
        if !echo.lines().any(|l| l.eq_ignore_ascii_case(expected)) {
            return Err(format!(
                "the server did not see {expected:?}; it saw:\n{echo}"
            ));
        }
    }
    let multi: Vec<&str> = echo
        .lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(": ")?;
            name.eq_ignore_ascii_case("x-conf-multi").then_some(value)
        })
        .flat_map(|v| v.split(',').map(str::trim))
        .collect();
    if multi != ["a", "b"] {
        return Err(format!(
            "x-conf-multi arrived as {multi:?}, expected [\"a\", \"b\"]"
        ));
    }
    Ok(())
}

async fn response_headers(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let response = send(
        transport,
        request(Method::GET, server.url("/headers-out"), Body::empty())?,
    )
    .await?;
    let multi: Vec<&[u8]> = response
        .headers()
        .get_all("x-multi")
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if multi != [b"a".as_slice(), b"b".as_slice()] {
        return Err(format!("x-multi came back as {multi:?}"));
    }
    let case = response
        .headers()
        .get("x-conf-case")
        .map(HeaderValue::as_bytes);
    if case != Some(b"MiXeD Value") {
        return Err(format!("x-conf-case came back as {case:?}"));
    }
    Ok(())
}

async fn query_string(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let query = "a=1&b=x%20y&c=%7C&c=2&d=a%2Cb&e=";
    let response = send(
        transport,
        request(
            Method::GET,
            server.url(&format!("/echo?{query}")),
            Body::empty(),
        )?,
    )
    .await?;
    let echo = text(response.into_body()).await?;
    let expected = format!("target: /echo?{query}");
    if !echo.lines().any(|l| l == expected) {
        return Err(format!("expected {expected:?}, the server saw:\n{echo}"));
    }
    Ok(())
}

async fn in_memory_body(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let data: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
    let expected = format!("received: {} {:016x}", data.len(), fnv(0, &data));
    let response = send(
        transport,
        request(Method::PUT, server.url("/echo"), Body::from(data.clone()))?,
    )
    .await?;
    let echo = text(response.into_body()).await?;
    if !echo.lines().any(|l| l == expected) {
        return Err(format!("expected {expected:?}, the server saw:\n{echo}"));
    }
    if !echo.lines().any(|l| l == "method: PUT") {
        return Err(format!("the method was not PUT:\n{echo}"));
    }
    if !echo
        .lines()
        .any(|l| l.eq_ignore_ascii_case(&format!("content-length: {}", data.len())))
    {
        return Err(format!(
            "no Content-Length {} was sent:\n{echo}",
            data.len()
        ));
    }
    Ok(())
}

fn chunk(i: usize) -> Bytes {
    Bytes::from(vec![(i % 256) as u8; STREAM_CHUNK])
}

fn expected_stream_hash() -> u64 {
    (0..STREAM_CHUNKS).fold(0, |h, i| fnv(h, &chunk(i)))
}

async fn request_streaming(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let state = server.state.clone();
    // The body yields its first chunk, then waits until the server has received it: a
    // transport that reads the whole body before sending would wait forever.
    let stream = futures_util::stream::unfold(0usize, move |i| {
        let state = state.clone();
        async move {
            if i == STREAM_CHUNKS {
                return None;
            }
            if i == 1
                && tokio::time::timeout(STREAM_WAIT, state.upload_first_chunk.notified())
                    .await
                    .is_err()
            {
                let e = std::io::Error::other("the server never saw the first chunk");
                return Some((Err(e), STREAM_CHUNKS));
            }
            Some((Ok(chunk(i)), i + 1))
        }
    });
    let body = Body::from_stream(stream, None);
    let response = send(
        transport,
        request(Method::POST, server.url("/upload-stream"), body)?,
    )
    .await?;
    let echo = text(response.into_body()).await?;
    let expected = format!(
        "received: {} {:016x}",
        STREAM_CHUNK * STREAM_CHUNKS,
        expected_stream_hash()
    );
    if echo.trim() != expected {
        return Err(format!(
            "expected {expected:?}, the server answered {echo:?}"
        ));
    }
    Ok(())
}

async fn response_streaming(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let response = send(
        transport,
        request(Method::GET, server.url("/download-stream"), Body::empty())?,
    )
    .await?;
    if response.status() != StatusCode::OK {
        return Err(format!("status {}", response.status()));
    }
    let mut stream = response.into_body().into_stream();
    let mut total = 0usize;
    let mut hash = 0u64;
    let mut signalled = false;
    while let Some(item) = stream.next().await {
        let bytes = item.map_err(|e| {
            format!(
                "the body failed after {total} bytes (was it buffered before being returned?): {e}"
            )
        })?;
        total += bytes.len();
        hash = fnv(hash, &bytes);
        if !signalled && total > 0 {
            signalled = true;
            server.state.download_client_got_data.notify_one();
        }
    }
    let expected_len = STREAM_CHUNK * STREAM_CHUNKS;
    if total != expected_len || hash != expected_stream_hash() {
        return Err(format!(
            "received {total} bytes (expected {expected_len}) or wrong content"
        ));
    }
    Ok(())
}

async fn head_has_no_body(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let response = send(
        transport,
        request(Method::HEAD, server.url("/status/200"), Body::empty())?,
    )
    .await?;
    if response.status() != StatusCode::OK {
        return Err(format!("status {}", response.status()));
    }
    let body = text(response.into_body()).await?;
    if !body.is_empty() {
        return Err(format!("a HEAD response had a body: {body:?}"));
    }
    Ok(())
}

async fn connect_refused(transport: &dyn Transport, _server: &Server) -> CheckOutcome {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot reserve a port: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("cannot read the port: {e}"))?
        .port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/nothing-listens-here");
    match transport
        .send(request(Method::POST, url, Body::from("payload"))?)
        .await
    {
        Ok(r) => Err(format!("a closed port answered {}", r.status())),
        Err(e) if e.kind() != TransportErrorKind::Connect => {
            Err(format!("expected a Connect error, got {:?}: {e}", e.kind()))
        }
        Err(e) if e.request_sent() => {
            Err(format!("a refused connection was reported as sent: {e}"))
        }
        Err(_) => Ok(()),
    }
}

/// FNV-1a, continuing from `hash` (0 starts a new one).
fn fnv(hash: u64, data: &[u8]) -> u64 {
    let mut h = if hash == 0 {
        0xcbf2_9ce4_8422_2325
    } else {
        hash
    };
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[derive(Default)]
struct ServerState {
    target_hits: AtomicUsize,
    upload_first_chunk: Notify,
    download_client_got_data: Notify,
}

struct Server {
    port: u16,
    state: Arc<ServerState>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start() -> std::io::Result<Server> {
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
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
    fn stop(self) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{MockResponse, MockTransport};

    #[tokio::test]
    async fn a_mock_that_ignores_the_server_fails_the_suite() {
        // The suite must be able to fail: a transport that always answers 200 with an empty
        // body fails most checks.
        let mock = MockTransport::new();
        mock.on_always(Method::GET, "/status/404", MockResponse::new(200));
        let report = run(Arc::new(mock)).await;
        assert!(!report.passed(), "{report}");
        assert!(report.failures().len() >= 5, "{report}");
    }
}
