//! The connection stack: TCP (direct or through an HTTP proxy) → TLS (hyper-rustls) → connect
//! timeout, with failures classified for [`evo_core::TransportErrorKind`].

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use evo_core::TransportErrorKind;
use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

tokio::task_local! {
    /// The connect timeout asked for by the request being sent (`Some(None)`: no timeout),
    /// set by `HyperTransport::send` around the client call. The pooled client creates the
    /// connect future inside that call, so the connector can read it.
    pub(crate) static REQUEST_CONNECT_TIMEOUT: Option<Duration>;
}

/// A connection failure with its category, the error type of the connector stack.
#[derive(Debug)]
pub(crate) struct ConnectFailure {
    pub(crate) kind: TransportErrorKind,
    pub(crate) message: String,
    source: Option<BoxError>,
}

impl ConnectFailure {
    fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        ConnectFailure {
            kind,
            message: message.into(),
            source: None,
        }
    }
    fn with_source(mut self, source: BoxError) -> Self {
        self.source = Some(source);
        self
    }

    /// Classifies whatever the inner connectors returned.
    fn classify(error: BoxError, dst: &Uri) -> ConnectFailure {
        let error = match error.downcast::<ConnectFailure>() {
            Ok(failure) => return *failure,
            Err(other) => other,
        };
        let mut kind = TransportErrorKind::Connect;
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
        while let Some(e) = current {
            if e.downcast_ref::<rustls::Error>().is_some() {
                kind = TransportErrorKind::Tls;
                break;
            }
            current = match e.downcast_ref::<io::Error>() {
                Some(io) => {
                    if io.kind() == io::ErrorKind::TimedOut {
                        kind = TransportErrorKind::Timeout;
                    }
                    // An I/O error's `source()` skips the error it wraps: step into it.
                    match io.get_ref() {
                        Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                        None => e.source(),
                    }
                }
                None => e.source(),
            };
        }
        let what = match kind {
            TransportErrorKind::Tls => "TLS handshake with",
            _ => "connecting to",
        };
        ConnectFailure::new(
            kind,
            format!("{what} {} failed: {}", host_port(dst), chain(&*error)),
        )
        .with_source(error)
    }
}

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// An error and its sources joined with `: `.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(e) = current {
        let next = e.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        current = e.source();
    }
    text
}

fn host_port(uri: &Uri) -> String {
    let host = uri.host().unwrap_or("<no host>");
    match uri.port_u16() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// A TCP connection, directly to the server or to a proxy.
pub(crate) struct TcpConnection {
    io: TokioIo<TcpStream>,
    /// True when this is a plain-HTTP forward proxy connection (requests use absolute form).
    forward_proxied: bool,
}

impl Connection for TcpConnection {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forward_proxied)
    }
}

impl Read for TcpConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for TcpConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

/// Opens TCP connections, through the proxy the environment names for the destination:
/// plain-HTTP destinations are forwarded (absolute-form requests), HTTPS destinations are
/// tunnelled with `CONNECT` (TLS then runs end to end through the tunnel).
#[derive(Clone)]
pub(crate) struct TcpConnector {
    pub(crate) http: HttpConnector,
    pub(crate) proxy: Option<Arc<Matcher>>,
}

impl Service<Uri> for TcpConnector {
    type Response = TcpConnection;
    type Error = BoxError;
    type Future = BoxFuture<Result<TcpConnection, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut http = self.http.clone();
        let intercept = proxy_for(self.proxy.as_deref(), &dst);
        Box::pin(async move {
            let Some(intercept) = intercept else {
                let io = http
                    .call(dst)
                    .await
                    .map_err(|e| -> BoxError { Box::new(e) })?;
                return Ok(TcpConnection {
                    io,
                    forward_proxied: false,
                });
            };
            let proxy = intercept.uri().clone();
            if proxy.scheme_str() != Some("http") {
                return Err(ConnectFailure::new(
                    TransportErrorKind::Connect,
                    format!(
                        "proxy {} is not supported: only http:// proxies are",
                        host_port(&proxy)
                    ),
                )
                .into());
            }
            let io = http.call(proxy.clone()).await.map_err(|e| {
                ConnectFailure::new(
                    TransportErrorKind::Connect,
                    format!("connecting to the proxy {} failed", host_port(&proxy)),
                )
                .with_source(Box::new(e))
            })?;
            if dst.scheme_str() == Some("https") {
                let stream = tunnel(io.into_inner(), &dst, intercept.basic_auth()).await?;
                Ok(TcpConnection {
                    io: TokioIo::new(stream),
                    forward_proxied: false,
                })
            } else {
                Ok(TcpConnection {
                    io,
                    forward_proxied: true,
                })
            }
        })
    }
}

/// The proxy for `dst`, if any. Loopback destinations (`localhost`, `127.0.0.0/8`, `::1`) are
/// always reached directly: a proxy cannot reach this machine's local servers (an emulator,
/// a login redirect listener) anyway.
pub(crate) fn proxy_for(
    matcher: Option<&Matcher>,
    dst: &Uri,
) -> Option<hyper_util::client::proxy::matcher::Intercept> {
    let matcher = matcher?;
    let host = dst.host()?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.to_ascii_lowercase().ends_with(".localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        return None;
    }
    matcher.intercept(dst)
}

/// The longest proxy answer to `CONNECT` read before giving up.
const MAX_CONNECT_RESPONSE: usize = 16 * 1024;

/// Asks an HTTP proxy for a tunnel to `dst` and checks it answered 2xx.
async fn tunnel(
    mut stream: TcpStream,
    dst: &Uri,
    auth: Option<&http::HeaderValue>,
) -> Result<TcpStream, BoxError> {
    let host = dst.host().unwrap_or_default();
    let port = dst.port_u16().unwrap_or(443);
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
    if let Some(auth) = auth {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(auth.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    let failed = |message: String| ConnectFailure::new(TransportErrorKind::Connect, message);
    stream
        .write_all(&request)
        .await
        .map_err(|e| failed(format!("sending CONNECT to the proxy failed: {e}")))?;
    let mut answer = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| failed(format!("reading the proxy's answer to CONNECT failed: {e}")))?;
        if n == 0 {
            return Err(failed("the proxy closed the connection during CONNECT".into()).into());
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
        if answer.len() > MAX_CONNECT_RESPONSE {
            return Err(ConnectFailure::new(
                TransportErrorKind::Protocol,
                "the proxy's answer to CONNECT is too long",
            )
            .into());
        }
    }
    let status_line = answer
        .split(|b| *b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).trim().to_owned())
        .unwrap_or_default();
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    if status.len() == 3 && status.starts_with('2') {
        Ok(stream)
    } else {
        Err(failed(format!(
            "the proxy refused the tunnel to {authority}: {status_line:?}"
        ))
        .into())
    }
}

/// Applies the connect timeout to the whole stack (TCP, proxy tunnel, TLS) and classifies
/// failures as [`ConnectFailure`].
#[derive(Clone)]
pub(crate) struct TimeoutConnector<C> {
    pub(crate) inner: C,
    pub(crate) default_timeout: Option<Duration>,
}

impl<C> Service<Uri> for TimeoutConnector<C>
where
    C: Service<Uri, Error = BoxError> + Clone + Send + 'static,
    C::Future: Send + 'static,
    C::Response: Send + 'static,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = BoxFuture<Result<C::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let timeout = REQUEST_CONNECT_TIMEOUT
            .try_with(|t| *t)
            .unwrap_or(self.default_timeout);
        let connecting = self.inner.call(dst.clone());
        Box::pin(async move {
            let result = match timeout {
                Some(limit) => match tokio::time::timeout(limit, connecting).await {
                    Ok(result) => result,
                    Err(_) => {
                        return Err(ConnectFailure::new(
                            TransportErrorKind::Timeout,
                            format!(
                                "connecting to {} took longer than the connect timeout of {limit:?}",
                                host_port(&dst)
                            ),
                        )
                        .into());
                    }
                },
                None => connecting.await,
            };
            result.map_err(|e| Box::new(ConnectFailure::classify(e, &dst)) as BoxError)
        })
    }
}
