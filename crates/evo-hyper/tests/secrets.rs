//! Tokens and signatures never show in Debug output, errors or TRACE-level logs.
//! (Its own test binary: it installs a global tracing subscriber.)

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{TestServer, connector_builder, text};
use evo_core::{StaticTokenAuthorizer, Transport};
use http::Method;

const TOKEN: &str = "tok-SECRET-7f3a9c";
const SIGNATURE: &str = "SIGSECRET-51d2";
const PROXY_PASSWORD: &str = "proxy-pw-SECRET-99";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_show_in_debug_errors_or_logs() {
    let logs = Buffer::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .init();

    // The server fails with 503 (→ a retry and its logs), then answers 403: the error, the
    // logs and every Debug output must not carry the token, the signature or the proxy
    // password.
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    let server = TestServer::start(move |req| {
        let n = h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let saw_token = req
            .headers()
            .get("authorization")
            .is_some_and(|v| v.as_bytes().ends_with(TOKEN.as_bytes()));
        async move {
            assert!(saw_token, "the token must reach the server");
            match n {
                0 => text(503, "busy"),
                _ => text(403, r#"{"title":"Forbidden","detail":"not for you"}"#),
            }
        }
    })
    .await;
    let transport = evo_hyper::HyperTransport::builder()
        .proxy(
            Some(&format!("http://user:{PROXY_PASSWORD}@127.0.0.1:9")),
            None,
            Some("127.0.0.1,localhost"),
        )
        .build()
        .unwrap();
    let c = connector_builder(server.url("/"))
        .transport(Arc::new(transport.clone()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(TOKEN)))
        .build()
        .unwrap();
    let mut url = server.url("/blob");
    url.query_pairs_mut()
        .append_pair("sv", "2024")
        .append_pair("sig", SIGNATURE);
    let err = c.request_url(Method::GET, url).send().await.unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);

    let request = c.request(Method::GET, "/x");
    let shown = format!(
        "{err:?}\n{err}\n{c:?}\n{transport:?}\n{request:?}\n{:?}",
        c.authorizer().headers().await.unwrap()
    );
    drop(request);
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("evo_request") && logs.contains("sending"),
        "the connector's logs were not captured:\n{logs}"
    );
    for secret in [TOKEN, SIGNATURE, PROXY_PASSWORD] {
        assert!(
            !shown.contains(secret),
            "{secret} in Debug/Display output:\n{shown}"
        );
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }
    // The transport is usable directly too; its Debug output names no secret.
    let _ = transport
        .send(
            http::Request::get(server.url("/y").as_str())
                .body(evo_core::Body::empty())
                .unwrap(),
        )
        .await;
}
