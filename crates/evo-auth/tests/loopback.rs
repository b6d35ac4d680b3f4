//! The loopback redirect listener of the authorization code login, driven by a test "browser"
//! (no authorization server needed: the redirects are made up here).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TestTransport, get};
use evo_auth::{AuthorizationCodeAuthorizer, OAuthConnector, OAuthError, OAuthErrorCode};

fn connector() -> OAuthConnector {
    // Nothing listens on port 9: no token request may be made in these tests.
    OAuthConnector::builder(TestTransport::shared(), "public-client")
        .issuer("http://127.0.0.1:9")
        .build()
        .unwrap()
}

type Pages = Arc<Mutex<Vec<(u16, String)>>>;

/// A browser that ignores the authorize URL and visits `paths` on the redirect's origin, one
/// after the other, with `state` set to the real one when `{state}` appears.
fn scripted_browser(paths: Vec<String>) -> (Arc<dyn evo_auth::BrowserLauncher>, Pages) {
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
        let origin = format!("http://127.0.0.1:{}", redirect.port().unwrap());
        let state = param("state");
        let paths = paths.clone();
        let seen = seen.clone();
        handle.spawn(async move {
            let transport = TestTransport::shared();
            for path in paths {
                let target = format!("{origin}{}", path.replace("{state}", &state));
                let (status, _, page) = get(&transport, &target).await;
                seen.lock().unwrap().push((status.as_u16(), page));
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
        "/elsewhere".into(),
        "/signin-callback".into(),
        "/signin-callback?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
            .into(),
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
async fn a_redirect_without_state_or_code_is_refused() {
    let (browser, pages) = scripted_browser(vec!["/cb?code=abc".into()]);
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
    assert_eq!(wait_pages(&pages, 1).await[0].0, 400);

    let (browser, _pages) = scripted_browser(vec!["/cb?state={state}".into()]);
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
        "http://[::1]:3000/cb",
        "http://localhost:3000/cb?x=1",
        "not a url",
    ] {
        let result = AuthorizationCodeAuthorizer::builder(connector())
            .redirect_url(bad)
            .build();
        assert!(matches!(result, Err(OAuthError::Config { .. })), "{bad}");
    }
}
