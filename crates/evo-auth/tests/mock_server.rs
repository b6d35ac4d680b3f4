//! The flows against a real OAuth2 server nobody here wrote: oauth2-mock-server (npm), started
//! on a free port of 127.0.0.1 by evo-testkit.

use crate::common;

use std::time::Duration;

use common::{Counting, TestTransport, browser, same};
use evo_auth::{
    AuthorizationCodeAuthorizer, ClientCredentialsAuthorizer, EvoScope, OAuthConnector, OAuthError,
    Scopes,
};
use evo_core::{Authorizer, SharedTransport};
use evo_testkit::OAuthMockServer;

fn connector(server: &OAuthMockServer, transport: SharedTransport, secret: bool) -> OAuthConnector {
    let builder = OAuthConnector::builder(transport, "evo-rs-test-client")
        .issuer(server.base_url.clone())
        .authorize_endpoint("/authorize")
        .token_endpoint("/token");
    let builder = if secret {
        builder.client_secret("mock-client-secret")
    } else {
        builder
    };
    builder.build().unwrap()
}

fn bearer(headers: &http::HeaderMap) -> String {
    headers[http::header::AUTHORIZATION]
        .to_str()
        .unwrap()
        .strip_prefix("Bearer ")
        .expect("a Bearer header")
        .to_owned()
}

#[tokio::test]
async fn client_credentials_against_oauth2_mock_server() {
    let server = OAuthMockServer::start().await;
    let counting = Counting::new(TestTransport::shared());
    let auth = ClientCredentialsAuthorizer::new(
        connector(&server, counting.clone(), true),
        Scopes::all_evo(),
    )
    .unwrap();
    let headers = auth.headers().await.unwrap();
    let jwt = bearer(&headers);
    assert_eq!(jwt.split('.').count(), 3, "oauth2-mock-server issues JWTs");
    assert!(headers[http::header::AUTHORIZATION].is_sensitive());
    // Cached: a second call makes no request.
    assert_eq!(bearer(&auth.headers().await.unwrap()), jwt);
    assert_eq!(counting.count(), 1);
    let form = counting.forms.lock().unwrap()[0].clone();
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(
        form.contains("scope=evo.blocksync+evo.discovery+evo.file+evo.object+evo.workspace"),
        "{form}"
    );
    assert!(
        form.contains("client_secret=mock-client-secret"),
        "client_secret_post: {form}"
    );
    let token = auth.token().await.unwrap();
    let lifetime = token
        .expires_at()
        .unwrap()
        .duration_since(token.issued_at())
        .unwrap();
    assert!(lifetime > Duration::from_secs(60), "{lifetime:?}");
    // A 401 forces exactly one new token request.
    assert!(auth.refresh(&headers).await.unwrap());
    assert_eq!(counting.count(), 2);
    assert_eq!(
        counting.grants(),
        ["client_credentials", "client_credentials"]
    );
}

#[tokio::test]
async fn authorization_code_with_pkce_through_the_authorize_redirect_then_refresh() {
    let server = OAuthMockServer::start().await;
    let counting = Counting::new(TestTransport::shared());
    let (launcher, visits) = browser(TestTransport::shared(), same, same);
    let auth = AuthorizationCodeAuthorizer::builder(connector(&server, counting.clone(), false))
        .redirect_url("http://127.0.0.1:0/signin-callback")
        .scopes(Scopes::default() | EvoScope::OfflineAccess)
        .browser(launcher)
        .login_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    auth.login().await.unwrap();

    let visit = common::first_visit(&visits).await;
    let authorize: url::Url = visit.authorize_url.parse().unwrap();
    assert_eq!(authorize.path(), "/authorize");
    let params: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    let keys: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "client_id",
            "code_challenge",
            "code_challenge_method",
            "redirect_uri",
            "response_type",
            "scope",
            "state"
        ]
    );
    let param = |name: &str| params.iter().find(|(k, _)| k == name).unwrap().1.clone();
    assert_eq!(param("code_challenge_method"), "S256");
    assert_eq!(param("scope"), "evo.discovery evo.workspace offline_access");
    assert_eq!(param("state").len(), 43);
    let redirect_uri: url::Url = param("redirect_uri").parse().unwrap();
    assert_eq!(redirect_uri.host_str(), Some("127.0.0.1"));
    assert_ne!(
        redirect_uri.port(),
        Some(0),
        "the ephemeral port is filled in"
    );
    assert_eq!(visit.authorize_status, 302);
    assert!(visit.redirect.as_deref().unwrap().contains("code="));
    assert_eq!(visit.final_status, 200);
    assert!(
        visit.final_page.contains("Authorisation successful"),
        "{}",
        visit.final_page
    );

    // The code exchange carried the verifier the server checked against the challenge.
    let form = counting.forms.lock().unwrap()[0].clone();
    assert!(form.contains("grant_type=authorization_code"), "{form}");
    assert!(form.contains("code_verifier="), "{form}");
    let token = auth.token().unwrap();
    assert!(token.refresh_token().is_some());

    // Refresh: a 401 to the current token makes one refresh-token request.
    let headers = auth.headers().await.unwrap();
    assert!(auth.refresh(&headers).await.unwrap());
    assert_eq!(counting.grants(), ["authorization_code", "refresh_token"]);
    let refresh_form = counting.forms.lock().unwrap()[1].clone();
    let old_refresh = token.refresh_token().unwrap().expose().to_owned();
    assert!(
        refresh_form.contains(&format!("refresh_token={old_refresh}")),
        "{refresh_form}"
    );
    assert!(
        !refresh_form.contains("scope="),
        "no scope on refresh: {refresh_form}"
    );
    let renewed = auth.token().unwrap();
    assert_ne!(
        renewed.refresh_token().unwrap().expose(),
        old_refresh,
        "the new refresh token replaced the old one"
    );
    // Headers after refresh carry the new token.
    assert_eq!(
        bearer(&auth.headers().await.unwrap()),
        renewed.access_token().expose()
    );
}

/// Replaces the code_challenge with the challenge of a different verifier, so the verifier the
/// authorizer sends does not match what the server stored.
fn wrong_challenge(url: String) -> String {
    let mut url: url::Url = url.parse().unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "code_challenge" {
                // S256 of RFC 7636's example verifier, not ours.
                (k, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_rejected_by_oauth2_mock_server() {
    let server = OAuthMockServer::start().await;
    let (launcher, visits) = browser(TestTransport::shared(), wrong_challenge, same);
    let auth =
        AuthorizationCodeAuthorizer::builder(connector(&server, TestTransport::shared(), false))
            .redirect_url("http://localhost/cb")
            .browser(launcher)
            .login_timeout(Duration::from_secs(30))
            .build()
            .unwrap();
    let error = auth.login().await.unwrap_err();
    match &error {
        OAuthError::TokenEndpoint {
            status,
            code,
            description,
            ..
        } => {
            assert_eq!(status.as_u16(), 400);
            assert_eq!(code.as_str(), "invalid_request");
            assert!(
                description.as_deref().unwrap().contains("code_verifier"),
                "{error}"
            );
        }
        other => panic!("expected a token endpoint error, got {other:?}"),
    }
    assert!(auth.token().is_none());
    let visit = common::first_visit(&visits).await;
    assert!(
        visit.final_page.contains("Authorisation failed"),
        "{}",
        visit.final_page
    );
    assert!(!visit.final_page.contains("successful"));
    // Headers without a token: a typed "log in" error.
    let e = auth.headers().await.unwrap_err();
    assert!(OAuthError::find(&e).unwrap().needs_login(), "{e}");
}

#[tokio::test]
async fn custom_scopes_reach_the_server_sorted_and_deduplicated() {
    let server = OAuthMockServer::start().await;
    let counting = Counting::new(TestTransport::shared());
    let scopes = Scopes::parse(["evo.workspace evo.file", "evo.file"]).unwrap();
    let auth = ClientCredentialsAuthorizer::new(connector(&server, counting.clone(), true), scopes)
        .unwrap();
    auth.token().await.unwrap();
    let form = counting.forms.lock().unwrap()[0].clone();
    assert!(form.contains("scope=evo.file+evo.workspace"), "{form}");
}
