//! Every grant against the evo-emulator's IMS endpoints (`/connect/authorize`, `/connect/token`),
//! with API calls through `evo_core::ApiConnector` to the emulator's Workspaces API.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{Counting, TestTransport, browser, first_visit, same};
use evo_auth::{
    AccessTokenAuthorizer, AuthorizationCodeAuthorizer, ClientCredentialsAuthorizer, EvoScope,
    FileTokenStore, OAuthConnector, OAuthError, OAuthErrorCode, Scopes,
};
use evo_core::{ApiConnector, Authorizer, RetryPolicy, SharedTransport};
use evo_emulator::{Emulator, Fault, FaultPlan, RouteClass};

async fn emulator(token_ttl: Duration) -> Emulator {
    Emulator::builder()
        .token_ttl(token_ttl)
        .start()
        .await
        .expect("starting the emulator")
}

fn service_connector(emu: &Emulator, transport: SharedTransport) -> OAuthConnector {
    let client = emu.service_client();
    OAuthConnector::builder(transport, client.client_id)
        .issuer(emu.ims_url().as_str())
        .client_secret(client.client_secret)
        .build()
        .unwrap()
}

fn public_connector(emu: &Emulator, transport: SharedTransport) -> OAuthConnector {
    OAuthConnector::builder(transport, emu.public_client_id())
        .issuer(emu.ims_url().as_str())
        .build()
        .unwrap()
}

fn api(
    emu: &Emulator,
    transport: SharedTransport,
    authorizer: Arc<dyn Authorizer>,
) -> ApiConnector {
    ApiConnector::builder(emu.hub_url())
        .transport(transport)
        .authorizer(authorizer)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

async fn list_workspaces(
    api: &ApiConnector,
    emu: &Emulator,
) -> Result<serde_json::Value, evo_core::Error> {
    api.request(http::Method::GET, "/workspace/orgs/{org}/workspaces")
        .path_param("org", emu.org_id())
        .send_json::<serde_json::Value>()
        .await
}

fn login_authorizer(
    emu: &Emulator,
    transport: SharedTransport,
    launcher: Arc<dyn evo_auth::BrowserLauncher>,
) -> AuthorizationCodeAuthorizer {
    AuthorizationCodeAuthorizer::builder(public_connector(emu, transport))
        .redirect_url("http://localhost:0/signin-callback")
        .scopes(Scopes::all_evo() | EvoScope::OfflineAccess)
        .browser(launcher)
        .login_timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test]
async fn client_credentials_grant_authorizes_api_calls() {
    let emu = emulator(Duration::from_secs(3600)).await;
    let transport = TestTransport::shared();
    let auth = Arc::new(
        ClientCredentialsAuthorizer::new(
            service_connector(&emu, transport.clone()),
            Scopes::all_evo(),
        )
        .unwrap(),
    );
    let api = api(&emu, transport, auth.clone());
    list_workspaces(&api, &emu).await.unwrap();
    list_workspaces(&api, &emu).await.unwrap();
    assert_eq!(emu.token_requests(), 1, "the token is cached");
    let token = auth.token().await.unwrap();
    assert_eq!(token.scopes(), Some(&Scopes::all_evo()));
    assert!(token.refresh_token().is_none());
}

#[tokio::test]
async fn authorization_code_grant_with_pkce_then_refresh_after_the_server_expires_the_token() {
    let emu = emulator(Duration::from_secs(3600)).await;
    let counting = Counting::new(TestTransport::shared());
    let (launcher, visits) = browser(TestTransport::shared(), same, same);
    let auth = Arc::new(login_authorizer(&emu, counting.clone(), launcher));
    auth.login().await.unwrap();
    let visit = first_visit(&visits).await;
    assert_eq!(visit.authorize_status, 302);
    assert!(
        visit
            .authorize_url
            .starts_with(emu.ims_url().join("connect/authorize").unwrap().as_str())
    );
    assert_eq!(visit.final_status, 200);
    assert!(visit.final_page.contains("Authorisation successful"));
    let first = auth.token().unwrap();
    assert!(
        first.refresh_token().is_some(),
        "offline_access gives a refresh token"
    );

    let api = api(&emu, counting.clone(), auth.clone());
    list_workspaces(&api, &emu).await.unwrap();
    // The server now rejects the token: one 401, one refresh-token request, one re-send.
    emu.expire_tokens();
    list_workspaces(&api, &emu).await.unwrap();
    assert_eq!(counting.unauthorized(), 1);
    assert_eq!(counting.grants(), ["authorization_code", "refresh_token"]);
    assert_eq!(emu.token_requests(), 2);
    let second = auth.token().unwrap();
    assert_ne!(
        second.access_token().expose(),
        first.access_token().expose()
    );
    // The emulator rotates refresh tokens; the new one was kept.
    assert_ne!(
        second.refresh_token().unwrap().expose(),
        first.refresh_token().unwrap().expose()
    );
}

/// Swaps the code_challenge for the challenge of RFC 7636's example verifier.
fn wrong_challenge(url: String) -> String {
    let mut url: url::Url = url.parse().unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| match k.as_str() {
            "code_challenge" => (k, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned()),
            _ => (k, v),
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

#[tokio::test]
async fn the_emulator_checks_the_pkce_verifier() {
    let emu = emulator(Duration::from_secs(3600)).await;
    let (launcher, visits) = browser(TestTransport::shared(), wrong_challenge, same);
    let auth = login_authorizer(&emu, TestTransport::shared(), launcher);
    let error = auth.login().await.unwrap_err();
    assert_eq!(
        error.code(),
        Some(&OAuthErrorCode::InvalidGrant),
        "{error:?}"
    );
    assert_eq!(error.status(), Some(http::StatusCode::BAD_REQUEST));
    assert!(error.to_string().contains("PKCE"), "{error}");
    assert_eq!(emu.token_requests(), 1);
    assert!(auth.token().is_none());
    let visit = first_visit(&visits).await;
    assert!(
        visit.final_page.contains("Authorisation failed"),
        "{}",
        visit.final_page
    );
}

/// Changes the `state` the authorization server sent back (a forged redirect).
fn forged_state(location: String) -> String {
    let mut url: url::Url = location.parse().unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| match k.as_str() {
            "state" => (k, format!("{v}x")),
            _ => (k, v),
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

/// A redirect with a wrong state is refused (400) and does not end the login: anything on the
/// machine could send one. The login goes on waiting for the real redirect, here until its
/// time is up.
#[tokio::test]
async fn a_redirect_with_the_wrong_state_is_rejected_without_exchanging_the_code() {
    let emu = emulator(Duration::from_secs(3600)).await;
    let (launcher, visits) = browser(TestTransport::shared(), same, forged_state);
    let auth =
        AuthorizationCodeAuthorizer::builder(public_connector(&emu, TestTransport::shared()))
            .redirect_url("http://localhost:0/signin-callback")
            .scopes(Scopes::all_evo() | EvoScope::OfflineAccess)
            .browser(launcher)
            .login_timeout(Duration::from_secs(3))
            .build()
            .unwrap();
    let error = auth.login().await.unwrap_err();
    assert!(
        matches!(error, OAuthError::LoginTimeout { .. }),
        "{error:?}"
    );
    assert_eq!(emu.token_requests(), 0, "the code was not exchanged");
    let visit = first_visit(&visits).await;
    assert_eq!(visit.final_status, 400);
    assert!(visit.final_page.contains("Authorisation failed"));
    assert!(
        visit.final_page.contains("still waiting"),
        "{}",
        visit.final_page
    );
}

#[tokio::test]
async fn denied_consent_is_a_typed_error() {
    let emu = emulator(Duration::from_secs(3600)).await;
    emu.deny_consent(true);
    let (launcher, visits) = browser(TestTransport::shared(), same, same);
    let auth = login_authorizer(&emu, TestTransport::shared(), launcher);
    let error = auth.login().await.unwrap_err();
    match &error {
        OAuthError::Authorization { code, description } => {
            assert_eq!(code, &OAuthErrorCode::AccessDenied);
            assert_eq!(description.as_deref(), Some("The user denied the request."));
        }
        other => panic!("expected an authorization error, got {other:?}"),
    }
    assert_eq!(emu.token_requests(), 0);
    let visit = first_visit(&visits).await;
    assert!(visit.final_page.contains("Authorisation failed"));
    assert!(visit.final_page.contains("access_denied"));
}

#[tokio::test]
async fn an_expiring_token_is_renewed_before_use() {
    // A 4 s token: it is due for renewal after half its lifetime (the 5-minute margin is
    // capped at half the lifetime). The renewal runs in the background: the request that
    // finds the token due still goes out with the valid old one, without waiting.
    let emu = emulator(Duration::from_secs(4)).await;
    let counting = Counting::new(TestTransport::shared());
    let auth = Arc::new(
        ClientCredentialsAuthorizer::new(
            service_connector(&emu, counting.clone()),
            Scopes::all_evo(),
        )
        .unwrap(),
    );
    let api = api(&emu, counting.clone(), auth.clone());
    list_workspaces(&api, &emu).await.unwrap();
    let first = auth.token().await.unwrap();
    list_workspaces(&api, &emu).await.unwrap();
    assert_eq!(emu.token_requests(), 1);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    list_workspaces(&api, &emu).await.unwrap();
    // Wait for the background renewal to land (well before the old token expires).
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    let mut second = auth.token().await.unwrap();
    while second.access_token().expose() == first.access_token().expose()
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
        second = auth.token().await.unwrap();
    }
    assert_eq!(emu.token_requests(), 2, "renewed before the token expired");
    assert_eq!(
        counting.unauthorized(),
        0,
        "no request was sent with the old token and rejected"
    );
    assert_ne!(
        second.access_token().expose(),
        first.access_token().expose()
    );
}

async fn thousand_requests(api: &ApiConnector, emu: &Emulator) {
    let calls = (0..1000).map(|_| list_workspaces(api, emu));
    let results = futures_util::future::join_all(calls).await;
    let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{} failed, first: {}",
        failures.len(),
        failures[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_requests_over_an_expiring_token_make_one_token_request() {
    let emu = emulator(Duration::from_secs(4)).await;
    let counting = Counting::new(TestTransport::shared());
    let auth = Arc::new(
        ClientCredentialsAuthorizer::new(
            service_connector(&emu, counting.clone()),
            Scopes::all_evo(),
        )
        .unwrap(),
    );
    let api = api(&emu, counting.clone(), auth.clone());
    list_workspaces(&api, &emu).await.unwrap();
    assert_eq!(emu.token_requests(), 1);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    thousand_requests(&api, &emu).await;
    assert_eq!(
        emu.token_requests(),
        2,
        "one renewal for 1,000 concurrent requests"
    );
    assert_eq!(counting.count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_401s_make_one_token_request() {
    let emu = emulator(Duration::from_secs(3600)).await;
    let counting = Counting::new(TestTransport::shared());
    let auth = Arc::new(
        ClientCredentialsAuthorizer::new(
            service_connector(&emu, counting.clone()),
            Scopes::all_evo(),
        )
        .unwrap(),
    );
    let api = api(&emu, counting.clone(), auth.clone());
    list_workspaces(&api, &emu).await.unwrap();
    emu.expire_tokens();
    thousand_requests(&api, &emu).await;
    assert!(counting.unauthorized() >= 1);
    assert_eq!(
        emu.token_requests(),
        2,
        "one forced refresh for every concurrent 401"
    );
}

#[tokio::test]
async fn token_endpoint_errors_are_typed() {
    let emu = emulator(Duration::from_secs(3600)).await;
    let client = emu.service_client();
    let wrong_secret = OAuthConnector::builder(TestTransport::shared(), client.client_id.clone())
        .issuer(emu.ims_url().as_str())
        .client_secret("not-the-secret")
        .build()
        .unwrap();
    let auth = ClientCredentialsAuthorizer::new(wrong_secret, Scopes::all_evo()).unwrap();
    let error = auth.token().await.unwrap_err();
    assert_eq!(
        error.code(),
        Some(&OAuthErrorCode::InvalidClient),
        "{error:?}"
    );
    assert_eq!(error.status(), Some(http::StatusCode::UNAUTHORIZED));
    // Through the Authorizer trait the OAuth error is found inside evo_core::Error.
    let core = auth.headers().await.unwrap_err();
    assert_eq!(
        OAuthError::find(&core).unwrap().code(),
        Some(&OAuthErrorCode::InvalidClient)
    );

    let scoped = ClientCredentialsAuthorizer::new(
        service_connector(&emu, TestTransport::shared()),
        Scopes::all_evo() | EvoScope::OfflineAccess,
    )
    .unwrap();
    let error = scoped.token().await.unwrap_err();
    assert_eq!(
        error.code(),
        Some(&OAuthErrorCode::InvalidScope),
        "{error:?}"
    );
}

#[tokio::test]
async fn gateway_errors_from_the_token_endpoint_are_retried() {
    let emu = emulator(Duration::from_secs(3600)).await;
    emu.set_faults(FaultPlan::none().with_first(RouteClass::Token, Fault::Status(503), 2));
    let counting = Counting::new(TestTransport::shared());
    let auth = ClientCredentialsAuthorizer::new(
        service_connector(&emu, counting.clone()),
        Scopes::all_evo(),
    )
    .unwrap();
    auth.token().await.unwrap();
    assert_eq!(counting.count(), 3, "two 503s, then success");
}

#[tokio::test]
async fn a_stored_session_is_reused_without_the_browser() {
    let emu = emulator(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileTokenStore::new(dir.path().join("evo/token.json")));
    let (launcher, _visits) = browser(TestTransport::shared(), same, same);
    let first =
        AuthorizationCodeAuthorizer::builder(public_connector(&emu, TestTransport::shared()))
            .redirect_url("http://127.0.0.1:0/cb")
            .browser(launcher)
            .store(store.clone())
            .build()
            .unwrap();
    first.login_if_needed().await.unwrap();
    assert_eq!(emu.token_requests(), 1);

    // A second run: the stored token is used; the browser must not open.
    let no_browser = Arc::new(evo_auth::browser_fn(|_url: &str| {
        panic!("the browser was opened although a stored session exists")
    }));
    let second = Arc::new(
        AuthorizationCodeAuthorizer::builder(public_connector(&emu, TestTransport::shared()))
            .redirect_url("http://127.0.0.1:0/cb")
            .browser(no_browser)
            .store(store.clone())
            .build()
            .unwrap(),
    );
    second.login_if_needed().await.unwrap();
    let api = api(&emu, TestTransport::shared(), second.clone());
    list_workspaces(&api, &emu).await.unwrap();
    assert_eq!(emu.token_requests(), 1);

    // The server expired it: the stored refresh token renews it and the store is updated.
    emu.expire_tokens();
    list_workspaces(&api, &emu).await.unwrap();
    assert_eq!(emu.token_requests(), 2);
    let saved = std::fs::read_to_string(store.path()).unwrap();
    assert!(saved.contains(second.token().unwrap().access_token().expose()));
    second.logout().await.unwrap();
    assert!(!store.path().exists());
}

#[tokio::test]
async fn an_access_token_the_user_has_is_sent_and_cannot_refresh() {
    let emu = emulator(Duration::from_secs(3600)).await;
    let token = emu.issue_token(&["evo.workspace"]);
    let auth = Arc::new(AccessTokenAuthorizer::new(token.clone()));
    let api = api(&emu, TestTransport::shared(), auth.clone());
    list_workspaces(&api, &emu).await.unwrap();
    emu.expire_tokens();
    let error = list_workspaces(&api, &emu).await.unwrap_err();
    assert!(error.is_unauthorized(), "{error}");
    assert!(!format!("{auth:?} {error} {error:?}").contains(&token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_logins_if_needed_share_one_browser_login() {
    let emu = emulator(Duration::from_secs(3600)).await;
    let (launcher, visits) = browser(TestTransport::shared(), same, same);
    let auth = Arc::new(
        AuthorizationCodeAuthorizer::builder(public_connector(&emu, TestTransport::shared()))
            .redirect_url("http://127.0.0.1:0/cb")
            .browser(launcher)
            .build()
            .unwrap(),
    );
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move { auth.login_if_needed().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    // Every login exchanges one code: one exchange means one login.
    assert_eq!(emu.token_requests(), 1, "one code exchange");
    assert!(auth.token().is_some());
    // The browser records its visit after the login has finished: wait for it.
    first_visit(&visits).await;
    let count = visits.lock().unwrap().len();
    assert_eq!(count, 1, "one browser visit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_revokes_the_refresh_token_and_opens_the_end_session_page() {
    let emu = emulator(Duration::from_secs(3600)).await;
    let (launcher, visits) = browser(TestTransport::shared(), same, same);
    let connector = public_connector(&emu, TestTransport::shared());
    let auth = AuthorizationCodeAuthorizer::builder(connector.clone())
        .redirect_url("http://127.0.0.1:0/cb")
        .browser(launcher)
        .build()
        .unwrap();
    auth.login_if_needed().await.unwrap();
    let before = auth.token().unwrap();
    assert!(before.refresh_token().is_some());

    let url = auth.sign_out(None).await.unwrap();
    assert_eq!(url.path(), "/connect/endsession");
    assert!(auth.token().is_none());
    // The browser visited the end-session page after the login page.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while visits.lock().unwrap().len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let visits = visits.lock().unwrap().clone();
    assert_eq!(visits.len(), 2, "{visits:?}");
    // The login's visit is recorded when the browser has its last page, which can come after
    // the end-session visit: find that one by its URL.
    let end = visits
        .iter()
        .find(|v| v.authorize_url.contains("/connect/endsession"))
        .unwrap_or_else(|| panic!("no end-session visit: {visits:?}"));
    assert_eq!(end.authorize_status, 200);

    // A copy of the old token can no longer be renewed at the issuer.
    let expired = before.with_expires_at(std::time::SystemTime::now() - Duration::from_secs(1));
    let copy =
        evo_auth::AccessTokenAuthorizer::refreshable(connector, expired, Duration::from_secs(60))
            .unwrap();
    let err = copy.headers().await.unwrap_err();
    assert!(err.to_string().contains("invalid_grant"), "{err}");
}

#[tokio::test]
async fn revoking_checks_the_client_and_accepts_unknown_tokens() {
    let emu = emulator(Duration::from_secs(3600)).await;
    let service = service_connector(&emu, TestTransport::shared());
    service
        .revoke(
            &evo_auth::Secret::from("never-issued".to_owned()),
            evo_auth::TokenKind::RefreshToken,
        )
        .await
        .unwrap();
    let wrong = OAuthConnector::builder(TestTransport::shared(), emu.service_client().client_id)
        .issuer(emu.ims_url().as_str())
        .client_secret("not-the-secret")
        .build()
        .unwrap();
    let err = wrong
        .revoke(
            &evo_auth::Secret::from("never-issued".to_owned()),
            evo_auth::TokenKind::AccessToken,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&OAuthErrorCode::InvalidClient), "{err:?}");
    assert!(!format!("{err:?}{err}").contains("not-the-secret"));
}
