//! The loopback redirect listener of the authorization code login, driven by a test "browser"
//! (no authorization server needed: the redirects are made up here).

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::TestTransport;
use evo_auth::{AuthorizationCodeAuthorizer, OAuthConnector, OAuthError, OAuthErrorCode};

fn connector() -> OAuthConnector {
    // Nothing listens on port 9: no token request may be made in these tests.
    OAuthConnector::builder(TestTransport::shared(), "public-client")
        .issuer("http://127.0.0.1:9")
        .build()
        .unwrap()
}

type Pages = Arc<Mutex<Vec<(u16, String)>>>;

/// One visit of the test browser to the redirect listener.
#[derive(Clone)]
struct Visit {
    path: String,
    ip: &'static str,
    host: Option<String>,
}

/// A visit to `path` on 127.0.0.1 with the usual `Host` (`{state}` becomes the real state).
fn visit(path: &str) -> Visit {
    Visit {
        path: path.to_owned(),
        ip: "127.0.0.1",
        host: None,
    }
}

impl Visit {
    /// Connects to ::1 instead.
    fn via_v6(mut self) -> Visit {
        self.ip = "::1";
        self
    }
    /// Sends this `Host` header (`{port}` becomes the listener's port).
    fn host(mut self, host: &str) -> Visit {
        self.host = Some(host.to_owned());
        self
    }
}

impl From<String> for Visit {
    fn from(path: String) -> Visit {
        visit(&path)
    }
}

impl From<&str> for Visit {
    fn from(path: &str) -> Visit {
        visit(path)
    }
}

/// Sends one GET over a fresh connection and returns the status and the body.
async fn raw_get(ip: &str, port: u16, host: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ip: std::net::IpAddr = ip.parse().unwrap();
    let mut stream = tokio::net::TcpStream::connect((ip, port)).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A browser that ignores the authorize URL and makes `visits` to the redirect's port, one
/// after the other, with `state` set to the real one when `{state}` appears.
fn scripted_browser<V: Into<Visit>>(visits: Vec<V>) -> (Arc<dyn evo_auth::BrowserLauncher>, Pages) {
    let visits: Vec<Visit> = visits.into_iter().map(Into::into).collect();
    let pages: Pages = Arc::default();
    let seen = pages.clone();
    let handle = tokio::runtime::Handle::current();
    let launcher = evo_auth::browser_fn(move |authorize_url: &str| {
        let url: url::Url = authorize_url.parse().unwrap();
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap()
        };
        let redirect: url::Url = param("redirect_uri").parse().unwrap();
        let port = redirect.port().unwrap();
        let state = param("state");
        let visits = visits.clone();
        let seen = seen.clone();
        handle.spawn(async move {
            for visit in visits {
                let host = visit
                    .host
                    .unwrap_or_else(|| "localhost:{port}".to_owned())
                    .replace("{port}", &port.to_string());
                let path = visit.path.replace("{state}", &state);
                let page = raw_get(visit.ip, port, &host, &path).await;
                seen.lock().unwrap().push(page);
            }
        });
        Ok(())
    });
    (Arc::new(launcher), pages)
}

async fn wait_pages(pages: &Pages, n: usize) -> Vec<(u16, String)> {
    for _ in 0..600 {
        if pages.lock().unwrap().len() >= n {
            return pages.lock().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the browser did not make {n} visits");
}

#[tokio::test]
async fn the_listener_uses_the_redirect_port_and_ignores_other_requests() {
    let port = evo_testkit::free_port();
    let (browser, pages) = scripted_browser(vec![
        "/elsewhere",
        "/signin-callback",
        "/signin-callback?state={state}&error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ]);
    let auth = AuthorizationCodeAuthorizer::builder(connector())
        .redirect_url(format!("http://localhost:{port}/signin-callback"))
        .browser(browser)
        .login_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let error = auth.login().await.unwrap_err();
    match &error {
        OAuthError::Authorization { code, description } => {
            assert_eq!(code, &OAuthErrorCode::AccessDenied);
            assert_eq!(description.as_deref(), Some("<script>alert(1)</script>"));
        }
        other => panic!("{other:?}"),
    }
    let pages = wait_pages(&pages, 3).await;
    assert_eq!(pages[0].0, 404, "another path");
    assert_eq!(pages[1].0, 400, "the redirect path without parameters");
    assert!(pages[1].1.contains("Waiting"), "{}", pages[1].1);
    assert!(pages[2].1.contains("Authorisation failed"));
    assert!(!pages[2].1.contains("<script>"), "escaped: {}", pages[2].1);
    assert!(pages[2].1.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn a_redirect_without_state_is_refused_and_the_login_waits_on() {
    let (browser, pages) = scripted_browser(vec!["/cb?code=abc"]);
    let auth = AuthorizationCodeAuthorizer::builder(connector())
        .redirect_url("http://127.0.0.1/cb")
        .browser(browser)
        .login_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let error = auth.login().await.unwrap_err();
    assert!(
        matches!(error, OAuthError::LoginTimeout { .. }),
        "{error:?}"
    );
    assert_eq!(wait_pages(&pages, 1).await[0].0, 400);

    let (browser, _pages) = scripted_browser(vec!["/cb?state={state}"]);
    let auth = AuthorizationCodeAuthorizer::builder(connector())
        .redirect_url("http://127.0.0.1/cb")
        .browser(browser)
        .build()
        .unwrap();
    let error = auth.login().await.unwrap_err();
    assert!(
        matches!(error, OAuthError::InvalidRedirect { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_login_times_out() {
    let auth = AuthorizationCodeAuthorizer::builder(connector())
        .redirect_url("http://127.0.0.1:0/cb")
        .browser(Arc::new(evo_auth::browser_fn(|_url: &str| Ok(()))))
        .login_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = auth.login().await.unwrap_err();
    assert!(
        matches!(error, OAuthError::LoginTimeout { .. }),
        "{error:?}"
    );
    assert!(auth.token().is_none());
}

#[tokio::test]
async fn a_busy_redirect_port_is_an_io_error_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let auth = AuthorizationCodeAuthorizer::builder(connector())
        .redirect_url(format!("http://localhost:{port}/cb"))
        .browser(Arc::new(evo_auth::browser_fn(|_url: &str| Ok(()))))
        .build()
        .unwrap();
    let error = auth.login().await.unwrap_err();
    assert!(matches!(error, OAuthError::Io { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
}

#[test]
fn only_loopback_http_redirects_are_accepted() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    for bad in [
        "https://localhost:3000/cb",
        "http://example.com/cb",
        "http://[::2]:3000/cb",
        "http://127.0.0.2:3000/cb",
        "http://localhost.example.com:3000/cb",
        "http://localhost:3000/cb?x=1",
        "not a url",
    ] {
        let result = AuthorizationCodeAuthorizer::builder(connector())
            .redirect_url(bad)
            .build();
        assert!(matches!(result, Err(OAuthError::Config { .. })), "{bad}");
    }
}

/// Anything on this machine can call the listener: a redirect with a wrong state, or an
/// `error=` without any state, is answered 400 and the login goes on to the real redirect.
#[tokio::test]
async fn forged_redirects_do_not_end_the_login() {
    let (browser, pages) = scripted_browser(vec![
        "/cb?state=forged&code=attacker-code",
        "/cb?error=access_denied",
        "/cb?state=forged&error=access_denied",
        "/cb?state={state}&error=server_error&error_description=real",
    ]);
    let auth = AuthorizationCodeAuthorizer::builder(connector())
        .redirect_url("http://localhost:0/cb")
        .browser(browser)
        .login_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let error = auth.login().await.unwrap_err();
    match &error {
        OAuthError::Authorization { code, description } => {
            assert_eq!(code, &OAuthErrorCode::ServerError);
            assert_eq!(description.as_deref(), Some("real"));
        }
        other => panic!("{other:?}"),
    }
    let pages = wait_pages(&pages, 4).await;
    for (status, page) in &pages[..3] {
        assert_eq!(*status, 400, "{page}");
        assert!(page.contains("still waiting"), "{page}");
    }
    assert_eq!(pages[3].0, 200);
}

/// A page of another site whose name resolves to 127.0.0.1 (DNS rebinding) sends its own name
/// as `Host`: refused, never handed to the login.
#[tokio::test]
async fn a_foreign_host_header_is_refused() {
    let (browser, pages) = scripted_browser(vec![
        visit("/cb?state={state}&error=access_denied").host("evil.example:{port}"),
        visit("/cb?state={state}&error=access_denied").host("localhost:1"),
        visit("/cb?state={state}&error=access_denied").host(""),
        visit("/cb?state={state}&error=temporarily_unavailable").host("127.0.0.1:{port}"),
    ]);
    let auth = AuthorizationCodeAuthorizer::builder(connector())
        .redirect_url("http://127.0.0.1:0/cb")
        .browser(browser)
        .login_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let error = auth.login().await.unwrap_err();
    assert!(
        matches!(
            &error,
            OAuthError::Authorization {
                code: OAuthErrorCode::TemporarilyUnavailable,
                ..
            }
        ),
        "{error:?}"
    );
    let pages = wait_pages(&pages, 4).await;
    for (status, page) in &pages[..3] {
        assert_eq!(*status, 400, "{page}");
        assert!(page.contains("Host"), "{page}");
    }
}

/// `localhost` may resolve to ::1 first: the listener answers there too, at the same port.
#[tokio::test]
async fn localhost_is_served_on_both_loopbacks() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    }
    for redirect in ["http://localhost:0/cb", "http://[::1]:0/cb"] {
        let (browser, pages) = scripted_browser(vec![
            visit("/cb").via_v6().host("[::1]:{port}"),
            visit("/cb?state={state}&error=access_denied").via_v6(),
        ]);
        let auth = AuthorizationCodeAuthorizer::builder(connector())
            .redirect_url(redirect)
            .browser(browser)
            .login_timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let error = auth.login().await.unwrap_err();
        assert!(
            matches!(&error, OAuthError::Authorization { .. }),
            "{redirect}: {error:?}"
        );
        let pages = wait_pages(&pages, 2).await;
        assert_eq!(pages[0].0, 400, "{redirect}: waiting page");
        assert!(pages[0].1.contains("Waiting"), "{}", pages[0].1);
    }
    // A fixed port taken on ::1 by another program is an error, not a half listener.
    let taken = std::net::TcpListener::bind("[::1]:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
        let auth = AuthorizationCodeAuthorizer::builder(connector())
            .redirect_url(format!("http://localhost:{port}/cb"))
            .browser(Arc::new(evo_auth::browser_fn(|_url: &str| Ok(()))))
            .build()
            .unwrap();
        let error = auth.login().await.unwrap_err();
        assert!(matches!(error, OAuthError::Io { .. }), "{error:?}");
        assert!(error.to_string().contains("[::1]"), "{error}");
    }
}

/// Token and revocation endpoints on plain http at another machine are refused unless the
/// user opts in; loopback and https are fine.
#[test]
fn secrets_are_not_sent_over_plain_http_to_another_machine() {
    let build = |issuer: &str, secret: bool, allow: bool| {
        let mut b = OAuthConnector::builder(TestTransport::shared(), "client")
            .issuer(issuer)
            .allow_insecure_http(allow);
        if secret {
            b = b.client_secret("s3cret");
        }
        b.build()
    };
    for secret in [false, true] {
        let error = build("http://login.example.com/", secret, false).unwrap_err();
        assert!(matches!(error, OAuthError::Config { .. }), "{error:?}");
        assert!(error.to_string().contains("plain http"), "{error}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert!(build("http://login.example.com/", secret, true).is_ok());
        assert!(build("https://login.example.com/", secret, false).is_ok());
        assert!(build("http://127.0.0.1:9/", secret, false).is_ok());
        assert!(build("http://localhost:9/", secret, false).is_ok());
    }
    // An https issuer with a plain http token endpoint elsewhere: refused too.
    let error = OAuthConnector::builder(TestTransport::shared(), "client")
        .issuer("https://login.example.com/")
        .token_endpoint("http://tokens.example.com/token")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("tokens.example.com"), "{error}");
}
