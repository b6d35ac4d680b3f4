//! Where and how to open Sync API sessions, and the setters of those settings that
//! [`SyncEndpointBuilder`] and [`SocketIoSourceBuilder`](super::SocketIoSourceBuilder) share.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;

/// How many bytes (of JSON text) of `sync` events may wait, by default: a few huge payloads
/// must not grow memory without bound either.
pub const DEFAULT_MAX_HELD_BACK_BYTES: usize = 32 << 20;

/// Where and how to open sessions: the WebSocket URL, namespace, auth field, timeouts, TLS.
#[derive(Clone)]
pub struct SyncEndpoint {
    pub(super) url: url::Url,
    pub(super) namespace: String,
    pub(super) auth_field: String,
    pub(super) connect_timeout: Duration,
    pub(super) ack_timeout: Duration,
    pub(super) max_held_back_bytes: usize,
    pub(super) tls: Option<Arc<rustls::ClientConfig>>,
    pub(super) user_agent: http::HeaderValue,
}

impl fmt::Debug for SyncEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncEndpoint")
            .field("url", &self.url.as_str())
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// Builds a [`SyncEndpoint`].
#[derive(Debug, Clone)]
pub struct SyncEndpointBuilder {
    pub(super) base_url: String,
    pub(super) settings: EndpointSettings,
}

/// What the setters of [`endpoint_setters!`] set, with their defaults.
#[derive(Debug, Clone)]
pub(super) struct EndpointSettings {
    pub(super) path: String,
    pub(super) namespace: String,
    pub(super) auth_field: String,
    pub(super) connect_timeout: Duration,
    pub(super) ack_timeout: Duration,
    pub(super) max_held_back_bytes: usize,
    pub(super) extra_roots_pem: Vec<String>,
    pub(super) user_agent: String,
}

impl Default for EndpointSettings {
    fn default() -> Self {
        EndpointSettings {
            path: "/sync/io".to_owned(),
            namespace: "/".to_owned(),
            auth_field: "JWT".to_owned(),
            connect_timeout: Duration::from_secs(10),
            ack_timeout: Duration::from_secs(30),
            max_held_back_bytes: DEFAULT_MAX_HELD_BACK_BYTES,
            extra_roots_pem: Vec::new(),
            user_agent: evo_core::DEFAULT_USER_AGENT.to_owned(),
        }
    }
}

/// The setters of the endpoint settings, for a builder `$t` whose field `$($settings).+` is
/// an [`EndpointSettings`]: [`SyncEndpointBuilder`] and
/// [`SocketIoSourceBuilder`](super::SocketIoSourceBuilder) set the same things the same way.
macro_rules! endpoint_setters {
    ($t:ty, $($settings:ident).+) => {
        impl $t {
            /// The Socket.IO path (default `/sync/io`, Unicat's; plain Socket.IO servers use
            /// `/socket.io`).
            #[must_use]
            pub fn path(mut self, path: impl Into<String>) -> Self {
                self.$($settings).+.path = path.into();
                self
            }

            /// The Socket.IO namespace (default `/`).
            #[must_use]
            pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
                self.$($settings).+.namespace = namespace.into();
                self
            }

            /// The field of the `CONNECT` auth object (and of `authorization` events) that
            /// carries the token (default `JWT`).
            #[must_use]
            pub fn auth_field(mut self, field: impl Into<String>) -> Self {
                self.$($settings).+.auth_field = field.into();
                self
            }

            /// How long opening the connection and the handshakes may take (default 10 s).
            #[must_use]
            pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
                self.$($settings).+.connect_timeout = timeout;
                self
            }

            /// How long to wait for the `initsync` acknowledgement (default 30 s).
            #[must_use]
            pub fn ack_timeout(mut self, timeout: std::time::Duration) -> Self {
                self.$($settings).+.ack_timeout = timeout;
                self
            }

            /// How many bytes of `sync` events (their JSON text) may be held back while the
            /// catch-up or a snapshot load is pending (default
            /// [`DEFAULT_MAX_HELD_BACK_BYTES`](crate::socketio::DEFAULT_MAX_HELD_BACK_BYTES));
            /// beyond that the session fails and the next one resumes from the applied
            /// cursors. At most 10,000 events are held back, whatever their size.
            #[must_use]
            pub fn max_held_back_bytes(mut self, bytes: usize) -> Self {
                self.$($settings).+.max_held_back_bytes = bytes;
                self
            }

            /// Also trusts the CA certificates in `pem` for `https`/`wss` URLs (besides the
            /// public web PKI roots), e.g. a private CA or a test certificate.
            #[must_use]
            pub fn trust_root_certificates_pem(mut self, pem: impl Into<String>) -> Self {
                self.$($settings).+.extra_roots_pem.push(pem.into());
                self
            }

            /// The `User-Agent` of the WebSocket upgrade request (default
            /// [`evo_core::DEFAULT_USER_AGENT`], `evo-rs/<version>`).
            #[must_use]
            pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
                self.$($settings).+.user_agent = user_agent.into();
                self
            }
        }
    };
}

pub(super) use endpoint_setters;

impl SyncEndpoint {
    /// Starts building an endpoint for the server at `base_url` (`http(s)://host:port`; any
    /// path or query is replaced).
    pub fn builder(base_url: impl Into<String>) -> SyncEndpointBuilder {
        SyncEndpointBuilder {
            base_url: base_url.into(),
            settings: EndpointSettings::default(),
        }
    }

    /// The WebSocket URL dialled (it never carries credentials).
    pub fn url(&self) -> &url::Url {
        &self.url
    }
}

endpoint_setters!(SyncEndpointBuilder, settings);

impl SyncEndpointBuilder {
    /// Checks the configuration and builds the endpoint.
    pub fn build(self) -> Result<SyncEndpoint, Error> {
        let invalid = |message: String| Error::InvalidConfig { message };
        let settings = self.settings;
        let user_agent = http::HeaderValue::from_str(&settings.user_agent)
            .map_err(|_| invalid(format!("invalid User-Agent {:?}", settings.user_agent)))?;
        let mut url = url::Url::parse(&self.base_url)
            .map_err(|e| invalid(format!("base URL {:?}: {e}", self.base_url)))?;
        let scheme = match url.scheme() {
            "http" | "ws" => "ws",
            "https" | "wss" => "wss",
            other => return Err(invalid(format!("unsupported URL scheme {other:?}"))),
        };
        let tls = if scheme == "wss" {
            Some(tls_config(&settings.extra_roots_pem).map_err(invalid)?)
        } else {
            None
        };
        url.set_scheme(scheme)
            .map_err(|()| invalid("cannot use a WebSocket scheme for this URL".to_owned()))?;
        let path = settings.path.trim_matches('/');
        if path.is_empty() {
            return Err(invalid("the Socket.IO path is empty".to_owned()));
        }
        url.set_path(&format!("/{path}/"));
        url.set_query(Some("EIO=4&transport=websocket"));
        url.set_fragment(None);
        let _ = url.set_username("");
        let _ = url.set_password(None);
        if !settings.namespace.starts_with('/') {
            return Err(invalid(format!(
                "namespace {:?} must start with '/'",
                settings.namespace
            )));
        }
        Ok(SyncEndpoint {
            url,
            namespace: settings.namespace,
            auth_field: settings.auth_field,
            connect_timeout: settings.connect_timeout,
            ack_timeout: settings.ack_timeout,
            max_held_back_bytes: settings.max_held_back_bytes,
            tls,
            user_agent,
        })
    }
}

/// A rustls client configuration trusting the web PKI roots and `extra_pem`: evo-hyper's, so
/// the WebSocket trusts the same roots the same way as every other connection of evo-rs.
fn tls_config(extra_pem: &[String]) -> Result<Arc<rustls::ClientConfig>, String> {
    extra_pem
        .iter()
        .fold(evo_hyper::RootStoreBuilder::new(), |roots, pem| {
            roots.add_root_certificate(pem)
        })
        .client_config()
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls() {
        let e = SyncEndpoint::builder("http://u:p@127.0.0.1:1/ignored?x=1")
            .build()
            .unwrap();
        assert_eq!(
            e.url().as_str(),
            "ws://127.0.0.1:1/sync/io/?EIO=4&transport=websocket"
        );
        assert!(SyncEndpoint::builder("ftp://x").build().is_err());
        assert!(SyncEndpoint::builder("http://x").path("/").build().is_err());
        assert!(
            SyncEndpoint::builder("http://x")
                .namespace("n")
                .build()
                .is_err()
        );
        let tls = SyncEndpoint::builder("https://127.0.0.1:1")
            .build()
            .unwrap();
        assert!(tls.url().as_str().starts_with("wss://"));
    }
}
