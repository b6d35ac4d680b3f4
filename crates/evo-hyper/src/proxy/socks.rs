//! SOCKS4 and SOCKS5 tunnels, by hyper-util's handshakes over our own TCP connection to the
//! proxy.

use std::io;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::{SocksV4, SocksV5};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use evo_core::TransportErrorKind;

use super::{authority_of, connect_to_proxy};
use crate::error::{ConnectFailure, host_port};

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
pub(crate) enum Socks {
    V4,
    V5,
}

/// A SOCKS tunnel to `dst` through `proxy`, by hyper-util's SOCKS5 or SOCKS4 handshake over
/// our TCP connection to the proxy. With `remote_dns` the destination's name is sent to the
/// proxy; otherwise it is resolved here (asynchronously, before the proxy is contacted) and its
/// first address (for SOCKS4: first IPv4 address) is sent.
pub(crate) async fn socks(
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
