//! [`HyperTransport`]: the pooled client behind [`evo_core::Transport`], sending one request
//! (with the request's connect timeout and a forwarding proxy's credentials) and handing the
//! response body back as a stream.

use std::fmt;
use std::sync::Arc;

use evo_core::{Body, Timeouts, Transport, TransportError};
use http::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;

use crate::body::into_evo_body;
use crate::builder::{Connector, HyperTransportBuilder};
use crate::timeout::REQUEST_CONNECT_TIMEOUT;
use crate::{error, proxy};

/// An HTTP transport on hyper-util's pooled client and rustls. Cheap to clone (the pool is
/// shared); share one per process.
///
/// Failures map to [`evo_core::TransportErrorKind`]: `Connect` (refused, DNS, unreachable, proxy refused;
/// never sent), `Timeout` (connect timeout; never sent), `Tls`, `Connection` (reset, closed
/// early, truncated body), `Protocol` (malformed or oversized response head).
#[derive(Clone)]
pub struct HyperTransport {
    pub(crate) client: Client<Connector, Body>,
    pub(crate) proxy: Option<Arc<Matcher>>,
    pub(crate) proxy_loopback: bool,
    pub(crate) summary: Arc<String>,
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
            proxy::proxy_for(self.proxy.as_deref(), &parts.uri, self.proxy_loopback)
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
}
