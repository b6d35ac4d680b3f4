//! # evo-hyper
//!
//! [`HyperTransport`], the default [`evo_core::Transport`] of evo-rs: hyper-util's pooled client
//! with rustls (HTTP/1.1, and HTTP/2 when the server offers it by ALPN), webpki roots (optionally
//! the platform's roots and extra certificates), a connect timeout, connection-pool limits,
//! proxies from `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` (or given to the builder) and
//! streaming bodies both ways.
//!
//! ## Proxies
//!
//! | proxy URL | `http://` destinations | `https://` destinations |
//! |---|---|---|
//! | `http://[user:password@]host[:port]` | forwarded (absolute-form requests, `Proxy-Authorization: Basic`) | `CONNECT` tunnel (with `Proxy-Authorization`), TLS to the origin inside it |
//! | `https://[user:password@]host[:port]` | the same, inside TLS to the proxy | `CONNECT` inside TLS to the proxy, then TLS to the origin inside that |
//! | `socks5://[user:password@]host[:port]` | SOCKS5 tunnel; this side resolves the name | the same, TLS to the origin inside it |
//! | `socks5h://[user:password@]host[:port]` | SOCKS5 tunnel; the proxy resolves the name | the same, TLS to the origin inside it |
//! | `socks4://host[:port]` | SOCKS4 tunnel; this side resolves the name (IPv4 only) | the same, TLS to the origin inside it |
//!
//! SOCKS5 credentials use RFC 1929 username/password authentication; SOCKS4 takes none (a
//! `socks4://` URL with credentials is refused). An `https://` proxy's certificate is verified
//! with the same roots as servers' (webpki, native, added). Other schemes (`socks4a://`,
//! `ftp://`, ...) are not supported: [`HyperTransportBuilder::proxy`] rejects them with
//! [`Error::Proxy`]; from the environment `socks4a://` fails each request with a `Connect`
//! error, and a scheme `hyper-util` does not recognise at all is ignored with a warning. Loopback destinations bypass proxies unless
//! [`HyperTransportBuilder::proxy_loopback`] says otherwise. Errors name the proxy's
//! `host:port`, never its password.
//!
//! It never follows redirects and never interprets status codes: that is the connector's job.
//! Read and idle timeouts are applied by [`evo_core::ApiConnector`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use evo_core::ApiConnector;
//! use evo_hyper::HyperTransport;
//!
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = HyperTransport::builder()
//!     .connect_timeout(Some(std::time::Duration::from_secs(5)))
//!     .build()?;
//! let connector = ApiConnector::builder("https://hub.example/".parse()?)
//!     .transport(Arc::new(transport))
//!     .build()?;
//! # Ok(()) }
//! ```

mod body;
mod connect;
mod error;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use evo_core::{Body, Timeouts, Transport, TransportError};
use http::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::body::into_evo_body;
use crate::connect::{
    ProxyKind, REQUEST_CONNECT_TIMEOUT, SUPPORTED_PROXY_SCHEMES, TcpConnector, TimeoutConnector,
};
pub use crate::error::Error;

type Connector = TimeoutConnector<hyper_rustls::HttpsConnector<TcpConnector>>;

/// The default connect timeout (10 s), used when a request does not ask for another.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default number of idle connections kept per host (32).
pub const DEFAULT_POOL_MAX_IDLE_PER_HOST: usize = 32;
/// The default time an idle pooled connection is kept (90 s).
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// An HTTP transport on hyper-util's pooled client and rustls. Cheap to clone (the pool is
/// shared); share one per process.
///
/// Failures map to [`evo_core::TransportErrorKind`]: `Connect` (refused, DNS, unreachable, proxy refused;
/// never sent), `Timeout` (connect timeout; never sent), `Tls`, `Connection` (reset, closed
/// early, truncated body), `Protocol` (malformed or oversized response head).
#[derive(Clone)]
pub struct HyperTransport {
    client: Client<Connector, Body>,
    proxy: Option<Arc<Matcher>>,
    proxy_loopback: bool,
    summary: Arc<String>,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The proxy URLs may hold credentials: only the settings summary is shown.
        write!(f, "HyperTransport({})", self.summary)
    }
}

impl Default for HyperTransport {
    fn default() -> Self {
        HyperTransport::new()
    }
}

impl HyperTransport {
    /// A transport with the defaults: webpki roots, HTTP/1.1 and h2, a 10 s connect timeout,
    /// 32 idle connections per host kept for 90 s, proxies from the environment.
    ///
    /// # Panics
    /// Never in practice: the defaults trust only the bundled webpki roots and add no
    /// certificate, the only inputs [`HyperTransportBuilder::build`] can reject.
    pub fn new() -> Self {
        HyperTransportBuilder::default()
            .build()
            .expect("the default HyperTransport settings are valid")
    }

    /// Starts building a transport.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }
}

/// Builds a [`HyperTransport`].
#[derive(Clone)]
pub struct HyperTransportBuilder {
    connect_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    pool_idle_timeout: Option<Duration>,
    webpki_roots: bool,
    native_roots: bool,
    extra_roots_pem: Vec<Vec<u8>>,
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
            webpki_roots: true,
            native_roots: false,
            extra_roots_pem: Vec::new(),
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
            .field("webpki_roots", &self.webpki_roots)
            .field("native_roots", &self.native_roots)
            .field("extra_roots", &self.extra_roots_pem.len())
            .field("http2", &self.http2)
            .field("proxy_loopback", &self.proxy_loopback)
            .finish_non_exhaustive()
    }
}

impl HyperTransportBuilder {
    /// The connect timeout (TCP, proxy tunnel and TLS) used when a request carries no
    /// [`Timeouts`] (default 10 s; `None`: no limit). A request's `Timeouts::connect`, which
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
        self.webpki_roots = enabled;
        self
    }
    /// Also trusts the platform's root certificates (default off).
    pub fn native_roots(mut self, enabled: bool) -> Self {
        self.native_roots = enabled;
        self
    }
    /// Also trusts the certificates in this PEM text (e.g. a local emulator's self-signed
    /// certificate). Checked by [`build`](Self::build).
    pub fn add_root_certificate(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.extra_roots_pem.push(pem.as_ref().to_vec());
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
        let tls = self.tls_config()?;
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

    fn tls_config(&self) -> Result<rustls::ClientConfig, Error> {
        let mut roots = rustls::RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if self.native_roots {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty()
                && let Some(first) = found.errors.first()
            {
                return Err(Error::certificate(format!(
                    "could not load the platform's root certificates: {first}"
                )));
            }
            let (_added, _ignored) = roots.add_parsable_certificates(found.certs);
        }
        for pem in &self.extra_roots_pem {
            let mut reader = pem.as_slice();
            let mut count = 0;
            for cert in rustls_pemfile::certs(&mut reader) {
                let cert = cert.map_err(|e| {
                    Error::certificate(format!("a root certificate does not parse as PEM: {e}"))
                })?;
                roots.add(cert).map_err(|e| {
                    Error::certificate(format!("a root certificate was rejected: {e}"))
                })?;
                count += 1;
            }
            if count == 0 {
                return Err(Error::certificate(
                    "add_root_certificate was given text with no PEM certificate in it",
                ));
            }
        }
        if roots.is_empty() {
            return Err(Error::certificate(
                "no root certificate is trusted: enable webpki_roots or native_roots, or add one",
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::tls(format!("cannot configure TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(config)
    }
}

/// Checks a proxy URL given to the builder: it parses and names a proxy kind this transport
/// speaks. Messages show the scheme and `host:port`, never the userinfo.
fn check_proxy_url(url: &str) -> Result<(), Error> {
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
fn warn_about_unusable_env_proxies() {
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

#[async_trait::async_trait]
impl Transport for HyperTransport {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        let (mut parts, body) = request.into_parts();
        if !matches!(parts.uri.scheme_str(), Some("http" | "https")) || parts.uri.host().is_none() {
            return Err(TransportError::new(
                evo_core::TransportErrorKind::Other,
                "the request URI must be an absolute http:// or https:// URL",
            )
            .not_sent());
        }
        let connect_timeout = parts.extensions.get::<Timeouts>().map(|t| t.connect);
        self.add_proxy_authorization(&mut parts);
        let request = Request::from_parts(parts, body);
        let sending = self.client.request(request);
        let result = match connect_timeout {
            Some(timeout) => REQUEST_CONNECT_TIMEOUT.scope(timeout, sending).await,
            None => sending.await,
        };
        match result {
            Ok(response) => Ok(response.map(into_evo_body)),
            Err(e) => Err(error::map_client_error(e)),
        }
    }
}

impl HyperTransport {
    /// A plain-HTTP request forwarded through a proxy carries the proxy's credentials.
    fn add_proxy_authorization(&self, parts: &mut http::request::Parts) {
        if parts.uri.scheme_str() != Some("http")
            || parts
                .headers
                .contains_key(http::header::PROXY_AUTHORIZATION)
        {
            return;
        }
        let Some(intercept) =
            connect::proxy_for(self.proxy.as_deref(), &parts.uri, self.proxy_loopback)
        else {
            return;
        };
        if let Some(auth) = intercept.basic_auth() {
            let mut value = auth.clone();
            value.set_sensitive(true);
            parts
                .headers
                .insert(http::header::PROXY_AUTHORIZATION, value);
        }
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

    #[tokio::test]
    async fn relative_and_non_http_uris_are_rejected_before_sending() {
        let t = HyperTransport::builder().no_proxy().build().unwrap();
        for uri in ["/relative", "ftp://host/x"] {
            let request = Request::get(uri).body(Body::empty()).unwrap();
            let err = t.send(request).await.unwrap_err();
            assert_eq!(
                err.kind(),
                evo_core::TransportErrorKind::Other,
                "{uri}: {err}"
            );
            assert!(!err.request_sent());
        }
    }

    #[test]
    fn debug_hides_proxy_credentials() {
        let t = HyperTransport::builder()
            .proxy(Some("http://user:hunter2@proxy.example:3128"), None, None)
            .build()
            .unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("explicit"), "{shown}");
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
