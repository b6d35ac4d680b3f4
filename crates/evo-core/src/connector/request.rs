//! Building one request ([`RequestBuilder`]: path parameters, query, headers, body, per-request
//! settings) and the `send*` methods that finish it.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Response, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::response::{MAX_ERROR_BODY_BYTES, check_status, decode_json, read_body};
use super::{ApiConnector, CollectionFormat, Settings};
use crate::body::Body;
use crate::error::{DecodeError, Error};
use crate::redact::redact_url;
use crate::retry::RetryPolicy;

/// Characters escaped in a path parameter: everything but `A-Z a-z 0-9 - . _ ~`.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// As [`PATH_SEGMENT`] but keeping `/`, for parameters that are paths (`files/path/{file_path}`).
const PATH_WITH_SLASHES: &AsciiSet = &PATH_SEGMENT.remove(b'/');

pub(super) enum Target {
    Template(String),
    Absolute(url::Url),
}

/// One request being built; finish it with one of the `send*` methods.
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    pub(super) connector: ApiConnector,
    pub(super) method: Method,
    pub(super) target: Target,
    pub(super) path_params: Vec<(String, String)>,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: HeaderMap,
    pub(super) body: Option<Body>,
    pub(super) settings: Settings,
    pub(super) idempotent: Option<bool>,
    pub(super) expected: Option<Vec<StatusCode>>,
    pub(super) send_credentials: bool,
    pub(super) invalid: Option<String>,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl ApiConnector {
    /// Starts a request to `path_template` (relative to the base URL; `{name}` placeholders are
    /// filled by [`RequestBuilder::path_param`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), evo_core::Error> {
    /// use std::sync::Arc;
    /// use evo_core::http::{Method, Request, Response};
    /// use evo_core::{ApiConnector, Body, transport_fn};
    ///
    /// // A transport that answers with the URL it was asked for.
    /// let transport = transport_fn(|request: Request<Body>| async move {
    ///     Ok(Response::new(Body::from_bytes(request.uri().to_string())))
    /// });
    /// let connector = ApiConnector::builder("https://evo.example/api".parse().unwrap())
    ///     .transport(Arc::new(transport))
    ///     .build()?;
    /// let url = connector
    ///     .request(Method::GET, "/workspace/orgs/{org_id}/workspaces")
    ///     .path_param("org_id", "a b/c")
    ///     .query("limit", 10)
    ///     .send_bytes()
    ///     .await?;
    /// assert_eq!(
    ///     &url[..],
    ///     b"https://evo.example/api/workspace/orgs/a%20b%2Fc/workspaces?limit=10"
    /// );
    /// # Ok(()) }
    /// ```
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

    pub(super) fn is_idempotent(&self) -> bool {
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

    /// Sends the request and decodes a JSON response body as `T`.
    ///
    /// A body that is not `T` is an [`Error::Decode`] naming `T`; a status that is not
    /// expected is an [`Error::Api`], as with [`send`](Self::send).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), evo_core::Error> {
    /// use std::sync::Arc;
    /// use evo_core::http::{Method, Request, Response};
    /// use evo_core::{ApiConnector, Body, transport_fn};
    ///
    /// // A transport that answers every request with the same JSON body.
    /// let transport = transport_fn(|_: Request<Body>| async move {
    ///     Ok(Response::builder()
    ///         .status(200)
    ///         .header("content-type", "application/json")
    ///         .body(Body::from_bytes(r#"{"name": "Pit A", "depth": 120.5}"#))
    ///         .unwrap())
    /// });
    /// let connector = ApiConnector::builder("https://evo.example/".parse().unwrap())
    ///     .transport(Arc::new(transport))
    ///     .build()?;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Pit {
    ///     name: String,
    ///     depth: f64,
    /// }
    /// let pit: Pit = connector.request(Method::GET, "/pits/a").send_json().await?;
    /// assert_eq!((pit.name.as_str(), pit.depth), ("Pit A", 120.5));
    ///
    /// // The same body read as a type it is not: a decode error that names the type.
    /// let wrong = connector.request(Method::GET, "/pits/a").send_json::<Vec<u32>>().await;
    /// assert!(matches!(wrong, Err(evo_core::Error::Decode(_))));
    /// # Ok(()) }
    /// ```
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
