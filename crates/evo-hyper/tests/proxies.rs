//! HTTPS, SOCKS5 and SOCKS4 proxies, against a real proxy server: `pproxy` (installed into the peers'
//! venv by `scripts/install-peers.sh`), started on a free 127.0.0.1 port per test.
//!
//! The origins listen on 127.0.0.1, which the transport normally reaches directly, so every
//! transport here sets `proxy_loopback(true)`; each test checks the proxy really carried the
//! request (its log names the destination, or only the proxy could have answered).

use crate::common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TestCa, TestServer, text, tls_origin};
use evo_core::{Body, Transport, TransportError, TransportErrorKind};
use evo_hyper::HyperTransport;
use evo_testkit::{ChildGuard, free_port, wait_for_port};
use tokio::io::AsyncBufReadExt;

/// A running `pproxy` and the lines it printed (`-v`: one line per proxied connection,
/// `PROTOCOL CLIENT -> DESTINATION`).
struct PProxy {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
    _child: ChildGuard,
    _dir: Option<TempDir>,
}

impl PProxy {
    /// Starts `pproxy -l {scheme}://127.0.0.1:PORT{auth}` (`--auth 0`: credentials are checked
    /// on every connection, not remembered per client address), with `--ssl` when given.
    async fn start(scheme: &str, auth: &str, tls: Option<(String, String)>) -> PProxy {
        let port = free_port();
        let mut command = tokio::process::Command::new(evo_testkit::python());
        command
            .args(["-u", "-m", "pproxy", "-v", "--auth", "0", "-l"])
            .arg(format!("{scheme}://127.0.0.1:{port}{auth}"))
            .stdout(std::process::Stdio::piped());
        let dir = tls.map(|(cert, key)| {
            let dir = TempDir::new("pproxy");
            std::fs::write(dir.0.join("cert.pem"), cert).unwrap();
            std::fs::write(dir.0.join("key.pem"), key).unwrap();
            command.arg("--ssl").arg(format!(
                "{},{}",
                dir.0.join("cert.pem").display(),
                dir.0.join("key.pem").display()
            ));
            dir
        });
        let mut child = ChildGuard::spawn(command);
        let stdout = child.child_mut().stdout.take().expect("piped stdout");
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("pproxy: {line}");
                sink.lock().unwrap().push(line);
            }
        });
        wait_for_port(
            format!("127.0.0.1:{port}").parse().unwrap(),
            Duration::from_secs(30),
        )
        .await;
        PProxy {
            port,
            log,
            _child: child,
            _dir: dir,
        }
    }

    /// Whether the proxy logged a connection to `destination` (`host:port`).
    async fn logged(&self, destination: &str) -> bool {
        // The log line is written when the connection opens; give the pipe a moment.
        for _ in 0..50 {
            if self
                .log
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.ends_with(&format!("-> {destination}")))
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "evo-hyper-{prefix}-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A plain-HTTP origin answering `"{version} {uri} host={host} proxy-authorization={bool}"`.
async fn http_origin() -> TestServer {
    TestServer::start(|req| async move {
        let host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let leaked = req
            .headers()
            .contains_key(http::header::PROXY_AUTHORIZATION);
        text(
            200,
            format!(
                "{:?} {} host={host} proxy-authorization={leaked}",
                req.version(),
                req.uri()
            ),
        )
    })
    .await
}

fn through(proxy: &str, ca: Option<&TestCa>) -> HyperTransport {
    let mut builder = HyperTransport::builder()
        .proxy(Some(proxy), Some(proxy), None)
        .proxy_loopback(true);
    if let Some(ca) = ca {
        builder = builder.add_root_certificate(&ca.pem);
    }
    builder.build().unwrap()
}

async fn get_text(transport: &HyperTransport, url: &str) -> Result<String, TransportError> {
    let response = transport
        .send(http::Request::get(url).body(Body::empty()).unwrap())
        .await?;
    let bytes = response.into_body().collect(1 << 20).await.unwrap();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn assert_connect_error_hides(err: &TransportError, proxy_port: u16, secret: &str) {
    eprintln!("expected error: {err}");
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(!err.request_sent());
    let shown = err.to_string();
    let debug = format!("{err:?}");
    assert!(
        shown.contains(&format!("127.0.0.1:{proxy_port}")),
        "the message does not name the proxy: {shown}"
    );
    for text in [&shown, &debug] {
        assert!(!text.contains(secret), "the password leaked: {text}");
    }
}

#[tokio::test]
async fn an_https_proxy_carries_a_connect_tunnel_inside_tls_to_an_https_origin() {
    let ca = TestCa::new("evo-hyper proxy test CA");
    let origin = tls_origin(&ca).await;
    let proxy = PProxy::start(
        "http+ssl",
        "#alice:s3cret",
        Some(ca.server_cert(&["127.0.0.1", "localhost"])),
    )
    .await;
    let port = origin.addr.port();
    let url = format!("https://localhost:{port}/items?a=1");

    let transport = through(
        &format!("https://alice:s3cret@127.0.0.1:{}", proxy.port),
        Some(&ca),
    );
    // h2 by ALPN with the origin: TLS ran end to end through a CONNECT tunnel (a forwarding
    // proxy would have spoken HTTP/1.1 to us), and the proxy listens on TLS only.
    assert_eq!(
        get_text(&transport, &url).await.unwrap(),
        "HTTP/2.0 /items?a=1"
    );
    assert!(proxy.logged(&format!("localhost:{port}")).await);

    // The proxy's certificate is checked with the transport's roots.
    let untrusting = HyperTransport::builder()
        .proxy(
            None,
            Some(&format!("https://alice:s3cret@127.0.0.1:{}", proxy.port)),
            None,
        )
        .proxy_loopback(true)
        .add_root_certificate(&TestCa::new("another CA").pem)
        .webpki_roots(false)
        .build()
        .unwrap();
    let err = get_text(&untrusting, &url).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Tls, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("proxy 127.0.0.1:{}", proxy.port)),
        "{err}"
    );

    // Wrong credentials: the proxy refuses the tunnel (407), a Connect error.
    let wrong = through(
        &format!("https://alice:not-the-password@127.0.0.1:{}", proxy.port),
        Some(&ca),
    );
    let err = get_text(&wrong, &url).await.unwrap_err();
    assert_connect_error_hides(&err, proxy.port, "not-the-password");
    assert!(err.to_string().contains("407"), "{err}");
}

#[tokio::test]
async fn an_https_proxy_forwards_plain_http_requests_over_tls() {
    let ca = TestCa::new("evo-hyper proxy test CA");
    let origin = http_origin().await;
    // No credentials here: pproxy looks up `Proxy-Authorization` case-sensitively in forwarded
    // requests and hyper writes header names in lower case (the CONNECT test covers
    // credentials sent to an https:// proxy; `tls_proxy.rs` the forwarded header).
    let proxy = PProxy::start("http+ssl", "", Some(ca.server_cert(&["127.0.0.1"]))).await;
    let port = origin.addr.port();
    let transport = through(&format!("https://127.0.0.1:{}", proxy.port), Some(&ca));
    let body = get_text(&transport, &format!("http://127.0.0.1:{port}/items?a=1"))
        .await
        .unwrap();
    // pproxy answers an origin-form GET itself with a 404: the request reached the origin, so
    // it was sent in absolute form over the TLS connection to the proxy.
    assert!(body.starts_with("HTTP/1.1 /items?a=1 "), "{body}");
    assert!(body.contains(&format!("host=127.0.0.1:{port}")), "{body}");
    // The proxy listens on TLS only and logged the forwarded destination.
    assert!(proxy.logged(&format!("127.0.0.1:{port}")).await);

    // Without the proxy's CA the TLS handshake with the proxy fails, naming it.
    let untrusting = HyperTransport::builder()
        .proxy(
            Some(&format!("https://127.0.0.1:{}", proxy.port)),
            None,
            None,
        )
        .proxy_loopback(true)
        .build()
        .unwrap();
    let err = get_text(&untrusting, &format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Tls, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("proxy 127.0.0.1:{}", proxy.port)),
        "{err}"
    );
}

#[tokio::test]
async fn socks5_without_authentication_tunnels_http_and_https_with_the_address_resolved_here() {
    let ca = TestCa::new("evo-hyper proxy test CA");
    let http = http_origin().await;
    let https = tls_origin(&ca).await;
    let proxy = PProxy::start("socks5", "", None).await;
    let transport = through(&format!("socks5://127.0.0.1:{}", proxy.port), Some(&ca));

    let port = http.addr.port();
    let body = get_text(&transport, &format!("http://127.0.0.1:{port}/a?b=1"))
        .await
        .unwrap();
    // A tunnel, not forwarding: the origin saw an origin-form request.
    assert!(body.starts_with("HTTP/1.1 /a?b=1 "), "{body}");
    assert!(body.ends_with("proxy-authorization=false"), "{body}");
    assert!(proxy.logged(&format!("127.0.0.1:{port}")).await);

    let tls_port = https.addr.port();
    assert_eq!(
        get_text(&transport, &format!("https://127.0.0.1:{tls_port}/x"))
            .await
            .unwrap(),
        "HTTP/2.0 /x"
    );
    assert!(proxy.logged(&format!("127.0.0.1:{tls_port}")).await);

    // socks5:// resolves names here: a name that does not resolve fails before the proxy is
    // asked, and the error says so.
    let err = get_text(&transport, "http://no-such-host.invalid/")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(err.to_string().contains("resolving"), "{err}");
    assert!(!proxy.logged("no-such-host.invalid:80").await);
    // Resolution comes first: through a proxy nobody listens on, the name is still the error.
    let dead = through(&format!("socks5://127.0.0.1:{}", free_port()), None);
    let err = get_text(&dead, "http://no-such-host.invalid/")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("resolving"), "{err}");
}

#[tokio::test]
async fn socks5_with_username_and_password() {
    let origin = http_origin().await;
    let proxy = PProxy::start("socks5", "#alice:s3cret", None).await;
    let port = origin.addr.port();
    let url = format!("http://127.0.0.1:{port}/ok");

    // Wrong password first (pproxy would otherwise remember the address that authenticated).
    let wrong = through(
        &format!("socks5://alice:not-the-password@127.0.0.1:{}", proxy.port),
        None,
    );
    let err = get_text(&wrong, &url).await.unwrap_err();
    assert_connect_error_hides(&err, proxy.port, "not-the-password");
    assert!(err.to_string().contains("SOCKS5"), "{err}");

    let anonymous = through(&format!("socks5://127.0.0.1:{}", proxy.port), None);
    let err = get_text(&anonymous, &url).await.unwrap_err();
    assert_connect_error_hides(&err, proxy.port, "s3cret");

    let right = through(
        &format!("socks5://alice:s3cret@127.0.0.1:{}", proxy.port),
        None,
    );
    let body = get_text(&right, &url).await.unwrap();
    assert!(body.starts_with("HTTP/1.1 /ok "), "{body}");
    // SOCKS credentials stay in the handshake: no Proxy-Authorization reaches the origin.
    assert!(body.ends_with("proxy-authorization=false"), "{body}");
    assert!(proxy.logged(&format!("127.0.0.1:{port}")).await);
}

#[tokio::test]
async fn socks5h_lets_the_proxy_resolve_the_name() {
    let ca = TestCa::new("evo-hyper proxy test CA");
    let http = http_origin().await;
    let https = tls_origin(&ca).await;
    let proxy = PProxy::start("socks5", "#alice:s3cret", None).await;
    let transport = through(
        &format!("socks5h://alice:s3cret@127.0.0.1:{}", proxy.port),
        Some(&ca),
    );

    let port = http.addr.port();
    let body = get_text(&transport, &format!("http://localhost:{port}/by-name"))
        .await
        .unwrap();
    assert!(body.starts_with("HTTP/1.1 /by-name "), "{body}");
    // The proxy was given the name, not an address.
    assert!(proxy.logged(&format!("localhost:{port}")).await);

    let tls_port = https.addr.port();
    assert_eq!(
        get_text(&transport, &format!("https://localhost:{tls_port}/tls"))
            .await
            .unwrap(),
        "HTTP/2.0 /tls"
    );
    assert!(proxy.logged(&format!("localhost:{tls_port}")).await);

    // A name nobody can resolve goes to the proxy as it is (no local resolution error);
    // pproxy accepts the tunnel before resolving, then closes it.
    let err = get_text(&transport, "http://no-such-host.invalid/")
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("resolving"), "{err}");
    assert!(!format!("{err:?}").contains("s3cret"), "{err:?}");
    assert!(proxy.logged("no-such-host.invalid:80").await);
}

#[tokio::test]
async fn an_unreachable_proxy_is_a_connect_error_naming_it() {
    let dead = free_port();
    for scheme in ["https", "socks5", "socks5h"] {
        let transport = through(&format!("{scheme}://bob:pa55word@127.0.0.1:{dead}"), None);
        for url in ["http://127.0.0.1:9/", "https://127.0.0.1:9/"] {
            let err = get_text(&transport, url).await.unwrap_err();
            assert_connect_error_hides(&err, dead, "pa55word");
            assert!(err.to_string().contains("proxy"), "{err}");
        }
    }
}

#[tokio::test]
async fn socks4_tunnels_to_an_ipv4_address_resolved_here() {
    let ca = TestCa::new("evo-hyper proxy test CA");
    let http = http_origin().await;
    let https = tls_origin(&ca).await;
    let proxy = PProxy::start("socks4", "", None).await;
    let transport = through(&format!("socks4://127.0.0.1:{}", proxy.port), Some(&ca));

    let port = http.addr.port();
    let body = get_text(&transport, &format!("http://127.0.0.1:{port}/four"))
        .await
        .unwrap();
    assert!(body.starts_with("HTTP/1.1 /four "), "{body}");
    assert!(proxy.logged(&format!("127.0.0.1:{port}")).await);

    // `localhost` is resolved here to its IPv4 address (SOCKS4 carries no names, no IPv6).
    let tls_port = https.addr.port();
    assert_eq!(
        get_text(&transport, &format!("https://localhost:{tls_port}/tls4"))
            .await
            .unwrap(),
        "HTTP/2.0 /tls4"
    );
    assert!(proxy.logged(&format!("127.0.0.1:{tls_port}")).await);
}

#[test]
fn unsupported_proxy_schemes_are_rejected_by_the_builder() {
    for url in [
        "socks4a://carol:hunter2@127.0.0.1:1080",
        "socks://127.0.0.1:1080",
        "ftp://carol:hunter2@proxy.example:21",
    ] {
        let err = HyperTransport::builder()
            .proxy(None, Some(url), None)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, evo_hyper::Error::Proxy { .. }),
            "{url}: {err:?}"
        );
        let scheme = url.split("://").next().unwrap();
        let shown = err.to_string();
        assert!(shown.contains("unsupported scheme"), "{shown}");
        assert!(shown.contains(&format!("{scheme:?}")), "{shown}");
        assert!(!shown.contains("hunter2") && !format!("{err:?}").contains("hunter2"));
    }
    // SOCKS4 has no passwords: credentials are refused rather than dropped.
    let err = HyperTransport::builder()
        .proxy(Some("socks4://carol:hunter2@127.0.0.1:1080"), None, None)
        .build()
        .unwrap_err();
    assert!(matches!(err, evo_hyper::Error::Proxy { .. }), "{err:?}");
    assert!(err.to_string().contains("credentials"), "{err}");
    assert!(!err.to_string().contains("hunter2") && !format!("{err:?}").contains("hunter2"));

    let err = HyperTransport::builder()
        .proxy(Some("not a url at all"), None, None)
        .build()
        .unwrap_err();
    assert!(matches!(err, evo_hyper::Error::Proxy { .. }), "{err:?}");
}
