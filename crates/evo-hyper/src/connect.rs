//! The connection under a request: TCP directly to the server or through a proxy (see
//! [`crate::proxy`]), as hyper-util's connector service. TLS to the server (hyper-rustls) and
//! the connect timeout ([`crate::timeout`]) wrap it in [`crate::builder`].

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tower_service::Service;

use crate::error::{BoxError, BoxFuture, host_port};
use crate::proxy::{
    ProxyKind, Socks, connect_to_proxy, proxy_for, socks, tls_to_proxy, tunnel, unsupported_scheme,
};
use crate::read_ahead::ReadAhead;

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

/// A connection, directly to the server or through a proxy, read ahead in large pieces (see
/// [`crate::read_ahead`]).
pub(crate) struct TcpConnection {
    io: TokioIo<ReadAhead<ProxyStream>>,
    /// True when requests go to a forwarding proxy (`http://` or `https://`) and so use the
    /// absolute form.
    forward_proxied: bool,
}

impl TcpConnection {
    fn new(stream: ProxyStream, forward_proxied: bool) -> Self {
        TcpConnection {
            io: TokioIo::new(ReadAhead::new(stream)),
            forward_proxied,
        }
    }
}

impl Connection for TcpConnection {
    fn connected(&self) -> Connected {
        // ALPN with an https:// proxy is never reported: HTTP/2 is only negotiated end to end.
        self.io
            .inner()
            .get_ref()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ConnectFailure;
    use evo_core::TransportErrorKind;

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
}
