//! The connection stack: TCP (direct, or through an HTTP, HTTPS or SOCKS5 proxy) → TLS
//! (hyper-rustls) → connect timeout, with failures classified for
//! [`evo_core::TransportErrorKind`].

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
use hyper_util::client::legacy::connect::proxy::{SocksV4, SocksV5};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
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

/// The bytes under a connection: TCP to the server or a proxy, or TLS to an `https://` proxy.
pub(crate) enum ProxyStream {
    /// Plain TCP (direct, to an `http://` proxy, or a SOCKS5 tunnel).
    Tcp(TcpStream),
    /// TLS to an `https://` proxy (forwarding inside it, or a `CONNECT` tunnel inside it).
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl ProxyStream {
    fn tcp(&self) -> &TcpStream {
        match self {
            ProxyStream::Tcp(tcp) => tcp,
            ProxyStream::Tls(tls) => tls.get_ref().0,
        }
    }
}

impl AsyncRead for ProxyStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ProxyStream::Tcp(tcp) => Pin::new(tcp).poll_read(cx, buf),
            ProxyStream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ProxyStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ProxyStream::Tcp(tcp) => Pin::new(tcp).poll_write(cx, buf),
            ProxyStream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ProxyStream::Tcp(tcp) => Pin::new(tcp).poll_flush(cx),
            ProxyStream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ProxyStream::Tcp(tcp) => Pin::new(tcp).poll_shutdown(cx),
            ProxyStream::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            ProxyStream::Tcp(tcp) => tcp.is_write_vectored(),
            ProxyStream::Tls(tls) => tls.is_write_vectored(),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ProxyStream::Tcp(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            ProxyStream::Tls(tls) => Pin::new(tls.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
}

/// A connection, directly to the server or through a proxy.
pub(crate) struct TcpConnection {
    io: TokioIo<ProxyStream>,
    /// True when requests go to a forwarding proxy (`http://` or `https://`) and so use the
    /// absolute form.
    forward_proxied: bool,
}

impl TcpConnection {
    fn new(stream: ProxyStream, forward_proxied: bool) -> Self {
        TcpConnection {
            io: TokioIo::new(stream),
            forward_proxied,
        }
    }
}

impl Connection for TcpConnection {
    fn connected(&self) -> Connected {
        // ALPN with an https:// proxy is never reported: HTTP/2 is only negotiated end to end.
        self.io
            .inner()
            .tcp()
            .connected()
            .proxy(self.forward_proxied)
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

/// The kinds of proxy the connector speaks, from the proxy URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProxyKind {
    /// `http://`: forwarding for `http://` URLs, `CONNECT` tunnels for `https://` URLs.
    Http,
    /// `https://`: the same as `http://`, inside TLS to the proxy.
    Https,
    /// `socks5://` (`remote_dns: false`: this side resolves names) or `socks5h://` (the proxy
    /// resolves names).
    Socks5 {
        /// Whether the proxy resolves the destination's name.
        remote_dns: bool,
    },
    /// `socks4://`: this side resolves names (IPv4 only); no credentials.
    Socks4,
}

/// The proxy schemes [`ProxyKind::of_scheme`] accepts, for error messages.
pub(crate) const SUPPORTED_PROXY_SCHEMES: &str =
    "http://, https://, socks5://, socks5h:// and socks4://";

impl ProxyKind {
    /// The kind of proxy a URL scheme names (no scheme means `http`), or `None`.
    pub(crate) fn of_scheme(scheme: Option<&str>) -> Option<ProxyKind> {
        match scheme.map(str::to_ascii_lowercase).as_deref() {
            None | Some("http") => Some(ProxyKind::Http),
            Some("https") => Some(ProxyKind::Https),
            Some("socks5") => Some(ProxyKind::Socks5 { remote_dns: false }),
            Some("socks5h") => Some(ProxyKind::Socks5 { remote_dns: true }),
            Some("socks4") => Some(ProxyKind::Socks4),
            _ => None,
        }
    }
}

/// Opens connections, through the proxy the settings name for the destination:
/// - `http://` and `https://` proxies: plain-HTTP destinations are forwarded (absolute-form
///   requests), HTTPS destinations are tunnelled with `CONNECT` (TLS then runs end to end
///   through the tunnel); with an `https://` proxy all of it runs inside TLS to the proxy;
/// - `socks4://` proxies: a SOCKS4 tunnel (no credentials; `socks4a://` is not supported);
/// - `socks5://` and `socks5h://` proxies: a SOCKS5 tunnel (RFC 1928, with RFC 1929
///   username/password authentication) to the destination.
#[derive(Clone)]
pub(crate) struct TcpConnector {
    pub(crate) http: HttpConnector,
    pub(crate) proxy: Option<Arc<Matcher>>,
    /// Sends loopback destinations through the proxy too.
    pub(crate) proxy_loopback: bool,
    /// TLS to `https://` proxies (the transport's roots, ALPN `http/1.1`).
    pub(crate) proxy_tls: tokio_rustls::TlsConnector,
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
        let intercept = proxy_for(self.proxy.as_deref(), &dst, self.proxy_loopback);
        let proxy_tls = self.proxy_tls.clone();
        Box::pin(async move {
            let Some(intercept) = intercept else {
                let io = http
                    .call(dst)
                    .await
                    .map_err(|e| -> BoxError { Box::new(e) })?;
                return Ok(TcpConnection::new(ProxyStream::Tcp(io.into_inner()), false));
            };
            let proxy = intercept.uri().clone();
            let Some(kind) = ProxyKind::of_scheme(proxy.scheme_str()) else {
                return Err(unsupported_scheme(&proxy).into());
            };
            tracing::debug!(proxy = %host_port(&proxy), ?kind, "connecting through a proxy");
            match kind {
                ProxyKind::Http | ProxyKind::Https => {
                    let tcp = connect_to_proxy(&mut http, &proxy).await?;
                    let stream = if kind == ProxyKind::Https {
                        ProxyStream::Tls(Box::new(tls_to_proxy(&proxy_tls, tcp, &proxy).await?))
                    } else {
                        ProxyStream::Tcp(tcp)
                    };
                    if dst.scheme_str() == Some("https") {
                        let stream = tunnel(stream, &dst, &proxy, intercept.basic_auth()).await?;
                        Ok(TcpConnection::new(stream, false))
                    } else {
                        Ok(TcpConnection::new(stream, true))
                    }
                }
                ProxyKind::Socks5 { remote_dns } => {
                    let auth = intercept.raw_auth();
                    let tcp = socks(&mut http, &dst, &proxy, Socks::V5, remote_dns, auth).await?;
                    Ok(TcpConnection::new(ProxyStream::Tcp(tcp), false))
                }
                ProxyKind::Socks4 => {
                    let auth = intercept.raw_auth();
                    let tcp = socks(&mut http, &dst, &proxy, Socks::V4, false, auth).await?;
                    Ok(TcpConnection::new(ProxyStream::Tcp(tcp), false))
                }
            }
        })
    }
}

fn unsupported_scheme(proxy: &Uri) -> ConnectFailure {
    ConnectFailure::new(
        TransportErrorKind::Connect,
        format!(
            "the proxy {} has the unsupported scheme {:?}: only {SUPPORTED_PROXY_SCHEMES} proxies are",
            host_port(proxy),
            proxy.scheme_str().unwrap_or_default()
        ),
    )
}

/// TCP to the proxy itself.
async fn connect_to_proxy(
    http: &mut HttpConnector,
    proxy: &Uri,
) -> Result<TcpStream, ConnectFailure> {
    // HttpConnector picks the default port from the scheme: give it the port explicitly
    // (1080 for SOCKS, 80 and 443 for HTTP(S) proxies).
    let default_port = match proxy.scheme_str() {
        Some("https") => 443,
        Some("http") | None => 80,
        _ => 1080,
    };
    let host = proxy.host().unwrap_or_default();
    let port = proxy.port_u16().unwrap_or(default_port);
    let target: Uri = format!("http://{host}:{port}").parse().map_err(|e| {
        ConnectFailure::new(
            TransportErrorKind::Connect,
            format!("the proxy address {host}:{port} is not valid: {e}"),
        )
    })?;
    let io = http.call(target).await.map_err(|e| {
        ConnectFailure::new(
            TransportErrorKind::Connect,
            format!(
                "connecting to the proxy {host}:{port} failed: {}",
                chain(&e)
            ),
        )
        .with_source(Box::new(e))
    })?;
    Ok(io.into_inner())
}

/// The TLS handshake with an `https://` proxy, verified with the transport's roots.
async fn tls_to_proxy(
    connector: &tokio_rustls::TlsConnector,
    tcp: TcpStream,
    proxy: &Uri,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ConnectFailure> {
    let host = proxy.host().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let name = rustls::pki_types::ServerName::try_from(bare.to_owned()).map_err(|e| {
        ConnectFailure::new(
            TransportErrorKind::Connect,
            format!("the proxy host {host} is not a valid TLS server name: {e}"),
        )
    })?;
    connector.connect(name, tcp).await.map_err(|e| {
        let kind = if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
            TransportErrorKind::Tls
        } else {
            TransportErrorKind::Connect
        };
        ConnectFailure::new(
            kind,
            format!(
                "TLS handshake with the proxy {} failed: {e}",
                host_port(proxy)
            ),
        )
        .with_source(Box::new(e))
    })
}

/// The proxy for `dst`, if any. Loopback destinations (`localhost`, `127.0.0.0/8`, `::1`) are
/// reached directly unless `proxy_loopback`: a remote proxy cannot reach this machine's local
/// servers (an emulator, a login redirect listener) anyway.
pub(crate) fn proxy_for(
    matcher: Option<&Matcher>,
    dst: &Uri,
    proxy_loopback: bool,
) -> Option<hyper_util::client::proxy::matcher::Intercept> {
    let matcher = matcher?;
    let host = dst.host()?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.to_ascii_lowercase().ends_with(".localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback && !proxy_loopback {
        return None;
    }
    matcher.intercept(dst)
}

/// `host:port` of a destination with the scheme's default port, IPv6 hosts in brackets.
fn authority_of(dst: &Uri) -> String {
    let host = dst.host().unwrap_or_default();
    let port = dst.port_u16().unwrap_or(match dst.scheme_str() {
        Some("http") => 80,
        _ => 443,
    });
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The longest proxy answer to `CONNECT` read before giving up.
const MAX_CONNECT_RESPONSE: usize = 16 * 1024;

/// Asks an HTTP(S) proxy for a tunnel to `dst` and checks it answered 2xx.
async fn tunnel<S>(
    mut stream: S,
    dst: &Uri,
    proxy: &Uri,
    auth: Option<&http::HeaderValue>,
) -> Result<S, BoxError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let authority = authority_of(dst);
    let proxy_name = host_port(proxy);
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
    if let Some(auth) = auth {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(auth.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    let failed = |message: String| ConnectFailure::new(TransportErrorKind::Connect, message);
    stream.write_all(&request).await.map_err(|e| {
        failed(format!(
            "sending CONNECT to the proxy {proxy_name} failed: {e}"
        ))
    })?;
    stream.flush().await.map_err(|e| {
        failed(format!(
            "sending CONNECT to the proxy {proxy_name} failed: {e}"
        ))
    })?;
    let mut answer = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await.map_err(|e| {
            failed(format!(
                "reading the answer of the proxy {proxy_name} to CONNECT failed: {e}"
            ))
        })?;
        if n == 0 {
            return Err(failed(format!(
                "the proxy {proxy_name} closed the connection during CONNECT"
            ))
            .into());
        }
        answer.extend_from_slice(&buf[..n]);
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            // Nothing may follow the answer before we speak (the origin's TLS waits for our
            // ClientHello): bytes there would be lost, so they are an error, not dropped.
            if answer.len() > end + 4 {
                return Err(ConnectFailure::new(
                    TransportErrorKind::Protocol,
                    format!("the proxy {proxy_name} sent data after its answer to CONNECT"),
                )
                .into());
            }
            break;
        }
        if answer.len() > MAX_CONNECT_RESPONSE {
            return Err(ConnectFailure::new(
                TransportErrorKind::Protocol,
                format!("the answer of the proxy {proxy_name} to CONNECT is too long"),
            )
            .into());
        }
    }
    let status_line = answer
        .split(|b| *b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).trim().to_owned())
        .unwrap_or_default();
    let mut words = status_line.split_whitespace();
    let version = words.next().unwrap_or_default();
    let status = words.next().unwrap_or_default();
    // `HTTP/1.x 2xx`: three digits, so that "20-" or a line that is not HTTP is no success.
    if version.starts_with("HTTP/1.")
        && status.len() == 3
        && status.starts_with('2')
        && status.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(stream)
    } else {
        Err(failed(format!(
            "the proxy {proxy_name} refused the tunnel to {authority}: {status_line:?}"
        ))
        .into())
    }
}

/// A connector that hands out one connection already made (to the SOCKS proxy), so that
/// hyper-util's SOCKS5 handshake runs on our TCP connection and its errors are only the
/// handshake's.
struct Established(Option<TokioIo<TcpStream>>);

impl Service<Uri> for Established {
    type Response = TokioIo<TcpStream>;
    type Error = io::Error;
    type Future = std::future::Ready<Result<TokioIo<TcpStream>, io::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _proxy: Uri) -> Self::Future {
        std::future::ready(
            self.0
                .take()
                .ok_or_else(|| io::Error::other("the proxy connection was already used")),
        )
    }
}

/// The SOCKS protocol version spoken to a proxy.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Socks {
    V4,
    V5,
}

/// A SOCKS tunnel to `dst` through `proxy`, by hyper-util's SOCKS5 or SOCKS4 handshake over
/// our TCP connection to the proxy. With `remote_dns` the destination's name is sent to the
/// proxy; otherwise it is resolved here (asynchronously, before the proxy is contacted) and its
/// first address (for SOCKS4: first IPv4 address) is sent.
async fn socks(
    http: &mut HttpConnector,
    dst: &Uri,
    proxy: &Uri,
    socks: Socks,
    remote_dns: bool,
    auth: Option<(&str, &str)>,
) -> Result<TcpStream, ConnectFailure> {
    let version = match socks {
        Socks::V5 => "SOCKS5",
        Socks::V4 => "SOCKS4",
    };
    let proxy_name = host_port(proxy);
    let failed = |message: String| ConnectFailure::new(TransportErrorKind::Connect, message);
    let authority = authority_of(dst);
    if socks == Socks::V4 && auth.is_some() {
        return Err(failed(format!(
            "the SOCKS4 proxy {proxy_name} was given credentials, which SOCKS4 cannot send: use socks5:// or socks5h://"
        )));
    }
    // hyper-util reads the port from the URI (443 when absent): always give one.
    let target = if remote_dns {
        authority.clone()
    } else {
        let mut addresses = tokio::net::lookup_host(authority.as_str())
            .await
            .map_err(|e| {
                failed(format!(
                    "resolving {authority} (to send its address to the {version} proxy {proxy_name}) failed: {e}"
                ))
            })?;
        let address = if socks == Socks::V4 {
            addresses.find(std::net::SocketAddr::is_ipv4)
        } else {
            addresses.next()
        };
        address
            .ok_or_else(|| {
                failed(format!(
                    "{authority} resolved to no address the {version} proxy {proxy_name} can take"
                ))
            })?
            .to_string()
    };
    let target: Uri = format!("socks://{target}")
        .parse()
        .map_err(|e| failed(format!("{authority} is not a valid SOCKS destination: {e}")))?;
    let tcp = Established(Some(TokioIo::new(connect_to_proxy(http, proxy).await?)));
    let result = if socks == Socks::V5 {
        let mut handshake = SocksV5::new(proxy.clone(), tcp).local_dns(false);
        if let Some((user, password)) = auth {
            handshake = handshake.with_auth(user.to_owned(), password.to_owned());
        }
        handshake
            .call(target)
            .await
            .map_err(|e| (e.to_string(), format!("{e:?}")))
    } else {
        let mut handshake = SocksV4::new(proxy.clone(), tcp).local_dns(false);
        handshake
            .call(target)
            .await
            .map_err(|e| (e.to_string(), format!("{e:?}")))
    };
    match result {
        Ok(io) => Ok(io.into_inner()),
        Err((shown, debug)) => {
            // hyper-util's SOCKS error keeps the I/O error it met only in its Debug form (which
            // holds no credentials: they live in the connector, not the error). Proxies often
            // just close the connection on bad or missing credentials, so say so.
            let detail = if shown.contains("io error") {
                let hint = match (socks, auth.is_some()) {
                    (Socks::V5, true) => " (it may have rejected the credentials)",
                    (Socks::V5, false) => " (it may require credentials)",
                    (Socks::V4, _) => "",
                };
                format!("the proxy ended the handshake{hint}: {debug}")
            } else {
                shown
            };
            Err(failed(format!(
                "the {version} proxy {proxy_name} did not open a tunnel to {authority}: {detail}"
            )))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(proxy: &str) -> TcpConnector {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        TcpConnector {
            http: HttpConnector::new(),
            proxy: Some(Arc::new(Matcher::builder().all(proxy.to_owned()).build())),
            proxy_loopback: true,
            proxy_tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
        }
    }

    /// Calls the connector for `dst` with `proxy`, which listens on `listener` but must never
    /// be contacted: returns the typed failure.
    async fn refused_before_contact(
        proxy: &str,
        listener: &std::net::TcpListener,
    ) -> ConnectFailure {
        listener.set_nonblocking(true).unwrap();
        let mut connector = connector(proxy);
        let dst: Uri = "http://example.test/".parse().unwrap();
        let err = match connector.call(dst).await {
            Ok(_) => panic!("the proxy {proxy} was used"),
            Err(e) => *e.downcast::<ConnectFailure>().expect("a ConnectFailure"),
        };
        assert!(listener.accept().is_err(), "the proxy was contacted");
        err
    }

    /// hyper-util's matcher accepts `socks4a://` (from the environment, say), which this
    /// transport does not speak: a typed error before any connection, without the password.
    #[tokio::test]
    async fn a_socks4a_proxy_from_the_matcher_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = format!("socks4a://dave:hunter2@127.0.0.1:{port}");
        let err = refused_before_contact(&proxy, &listener).await;
        assert_eq!(err.kind, TransportErrorKind::Connect);
        assert!(err.message.contains("\"socks4a\""), "{}", err.message);
        assert!(
            err.message.contains(&format!("127.0.0.1:{port}")),
            "{}",
            err.message
        );
        assert!(!format!("{err:?}").contains("hunter2"));
    }

    /// SOCKS4 cannot carry a password: credentials are refused, not silently dropped.
    #[tokio::test]
    async fn a_socks4_proxy_with_credentials_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = format!("socks4://dave:hunter2@127.0.0.1:{port}");
        let err = refused_before_contact(&proxy, &listener).await;
        assert_eq!(err.kind, TransportErrorKind::Connect);
        assert!(err.message.contains("credentials"), "{}", err.message);
        assert!(
            err.message.contains(&format!("127.0.0.1:{port}")),
            "{}",
            err.message
        );
        assert!(!format!("{err:?}").contains("hunter2"));
    }

    #[test]
    fn proxy_kinds_by_scheme() {
        assert_eq!(ProxyKind::of_scheme(None), Some(ProxyKind::Http));
        assert_eq!(ProxyKind::of_scheme(Some("HTTPS")), Some(ProxyKind::Https));
        assert_eq!(
            ProxyKind::of_scheme(Some("socks5")),
            Some(ProxyKind::Socks5 { remote_dns: false })
        );
        assert_eq!(
            ProxyKind::of_scheme(Some("socks5h")),
            Some(ProxyKind::Socks5 { remote_dns: true })
        );
        assert_eq!(
            ProxyKind::of_scheme(Some("socks4")),
            Some(ProxyKind::Socks4)
        );
        assert_eq!(ProxyKind::of_scheme(Some("socks4a")), None);
    }

    #[test]
    fn authorities_carry_the_default_port_and_ipv6_brackets() {
        let of = |s: &str| authority_of(&s.parse().unwrap());
        assert_eq!(of("http://a.test/x"), "a.test:80");
        assert_eq!(of("https://a.test/x"), "a.test:443");
        assert_eq!(of("https://[::1]:8443/"), "[::1]:8443");
    }

    /// Fuzz-style properties of reading a proxy's answer to `CONNECT`: whatever the proxy
    /// sends, in whatever pieces, the tunnel opens only on a complete 2xx answer, reads a
    /// bounded amount, and fails with a typed error that does not show the credentials.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        const CREDENTIALS: &str = "Basic U0VDUkVUOnBhc3N3b3Jk";

        /// A proxy connection that answers with `answer`, cut into reads of the given sizes,
        /// then ends (or, with `endless`, keeps sending `x` forever).
        struct Scripted {
            answer: Vec<u8>,
            position: usize,
            chunks: Vec<usize>,
            endless: bool,
            handed_out: usize,
            written: Vec<u8>,
        }

        impl Scripted {
            fn new(answer: Vec<u8>, chunks: Vec<usize>) -> Self {
                Scripted {
                    answer,
                    position: 0,
                    chunks,
                    endless: false,
                    handed_out: 0,
                    written: Vec::new(),
                }
            }
        }

        impl AsyncRead for Scripted {
            fn poll_read(
                mut self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                let this = &mut *self;
                let step = this
                    .chunks
                    .get(this.handed_out % this.chunks.len().max(1))
                    .copied();
                let want = step.unwrap_or(usize::MAX).max(1).min(buf.remaining());
                let n = if this.position < this.answer.len() {
                    let n = want.min(this.answer.len() - this.position);
                    buf.put_slice(&this.answer[this.position..this.position + n]);
                    this.position += n;
                    n
                } else if this.endless {
                    buf.put_slice(&vec![b'x'; want]);
                    want
                } else {
                    0
                };
                this.handed_out += n;
                Poll::Ready(Ok(()))
            }
        }

        impl AsyncWrite for Scripted {
            fn poll_write(
                mut self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                data: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.written.extend_from_slice(data);
                Poll::Ready(Ok(data.len()))
            }
            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }

        /// Runs `tunnel` over `stream`: the stream back, or the typed failure.
        fn run(stream: Scripted) -> Result<Scripted, ConnectFailure> {
            let dst: Uri = "https://origin.test/".parse().expect("dst");
            let proxy: Uri = "http://proxy.test:3128".parse().expect("proxy");
            let auth = http::HeaderValue::from_static(CREDENTIALS);
            let result = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime")
                .block_on(tunnel(stream, &dst, &proxy, Some(&auth)));
            result.map_err(|e| {
                let failure = *e.downcast::<ConnectFailure>().expect("a ConnectFailure");
                let shown = format!("{failure} {failure:?}");
                assert!(
                    !shown.contains("U0VDUkVU"),
                    "an error shows the credentials: {shown}"
                );
                assert!(
                    matches!(
                        failure.kind,
                        TransportErrorKind::Connect | TransportErrorKind::Protocol
                    ),
                    "{failure:?}"
                );
                failure
            })
        }

        /// Runs `tunnel` where it must fail: the failure.
        fn fails(stream: Scripted) -> ConnectFailure {
            match run(stream) {
                Ok(_) => panic!("the tunnel opened"),
                Err(failure) => failure,
            }
        }

        fn chunks() -> impl Strategy<Value = Vec<usize>> {
            prop::collection::vec(1usize..64, 1..8)
        }

        fn header_lines() -> impl Strategy<Value = Vec<String>> {
            prop::collection::vec("[A-Za-z-]{1,20}: [ -~]{0,60}", 0..6)
        }

        fn answer(status_line: &str, headers: &[String]) -> Vec<u8> {
            let mut text = format!("{status_line}\r\n");
            for h in headers {
                text.push_str(h);
                text.push_str("\r\n");
            }
            text.push_str("\r\n");
            text.into_bytes()
        }

        proptest! {
            #[test]
            fn arbitrary_answers_never_panic_and_fail_typed(
                bytes in prop::collection::vec(any::<u8>(), 0..2048),
                chunks in chunks(),
            ) {
                let _ = run(Scripted::new(bytes, chunks));
            }

            #[test]
            fn a_2xx_answer_in_any_pieces_opens_the_tunnel_after_a_well_formed_request(
                code in 200u16..300,
                version in prop::sample::select(vec!["HTTP/1.0", "HTTP/1.1"]),
                reason in "[ -~]{0,40}",
                headers in header_lines(),
                chunks in chunks(),
            ) {
                let answer = answer(&format!("{version} {code} {reason}"), &headers);
                let stream = run(Scripted::new(answer.clone(), chunks)).expect("tunnel opens");
                prop_assert_eq!(stream.position, answer.len());
                prop_assert_eq!(
                    String::from_utf8(stream.written).expect("utf-8"),
                    format!("CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\nProxy-Authorization: {CREDENTIALS}\r\n\r\n")
                );
            }

            #[test]
            fn only_three_digit_2xx_statuses_open_the_tunnel(
                status in prop_oneof![
                    (0u16..1000).prop_map(|c| format!("{c:03}")),
                    "[0-9a-zA-Z+-]{1,5}",
                    "2[0-9a-zA-Z+ -]{2}",
                ],
                headers in header_lines(),
            ) {
                let accepted = run(Scripted::new(answer(&format!("HTTP/1.1 {status} Reason"), &headers), vec![7])).is_ok();
                let is_2xx = status.len() == 3
                    && status.starts_with('2')
                    && status.bytes().all(|b| b.is_ascii_digit());
                prop_assert_eq!(accepted, is_2xx, "status {:?}", status);
            }

            #[test]
            fn only_http_1_status_lines_open_the_tunnel(
                version in prop_oneof!["HTTP/1\\.[01]", "[A-Z]{1,5}/?[0-9.]{0,3}", "[ -~]{0,8}"],
            ) {
                let line = format!("{version} 200 OK");
                let accepted = run(Scripted::new(answer(&line, &[]), vec![64])).is_ok();
                let mut words = line.split_whitespace();
                let well_formed = words.next().is_some_and(|v| v.starts_with("HTTP/1."))
                    && words.next() == Some("200");
                prop_assert_eq!(accepted, well_formed, "status line {:?}", line);
            }

            #[test]
            fn a_truncated_answer_is_a_connect_error(
                headers in header_lines(),
                cut in any::<prop::sample::Index>(),
                chunks in chunks(),
            ) {
                let full = answer("HTTP/1.1 200 Connection established", &headers);
                let cut = cut.index(full.len());
                let failure = fails(Scripted::new(full[..cut].to_vec(), chunks));
                prop_assert_eq!(failure.kind, TransportErrorKind::Connect);
                prop_assert!(failure.message.contains("closed the connection"), "{}", failure.message);
            }

            #[test]
            fn bytes_after_the_answer_are_a_protocol_error(
                extra in prop::collection::vec(any::<u8>(), 1..64),
                headers in header_lines(),
            ) {
                let mut bytes = answer("HTTP/1.1 200 OK", &headers);
                bytes.extend(extra);
                // In one read, so the extra bytes arrive with the answer.
                let failure = fails(Scripted::new(bytes, vec![1 << 20]));
                prop_assert_eq!(failure.kind, TransportErrorKind::Protocol);
            }

            #[test]
            fn byte_flips_in_a_valid_answer_never_panic(
                headers in header_lines(),
                at in any::<prop::sample::Index>(),
                xor in 1u8..=255,
                chunks in chunks(),
            ) {
                let mut bytes = answer("HTTP/1.1 200 Connection established", &headers);
                let i = at.index(bytes.len());
                bytes[i] ^= xor;
                let _ = run(Scripted::new(bytes, chunks));
            }

            #[test]
            fn an_endless_answer_stops_at_the_size_bound(
                status_line in "HTTP/1.1 200[ -~]{0,40}",
                chunks in prop::collection::vec(1usize..4096, 1..4),
            ) {
                let mut stream = Scripted::new(format!("{status_line}\r\n").into_bytes(), chunks);
                stream.endless = true;
                let dst: Uri = "https://origin.test/".parse().expect("dst");
                let proxy: Uri = "http://proxy.test:3128".parse().expect("proxy");
                let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
                let mut counted = Box::pin(async move {
                    let mut s = stream;
                    let r = tunnel(&mut s, &dst, &proxy, None).await.map(|_| ());
                    (r, s.handed_out)
                });
                let (result, handed_out) = runtime.block_on(&mut counted);
                let failure = *result.expect_err("fails").downcast::<ConnectFailure>().expect("typed");
                prop_assert_eq!(failure.kind, TransportErrorKind::Protocol);
                prop_assert!(failure.message.contains("too long"), "{}", failure.message);
                // Read at most the bound plus one read buffer.
                prop_assert!(handed_out <= MAX_CONNECT_RESPONSE + 1024, "{}", handed_out);
            }

            #[test]
            fn a_proxy_echoing_the_request_does_not_show_the_credentials(chunks in chunks()) {
                let echo = format!("CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\nProxy-Authorization: {CREDENTIALS}\r\n\r\n");
                prop_assert!(run(Scripted::new(echo.into_bytes(), chunks)).is_err());
            }
        }
    }
}
