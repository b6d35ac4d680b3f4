//! Proxies: which proxy a destination goes through ([`proxy_for`]), the proxy kinds spoken
//! ([`ProxyKind`]), checking proxy URLs from the user or the environment, and reaching the
//! proxy itself (TCP, TLS to an `https://` proxy). The tunnels through it are in
//! [`tunnel`] (HTTP `CONNECT`) and [`socks`] (SOCKS4 and SOCKS5).

mod socks;
mod tunnel;

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use tokio::net::TcpStream;
use tower_service::Service;

use evo_core::TransportErrorKind;

use crate::error::{ConnectFailure, Error, chain, host_port};

pub(crate) use self::socks::{Socks, socks};
pub(crate) use self::tunnel::tunnel;

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

pub(crate) fn unsupported_scheme(proxy: &Uri) -> ConnectFailure {
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
pub(crate) async fn connect_to_proxy(
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
pub(crate) async fn tls_to_proxy(
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
pub(crate) fn authority_of(dst: &Uri) -> String {
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

/// Checks a proxy URL given to the builder: it parses and names a proxy kind this transport
/// speaks. Messages show the scheme and `host:port`, never the userinfo.
pub(crate) fn check_proxy_url(url: &str) -> Result<(), Error> {
    let uri: http::Uri = url.trim().parse().map_err(|_| {
        Error::proxy(
            "a proxy URL is not a valid URL (expected SCHEME://[user:password@]host[:port])",
        )
    })?;
    let Some(authority) = uri.authority() else {
        return Err(Error::proxy("a proxy URL has no host"));
    };
    let host_port = authority
        .as_str()
        .rsplit_once('@')
        .map_or(authority.as_str(), |(_, host_port)| host_port);
    match ProxyKind::of_scheme(uri.scheme_str()) {
        None => Err(Error::proxy(format!(
            "the proxy {host_port} has the unsupported scheme {:?}: only {SUPPORTED_PROXY_SCHEMES} proxies are",
            uri.scheme_str().unwrap_or_default()
        ))),
        Some(ProxyKind::Socks4) if authority.as_str().contains('@') => Err(Error::proxy(format!(
            "the SOCKS4 proxy {host_port} was given credentials, which SOCKS4 cannot send: use socks5:// or socks5h://"
        ))),
        Some(_) => Ok(()),
    }
}

/// Warns about proxy variables hyper-util's matcher will silently ignore (a scheme it does not
/// know, or not a URL), so a proxy that is not used does not go unnoticed.
pub(crate) fn warn_about_unusable_env_proxies() {
    for name in [
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
    ] {
        let Ok(value) = std::env::var(name) else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        if let Err(e) = check_proxy_url(&value) {
            tracing::warn!(variable = name, "the proxy in {name} cannot be used: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Fuzz-style properties of checking proxy URLs (from the user or the environment).
    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn arbitrary_proxy_urls_never_panic(url in any::<String>()) {
                let _ = check_proxy_url(&url);
            }

            #[test]
            fn proxy_url_errors_never_show_the_password(
                scheme in prop_oneof![
                    prop::sample::select(vec!["http", "https", "socks4", "socks5", "socks5h", "socks4a", "ftp", ""])
                        .prop_map(str::to_owned),
                    "[a-z0-9+.-]{1,8}",
                ],
                host in prop_oneof!["[a-z0-9.-]{0,20}", "\\[[0-9a-f:]{0,12}\\]", "[ -~]{0,10}"],
                port in prop::option::of("[0-9a-z]{0,7}"),
                path in prop::option::of("[ -~]{0,10}"),
            ) {
                let mut url = format!("{scheme}://dave:PWSECRET@{host}");
                if let Some(p) = port {
                    url.push(':');
                    url.push_str(&p);
                }
                if let Some(p) = path {
                    url.push('/');
                    url.push_str(&p);
                }
                if let Err(e) = check_proxy_url(&url) {
                    let shown = format!("{e} {e:?}");
                    prop_assert!(!shown.contains("PWSECRET"), "{}", shown);
                }
            }
        }
    }
}
