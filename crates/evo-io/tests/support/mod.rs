//! Test support: a hyper transport, Azurite with SAS signing, generated data, and transport
//! middleware that counts, pauses or rewrites requests (the way a user's own middleware would).
#![allow(dead_code)]

pub mod hostile;

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use evo_core::{Body, SharedTransport, Transport, TransportError};
use hmac::{Hmac, Mac};
use http::{Request, Response};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use url::Url;

/// The default transport of evo-rs (evo-hyper), without proxies from the environment.
pub struct HyperTransport;

impl HyperTransport {
    pub fn shared() -> SharedTransport {
        Arc::new(
            evo_hyper::HyperTransport::builder()
                .no_proxy()
                .build()
                .unwrap(),
        )
    }
}

/// Azurite's blob service with one container, and SAS URLs for blobs in it.
pub struct AzuriteBlobs {
    pub azurite: evo_testkit::Azurite,
    pub container: String,
    _dir: tempfile::TempDir,
}

/// Signs SAS URLs for blobs of the test container (cheap to clone into callbacks).
#[derive(Debug, Clone)]
pub struct Signer {
    account_url: String,
    container: String,
}

fn hmac_b64(string_to_sign: &str) -> String {
    let key = STANDARD.decode(evo_testkit::AZURITE_KEY).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(string_to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fn sas_time(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    let dt = time::OffsetDateTime::from_unix_timestamp(secs).unwrap();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        dt.month() as u8,
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

impl AzuriteBlobs {
    pub async fn start() -> AzuriteBlobs {
        let dir = tempfile::tempdir().unwrap();
        let azurite = evo_testkit::Azurite::start(dir.path()).await;
        let blobs = AzuriteBlobs {
            azurite,
            container: "evo-io-tests".into(),
            _dir: dir,
        };
        blobs.create_container().await;
        blobs
    }

    /// `PUT ?restype=container` with Shared Key auth.
    async fn create_container(&self) {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let version = "2021-08-06";
        let account = evo_testkit::AZURITE_ACCOUNT;
        let string_to_sign = format!(
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{account}/{account}/{}\nrestype:container",
            self.container
        );
        let url = format!(
            "{}/{}?restype=container",
            self.azurite.account_url, self.container
        );
        let request = Request::put(url)
            .header("x-ms-date", &date)
            .header("x-ms-version", version)
            .header(
                "authorization",
                format!("SharedKey {account}:{}", hmac_b64(&string_to_sign)),
            )
            .header("content-length", "0")
            .body(Body::empty())
            .unwrap();
        let response = HyperTransport::shared().send(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect(1 << 20).await.unwrap();
        assert!(
            status.is_success(),
            "creating the container: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }

    pub fn signer(&self) -> Signer {
        Signer {
            account_url: self.azurite.account_url.clone(),
            container: self.container.clone(),
        }
    }

    pub fn blob_url_until(&self, blob: &str, perms: &str, expiry: SystemTime) -> Url {
        self.signer().blob_url_until(blob, perms, expiry)
    }

    /// A read/create/write SAS URL valid for an hour.
    pub fn blob_url(&self, blob: &str) -> Url {
        self.signer().blob_url(blob)
    }
}

impl Signer {
    /// A service SAS URL for one blob: permissions `perms`, valid until `expiry`.
    pub fn blob_url_until(&self, blob: &str, perms: &str, expiry: SystemTime) -> Url {
        let account = evo_testkit::AZURITE_ACCOUNT;
        let version = "2025-01-05";
        let se = sas_time(expiry);
        let resource = format!("/blob/{account}/{}/{blob}", self.container);
        let fields = [
            perms, "", &se, &resource, "", "", "", version, "b", "", "", "", "", "", "", "",
        ];
        let sig = hmac_b64(&fields.join("\n"));
        let mut url: Url = format!("{}/{}/{blob}", self.account_url, self.container)
            .parse()
            .unwrap();
        url.query_pairs_mut()
            .append_pair("sv", version)
            .append_pair("se", &se)
            .append_pair("sr", "b")
            .append_pair("sp", perms)
            .append_pair("sig", &sig);
        url
    }

    /// A read/create/write SAS URL valid for an hour.
    pub fn blob_url(&self, blob: &str) -> Url {
        self.blob_url_until(blob, "rcw", SystemTime::now() + Duration::from_secs(3600))
    }
}

/// Deterministic pseudo-random bytes (xorshift), the same for the same seed.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut out = vec![0u8; len];
    fill(&mut out, seed, 0);
    out
}

/// Fills `buf` with the generator's bytes at stream position `pos` (8-byte aligned words).
fn fill(buf: &mut [u8], seed: u64, pos: u64) {
    for (i, b) in buf.iter_mut().enumerate() {
        let p = pos + i as u64;
        let word = p / 8;
        let mut x = word.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed.wrapping_add(0x1234_5678);
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 29;
        *b = (x >> ((p % 8) * 8)) as u8;
    }
}

/// An async reader producing `len` generated bytes without holding them.
pub struct GeneratedReader {
    seed: u64,
    pos: u64,
    len: u64,
}

impl GeneratedReader {
    pub fn new(len: u64, seed: u64) -> Self {
        GeneratedReader { seed, pos: 0, len }
    }
}

impl AsyncRead for GeneratedReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = (buf.remaining() as u64)
            .min(self.len - self.pos)
            .min(256 * 1024) as usize;
        let start = buf.filled().len();
        buf.initialize_unfilled_to(n);
        let (seed, pos) = (self.seed, self.pos);
        fill(&mut buf.initialized_mut()[start..start + n], seed, pos);
        buf.advance(n);
        self.pos += n as u64;
        Poll::Ready(Ok(()))
    }
}

/// SHA-256 of the generated stream, computed in pieces.
pub fn generated_sha256(len: u64, seed: u64) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = 0;
    while pos < len {
        let n = (len - pos).min(buf.len() as u64) as usize;
        fill(&mut buf[..n], seed, pos);
        h.update(&buf[..n]);
        pos += n as u64;
    }
    h.finalize().into()
}

/// An async writer that only hashes and counts.
#[derive(Default)]
pub struct HashingWriter {
    pub hasher: Sha256,
    pub len: u64,
}

impl AsyncWrite for HashingWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.hasher.update(buf);
        self.len += buf.len() as u64;
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The peak resident memory of this process (VmHWM), in bytes.
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// A request as the middleware saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: http::Method,
    pub query: String,
    pub headers: http::HeaderMap,
    pub status: Option<u16>,
}

type Rewrite = dyn Fn(&mut Request<Body>) -> Option<Response<Body>> + Send + Sync;
type After = dyn Fn(&Seen, Response<Body>) -> Response<Body> + Send + Sync;
type Gate = dyn Fn(&Request<Body>) -> Option<Pin<Box<dyn std::future::Future<Output = ()> + Send>>>
    + Send
    + Sync;

/// Middleware over a real transport: records every request, may answer or rewrite a request
/// before it is sent (`rewrite`), may hold a request back (`gate`).
pub struct Recorder {
    inner: SharedTransport,
    pub seen: Mutex<Vec<Seen>>,
    rewrite: Option<Box<Rewrite>>,
    gate: Option<Box<Gate>>,
    after: Option<Box<After>>,
    pub sent: AtomicU64,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorder")
    }
}

impl Recorder {
    pub fn new(inner: SharedTransport) -> Self {
        Recorder {
            inner,
            seen: Mutex::new(Vec::new()),
            rewrite: None,
            gate: None,
            after: None,
            sent: AtomicU64::new(0),
        }
    }
    pub fn rewrite(
        mut self,
        f: impl Fn(&mut Request<Body>) -> Option<Response<Body>> + Send + Sync + 'static,
    ) -> Self {
        self.rewrite = Some(Box::new(f));
        self
    }
    pub fn gate(
        mut self,
        f: impl Fn(&Request<Body>) -> Option<Pin<Box<dyn std::future::Future<Output = ()> + Send>>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.gate = Some(Box::new(f));
        self
    }
    pub fn after(
        mut self,
        f: impl Fn(&Seen, Response<Body>) -> Response<Body> + Send + Sync + 'static,
    ) -> Self {
        self.after = Some(Box::new(f));
        self
    }
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    pub fn count(&self, method: &str, query_part: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method.as_str() == method && s.query.contains(query_part))
            .count()
    }
}

#[async_trait]
impl Transport for Recorder {
    async fn send(&self, mut request: Request<Body>) -> Result<Response<Body>, TransportError> {
        if let Some(gate) = &self.gate
            && let Some(wait) = gate(&request)
        {
            wait.await;
        }
        let mut seen = Seen {
            method: request.method().clone(),
            query: request.uri().query().unwrap_or("").to_owned(),
            headers: request.headers().clone(),
            status: None,
        };
        let early = self.rewrite.as_ref().and_then(|f| f(&mut request));
        let response = match early {
            Some(r) => r,
            None => {
                self.sent.fetch_add(1, Ordering::SeqCst);
                self.inner.send(request).await?
            }
        };
        seen.status = Some(response.status().as_u16());
        let response = match &self.after {
            Some(f) => f(&seen, response),
            None => response,
        };
        self.seen.lock().unwrap().push(seen);
        Ok(response)
    }
}

pub fn response(status: u16, body: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::from(body))
        .unwrap()
}

pub fn bytes_of(b: &Bytes) -> &[u8] {
    b.as_ref()
}

/// A `Put Block` request.
pub fn is_put_block(r: &http::Request<Body>) -> bool {
    r.method() == "PUT" && r.uri().query().is_some_and(|q| q.contains("comp=block&"))
}

/// A ranged `GET` other than the first-byte probe.
pub fn is_ranged_get(r: &http::Request<Body>) -> bool {
    r.method() == "GET"
        && r.headers()
            .get("range")
            .is_some_and(|v| v.to_str().unwrap() != "bytes=0-0")
}

/// A gate that lets the first `n` matching requests through and holds every later one forever.
pub fn hold_after(
    n: u64,
    matches: fn(&http::Request<Body>) -> bool,
) -> impl Fn(
    &http::Request<Body>,
) -> Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>
+ Send
+ Sync
+ 'static {
    let count = AtomicU64::new(0);
    move |r| {
        if matches(r) && count.fetch_add(1, Ordering::SeqCst) >= n {
            Some(Box::pin(std::future::pending()))
        } else {
            None
        }
    }
}

/// Polls `work` until `n` answers with `status` to requests whose query contains `part` (`""`:
/// any) were
/// seen (and a little longer, so their completion is recorded), then drops it: a killed transfer.
pub async fn kill_after<F: std::future::Future>(
    work: F,
    recorder: &Recorder,
    method: &str,
    part: &str,
    status: u16,
    n: usize,
) where
    F::Output: std::fmt::Debug,
{
    let seen_enough = async {
        while recorder
            .seen()
            .iter()
            .filter(|s| s.method == method && s.query.contains(part) && s.status == Some(status))
            .count()
            < n
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    tokio::select! {
        r = work => panic!("the transfer finished although requests were held: {r:?}"),
        _ = seen_enough => {}
    }
}

/// Azure Storage's CRC-64 computed here from its definition (reflected polynomial
/// 0x9A6C9329AC4BC9B5, the CRC inverted before and after), a byte at a time through a table:
/// independent of the crate evo-io computes it with.
pub fn azure_crc64(data: &[u8]) -> u64 {
    static TABLE: std::sync::OnceLock<[u64; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [0u64; 256];
        for (i, slot) in table.iter_mut().enumerate() {
            let mut crc = i as u64;
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0x9A6C_9329_AC4B_C9B5
                } else {
                    crc >> 1
                };
            }
            *slot = crc;
        }
        table
    });
    let mut crc = !0u64;
    for &b in data {
        crc = table[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// A CRC-64 in the form of `x-ms-content-crc64` and of the `evo_crc64` metadata: the 8
/// little-endian bytes in base64.
pub fn crc64_header(crc: u64) -> String {
    STANDARD.encode(crc.to_le_bytes())
}

/// A response header as text.
pub fn header_str<'h>(headers: &'h http::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The headers of a `HEAD` of `url`.
pub async fn head(url: &Url) -> http::HeaderMap {
    let response = HyperTransport::shared()
        .send(Request::head(url.as_str()).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "HEAD {}", url.path());
    response.headers().clone()
}

/// `body` with byte `at` XOR `mask`, as a faulty link would change it on the way; the body
/// stays a stream, read as the transport reads it.
pub fn flip_byte(body: Body, at: usize, mask: u8) -> Body {
    use futures_util::StreamExt as _;
    let len = body.len_hint();
    let mut seen = 0usize;
    let stream = body.into_stream().map(move |chunk| {
        chunk.map(|chunk| {
            let start = seen;
            seen += chunk.len();
            if (start..seen).contains(&at) {
                let mut changed = chunk.to_vec();
                changed[at - start] ^= mask;
                Bytes::from(changed)
            } else {
                chunk
            }
        })
    });
    Body::from_stream(stream, len)
}
