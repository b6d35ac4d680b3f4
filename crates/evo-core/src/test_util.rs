//! Transports for tests (feature `test-util`).
//!
//! - [`MockTransport`]: answers from a script (in order, or matched by method and URL) and
//!   records every request (method, URL, headers, body bytes) for assertions.
//! - [`NeverTransport`]: never answers (for timeout tests).
//! - [`FailingTransport`]: always fails with a chosen [`TransportErrorKind`].
//! - [`conformance`]: checks any [`Transport`] against a local HTTP server.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use std::sync::Arc;
//! use evo_core::test_util::{MockResponse, MockTransport};
//! use evo_core::ApiConnector;
//!
//! let mock = MockTransport::new();
//! mock.on(http::Method::GET, "/items/42", MockResponse::json(200, &serde_json::json!({"id": 42})));
//! let connector = ApiConnector::builder("http://api.test/".parse().unwrap())
//!     .transport(Arc::new(mock.clone()))
//!     .build()
//!     .unwrap();
//! let item: serde_json::Value = connector
//!     .request(http::Method::GET, "/items/{id}")
//!     .path_param("id", 42)
//!     .send_json()
//!     .await
//!     .unwrap();
//! assert_eq!(item["id"], 42);
//! assert_eq!(mock.requests()[0].path(), "/items/42");
//! # }
//! ```

pub mod conformance;

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};

use crate::body::Body;
use crate::error::{TransportError, TransportErrorKind};
use crate::transport::{Timeouts, Transport};

/// One scripted answer of a [`MockTransport`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum MockReply {
    /// Answer with this response.
    Response(MockResponse),
    /// Fail with a transport error.
    Error {
        /// The kind of the error.
        kind: TransportErrorKind,
        /// Its message.
        message: String,
        /// Whether the request counts as having reached the server.
        request_sent: bool,
    },
    /// Never answer.
    Never,
}

impl MockReply {
    /// A transport error that happened after the request was (perhaps) sent.
    pub fn error(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        MockReply::Error {
            kind,
            message: message.into(),
            request_sent: true,
        }
    }
    /// A transport error that happened before any byte was sent (e.g. connection refused).
    pub fn error_not_sent(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        MockReply::Error {
            kind,
            message: message.into(),
            request_sent: false,
        }
    }
}

impl From<MockResponse> for MockReply {
    fn from(response: MockResponse) -> Self {
        MockReply::Response(response)
    }
}

/// A scripted response: status, headers, body (whole, chunked, truncated or stalling) and an
/// optional delay before the head is returned.
#[derive(Debug, Clone)]
pub struct MockResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: MockBody,
    delay: Option<Duration>,
}

#[derive(Debug, Clone)]
enum MockBody {
    Full(Bytes),
    Chunks(Vec<Bytes>),
    Truncated(Bytes),
    Stalled(Bytes),
}

impl MockResponse {
    /// A response with this status and an empty body.
    ///
    /// # Panics
    /// When `status` is not a valid HTTP status (outside 100..=999): a mistake in the test.
    pub fn new(status: u16) -> Self {
        MockResponse {
            status: StatusCode::from_u16(status)
                .unwrap_or_else(|_| panic!("MockResponse: {status} is not an HTTP status")),
            headers: HeaderMap::new(),
            body: MockBody::Full(Bytes::new()),
            delay: None,
        }
    }
    /// A response with a JSON body and `Content-Type: application/json`.
    ///
    /// # Panics
    /// When `value` cannot be serialized (a mistake in the test).
    pub fn json<T: serde::Serialize + ?Sized>(status: u16, value: &T) -> Self {
        let bytes = serde_json::to_vec(value).expect("MockResponse::json: value must serialize");
        MockResponse::new(status)
            .header("content-type", "application/json")
            .body(bytes)
    }
    /// Adds a header (repeating a name adds another value).
    ///
    /// # Panics
    /// When the name or value is not valid in a header (a mistake in the test).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|_| panic!("MockResponse: invalid header name {name:?}"));
        let value = HeaderValue::from_str(value)
            .unwrap_or_else(|_| panic!("MockResponse: invalid header value {value:?}"));
        self.headers.append(name, value);
        self
    }
    /// The whole body, held in memory.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = MockBody::Full(body.into());
        self
    }
    /// A streamed body delivered as these chunks.
    pub fn chunks<I, B>(mut self, chunks: I) -> Self
    where
        I: IntoIterator<Item = B>,
        B: Into<Bytes>,
    {
        self.body = MockBody::Chunks(chunks.into_iter().map(Into::into).collect());
        self
    }
    /// A streamed body that delivers `prefix`, then fails with
    /// [`std::io::ErrorKind::UnexpectedEof`], as a connection closed mid-body does.
    pub fn truncated(mut self, prefix: impl Into<Bytes>) -> Self {
        self.body = MockBody::Truncated(prefix.into());
        self
    }
    /// A streamed body that delivers `prefix`, then never another byte (for idle timeouts).
    pub fn stalled(mut self, prefix: impl Into<Bytes>) -> Self {
        self.body = MockBody::Stalled(prefix.into());
        self
    }
    /// Waits this long before returning the response head.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    fn into_response(self) -> Response<Body> {
        let body = match self.body {
            MockBody::Full(bytes) => Body::from(bytes),
            MockBody::Chunks(chunks) => {
                let len = chunks.iter().map(|c| c.len() as u64).sum();
                Body::from_stream(
                    futures_util::stream::iter(chunks.into_iter().map(Ok)),
                    Some(len),
                )
            }
            MockBody::Truncated(prefix) => {
                let items = vec![
                    Ok(prefix),
                    Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "mock: the connection closed before the body was complete",
                    )),
                ];
                Body::from_stream(futures_util::stream::iter(items), None)
            }
            MockBody::Stalled(prefix) => {
                use futures_util::StreamExt;
                let stream = futures_util::stream::once(async move { Ok(prefix) })
                    .chain(futures_util::stream::pending());
                Body::from_stream(stream, None)
            }
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

/// A request seen by a [`MockTransport`].
#[derive(Clone)]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The full URI.
    pub uri: Uri,
    /// The headers as sent.
    pub headers: HeaderMap,
    /// The body bytes (a streamed body is read to its end).
    pub body: Bytes,
    /// Whether the body was in memory (replayable) rather than streamed.
    pub body_was_replayable: bool,
    /// The error a streamed body ended with, if any.
    pub body_error: Option<String>,
    /// The timeouts the connector asked for.
    pub timeouts: Option<Timeouts>,
}

impl RecordedRequest {
    /// The URL as text.
    pub fn url(&self) -> String {
        self.uri.to_string()
    }
    /// The path.
    pub fn path(&self) -> &str {
        self.uri.path()
    }
    /// The raw query string, if any.
    pub fn query(&self) -> Option<&str> {
        self.uri.query()
    }
    /// The first value of a header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }
    /// The body as UTF-8 text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The body parsed as JSON.
    pub fn body_json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Headers are printed through HeaderMap's Debug, which hides sensitive values.
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field(
                "uri",
                &url::Url::parse(&self.uri.to_string())
                    .map(|u| crate::redact::redact_url(&u))
                    .unwrap_or_else(|_| self.uri.path().to_owned()),
            )
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Route {
    method: Method,
    target: String,
    replies: VecDeque<MockReply>,
    always: Option<MockReply>,
}

impl Route {
    fn matches(&self, method: &Method, uri: &Uri) -> bool {
        if self.method != *method {
            return false;
        }
        if self.target.starts_with("http://") || self.target.starts_with("https://") {
            return uri.to_string() == self.target;
        }
        if self.target.contains('?') {
            return uri.path_and_query().map(|pq| pq.as_str()) == Some(self.target.as_str());
        }
        uri.path() == self.target
    }
    fn next_reply(&mut self) -> Option<MockReply> {
        self.replies.pop_front().or_else(|| self.always.clone())
    }
}

#[derive(Debug, Default)]
struct State {
    routes: Vec<Route>,
    queue: VecDeque<MockReply>,
    requests: Vec<RecordedRequest>,
    unmatched: Vec<String>,
}

/// A scriptable transport for tests. Clones share the script and the record, so keep one
/// clone to assert on and give another to the code under test.
///
/// For each request, the first route (from [`on`](Self::on)/[`on_always`](Self::on_always))
/// that matches the method and URL and still has a reply answers; otherwise the next reply
/// queued with [`push`](Self::push); otherwise the request fails with a
/// [`TransportErrorKind::Other`] error naming it. A route's `target` is a full URL
/// (`http://…`, compared with the query), a path with a query (`/a?b=1`), or a path (`/a`,
/// any query).
#[derive(Clone, Default)]
pub struct MockTransport {
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for MockTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("MockTransport")
            .field("routes", &state.routes.len())
            .field("queued", &state.queue.len())
            .field("requests", &state.requests.len())
            .finish()
    }
}

impl MockTransport {
    /// An empty script.
    pub fn new() -> Self {
        MockTransport::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in another test thread must not hide this test's record.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a reply for the next request that no route matches (replies are used in order).
    pub fn push(&self, reply: impl Into<MockReply>) -> &Self {
        self.lock().queue.push_back(reply.into());
        self
    }

    /// Adds a one-time reply for `method` + `target`; several calls queue several replies.
    pub fn on(&self, method: Method, target: &str, reply: impl Into<MockReply>) -> &Self {
        let mut state = self.lock();
        let reply = reply.into();
        if let Some(route) = state
            .routes
            .iter_mut()
            .find(|r| r.method == method && r.target == target && r.always.is_none())
        {
            route.replies.push_back(reply);
        } else {
            state.routes.push(Route {
                method,
                target: target.to_owned(),
                replies: VecDeque::from([reply]),
                always: None,
            });
        }
        self
    }

    /// Answers every request to `method` + `target` with `reply` (after any one-time replies
    /// queued for the same route earlier).
    pub fn on_always(&self, method: Method, target: &str, reply: impl Into<MockReply>) -> &Self {
        let mut state = self.lock();
        let reply = reply.into();
        if let Some(route) = state
            .routes
            .iter_mut()
            .find(|r| r.method == method && r.target == target)
        {
            route.always = Some(reply);
        } else {
            state.routes.push(Route {
                method,
                target: target.to_owned(),
                replies: VecDeque::new(),
                always: Some(reply),
            });
        }
        self
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// The number of requests received so far.
    pub fn request_count(&self) -> usize {
        self.lock().requests.len()
    }

    /// The last request received.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.lock().requests.last().cloned()
    }

    /// The requests that found no scripted reply (`"METHOD URL"`).
    pub fn unmatched(&self) -> Vec<String> {
        self.lock().unmatched.clone()
    }

    /// How many one-time replies (queued or routed) are still unused.
    pub fn remaining_replies(&self) -> usize {
        let state = self.lock();
        state.queue.len() + state.routes.iter().map(|r| r.replies.len()).sum::<usize>()
    }

    /// Panics unless exactly `expected` requests were received.
    #[track_caller]
    pub fn assert_request_count(&self, expected: usize) {
        let requests = self.requests();
        assert_eq!(
            requests.len(),
            expected,
            "MockTransport: expected {expected} requests, got {}: {:#?}",
            requests.len(),
            requests
        );
    }

    /// Panics if any one-time reply was not used or any request found no reply.
    #[track_caller]
    pub fn assert_script_used(&self) {
        let remaining = self.remaining_replies();
        let unmatched = self.unmatched();
        assert!(
            remaining == 0 && unmatched.is_empty(),
            "MockTransport: {remaining} scripted replies unused; requests without a reply: {unmatched:?}"
        );
    }

    fn next_reply(&self, method: &Method, uri: &Uri) -> Option<MockReply> {
        let mut state = self.lock();
        for route in state.routes.iter_mut() {
            if route.matches(method, uri)
                && let Some(reply) = route.next_reply()
            {
                return Some(reply);
            }
        }
        let reply = state.queue.pop_front();
        if reply.is_none() {
            state.unmatched.push(format!("{method} {uri}"));
        }
        reply
    }
}

#[async_trait]
impl Transport for MockTransport {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        let (parts, body) = request.into_parts();
        let body_was_replayable = body.is_replayable();
        let (body, body_error) = match body.collect(usize::MAX).await {
            Ok(bytes) => (bytes, None),
            Err(e) => (Bytes::new(), Some(e.to_string())),
        };
        let reply = self.next_reply(&parts.method, &parts.uri);
        let description = format!("{} {}", parts.method, parts.uri);
        self.lock().requests.push(RecordedRequest {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
            body_was_replayable,
            body_error,
            timeouts: parts.extensions.get::<Timeouts>().copied(),
        });
        match reply {
            Some(MockReply::Response(response)) => {
                if let Some(delay) = response.delay {
                    tokio::time::sleep(delay).await;
                }
                Ok(response.into_response())
            }
            Some(MockReply::Error {
                kind,
                message,
                request_sent,
            }) => {
                let error = TransportError::new(kind, message);
                Err(if request_sent {
                    error
                } else {
                    error.not_sent()
                })
            }
            Some(MockReply::Never) => std::future::pending().await,
            None => Err(TransportError::new(
                TransportErrorKind::Other,
                format!("MockTransport has no reply scripted for {description}"),
            )
            .not_sent()),
        }
    }
}

/// A transport that accepts every request and never answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct NeverTransport;

#[async_trait]
impl Transport for NeverTransport {
    async fn send(&self, _request: Request<Body>) -> Result<Response<Body>, TransportError> {
        std::future::pending().await
    }
}

/// A transport whose every request fails with the same kind of error.
#[derive(Debug, Clone)]
pub struct FailingTransport {
    kind: TransportErrorKind,
    request_sent: bool,
    calls: Arc<std::sync::atomic::AtomicUsize>,
}

impl FailingTransport {
    /// Fails with `kind`; `request_sent` says whether the request counts as sent.
    pub fn new(kind: TransportErrorKind, request_sent: bool) -> Self {
        FailingTransport {
            kind,
            request_sent,
            calls: Arc::default(),
        }
    }
    /// A transport that always fails like a refused connection (never sent).
    pub fn connection_refused() -> Self {
        FailingTransport::new(TransportErrorKind::Connect, false)
    }
    /// How many requests it was asked to send.
    pub fn calls(&self) -> usize {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait]
impl Transport for FailingTransport {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let error = TransportError::new(
            self.kind,
            format!(
                "FailingTransport: {} {} failed",
                request.method(),
                request.uri().path()
            ),
        );
        Err(if self.request_sent {
            error
        } else {
            error.not_sent()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ApiConnector, Error, RetryPolicy};

    fn connector(mock: &MockTransport) -> ApiConnector {
        ApiConnector::builder("http://api.test/base/".parse().unwrap())
            .transport(Arc::new(mock.clone()))
            .retry_policy(RetryPolicy::default().with_initial_backoff(Duration::from_millis(1)))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn routes_win_over_the_queue_and_requests_are_recorded() {
        let mock = MockTransport::new();
        mock.push(MockResponse::new(200).body("queued"));
        mock.on(
            Method::POST,
            "/base/x",
            MockResponse::new(201).body("routed"),
        );
        let c = connector(&mock);
        let body = c
            .request(Method::POST, "x")
            .header("x-test", "1")
            .json(&serde_json::json!({"a": 1}))
            .send_bytes()
            .await
            .unwrap();
        assert_eq!(body, "routed");
        let body = c.request(Method::GET, "y").send_bytes().await.unwrap();
        assert_eq!(body, "queued");
        let requests = mock.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].method, Method::POST);
        assert_eq!(requests[0].url(), "http://api.test/base/x");
        assert_eq!(requests[0].header("x-test"), Some("1"));
        assert_eq!(
            requests[0].body_json::<serde_json::Value>().unwrap()["a"],
            1
        );
        assert!(requests[0].timeouts.is_some());
        mock.assert_script_used();
        let err = c.request(Method::GET, "z").send().await.unwrap_err();
        assert!(err.to_string().contains("no reply scripted"), "{err}");
        assert_eq!(
            mock.unmatched(),
            vec!["GET http://api.test/base/z".to_owned()]
        );
    }

    #[tokio::test]
    async fn errors_and_always_routes() {
        let mock = MockTransport::new();
        mock.on(
            Method::GET,
            "/base/a",
            MockReply::error_not_sent(TransportErrorKind::Connect, "refused"),
        );
        mock.on_always(Method::GET, "/base/a", MockResponse::new(204));
        let c = connector(&mock);
        // The refused attempt is retried and the always-route answers.
        let (status, _) = c.request(Method::GET, "a").send_empty().await.unwrap();
        assert_eq!(status, StatusCode::NO_CONTENT);
        c.request(Method::GET, "a").send_empty().await.unwrap();
        mock.assert_request_count(3);
    }

    #[tokio::test]
    async fn truncated_and_stalled_bodies() {
        let mock = MockTransport::new();
        mock.push(MockResponse::new(200).truncated(r#"{"a":"#));
        mock.push(MockResponse::new(200).stalled("x"));
        let c = connector(&mock);
        let err = c
            .request(Method::GET, "t")
            .send_json::<serde_json::Value>()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Transport(_)), "{err:?}");
        let err = c
            .request(Method::GET, "s")
            .read_timeout(Some(Duration::from_millis(50)))
            .retry_policy(RetryPolicy::none())
            .send_bytes()
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
    }

    #[tokio::test]
    async fn never_and_failing_transports() {
        let c = ApiConnector::builder("http://api.test/".parse().unwrap())
            .transport(Arc::new(NeverTransport))
            .read_timeout(Some(Duration::from_millis(30)))
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        assert!(
            c.request(Method::GET, "x")
                .send()
                .await
                .unwrap_err()
                .is_timeout()
        );
        let failing = FailingTransport::connection_refused();
        let c = ApiConnector::builder("http://api.test/".parse().unwrap())
            .transport(Arc::new(failing.clone()))
            .retry_policy(
                RetryPolicy::default()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .build()
            .unwrap();
        let err = c.request(Method::POST, "x").send().await.unwrap_err();
        assert_eq!(
            err.as_transport().unwrap().kind(),
            TransportErrorKind::Connect
        );
        assert_eq!(failing.calls(), 3, "a POST never sent is retried");
    }
}
