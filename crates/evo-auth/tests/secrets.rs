//! No token, client secret, authorization code or PKCE verifier appears in `Debug`, `Display`,
//! logs (captured at TRACE) or errors, through every flow against the emulator.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{Counting, TestTransport, browser, capture_logs, first_visit, same};
use evo_auth::{
    AccessTokenAuthorizer, AuthorizationCodeAuthorizer, ClientCredentialsAuthorizer, EvoScope,
    MemoryTokenStore, OAuthConnector, Scopes, TokenKey, TokenStore,
};
use evo_core::{ApiConnector, Authorizer, RetryPolicy, transport_fn};
use evo_emulator::Emulator;

fn query_value(url: &str, name: &str) -> String {
    let url: url::Url = url.parse().unwrap();
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} missing in {url}"))
}

fn form_value(form: &str, name: &str) -> String {
    url::form_urlencoded::parse(form.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} missing"))
}

#[tokio::test]
async fn no_secret_in_debug_display_logs_or_errors() {
    let (logs, _guard) = capture_logs();
    let emu = Emulator::builder()
        .token_ttl(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let mut secrets: Vec<String> = Vec::new();
    let mut shown: Vec<String> = Vec::new();

    // Client credentials, an API call, a forced refresh, a wrong secret.
    let client = emu.service_client();
    secrets.push(client.client_secret.clone());
    let counting = Counting::new(TestTransport::shared());
    let connector = OAuthConnector::builder(counting.clone(), client.client_id.clone())
        .issuer(emu.ims_url().as_str())
        .client_secret(client.client_secret.clone())
        .build()
        .unwrap();
    shown.push(format!("{connector:?}"));
    let cc = Arc::new(ClientCredentialsAuthorizer::new(connector, Scopes::all_evo()).unwrap());
    let api = ApiConnector::builder(emu.hub_url())
        .transport(counting.clone())
        .authorizer(cc.clone())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    api.request(http::Method::GET, "/workspace/orgs/{org}/workspaces")
        .path_param("org", emu.org_id())
        .send_bytes()
        .await
        .unwrap();
    let token = cc.token().await.unwrap();
    secrets.push(token.access_token().expose().to_owned());
    let headers = cc.headers().await.unwrap();
    shown.push(format!("{headers:?}"));
    emu.expire_tokens();
    api.request(http::Method::GET, "/workspace/orgs/{org}/workspaces")
        .path_param("org", emu.org_id())
        .send_bytes()
        .await
        .unwrap();
    let token = cc.token().await.unwrap();
    secrets.push(token.access_token().expose().to_owned());
    shown.push(format!("{cc:?} {token:?} {api:?}"));

    let wrong_secret = "wrong-secret-value-1234567";
    secrets.push(wrong_secret.to_owned());
    let bad = ClientCredentialsAuthorizer::new(
        OAuthConnector::builder(TestTransport::shared(), client.client_id.clone())
            .issuer(emu.ims_url().as_str())
            .client_secret(wrong_secret)
            .build()
            .unwrap(),
        Scopes::all_evo(),
    )
    .unwrap();
    let e = bad.headers().await.unwrap_err();
    shown.push(format!("{e} {e:?} {bad:?}"));

    // Authorization code with PKCE, then a refresh.
    let counting = Counting::new(TestTransport::shared());
    let (launcher, visits) = browser(TestTransport::shared(), same, same);
    let store = Arc::new(MemoryTokenStore::new());
    let ac = Arc::new(
        AuthorizationCodeAuthorizer::builder(
            OAuthConnector::builder(counting.clone(), emu.public_client_id())
                .issuer(emu.ims_url().as_str())
                .build()
                .unwrap(),
        )
        .redirect_url("http://127.0.0.1:0/cb")
        .scopes(Scopes::default() | EvoScope::OfflineAccess)
        .browser(launcher)
        .store(store.clone())
        .build()
        .unwrap(),
    );
    ac.login().await.unwrap();
    let visit = first_visit(&visits).await;
    secrets.push(query_value(visit.redirect.as_deref().unwrap(), "code"));
    secrets.push(query_value(&visit.authorize_url, "state"));
    let form = counting.forms.lock().unwrap()[0].clone();
    secrets.push(form_value(&form, "code_verifier"));
    let t = ac.token().unwrap();
    secrets.push(t.access_token().expose().to_owned());
    secrets.push(t.refresh_token().unwrap().expose().to_owned());
    let h = ac.headers().await.unwrap();
    assert!(ac.refresh(&h).await.unwrap());
    let t = ac.token().unwrap();
    secrets.push(t.access_token().expose().to_owned());
    secrets.push(t.refresh_token().unwrap().expose().to_owned());
    shown.push(format!("{ac:?} {t:?} {store:?}"));
    let key = TokenKey::new(emu.ims_url().as_str(), emu.public_client_id(), ac.scopes());
    shown.push(format!("{:?}", store.load(&key).await.unwrap()));

    // A token response the client cannot use (unsupported type; then a bad expires_in)
    // must not quote the body, which holds a token.
    for body in [
        r#"{"access_token":"leaky-token-in-body-0001","token_type":"mac","expires_in":60}"#,
        r#"{"access_token":"leaky-token-in-body-0001","token_type":"Bearer","expires_in":"x"}"#,
    ] {
        let canned = Arc::new(transport_fn(move |_r| async move {
            Ok(http::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(evo_core::Body::from(body))
                .unwrap())
        }));
        let odd = ClientCredentialsAuthorizer::new(
            OAuthConnector::builder(canned, "cid")
                .issuer("http://127.0.0.1:9")
                .client_secret("x")
                .build()
                .unwrap(),
            Scopes::all_evo(),
        )
        .unwrap();
        let e = odd.headers().await.unwrap_err();
        shown.push(format!("{e} {e:?}"));
    }
    secrets.push("leaky-token-in-body-0001".to_owned());

    // An access token the user has.
    let own = emu.issue_token(&["evo.workspace"]);
    secrets.push(own.clone());
    shown.push(format!("{:?}", AccessTokenAuthorizer::new(own)));

    let logs = logs.text();
    assert!(
        logs.contains("requesting a token"),
        "the log capture works: {logs}"
    );
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"));
    for secret in &secrets {
        assert!(secret.len() >= 10, "a real secret value: {secret}");
        assert!(!logs.contains(secret.as_str()), "a secret is in the logs");
        for text in &shown {
            assert!(!text.contains(secret.as_str()), "a secret is shown: {text}");
        }
    }
}
