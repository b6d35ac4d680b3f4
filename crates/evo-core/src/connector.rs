//! The API connector: base URL + transport + authorizer, with retries, timeouts and decoding.
//!
//! What lives where: this file holds the connector itself ([`ApiConnector`], the settings it
//! shares with every request, the identification headers); `builder` makes one; `request`
//! builds a request and finishes it with a `send*` method; `attempt` sends it, one attempt
//! at a time under the retry driver of [`crate::retry`] (where retries happen); `response`
//! reads the answer's body and turns an unexpected status into [`Error::Api`].

mod attempt;
mod builder;
mod request;
mod response;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use http::header::HeaderValue;

use crate::auth::Authorizer;
use crate::environment::Environment;
use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::transport::Transport;
pub use builder::ApiConnectorBuilder;
pub use request::RequestBuilder;
pub use response::{api_error_from_response, check_status, decode_json};

/// The name of the header that identifies the SDK to Evo (as the official SDK's `Evo-SDK-Source`).
pub const SDK_SOURCE_HEADER: &str = "evo-sdk-source";

/// `evo-rs@v<version>`, the default value of the [`SDK_SOURCE_HEADER`].
pub const DEFAULT_SDK_SOURCE: &str = concat!("evo-rs@v", env!("CARGO_PKG_VERSION"));

/// The default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("evo-rs/", env!("CARGO_PKG_VERSION"));

/// The largest response body decoded into memory by default (64 MiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// How a list-valued query parameter is put in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CollectionFormat {
    /// The key repeated for each value: `?a=1&a=2`.
    Multi,
    /// Comma-separated: `?a=1,2`.
    #[default]
    Csv,
    /// Space-separated: `?a=1 2`.
    Ssv,
    /// Pipe-separated: `?a=1|2`.
    Pipes,
}
/// Settings that apply to every request of a connector, each overridable per request.
#[derive(Debug, Clone)]
struct Settings {
    retry: RetryPolicy,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    max_response_bytes: usize,
    allow_insecure_http: bool,
}

struct Inner {
    base_url: url::Url,
    transport: Arc<dyn Transport>,
    authorizer: Arc<dyn Authorizer>,
    default_headers: HeaderMap,
    user_agent: HeaderValue,
    settings: Settings,
}

/// Sends requests to one Evo API host: builds URLs, adds credentials and identification
/// headers, retries, applies timeouts and decodes responses. Cheap to clone.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), evo_core::Error> {
/// use evo_core::http::{Request, Response};
/// use evo_core::{ApiConnector, Body, StaticTokenAuthorizer, transport_fn};
/// use std::sync::Arc;
///
/// // A transport that answers with the credentials it was sent (any `Transport` will do:
/// // evo-hyper's `HyperTransport` for real servers).
/// let transport = transport_fn(|request: Request<Body>| async move {
///     let auth = request.headers()["authorization"].to_str().unwrap().to_owned();
///     let body = serde_json::json!({ "auth": auth }).to_string();
///     Ok(Response::builder()
///         .header("content-type", "application/json")
///         .body(Body::from_bytes(body))
///         .unwrap())
/// });
/// let connector = ApiConnector::builder("https://hub.example/".parse().unwrap())
///     .transport(Arc::new(transport))
///     .authorizer(Arc::new(StaticTokenAuthorizer::new("token")))
///     .build()?;
/// let answer: serde_json::Value = connector
///     .request(http::Method::GET, "/workspace/health_check")
///     .send_json()
///     .await?;
/// assert_eq!(answer["auth"], "Bearer token");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ApiConnector {
    inner: Arc<Inner>,
}

impl fmt::Debug for ApiConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiConnector")
            .field("base_url", &self.inner.base_url.as_str())
            .field("transport", &self.inner.transport)
            .field("authorizer", &self.inner.authorizer)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl ApiConnector {
    /// The `User-Agent` this connector sends. Service clients give it to what sends requests
    /// outside the connector (evo-io's blob transfers), so that every request names the same
    /// application.
    pub fn user_agent(&self) -> &HeaderValue {
        &self.inner.user_agent
    }

    /// The base URL, always ending in `/`.
    pub fn base_url(&self) -> &url::Url {
        &self.inner.base_url
    }
    /// The transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.inner.transport
    }
    /// The authorizer.
    pub fn authorizer(&self) -> &Arc<dyn Authorizer> {
        &self.inner.authorizer
    }
    /// The default retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.settings.retry
    }
    /// The default read timeout.
    pub fn read_timeout(&self) -> Option<Duration> {
        self.inner.settings.read_timeout
    }
    /// The default connect timeout.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.inner.settings.connect_timeout
    }

    /// This connector aimed at the hub of `environment`: itself when its base URL is already
    /// the hub URL, else the same connector for the hub URL ([`with_base_url`](Self::with_base_url)).
    /// What every service client's builder does with the connector it is given.
    ///
    /// ```
    /// # fn main() -> Result<(), evo_core::Error> {
    /// use std::sync::Arc;
    /// use evo_core::{ApiConnector, Body, Environment, transport_fn, uuid::Uuid};
    ///
    /// // A transport that is never asked anything here.
    /// let transport = transport_fn(|_: evo_core::http::Request<Body>| async {
    ///     Ok(evo_core::http::Response::new(Body::empty()))
    /// });
    /// let connector = ApiConnector::builder("https://discovery.example/".parse().unwrap())
    ///     .transport(Arc::new(transport))
    ///     .build()?;
    /// let hub = "https://hub.example/".parse().unwrap();
    /// let environment = Environment::new(hub, Uuid::nil(), Uuid::nil());
    /// let connector = connector.for_environment(&environment)?;
    /// assert_eq!(connector.base_url(), &environment.hub_url);
    /// # Ok(()) }
    /// ```
    pub fn for_environment(self, environment: &Environment) -> Result<ApiConnector, Error> {
        if self.base_url() == &environment.hub_url {
            Ok(self)
        } else {
            self.with_base_url(environment.hub_url.clone())
        }
    }

    /// The same connector (transport, authorizer, headers, settings) for another base URL,
    /// e.g. the hub URL found by discovery.
    pub fn with_base_url(&self, base_url: url::Url) -> Result<ApiConnector, Error> {
        let mut url = base_url;
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(ApiConnector {
            inner: Arc::new(Inner {
                base_url: url,
                transport: self.inner.transport.clone(),
                authorizer: self.inner.authorizer.clone(),
                default_headers: self.inner.default_headers.clone(),
                user_agent: self.inner.user_agent.clone(),
                settings: self.inner.settings.clone(),
            }),
        })
    }
}
