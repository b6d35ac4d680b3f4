//! [`HyperTransportBuilder`]: the settings of a [`HyperTransport`] and how they assemble the
//! connection stack (TCP or proxy tunnel → TLS → connect timeout) under hyper-util's pooled
//! client.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::connect::TcpConnector;
use crate::error::Error;
use crate::proxy::{check_proxy_url, warn_about_unusable_env_proxies};
use crate::timeout::TimeoutConnector;
use crate::tls::RootStoreBuilder;
use crate::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_POOL_IDLE_TIMEOUT, DEFAULT_POOL_MAX_IDLE_PER_HOST,
    HyperTransport,
};

/// The connector stack under the pooled client.
pub(crate) type Connector = TimeoutConnector<hyper_rustls::HttpsConnector<TcpConnector>>;

/// Builds a [`HyperTransport`].
#[derive(Clone)]
pub struct HyperTransportBuilder {
    connect_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    pool_idle_timeout: Option<Duration>,
    roots: RootStoreBuilder,
    http2: bool,
    proxy: ProxySetting,
    proxy_loopback: bool,
}

#[derive(Clone)]
enum ProxySetting {
    FromEnvironment,
    None,
    Explicit {
        http: Option<String>,
        https: Option<String>,
        no_proxy: Option<String>,
    },
}

impl Default for HyperTransportBuilder {
    fn default() -> Self {
        HyperTransportBuilder {
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            pool_max_idle_per_host: DEFAULT_POOL_MAX_IDLE_PER_HOST,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
            roots: RootStoreBuilder::new(),
            http2: true,
            proxy: ProxySetting::FromEnvironment,
            proxy_loopback: false,
        }
    }
}

impl fmt::Debug for HyperTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransportBuilder")
            .field("connect_timeout", &self.connect_timeout)
            .field("pool_max_idle_per_host", &self.pool_max_idle_per_host)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("roots", &self.roots)
            .field("http2", &self.http2)
            .field("proxy_loopback", &self.proxy_loopback)
            .finish_non_exhaustive()
    }
}

impl HyperTransportBuilder {
    /// The connect timeout (TCP, proxy tunnel and TLS) used when a request carries no
    /// [`evo_core::Timeouts`] (default 10 s; `None`: no limit). A request's `Timeouts::connect`, which
    /// [`evo_core::ApiConnector`] always sets, takes precedence.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// How many idle connections are kept per host (default 32).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }
    /// How long an idle connection is kept (default 90 s; `None`: until the server closes it).
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }
    /// Trusts the Mozilla roots bundled by `webpki-roots` (default on).
    pub fn webpki_roots(mut self, enabled: bool) -> Self {
        self.roots = self.roots.webpki_roots(enabled);
        self
    }
    /// Also trusts the platform's root certificates (default off).
    pub fn native_roots(mut self, enabled: bool) -> Self {
        self.roots = self.roots.native_roots(enabled);
        self
    }
    /// Also trusts the certificates in this PEM text (e.g. a local emulator's self-signed
    /// certificate). Checked by [`build`](Self::build).
    pub fn add_root_certificate(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.roots = self.roots.add_root_certificate(pem);
        self
    }
    /// Offers HTTP/2 by ALPN on TLS connections (default on). Plain-HTTP connections always
    /// use HTTP/1.1.
    pub fn http2(mut self, enabled: bool) -> Self {
        self.http2 = enabled;
        self
    }
    /// Uses no proxy, whatever the environment says.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxySetting::None;
        self
    }
    /// Reads `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (and their lower-case
    /// forms) when building (the default).
    ///
    /// Loopback destinations (`localhost`, `127.0.0.0/8`, `::1`) are reached directly unless
    /// [`proxy_loopback`](Self::proxy_loopback) is set. The proxy kinds spoken are listed in
    /// the [crate docs](crate#proxies): `http://`, `https://`, `socks5://`, `socks5h://` and
    /// `socks4://`. A `socks4a://` proxy (or a `socks4://` one with credentials) from the
    /// environment fails each request it would carry with a `Connect` error; a scheme
    /// `hyper-util` does not know at all (e.g. `ftp://`) makes it ignore that variable, which
    /// is logged as a warning by [`build`](Self::build).
    pub fn proxy_from_env(mut self) -> Self {
        self.proxy = ProxySetting::FromEnvironment;
        self
    }
    /// Uses these proxies instead of the environment's: `http` for `http://` URLs, `https` for
    /// `https://` URLs, except for the hosts in `no_proxy` (the `NO_PROXY` syntax:
    /// comma-separated hosts, domains, IPs, CIDRs, `*`). Each proxy is a
    /// `SCHEME://[user:password@]host[:port]` URL with `SCHEME` one of `http`, `https`,
    /// `socks5` (names resolved here), `socks5h` (names resolved by the proxy) or `socks4`
    /// (names resolved here, no credentials); see the
    /// [crate docs](crate#proxies). [`build`](Self::build) rejects other schemes and
    /// unparsable URLs with [`Error::Proxy`].
    pub fn proxy(
        mut self,
        http: Option<&str>,
        https: Option<&str>,
        no_proxy: Option<&str>,
    ) -> Self {
        self.proxy = ProxySetting::Explicit {
            http: http.map(str::to_owned),
            https: https.map(str::to_owned),
            no_proxy: no_proxy.map(str::to_owned),
        };
        self
    }

    /// Also sends loopback destinations (`localhost`, `127.0.0.0/8`, `::1`) through the proxy
    /// (default off: they are reached directly, as a remote proxy cannot reach this machine's
    /// local servers). Useful with a proxy on this machine, and in tests.
    pub fn proxy_loopback(mut self, enabled: bool) -> Self {
        self.proxy_loopback = enabled;
        self
    }

    /// Builds the transport. Fails when a certificate does not parse, no root certificate is
    /// trusted at all, the TLS configuration cannot be made, or a proxy given to
    /// [`proxy`](Self::proxy) is not a URL of a supported kind. Must be called inside a tokio
    /// runtime only when requests are sent (building needs none).
    pub fn build(self) -> Result<HyperTransport, Error> {
        let tls = self.roots.client_config()?;
        let proxy = match &self.proxy {
            ProxySetting::None => None,
            ProxySetting::FromEnvironment => {
                warn_about_unusable_env_proxies();
                Some(Arc::new(Matcher::from_env()))
            }
            ProxySetting::Explicit {
                http,
                https,
                no_proxy,
            } => {
                for url in [http, https].into_iter().flatten() {
                    check_proxy_url(url)?;
                }
                let mut builder = Matcher::builder();
                if let Some(http) = http {
                    builder = builder.http(http.clone());
                }
                if let Some(https) = https {
                    builder = builder.https(https.clone());
                }
                if let Some(no) = no_proxy {
                    builder = builder.no(no.clone());
                }
                Some(Arc::new(builder.build()))
            }
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        // Probes find connections that died silently (a NAT dropped them) while pooled.
        http.set_keepalive(Some(Duration::from_secs(60)));
        // The whole stack's timeout is applied by TimeoutConnector.
        http.set_connect_timeout(None);
        // TLS to https:// proxies: the same roots; the proxy speaks HTTP/1.1 (CONNECT or
        // absolute-form requests), whatever the origin behind it negotiates end to end.
        let mut proxy_tls = tls.clone();
        proxy_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let tcp = TcpConnector {
            http,
            proxy: proxy.clone(),
            proxy_loopback: self.proxy_loopback,
            proxy_tls: tokio_rustls::TlsConnector::from(Arc::new(proxy_tls)),
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1();
        let https = if self.http2 {
            https.enable_http2().wrap_connector(tcp)
        } else {
            https.wrap_connector(tcp)
        };
        let connector = TimeoutConnector {
            inner: https,
            default_timeout: self.connect_timeout,
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .pool_idle_timeout(self.pool_idle_timeout)
            // h2's default 64 KiB window throttles large downloads on long links.
            .http2_adaptive_window(true)
            .build(connector);
        let summary = format!(
            "connect_timeout: {:?}, pool_max_idle_per_host: {}, pool_idle_timeout: {:?}, http2: {}, proxy: {}, proxy_loopback: {}",
            self.connect_timeout,
            self.pool_max_idle_per_host,
            self.pool_idle_timeout,
            self.http2,
            match self.proxy {
                ProxySetting::None => "none",
                ProxySetting::FromEnvironment => "from environment",
                ProxySetting::Explicit { .. } => "explicit",
            },
            self.proxy_loopback
        );
        Ok(HyperTransport {
            client,
            proxy,
            proxy_loopback: self.proxy_loopback,
            summary: Arc::new(summary),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_rejects_bad_certificates_and_no_roots() {
        let err = HyperTransport::builder()
            .add_root_certificate("not a certificate")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
        let err = HyperTransport::builder()
            .webpki_roots(false)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("no root certificate"), "{err}");
    }
}
