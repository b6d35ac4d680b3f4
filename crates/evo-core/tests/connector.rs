//! ApiConnector behaviour, driven through the `test-util` MockTransport.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use evo_core::test_util::{MockReply, MockResponse, MockTransport};
use evo_core::{
    ApiConnector, Authorizer, Body, Error, RetryBudget, RetryPolicy, StaticTokenAuthorizer,
    TransportErrorKind, bearer_header,
};
use http::header::AUTHORIZATION;
use http::{HeaderMap, Method, StatusCode};

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

fn connector(mock: &MockTransport) -> ApiConnector {
    ApiConnector::builder("https://api.test/v1".parse().unwrap())
        .transport(Arc::new(mock.clone()))
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

#[tokio::test]
async fn building_needs_a_transport_and_an_http_url() {
    let err = ApiConnector::builder("https://api.test/".parse().unwrap())
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(err.to_string().contains("transport"), "{err}");
    let err = ApiConnector::builder("ftp://api.test/".parse().unwrap())
        .transport(Arc::new(MockTransport::new()))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("http"), "{err}");
    let err = ApiConnector::builder("https://api.test/".parse().unwrap())
        .transport(Arc::new(MockTransport::new()))
        .default_header("bad header", "x")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
}

#[tokio::test]
async fn urls_headers_and_json_bodies() {
    let mock = MockTransport::new();
    mock.push(MockResponse::json(200, &serde_json::json!({"ok": true})));
    let c = ApiConnector::builder("https://api.test/v1".parse().unwrap())
        .transport(Arc::new(mock.clone()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new("tok")))
        .default_header("x-default", "d")
        .default_header("x-replaced", "old")
        .build()
        .unwrap();
    assert_eq!(c.base_url().as_str(), "https://api.test/v1/");
    let _: serde_json::Value = c
        .request(Method::POST, "/orgs/{org}/things")
        .path_param("org", "a/b")
        .query("q", "x y")
        .header("x-replaced", "new")
        .json(&serde_json::json!({"name": "n"}))
        .send_json()
        .await
        .unwrap();
    let r = mock.last_request().unwrap();
    assert_eq!(r.url(), "https://api.test/v1/orgs/a%2Fb/things?q=x+y");
    assert_eq!(r.header("authorization"), Some("Bearer tok"));
    assert_eq!(r.header("x-default"), Some("d"));
    assert_eq!(r.header("x-replaced"), Some("new"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(r.header("user-agent"), Some(evo_core::DEFAULT_USER_AGENT));
    assert_eq!(
        r.header("evo-sdk-source"),
        Some(evo_core::DEFAULT_SDK_SOURCE)
    );
    assert_eq!(r.body_json::<serde_json::Value>().unwrap()["name"], "n");
}

#[tokio::test]
async fn path_template_mistakes_are_invalid_requests_not_sent() {
    let mock = MockTransport::new();
    let c = connector(&mock);
    let err = c.request(Method::GET, "/a/{id}").send().await.unwrap_err();
    assert!(err.to_string().contains("unfilled"), "{err}");
    let err = c
        .request(Method::GET, "/a/{id}")
        .path_param("other", 1)
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("other"), "{err}");
    let err = c
        .request(Method::GET, "/a")
        .header("x", "bad\nvalue")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    mock.assert_request_count(0);
}

#[tokio::test]
async fn credentials_go_only_to_the_base_origin() {
    let mock = MockTransport::new();
    mock.push(MockResponse::new(204));
    mock.push(MockResponse::new(204));
    mock.push(MockResponse::new(204));
    let c = ApiConnector::builder("https://api.test/".parse().unwrap())
        .transport(Arc::new(mock.clone()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new("tok")))
        .build()
        .unwrap();
    c.request_url(Method::GET, "https://api.test/next?page=2".parse().unwrap())
        .send_empty()
        .await
        .unwrap();
    c.request_url(Method::GET, "https://blob.test/x?sig=s".parse().unwrap())
        .send_empty()
        .await
        .unwrap();
    c.request(Method::GET, "/presigned")
        .without_credentials()
        .send_empty()
        .await
        .unwrap();
    let requests = mock.requests();
    assert!(requests[0].header("authorization").is_some());
    assert!(requests[1].header("authorization").is_none());
    assert!(requests[2].header("authorization").is_none());
}

/// Refreshes when the rejected token is the current one; counts token requests.
#[derive(Debug, Default)]
struct RotatingAuthorizer {
    version: std::sync::Mutex<u32>,
    lock: tokio::sync::Mutex<()>,
    refreshes: AtomicUsize,
    observed: AtomicUsize,
}

#[async_trait]
impl Authorizer for RotatingAuthorizer {
    async fn headers(&self) -> Result<HeaderMap, Error> {
        let mut h = HeaderMap::new();
        let v = *self.version.lock().unwrap();
        h.insert(AUTHORIZATION, bearer_header(&format!("t{v}"))?);
        Ok(h)
    }
    async fn refresh(&self, rejected: &HeaderMap) -> Result<bool, Error> {
        let _g = self.lock.lock().await;
        let v = *self.version.lock().unwrap();
        if rejected
            .get(AUTHORIZATION)
            .is_some_and(|h| h != format!("Bearer t{v}").as_str())
        {
            return Ok(true);
        }
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        *self.version.lock().unwrap() += 1;
        Ok(true)
    }
    fn observe_response(&self, _headers: &HeaderMap) {
        self.observed.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_401_refreshes_once_and_resends_with_the_new_token() {
    let mock = MockTransport::new();
    mock.push(MockResponse::new(401));
    mock.push(MockResponse::json(200, &serde_json::json!([])));
    let auth = Arc::new(RotatingAuthorizer::default());
    let c = ApiConnector::builder("https://api.test/".parse().unwrap())
        .transport(Arc::new(mock.clone()))
        .authorizer(auth.clone())
        .build()
        .unwrap();
    let v: Vec<u32> = c.request(Method::GET, "/x").send_json().await.unwrap();
    assert!(v.is_empty());
    let requests = mock.requests();
    assert_eq!(requests[0].header("authorization"), Some("Bearer t0"));
    assert_eq!(requests[1].header("authorization"), Some("Bearer t1"));
    assert_eq!(auth.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(auth.observed.load(Ordering::SeqCst), 2);
}

/// Records, for each response, the `Authorization` its request carried.
#[derive(Debug, Default)]
struct PairingAuthorizer {
    pairs: std::sync::Mutex<Vec<(Option<String>, Option<String>)>>,
}

#[async_trait]
impl Authorizer for PairingAuthorizer {
    async fn headers(&self) -> Result<HeaderMap, Error> {
        let n = self.pairs.lock().unwrap().len();
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, bearer_header(&format!("t{n}"))?);
        Ok(h)
    }
    async fn refresh(&self, _rejected: &HeaderMap) -> Result<bool, Error> {
        Ok(true)
    }
    fn observe_response_to(&self, sent: &HeaderMap, response: &HeaderMap) {
        let text = |h: &HeaderMap, name: &str| h.get(name).map(|v| v.to_str().unwrap().to_owned());
        self.pairs
            .lock()
            .unwrap()
            .push((text(sent, "authorization"), text(response, "x-rotated")));
    }
}

#[tokio::test]
async fn every_response_is_observed_with_the_credentials_its_request_sent() {
    let mock = MockTransport::new();
    mock.push(MockResponse::new(401).header("x-rotated", "a"));
    mock.push(MockResponse::json(200, &serde_json::json!([])).header("x-rotated", "b"));
    let auth = Arc::new(PairingAuthorizer::default());
    let c = ApiConnector::builder("https://api.test/".parse().unwrap())
        .transport(Arc::new(mock.clone()))
        .authorizer(auth.clone())
        .build()
        .unwrap();
    let _: Vec<u32> = c.request(Method::GET, "/x").send_json().await.unwrap();
    let pairs = auth.pairs.lock().unwrap().clone();
    assert_eq!(
        pairs,
        vec![
            (Some("Bearer t0".to_owned()), Some("a".to_owned())),
            (Some("Bearer t1".to_owned()), Some("b".to_owned())),
        ]
    );
}

#[tokio::test]
async fn a_401_with_a_streamed_body_is_returned_not_resent() {
    let mock = MockTransport::new();
    mock.push(MockResponse::new(401));
    let auth = Arc::new(RotatingAuthorizer::default());
    let c = ApiConnector::builder("https://api.test/".parse().unwrap())
        .transport(Arc::new(mock.clone()))
        .authorizer(auth.clone())
        .build()
        .unwrap();
    let body = Body::from_stream(
        futures_util::stream::iter([Ok(bytes::Bytes::from_static(b"data"))]),
        Some(4),
    );
    let err = c
        .request(Method::PUT, "/x")
        .body(body, None)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
    mock.assert_request_count(1);
}

#[tokio::test]
async fn retryable_statuses_are_retried_up_to_the_attempt_limit() {
    let mock = MockTransport::new();
    for status in [429, 502, 504] {
        mock.push(MockResponse::new(status));
    }
    mock.push(MockResponse::new(200).body("done"));
    let c = connector(&mock);
    let body = c.request(Method::GET, "/x").send_bytes().await.unwrap();
    assert_eq!(body, "done");
    mock.assert_request_count(4);

    let mock = MockTransport::new();
    mock.on_always(Method::GET, "/v1/x", MockResponse::new(503).body("busy"));
    let c = connector(&mock);
    let err = c
        .request(Method::GET, "/x")
        .retry_policy(fast_retries().with_max_attempts(3))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.as_api().unwrap().body().as_ref(), b"busy");
    mock.assert_request_count(3);
}

#[tokio::test]
async fn a_shared_retry_budget_stops_retries_to_a_failing_host_for_every_client() {
    let mock = MockTransport::new();
    mock.on_always(Method::GET, "/v1/down", MockResponse::new(503));
    mock.on_always(Method::GET, "/v1/up", MockResponse::new(200));
    // 3 retries' worth of tokens, shared by two clients of the same host.
    let budget = RetryBudget::new(15);
    let client = |policy: RetryPolicy| {
        ApiConnector::builder("https://api.test/v1".parse().unwrap())
            .transport(Arc::new(mock.clone()))
            .retry_policy(policy.with_max_attempts(10).with_budget(budget.clone()))
            .build()
            .unwrap()
    };
    let (first, second) = (client(fast_retries()), client(fast_retries()));
    let err = first
        .request(Method::GET, "/down")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    mock.assert_request_count(4); // 1 attempt + the 3 retries the budget held
    assert_eq!(budget.available("api.test"), 0);
    second
        .request(Method::GET, "/down")
        .send()
        .await
        .unwrap_err();
    mock.assert_request_count(5); // no retry left: one attempt only
    // Successes refill the bucket and retries come back.
    for _ in 0..5 {
        second.request(Method::GET, "/up").send().await.unwrap();
    }
    assert_eq!(budget.available("api.test"), 5);
    mock.assert_request_count(10);
    first
        .request(Method::GET, "/down")
        .send()
        .await
        .unwrap_err();
    mock.assert_request_count(12); // one retry's worth
}

#[tokio::test]
async fn non_retryable_statuses_and_expected_statuses_are_not_retried() {
    let mock = MockTransport::new();
    mock.on_always(Method::GET, "/v1/x", MockResponse::new(404));
    mock.on_always(
        Method::GET,
        "/v1/health",
        MockResponse::new(503).body("down"),
    );
    let c = connector(&mock);
    assert!(
        c.request(Method::GET, "/x")
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
    mock.assert_request_count(1);
    let r = c
        .request(Method::GET, "/health")
        .expect_status(&[StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    mock.assert_request_count(2);
}

#[tokio::test]
async fn a_post_is_retried_only_when_never_sent_unless_declared_idempotent() {
    let mock = MockTransport::new();
    mock.push(MockReply::error(TransportErrorKind::Connection, "reset"));
    let c = connector(&mock);
    let err = c.request(Method::POST, "/x").send().await.unwrap_err();
    assert_eq!(
        err.as_transport().unwrap().kind(),
        TransportErrorKind::Connection
    );
    mock.assert_request_count(1);

    let mock = MockTransport::new();
    mock.push(MockReply::error_not_sent(
        TransportErrorKind::Connect,
        "refused",
    ));
    mock.push(MockResponse::new(201));
    let c = connector(&mock);
    c.request(Method::POST, "/x").send().await.unwrap();
    mock.assert_request_count(2);

    let mock = MockTransport::new();
    mock.push(MockReply::error(TransportErrorKind::Connection, "reset"));
    mock.push(MockResponse::new(200));
    let c = connector(&mock);
    c.request(Method::POST, "/search")
        .idempotent(true)
        .send()
        .await
        .unwrap();
    mock.assert_request_count(2);
}

#[tokio::test]
async fn large_error_bodies_are_kept_up_to_a_mebibyte() {
    let mock = MockTransport::new();
    mock.push(MockResponse::new(400).chunks(vec![vec![b'e'; 700_000], vec![b'f'; 700_000]]));
    let c = connector(&mock);
    let err = c.request(Method::GET, "/x").send().await.unwrap_err();
    let api = err.as_api().unwrap();
    assert_eq!(api.body().len(), 1024 * 1024);
    assert!(api.body().starts_with(b"eee"));
}

#[tokio::test]
async fn the_read_timeout_waits_while_the_upload_makes_progress() {
    // A transport that takes one chunk every 50 ms (a slow link), then answers: the upload
    // takes far longer than the 150 ms read timeout but never stalls for that long.
    let transport = evo_core::transport_fn(|request: http::Request<Body>| async move {
        use futures_util::StreamExt;
        let mut stream = request.into_body().into_stream();
        let mut total = 0;
        while let Some(chunk) = stream.next().await {
            total += chunk.unwrap().len();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(http::Response::new(Body::from(total.to_string())))
    });
    let c = ApiConnector::builder("https://api.test/".parse().unwrap())
        .transport(Arc::new(transport))
        .read_timeout(Some(Duration::from_millis(150)))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let chunks = (0..12).map(|_| Ok(bytes::Bytes::from(vec![1u8; 256 * 1024])));
    let answer = c
        .request(Method::PUT, "/blob")
        .body(
            Body::from_stream(futures_util::stream::iter(chunks), None),
            None,
        )
        .send_bytes()
        .await
        .unwrap();
    assert_eq!(answer, (3 * 1024 * 1024).to_string());
    // A large in-memory body is handed over in slices, so its progress is seen too.
    let answer = c
        .request(Method::PUT, "/blob")
        .body(Body::from(vec![1u8; 3 * 1024 * 1024]), None)
        .send_bytes()
        .await
        .unwrap();
    assert_eq!(answer, (3 * 1024 * 1024).to_string());

    // Once the body is taken, silence is measured again.
    let c = ApiConnector::builder("https://api.test/".parse().unwrap())
        .transport(Arc::new(evo_core::test_util::NeverTransport))
        .read_timeout(Some(Duration::from_millis(100)))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c
        .request(Method::PUT, "/blob")
        .body(Body::from(vec![0u8; 2 * 1024 * 1024]), None)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let mock = MockTransport::new();
    mock.push(MockResponse::new(429).header("retry-after", "1"));
    mock.push(MockResponse::new(204));
    let c = connector(&mock);
    let started = std::time::Instant::now();
    c.request(Method::GET, "/x").send_empty().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
}

/// Fails to produce credentials `failures` times (transiently), then succeeds.
#[derive(Debug)]
struct FlakyAuthorizer {
    failures: AtomicUsize,
}

#[async_trait]
impl Authorizer for FlakyAuthorizer {
    async fn headers(&self) -> Result<HeaderMap, Error> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(evo_core::AuthError::new("token endpoint answered 503")
                .retryable(true)
                .into());
        }
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, bearer_header("ok")?);
        Ok(h)
    }
    async fn refresh(&self, _rejected: &HeaderMap) -> Result<bool, Error> {
        Ok(false)
    }
}

#[tokio::test]
async fn transient_credential_failures_are_retried_before_sending() {
    let mock = MockTransport::new();
    mock.push(MockResponse::new(204));
    let c = ApiConnector::builder("https://api.test/".parse().unwrap())
        .transport(Arc::new(mock.clone()))
        .authorizer(Arc::new(FlakyAuthorizer {
            failures: AtomicUsize::new(2),
        }))
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    c.request(Method::POST, "/x").send_empty().await.unwrap();
    mock.assert_request_count(1);
    assert_eq!(
        mock.requests()[0].header("authorization"),
        Some("Bearer ok")
    );

    let c = ApiConnector::builder("https://api.test/".parse().unwrap())
        .transport(Arc::new(mock.clone()))
        .authorizer(Arc::new(FlakyAuthorizer {
            failures: AtomicUsize::new(10),
        }))
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let err = c.request(Method::GET, "/x").send().await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    mock.assert_request_count(1);
}

#[tokio::test]
async fn a_stream_factory_body_is_sent_again_on_retry_and_after_a_401() {
    let mock = MockTransport::new();
    mock.push(MockResponse::new(503));
    mock.push(MockResponse::new(401));
    mock.push(MockResponse::new(204));
    let auth = Arc::new(RotatingAuthorizer::default());
    let c = ApiConnector::builder("https://api.test/".parse().unwrap())
        .transport(Arc::new(mock.clone()))
        .authorizer(auth.clone())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let made = Arc::new(AtomicUsize::new(0));
    let m = made.clone();
    let body = Body::from_stream_factory(
        move || {
            m.fetch_add(1, Ordering::SeqCst);
            let chunks = (0..4).map(|i| Ok(bytes::Bytes::from(vec![b'a' + i; 1000])));
            Box::pin(futures_util::stream::iter(chunks))
        },
        Some(4000),
    );
    c.request(Method::PUT, "/blob")
        .body(body, Some("application/octet-stream"))
        .send_empty()
        .await
        .unwrap();
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert_eq!(r.body.len(), 4000);
        assert!(r.body.starts_with(b"aaa") && r.body.ends_with(b"ddd"));
    }
    assert_eq!(made.load(Ordering::SeqCst), 3);
    assert_eq!(auth.refreshes.load(Ordering::SeqCst), 1);
}

/// Request futures must be `Send` so that users can `tokio::spawn` them and build `Send`
/// streams on top (a compile-time check: this test fails to build otherwise).
#[test]
fn request_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let connector = evo_core::ApiConnector::builder("http://127.0.0.1:9/".parse().unwrap())
        .transport(std::sync::Arc::new(evo_core::test_util::NeverTransport))
        .build()
        .unwrap();
    let json = connector
        .request(http::Method::GET, "/x")
        .send_json::<serde_json::Value>();
    assert_send(&json);
    let raw = connector.request(http::Method::POST, "/x").send();
    assert_send(&raw);
    let empty = connector.request(http::Method::DELETE, "/x").send_empty();
    assert_send(&empty);
}

/// Credentials go over plain `http://` only to this machine, unless the user opts in; requests
/// without credentials are not affected.
#[tokio::test]
async fn credentials_are_not_sent_over_plain_http_to_another_machine() {
    let build = |base: &str, auth: bool, allow: bool, mock: &MockTransport| {
        let mut b = ApiConnector::builder(base.parse().unwrap())
            .transport(Arc::new(mock.clone()))
            .retry_policy(fast_retries())
            .allow_insecure_http(allow);
        if auth {
            b = b.authorizer(Arc::new(StaticTokenAuthorizer::new("tok")));
        }
        b.build().unwrap()
    };
    // Refused before anything is sent, also for a hub URL taken on with `with_base_url`.
    let mock = MockTransport::new();
    let c = build("http://hub.example.com/", true, false, &mock);
    let err = c.request(Method::GET, "x").send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(err.to_string().contains("plain http"), "{err}");
    assert!(!err.to_string().contains("tok"), "{err}");
    let safe = build("https://hub.example.com/", true, false, &mock);
    let hub = safe
        .with_base_url("http://other.example.com/".parse().unwrap())
        .unwrap();
    let err = hub.request(Method::GET, "x").send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(mock.requests().is_empty(), "nothing was sent");

    // https, loopback, no credentials, or the opt-in: sent.
    for (base, auth, allow) in [
        ("https://hub.example.com/", true, false),
        ("http://127.0.0.1:9/", true, false),
        ("http://localhost:9/", true, false),
        ("http://[::1]:9/", true, false),
        ("http://hub.example.com/", false, false),
        ("http://hub.example.com/", true, true),
    ] {
        let mock = MockTransport::new();
        mock.push(MockResponse::json(200, &serde_json::json!({})));
        let c = build(base, auth, allow, &mock);
        c.request(Method::GET, "x").send().await.unwrap();
        let sent = mock.requests();
        assert_eq!(sent.len(), 1, "{base}");
        assert_eq!(sent[0].header("authorization").is_some(), auth, "{base}");
    }
}
