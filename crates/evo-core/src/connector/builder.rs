//! Making a connector: [`ApiConnectorBuilder`] and its defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue, USER_AGENT};

use super::{
    ApiConnector, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_SDK_SOURCE, DEFAULT_USER_AGENT, Inner,
    SDK_SOURCE_HEADER, Settings,
};
use crate::auth::{Authorizer, NoAuth};
use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::transport::Transport;

/// Builds an [`ApiConnector`].
pub struct ApiConnectorBuilder {
    base_url: url::Url,
    transport: Option<Arc<dyn Transport>>,
    authorizer: Arc<dyn Authorizer>,
    default_headers: HeaderMap,
    user_agent: String,
    sdk_source: String,
    settings: Settings,
    invalid: Option<String>,
}

impl fmt::Debug for ApiConnectorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiConnectorBuilder")
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl ApiConnectorBuilder {
    /// The transport (required).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }
    /// The authorizer (default: [`NoAuth`]).
    pub fn authorizer(mut self, authorizer: Arc<dyn Authorizer>) -> Self {
        self.authorizer = authorizer;
        self
    }
    /// A header sent with every request.
    pub fn default_header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                self.default_headers.insert(n, v);
            }
            _ => self.invalid = Some(format!("invalid default header {name:?}")),
        }
        self
    }
    /// The `User-Agent` (default `evo-rs/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
    /// The value of the `Evo-SDK-Source` header (default `evo-rs@v<version>`).
    pub fn sdk_source(mut self, source: impl Into<String>) -> Self {
        self.sdk_source = source.into();
        self
    }
    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.settings.retry = policy;
        self
    }
    /// The connect timeout passed to the transport (default 10 s).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }
    /// How long to wait for a response head, and between body chunks (default 60 s). While
    /// a request body is being sent, each chunk the transport takes restarts the clock, so a
    /// long upload is not cut off.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.read_timeout = timeout;
        self
    }
    /// The largest body decoded into memory (default 64 MiB).
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.settings.max_response_bytes = limit;
        self
    }
    /// Send credentials over plain `http://` to other machines (default false: a request
    /// that would carry the authorizer's headers to a non-loopback `http://` URL fails
    /// before it is sent; `https://` and loopback addresses are always allowed).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.settings.allow_insecure_http = allow;
        self
    }
    /// Builds the connector; fails when no transport was given or a header is invalid.
    pub fn build(self) -> Result<ApiConnector, Error> {
        if let Some(message) = self.invalid {
            return Err(Error::invalid_request(message));
        }
        let transport = self.transport.ok_or_else(|| {
            Error::invalid_request(
                "no transport configured: pass one with ApiConnectorBuilder::transport \
                 (evo_hyper::HyperTransport is the default implementation)",
            )
        })?;
        if !matches!(self.base_url.scheme(), "http" | "https") {
            return Err(Error::invalid_request(format!(
                "base URL must be http or https, not {:?}",
                self.base_url.scheme()
            )));
        }
        let mut headers = self.default_headers;
        let ua = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::invalid_request("invalid User-Agent"))?;
        let source = HeaderValue::from_str(&self.sdk_source)
            .map_err(|_| Error::invalid_request("invalid Evo-SDK-Source"))?;
        headers.insert(USER_AGENT, ua.clone());
        headers.insert(HeaderName::from_static(SDK_SOURCE_HEADER), source);
        let mut base_url = self.base_url;
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }
        Ok(ApiConnector {
            inner: Arc::new(Inner {
                base_url,
                transport,
                authorizer: self.authorizer,
                default_headers: headers,
                user_agent: ua,
                settings: self.settings,
            }),
        })
    }
}

impl ApiConnector {
    /// Starts building a connector for `base_url` (a hub URL, the discovery host, …).
    pub fn builder(base_url: url::Url) -> ApiConnectorBuilder {
        ApiConnectorBuilder {
            base_url,
            transport: None,
            authorizer: Arc::new(NoAuth),
            default_headers: HeaderMap::new(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            sdk_source: DEFAULT_SDK_SOURCE.to_owned(),
            settings: Settings {
                retry: RetryPolicy::default(),
                connect_timeout: Some(Duration::from_secs(10)),
                read_timeout: Some(Duration::from_secs(60)),
                max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
                allow_insecure_http: false,
            },
            invalid: None,
        }
    }
}
