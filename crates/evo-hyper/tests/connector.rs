//! HyperTransport + ApiConnector against real local HTTP servers on 127.0.0.1.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::{
    RawServer, TestServer, connector, connector_builder, read_request_head, text, write_and_close,
};
use evo_core::{
    Authorizer, Body, CollectionFormat, DEFAULT_SDK_SOURCE, DEFAULT_USER_AGENT, Error, RetryPolicy,
    Transport, TransportErrorKind, bearer_header, transport_fn,
};
use http::header::AUTHORIZATION;
use http::{HeaderMap, Method, Response};
use http_body_util::BodyExt;
use serde::Deserialize;

#[tokio::test]
async fn redirects_are_returned_not_followed() {
    let target_hits = Arc::new(AtomicUsize::new(0));
    let hits = target_hits.clone();
    let server = TestServer::start(move |req| {
        let hits = hits.clone();
        async move {
            if req.uri().path() == "/target" {
                hits.fetch_add(1, Ordering::SeqCst);
                return text(200, "target");
            }
            Response::builder()
                .status(302)
                .header("location", "/target")
                .body(Body::from("moved"))
                .unwrap()
        }
    })
    .await;
    let c = connector(server.url("/"));
    let response = c
        .request(Method::GET, "/start")
        .send_unchecked()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/target");
    // `send` treats the 302 as not expected and keeps it as an API error; still not followed.
    let err = c.request(Method::GET, "/start").send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302));
    let ok = c
        .request(Method::GET, "/start")
        .expect_status(&[http::StatusCode::FOUND])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 302);
    assert_eq!(target_hits.load(Ordering::SeqCst), 0);
}

/// A single-flight authorizer: refreshes only when the rejected headers still carry the
/// current token, counting the (slow) token requests it makes.
#[derive(Debug, Default)]
struct CountingAuthorizer {
    version: std::sync::Mutex<u32>,
    refresh_lock: tokio::sync::Mutex<()>,
    token_requests: AtomicUsize,
}

impl CountingAuthorizer {
    fn token(&self) -> String {
        format!("token-{}", *self.version.lock().unwrap())
    }
}

#[async_trait]
impl Authorizer for CountingAuthorizer {
    async fn headers(&self) -> Result<HeaderMap, Error> {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, bearer_header(&self.token())?);
        Ok(h)
    }
    async fn refresh(&self, rejected: &HeaderMap) -> Result<bool, Error> {
        let _guard = self.refresh_lock.lock().await;
        let current = format!("Bearer {}", self.token());
        if rejected
            .get(AUTHORIZATION)
            .is_some_and(|v| v != current.as_str())
        {
            return Ok(true); // someone else refreshed while we waited
        }
        tokio::time::sleep(Duration::from_millis(50)).await; // the token request
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        *self.version.lock().unwrap() += 1;
        Ok(true)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_401s_cause_one_refresh() {
    let server = TestServer::start(|req| async move {
        match req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            Some("Bearer token-1") => text(200, "{}"),
            _ => text(401, r#"{"title":"Unauthorized"}"#),
        }
    })
    .await;
    let auth = Arc::new(CountingAuthorizer::default());
    let c = connector_builder(server.url("/"))
        .authorizer(auth.clone())
        .build()
        .unwrap();
    let calls = (0..100).map(|i| {
        let c = c.clone();
        async move {
            c.request(Method::GET, "/item/{i}")
                .path_param("i", i)
                .send_json::<serde_json::Value>()
                .await
        }
    });
    let results = futures_util::future::join_all(calls).await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(auth.token_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_401_after_a_refresh_is_returned_not_refreshed_again() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = TestServer::start(move |_req| {
        h.fetch_add(1, Ordering::SeqCst);
        async { text(401, "") }
    })
    .await;
    let auth = Arc::new(CountingAuthorizer::default());
    let c = connector_builder(server.url("/"))
        .authorizer(auth.clone())
        .build()
        .unwrap();
    let err = c.request(Method::GET, "/x").send().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    assert_eq!(auth.token_requests.load(Ordering::SeqCst), 1);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried_after_about_a_second() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<Instant>::new()));
    let s = seen.clone();
    let server = TestServer::start(move |_req| {
        let s = s.clone();
        async move {
            let mut seen = s.lock().unwrap();
            seen.push(Instant::now());
            if seen.len() == 1 {
                Response::builder()
                    .status(503)
                    .header("retry-after", "1")
                    .body(Body::from("busy"))
                    .unwrap()
            } else {
                text(200, r#"{"ok":true}"#)
            }
        }
    })
    .await;
    let c = connector(server.url("/"));
    let value: serde_json::Value = c.request(Method::GET, "/busy").send_json().await.unwrap();
    assert_eq!(value["ok"], true);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    let gap = seen[1] - seen[0];
    assert!(gap >= Duration::from_millis(900), "retried after {gap:?}");
}

#[tokio::test]
async fn a_post_that_got_a_500_is_not_retried_but_a_put_is() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = TestServer::start(move |_req| {
        h.fetch_add(1, Ordering::SeqCst);
        async { text(500, "boom") }
    })
    .await;
    let c = connector(server.url("/"));
    let err = c
        .request(Method::POST, "/things")
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(err.as_api().unwrap().body().as_ref(), b"boom");
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the POST was retried");
    hits.store(0, Ordering::SeqCst);
    let err = c
        .request(Method::PUT, "/things/1")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_server_error());
    assert_eq!(hits.load(Ordering::SeqCst), 4, "the PUT used every attempt");
}

#[tokio::test]
async fn a_post_refused_before_sending_is_retried() {
    // Reserve a port, free it, and start the server there only after a while: the first
    // attempts are refused (never sent), a later one is answered.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = reserved.local_addr().unwrap();
    drop(reserved);
    let posts = Arc::new(AtomicUsize::new(0));
    let p = posts.clone();
    let starter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        TestServer::serve(listener, move |req| {
            assert_eq!(req.method(), Method::POST);
            p.fetch_add(1, Ordering::SeqCst);
            async { text(201, r#"{"id":1}"#) }
        })
    });
    let sends = Arc::new(AtomicUsize::new(0));
    let counted = sends.clone();
    let inner = Arc::new(common::transport());
    let counting: Arc<dyn Transport> = Arc::new(transport_fn(move |req| {
        counted.fetch_add(1, Ordering::SeqCst);
        let inner = inner.clone();
        async move { inner.send(req).await }
    }));
    let c = evo_core::ApiConnector::builder(format!("http://{addr}/").parse().unwrap())
        .transport(counting)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(100)
                .with_initial_backoff(Duration::from_millis(50))
                .with_max_backoff(Duration::from_millis(100))
                .with_max_elapsed(Some(Duration::from_secs(30))),
        )
        .build()
        .unwrap();
    let created: serde_json::Value = c
        .request(Method::POST, "/things")
        .json(&serde_json::json!({"name": "x"}))
        .send_json()
        .await
        .unwrap();
    assert_eq!(created["id"], 1);
    assert!(
        sends.load(Ordering::SeqCst) >= 2,
        "the first attempt was not refused"
    );
    assert_eq!(posts.load(Ordering::SeqCst), 1);
    let _server = starter.await.unwrap();
}

#[tokio::test]
async fn a_post_whose_connection_closed_after_sending_is_not_retried_a_get_is() {
    // The server accepts, reads the request and closes without answering: the request may
    // have been processed, so only the idempotent GET is sent again.
    let accepted = Arc::new(AtomicUsize::new(0));
    let a = accepted.clone();
    let server = RawServer::start(move |mut stream| {
        a.fetch_add(1, Ordering::SeqCst);
        async move {
            read_request_head(&mut stream).await;
            drop(stream);
        }
    })
    .await;
    let c = connector(server.url("/"));
    let err = c.request(Method::POST, "/x").send().await.unwrap_err();
    let t = err.as_transport().expect("a transport error");
    assert_eq!(t.kind(), TransportErrorKind::Connection, "{err}");
    assert!(t.request_sent());
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    accepted.store(0, Ordering::SeqCst);
    let err = c.request(Method::GET, "/x").send().await.unwrap_err();
    assert!(err.as_transport().is_some(), "{err:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_server_that_never_answers_trips_the_read_timeout() {
    let server = RawServer::start(|mut stream| async move {
        read_request_head(&mut stream).await;
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(stream);
    })
    .await;
    let c = connector_builder(server.url("/"))
        .read_timeout(Some(Duration::from_millis(300)))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.request(Method::GET, "/slow").send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(290));
}

#[tokio::test]
async fn a_body_that_stalls_trips_the_idle_timeout() {
    let server = TestServer::start(|_req| async {
        use futures_util::StreamExt;
        let stream = futures_util::stream::once(async { Ok(bytes::Bytes::from_static(b"[1,")) })
            .chain(futures_util::stream::pending());
        Response::new(Body::from_stream(stream, None))
    })
    .await;
    let c = connector_builder(server.url("/"))
        .read_timeout(Some(Duration::from_millis(300)))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c
        .request(Method::GET, "/stall")
        .send_json::<Vec<u32>>()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn query_formats_path_params_and_identification_headers_on_the_wire() {
    let server = TestServer::start(|req| async move {
        let headers = req.headers();
        let body = serde_json::json!({
            "target": req.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or(""),
            "user_agent": headers.get("user-agent").and_then(|v| v.to_str().ok()),
            "sdk_source": headers.get("evo-sdk-source").and_then(|v| v.to_str().ok()),
        });
        text(200, body.to_string())
    })
    .await;
    let c = connector(server.url("/api/"));
    let echo: serde_json::Value = c
        .request(Method::GET, "items/{id}/files/{path}")
        .path_param("id", "a b/c?d#e")
        .path_param_with_slashes("path", "dir/x y%.txt")
        .query_list("m", [1, 2], CollectionFormat::Multi)
        .query_list("c", ["x", "y"], CollectionFormat::Csv)
        .query_list("s", ["x", "y"], CollectionFormat::Ssv)
        .query_list("p", ["x", "y"], CollectionFormat::Pipes)
        .query("deleted", false)
        .send_json()
        .await
        .unwrap();
    assert_eq!(
        echo["target"],
        "/api/items/a%20b%2Fc%3Fd%23e/files/dir/x%20y%25.txt?m=1&m=2&c=x%2Cy&s=x+y&p=x%7Cy&deleted=false"
    );
    assert_eq!(echo["user_agent"], DEFAULT_USER_AGENT);
    assert_eq!(echo["sdk_source"], DEFAULT_SDK_SOURCE);
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Thing {
    id: u32,
    name: String,
}

#[tokio::test]
async fn malformed_bodies_give_typed_errors() {
    let garbage: Vec<u8> = (0..10_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let garbage = bytes::Bytes::from(garbage);
    let g = garbage.clone();
    let server = TestServer::start(move |req| {
        let g = g.clone();
        async move {
            match req.uri().path() {
                "/bad-json" => text(200, r#"{"id": 1, "name": "#),
                "/wrong-type" => text(200, r#"{"id": "one", "name": 2}"#),
                "/garbage" => Response::new(Body::from(g)),
                "/big" => Response::new(Body::from(vec![b' '; 2 * 1024 * 1024])),
                "/not-empty" => text(200, "surprise"),
                _ => text(404, ""),
            }
        }
    })
    .await;
    let c = connector(server.url("/"));
    for path in ["/bad-json", "/wrong-type", "/garbage"] {
        let err = c
            .request(Method::GET, path)
            .send_json::<Thing>()
            .await
            .unwrap_err();
        let Error::Decode(d) = &err else {
            panic!("{path}: expected a decode error, got {err:?}")
        };
        assert!(d.type_name().ends_with("Thing"), "{path}: {d}");
        assert!(d.body_start().chars().count() <= 201, "{path}");
        assert!(err.to_string().contains("Thing"), "{path}: {err}");
    }
    let err = c
        .request(Method::GET, "/big")
        .max_response_bytes(1024 * 1024)
        .send_bytes()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("limit"), "{err}");
    let err = c
        .request(Method::GET, "/not-empty")
        .send_empty()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
}

#[tokio::test]
async fn a_body_cut_short_is_a_connection_error() {
    let server = RawServer::start(|mut stream| async move {
        read_request_head(&mut stream).await;
        write_and_close(
            stream,
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"id\": 1, \"na",
        )
        .await;
    })
    .await;
    let c = connector(server.url("/"));
    let err = c
        .request(Method::GET, "/t")
        .send_json::<Thing>()
        .await
        .unwrap_err();
    let t = err.as_transport().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(t.kind(), TransportErrorKind::Connection, "{err}");
}

#[tokio::test]
async fn huge_headers_and_bad_status_lines_are_protocol_errors() {
    let server = RawServer::start(|mut stream| async move {
        let head = read_request_head(&mut stream).await;
        let reply: Vec<u8> = if head.starts_with(b"GET /huge") {
            let mut r = b"HTTP/1.1 200 OK\r\nx-big: ".to_vec();
            r.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
            r.extend_from_slice(b"\r\ncontent-length: 0\r\n\r\n");
            r
        } else {
            b"HTTP/1.1 abc What\r\ncontent-length: 0\r\n\r\n".to_vec()
        };
        write_and_close(stream, &reply).await;
    })
    .await;
    let c = connector_builder(server.url("/"))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    for path in ["/huge", "/bad-status"] {
        let err = c.request(Method::GET, path).send().await.unwrap_err();
        let t = err
            .as_transport()
            .unwrap_or_else(|| panic!("{path}: {err:?}"));
        assert_eq!(t.kind(), TransportErrorKind::Protocol, "{path}: {err}");
    }
}

#[tokio::test]
async fn connection_refused_is_a_connect_error_not_sent() {
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = reserved.local_addr().unwrap();
    drop(reserved);
    let transport = common::transport();
    let request = http::Request::post(format!("http://{addr}/x"))
        .body(Body::from("x"))
        .unwrap();
    let err = transport.send(request).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(!err.request_sent());
}

#[tokio::test]
async fn the_connect_timeout_of_the_request_covers_the_tls_handshake() {
    // The server accepts TCP but never answers the TLS ClientHello: connecting (TCP + TLS)
    // never completes, and the request's connect timeout ends it as a Timeout, not sent.
    let server = RawServer::start(|stream| async move {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(stream);
    })
    .await;
    let transport = common::transport();
    let mut request = http::Request::get(format!("https://127.0.0.1:{}/", server.addr.port()))
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(evo_core::Timeouts::new(
        Some(Duration::from_millis(200)),
        None,
    ));
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(20), transport.send(request))
        .await
        .expect("the connect timeout was not applied")
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err}");
    assert!(!err.request_sent());
    assert!(started.elapsed() >= Duration::from_millis(190));
    // Without a Timeouts extension the builder's default applies.
    let transport = evo_hyper::HyperTransport::builder()
        .no_proxy()
        .connect_timeout(Some(Duration::from_millis(100)))
        .build()
        .unwrap();
    let request = http::Request::get(format!("https://127.0.0.1:{}/", server.addr.port()))
        .body(Body::empty())
        .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(20), transport.send(request))
        .await
        .expect("the default connect timeout was not applied")
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err}");
}

#[tokio::test]
async fn request_and_response_bodies_stream_through_a_hyper_server() {
    // The server reads the upload frame by frame and answers with the count.
    let server = TestServer::start(|req| async move {
        let mut body = req.into_body();
        let mut count = 0u64;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                count += data.len() as u64;
            }
        }
        text(200, count.to_string())
    })
    .await;
    let chunk = bytes::Bytes::from(vec![7u8; 1024 * 1024]);
    let stream = futures_util::stream::iter((0..32).map(move |_| Ok(chunk.clone())));
    let c = connector(server.url("/"));
    let answer = c
        .request(Method::PUT, "/upload")
        .body(
            Body::from_stream(stream, None),
            Some("application/octet-stream"),
        )
        .send_bytes()
        .await
        .unwrap();
    assert_eq!(answer, "33554432");
}

#[tokio::test]
async fn the_transport_passes_the_conformance_suite() {
    let report = evo_core::test_util::conformance::run(Arc::new(common::transport())).await;
    report.assert_passed();
}

#[tokio::test]
async fn a_middleware_over_the_transport_passes_the_conformance_suite() {
    let inner = Arc::new(common::transport());
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let middleware: Arc<dyn Transport> =
        Arc::new(transport_fn(move |mut req: http::Request<Body>| {
            s.fetch_add(1, Ordering::SeqCst);
            req.headers_mut()
                .insert("x-middleware", http::HeaderValue::from_static("1"));
            let inner = inner.clone();
            async move { inner.send(req).await }
        }));
    evo_core::test_util::conformance::run(middleware)
        .await
        .assert_passed();
    assert!(seen.load(Ordering::SeqCst) >= 10);
}

#[tokio::test]
async fn connections_are_pooled_unless_the_pool_is_disabled() {
    let server = TestServer::start(|_req| async { text(200, "ok") }).await;
    let url = format!("http://{}/", server.addr);
    let pooled = common::transport();
    for _ in 0..3 {
        let response = pooled
            .send(http::Request::get(&url).body(Body::empty()).unwrap())
            .await
            .unwrap();
        response.into_body().collect(1024).await.unwrap();
    }
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1);

    let unpooled = evo_hyper::HyperTransport::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for _ in 0..3 {
        let response = unpooled
            .send(http::Request::get(&url).body(Body::empty()).unwrap())
            .await
            .unwrap();
        response.into_body().collect(1024).await.unwrap();
    }
    assert_eq!(server.accepted.load(Ordering::SeqCst), 4);
}
