//! The API connector: base URL + transport + authorizer, with retries, timeouts and decoding.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::auth::{Authorizer, NoAuth};
use crate::body::Body;
use crate::error::{ApiError, DecodeError, Error, TransportError, TransportErrorKind};
use crate::read_timeout::send_with_read_timeout;
use crate::redact::redact_url;
use crate::retry::{Attempt, Failure, RetryPolicy, is_retryable_status, parse_retry_after};
use crate::transport::{Timeouts, Transport};

/// The name of the header that identifies the SDK to Evo (as the official SDK's `Evo-SDK-Source`).
pub const SDK_SOURCE_HEADER: &str = "evo-sdk-source";

/// `evo-rs@v<version>`, the default value of the [`SDK_SOURCE_HEADER`].
pub const DEFAULT_SDK_SOURCE: &str = concat!("evo-rs@v", env!("CARGO_PKG_VERSION"));

/// The default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("evo-rs/", env!("CARGO_PKG_VERSION"));

/// The largest response body decoded into memory by default (64 MiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The largest error body kept in an [`ApiError`] (1 MiB); the rest is dropped.
const MAX_ERROR_BODY_BYTES: usize = 1024 * 1024;

/// Characters escaped in a path parameter: everything but `A-Z a-z 0-9 - . _ ~`.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// As [`PATH_SEGMENT`] but keeping `/`, for parameters that are paths (`files/path/{file_path}`).
const PATH_WITH_SLASHES: &AsciiSet = &PATH_SEGMENT.remove(b'/');

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
/// ```no_run
/// # async fn demo(transport: std::sync::Arc<dyn evo_core::Transport>) -> Result<(), evo_core::Error> {
/// use evo_core::{ApiConnector, StaticTokenAuthorizer};
/// use std::sync::Arc;
///
/// let connector = ApiConnector::builder("https://hub.example/".parse().unwrap())
///     .transport(transport)
///     .authorizer(Arc::new(StaticTokenAuthorizer::new("token")))
///     .build()?;
/// let health: serde_json::Value = connector
///     .request(http::Method::GET, "/workspace/health_check")
///     .send_json()
///     .await?;
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

    /// Starts a request to `path_template` (relative to the base URL; `{name}` placeholders are
    /// filled by [`RequestBuilder::path_param`]).
    pub fn request(&self, method: Method, path_template: &str) -> RequestBuilder {
        RequestBuilder::new(
            self.clone(),
            method,
            Target::Template(path_template.to_owned()),
        )
    }

    /// Starts a request to an absolute URL (a paging link, a `Location`). Credentials are sent
    /// only when the URL has the same origin as the base URL.
    pub fn request_url(&self, method: Method, url: url::Url) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, Target::Absolute(url))
    }
}

enum Target {
    Template(String),
    Absolute(url::Url),
}

/// One request being built; finish it with one of the `send*` methods.
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    connector: ApiConnector,
    method: Method,
    target: Target,
    path_params: Vec<(String, String)>,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<Body>,
    settings: Settings,
    idempotent: Option<bool>,
    expected: Option<Vec<StatusCode>>,
    send_credentials: bool,
    invalid: Option<String>,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl RequestBuilder {
    fn new(connector: ApiConnector, method: Method, target: Target) -> Self {
        let settings = connector.inner.settings.clone();
        RequestBuilder {
            connector,
            method,
            target,
            path_params: Vec::new(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            settings,
            idempotent: None,
            expected: None,
            send_credentials: true,
            invalid: None,
        }
    }

    /// Fills `{name}` with `value`, percent-encoded as one path segment (`/` is escaped).
    pub fn path_param(mut self, name: &str, value: impl fmt::Display) -> Self {
        let encoded = utf8_percent_encode(&value.to_string(), PATH_SEGMENT).to_string();
        self.path_params.push((name.to_owned(), encoded));
        self
    }

    /// Fills `{name}` with a value that is itself a path: `/` is kept, everything else encoded.
    pub fn path_param_with_slashes(mut self, name: &str, value: impl fmt::Display) -> Self {
        let encoded = utf8_percent_encode(&value.to_string(), PATH_WITH_SLASHES).to_string();
        self.path_params.push((name.to_owned(), encoded));
        self
    }

    /// Adds a query parameter (form-encoded: space as `+`).
    pub fn query(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }

    /// Adds a query parameter when `value` is `Some`.
    pub fn query_opt<T: fmt::Display>(self, name: &str, value: Option<T>) -> Self {
        match value {
            Some(v) => self.query(name, v),
            None => self,
        }
    }

    /// Adds a list-valued query parameter in the given format. An empty list adds nothing.
    pub fn query_list<I, T>(mut self, name: &str, values: I, format: CollectionFormat) -> Self
    where
        I: IntoIterator<Item = T>,
        T: fmt::Display,
    {
        let values: Vec<String> = values.into_iter().map(|v| v.to_string()).collect();
        if values.is_empty() {
            return self;
        }
        let sep = match format {
            CollectionFormat::Multi => {
                for v in values {
                    self.query.push((name.to_owned(), v));
                }
                return self;
            }
            CollectionFormat::Csv => ",",
            CollectionFormat::Ssv => " ",
            CollectionFormat::Pipes => "|",
        };
        self.query.push((name.to_owned(), values.join(sep)));
        self
    }

    /// Sets a header (replacing a default header of the same name).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                self.headers.insert(n, v);
            }
            _ => self.invalid = Some(format!("invalid header {name:?}")),
        }
        self
    }

    /// Sends `value` as a JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                self.body = Some(Body::from(bytes));
            }
            Err(e) => self.invalid = Some(format!("request body is not valid JSON: {e}")),
        }
        self
    }

    /// Sends a raw body with the given content type.
    pub fn body(mut self, body: Body, content_type: Option<&str>) -> Self {
        if let Some(ct) = content_type {
            match HeaderValue::from_str(ct) {
                Ok(v) => {
                    self.headers.insert(CONTENT_TYPE, v);
                }
                Err(_) => self.invalid = Some(format!("invalid content type {ct:?}")),
            }
        }
        self.body = Some(body);
        self
    }

    /// Overrides the retry policy for this request.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.settings.retry = policy;
        self
    }
    /// Overrides the read timeout for this request.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.read_timeout = timeout;
        self
    }
    /// Overrides the connect timeout for this request.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }
    /// Overrides the body size limit of `send_json`/`send_bytes` for this request.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.settings.max_response_bytes = limit;
        self
    }
    /// Declares whether sending the request twice is harmless. By default GET, HEAD, PUT,
    /// DELETE, OPTIONS and TRACE are idempotent, POST and PATCH are not.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }
    /// The statuses that count as success (default: any 2xx). Others become [`Error::Api`].
    pub fn expect_status(mut self, statuses: &[StatusCode]) -> Self {
        self.expected = Some(statuses.to_vec());
        self
    }
    /// Sends no credentials (for pre-signed URLs).
    pub fn without_credentials(mut self) -> Self {
        self.send_credentials = false;
        self
    }

    fn url(&self) -> Result<url::Url, Error> {
        let mut url = match &self.target {
            Target::Absolute(url) => url.clone(),
            Target::Template(template) => {
                let mut path = template.trim_start_matches('/').to_owned();
                for (name, value) in &self.path_params {
                    let placeholder = format!("{{{name}}}");
                    if !path.contains(&placeholder) {
                        return Err(Error::invalid_request(format!(
                            "path template {template:?} has no parameter {name:?}"
                        )));
                    }
                    path = path.replace(&placeholder, value);
                }
                if let Some(start) = path.find('{')
                    && path[start..].contains('}')
                {
                    return Err(Error::invalid_request(format!(
                        "path template {template:?} has unfilled parameters"
                    )));
                }
                self.connector.inner.base_url.join(&path).map_err(|e| {
                    Error::invalid_request(format!("cannot build a URL from {template:?}: {e}"))
                })?
            }
        };
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        Ok(url)
    }

    fn is_idempotent(&self) -> bool {
        self.idempotent.unwrap_or(matches!(
            self.method,
            Method::GET
                | Method::HEAD
                | Method::PUT
                | Method::DELETE
                | Method::OPTIONS
                | Method::TRACE
        ))
    }

    /// Sends the request and returns the response with its body still streaming, once its
    /// status is one of the expected ones (default any 2xx); 401 leads to one credential
    /// refresh, retryable failures are retried per the policy, and other statuses become
    /// [`Error::Api`] with the body kept.
    pub async fn send(self) -> Result<Response<Body>, Error> {
        let expected = self.expected.clone();
        let response = self.send_unchecked().await?;
        check_status(response, expected.as_deref()).await
    }

    /// Sends the request with retries and the 401 refresh but does not judge the final
    /// status: every response is returned as it is.
    pub async fn send_unchecked(mut self) -> Result<Response<Body>, Error> {
        if let Some(message) = self.invalid.take() {
            return Err(Error::invalid_request(message));
        }
        let url = self.url()?;
        let span =
            tracing::debug_span!("evo_request", method = %self.method, url = %redact_url(&url));
        self.run(url).instrument(span).await
    }

    async fn run(mut self, url: url::Url) -> Result<Response<Body>, Error> {
        let same_origin = url.origin() == self.connector.inner.base_url.origin();
        let conditions = Conditions {
            credentials: self.send_credentials && same_origin,
            // A body that cannot be replayed is sent once: nothing is repeated after it left.
            replayable: self.body.as_ref().is_none_or(Body::is_replayable),
            body: std::sync::Mutex::new(self.body.take()),
            refreshed: AtomicBool::new(false),
        };
        let policy = self.settings.retry.clone();
        let this = &self;
        let outcome = policy
            .driver(url.host_str().unwrap_or_default())
            .idempotent(self.is_idempotent())
            .run(|attempt| {
                let (url, conditions) = (&url, &conditions);
                async move { this.attempt(attempt, url, conditions).await }
            })
            .await;
        match outcome {
            Ok(response) => Ok(response),
            Err(failed) => match failed.into_error() {
                Unanswered::Error(error) => Err(error),
                // The retries of a retryable status are used up: that answer is the response.
                Unanswered::Status(parts, body) => Ok(tag(
                    Response::from_parts(parts, Body::from(body)),
                    &self.method,
                    &url,
                )),
            },
        }
    }

    /// One attempt of [`run`](Self::run): credentials, the request, and its outcome sorted
    /// for the retry driver.
    async fn attempt(
        &self,
        attempt: Attempt,
        url: &url::Url,
        conditions: &Conditions,
    ) -> Result<Response<Body>, Failure<Unanswered>> {
        let authorizer = &self.connector.inner.authorizer;
        let auth_headers = if conditions.credentials {
            // Nothing was sent: a transient credential failure (the token endpoint answered
            // 503) is retried like any other.
            authorizer
                .headers()
                .await
                .map_err(|e| Failure::classify(e).unprocessed().map(Unanswered::Error))?
        } else {
            HeaderMap::new()
        };
        if !auth_headers.is_empty() {
            crate::plain_http::check_plain_http(
                url,
                "credentials",
                self.settings.allow_insecure_http,
            )
            .map_err(|m| Failure::fatal(Unanswered::Error(Error::invalid_request(m))))?;
        }
        let body = {
            let mut slot = conditions.body.lock().unwrap_or_else(|e| e.into_inner());
            match slot.as_ref() {
                Some(b) if b.is_replayable() => b.try_clone().unwrap_or_default(),
                Some(_) => slot.take().unwrap_or_default(),
                None => Body::empty(),
            }
        };
        let request = self
            .build_request(url, &auth_headers, body)
            .map_err(|e| Failure::fatal(Unanswered::Error(e)))?;
        tracing::debug!(attempt = attempt.number(), "sending");
        let response = match self.send_once(request).await {
            Ok(response) => response,
            Err(error) => return Err(conditions.unless_replayable(Failure::classify(error))),
        };
        authorizer.observe_response_to(&auth_headers, response.headers());
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED
            && conditions.credentials
            && conditions.replayable
            && !conditions.refreshed.swap(true, Ordering::Relaxed)
        {
            let renewed = authorizer
                .refresh(&auth_headers)
                .await
                .map_err(|e| Failure::fatal(Unanswered::Error(e)))?;
            if renewed {
                tracing::debug!("credentials refreshed after 401; sending again");
                let (parts, _) = response.into_parts();
                return Err(Failure::renewed(Unanswered::Status(parts, Bytes::new())));
            }
        }
        let wanted = self.expected.as_ref().is_some_and(|e| e.contains(&status));
        if !is_retryable_status(status) || wanted {
            return Ok(tag(response, &self.method, url));
        }
        let (parts, body) = response.into_parts();
        let body = collect_prefix(body, MAX_ERROR_BODY_BYTES).await;
        let retry_after = parse_retry_after(&parts.headers, SystemTime::now());
        let failure = Failure::transient(Unanswered::Status(parts, body)).retry_after(retry_after);
        Err(conditions.unless_replayable(failure))
    }

    fn build_request(
        &self,
        url: &url::Url,
        auth_headers: &HeaderMap,
        body: Body,
    ) -> Result<Request<Body>, Error> {
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(url.as_str())
            .body(body)
            .map_err(|e| Error::invalid_request(format!("cannot build the request: {e}")))?;
        let headers = request.headers_mut();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in &self.connector.inner.default_headers {
            headers.insert(name, value.clone());
        }
        for (name, value) in auth_headers {
            headers.insert(name, value.clone());
        }
        for (name, value) in &self.headers {
            headers.insert(name, value.clone());
        }
        request.extensions_mut().insert(Timeouts::new(
            self.settings.connect_timeout,
            self.settings.read_timeout,
        ));
        Ok(request)
    }

    /// Sends one attempt, within the read timeout when there is one (an idle timeout: see
    /// [`send_with_read_timeout`]).
    async fn send_once(&self, request: Request<Body>) -> Result<Response<Body>, Error> {
        let transport = &self.connector.inner.transport;
        Ok(match self.settings.read_timeout {
            Some(limit) => send_with_read_timeout(transport.as_ref(), request, limit).await?,
            None => transport.send(request).await?,
        })
    }

    /// Sends the request and decodes a JSON response body as `T`.
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let limit = self.settings.max_response_bytes;
        let response = self.send().await?;
        decode_json(response, limit).await
    }

    /// Sends the request and returns the whole response body.
    pub async fn send_bytes(self) -> Result<Bytes, Error> {
        let limit = self.settings.max_response_bytes;
        let response = self.send().await?;
        let status = response.status();
        read_body(response.into_body(), limit, status).await
    }

    /// Sends the request and expects no body (e.g. 204); returns the status and headers.
    /// A non-empty body is an error, so a changed API is noticed.
    pub async fn send_empty(self) -> Result<(StatusCode, HeaderMap), Error> {
        let response = self.send().await?;
        let (parts, body) = response.into_parts();
        let bytes = read_body(body, MAX_ERROR_BODY_BYTES, parts.status).await?;
        if !bytes.is_empty() {
            return Err(DecodeError::new(
                "an empty body",
                parts.status,
                format!("expected no content but got {} bytes", bytes.len()),
                &bytes,
            )
            .into());
        }
        Ok((parts.status, parts.headers))
    }
}

/// Reads a body fully, mapping stream failures to transport errors and oversize to decode errors.
async fn read_body(body: Body, limit: usize, status: StatusCode) -> Result<Bytes, Error> {
    body.collect(limit).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => {
            DecodeError::new("a body within the size limit", status, e.to_string(), b"").into()
        }
        std::io::ErrorKind::TimedOut => {
            TransportError::new(TransportErrorKind::Timeout, e.to_string()).into()
        }
        _ => TransportError::new(
            TransportErrorKind::Connection,
            format!("reading the response body failed: {e}"),
        )
        .with_source(e)
        .into(),
    })
}

/// Reads at most `limit` bytes of an error body, keeping what arrived when the body is longer
/// or breaks off (an error report should not be lost because its body was).
async fn collect_prefix(body: Body, limit: usize) -> Bytes {
    use futures_util::StreamExt;
    if let Some(bytes) = body.as_bytes() {
        return bytes.slice(..bytes.len().min(limit));
    }
    let mut stream = body.into_stream();
    let mut buf = bytes::BytesMut::new();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = limit - buf.len();
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= limit {
            break;
        }
    }
    buf.freeze()
}

/// Decodes a JSON response body as `T`, with a typed error naming `T` on failure.
pub async fn decode_json<T: DeserializeOwned>(
    response: Response<Body>,
    limit: usize,
) -> Result<T, Error> {
    let status = response.status();
    let bytes = read_body(response.into_body(), limit, status).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        DecodeError::new(std::any::type_name::<T>(), status, e.to_string(), &bytes).into()
    })
}

/// Turns a response whose status is not expected into [`Error::Api`] (body kept, up to 1 MiB).
pub async fn check_status(
    response: Response<Body>,
    expected: Option<&[StatusCode]>,
) -> Result<Response<Body>, Error> {
    let status = response.status();
    let ok = match expected {
        Some(list) => list.contains(&status),
        None => status.is_success(),
    };
    if ok {
        return Ok(response);
    }
    Err(api_error_from_response(response, None, None).await)
}

/// Builds an [`Error::Api`] from a response, reading up to 1 MiB of its body.
pub async fn api_error_from_response(
    response: Response<Body>,
    method: Option<Method>,
    url: Option<&url::Url>,
) -> Error {
    let (parts, body) = response.into_parts();
    let body = collect_prefix(body, MAX_ERROR_BODY_BYTES).await;
    let fallback: url::Url = "http://unknown.invalid/".parse().expect("static URL");
    let url = match url {
        Some(u) => u.clone(),
        None => parts
            .extensions
            .get::<RequestUrl>()
            .map(|u| u.0.clone())
            .unwrap_or(fallback),
    };
    let method = method
        .or_else(|| parts.extensions.get::<RequestMethod>().map(|m| m.0.clone()))
        .unwrap_or(Method::GET);
    ApiError::new(method, &url, parts.status, parts.headers, body).into()
}

fn tag(mut response: Response<Body>, method: &Method, url: &url::Url) -> Response<Body> {
    response.extensions_mut().insert(RequestUrl(url.clone()));
    response
        .extensions_mut()
        .insert(RequestMethod(method.clone()));
    response
}

/// What every attempt of one request shares.
struct Conditions {
    /// Credentials are sent (asked for, and the URL has the base URL's origin).
    credentials: bool,
    /// The body can be sent again.
    replayable: bool,
    /// The body; a body that cannot be replayed is taken by the attempt that sends it.
    body: std::sync::Mutex<Option<Body>>,
    /// The one credential refresh after a 401 was made.
    refreshed: AtomicBool,
}

impl Conditions {
    /// A failure after the body left cannot be retried when the body cannot be replayed.
    fn unless_replayable<E>(&self, failure: Failure<E>) -> Failure<Unanswered>
    where
        Unanswered: From<E>,
    {
        let failure = failure.map(Unanswered::from);
        if self.replayable {
            failure
        } else {
            Failure::fatal(failure.into_error())
        }
    }
}

/// Why an attempt got no response to return: an error, or a retryable status (kept with its
/// body, to be returned as the response once the retries are used up).
enum Unanswered {
    Error(Error),
    Status(http::response::Parts, Bytes),
}

impl From<Error> for Unanswered {
    fn from(error: Error) -> Self {
        Unanswered::Error(error)
    }
}

impl fmt::Display for Unanswered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unanswered::Error(error) => error.fmt(f),
            Unanswered::Status(parts, _) => write!(f, "the server answered {}", parts.status),
        }
    }
}

/// The URL of the request, kept in the response extensions for error messages.
#[derive(Debug, Clone)]
struct RequestUrl(url::Url);
/// The method of the request, kept in the response extensions for error messages.
#[derive(Debug, Clone)]
struct RequestMethod(Method);
