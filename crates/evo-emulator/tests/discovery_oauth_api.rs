//! Discovery and OAuth (client credentials, authorization code with PKCE, refresh rotation,
//! expiry), driven with a plain HTTP client.

use crate::common;

use base64::Engine;
use common::*;
use serde_json::{Value, json};
use sha2::Digest;

#[tokio::test]
async fn discovery_checks_token_and_scope_and_returns_the_hub() {
    let emu = start().await;
    let url = format!(
        "{}evo/identity/v2/discovery?service=evo",
        emu.discovery_url()
    );
    let c = client();

    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let (_, body) = json(resp).await;
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/discovery/auth/missing-token"
    );
    assert_eq!(body["status"], 401);

    let resp = c.get(&url).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    let wrong = emu.issue_token(&["evo.file"]);
    let resp = c.get(&url).bearer_auth(&wrong).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );

    let token = emu.issue_token(&["evo.discovery"]);
    let (status, body) = json(c.get(&url).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let d = &body["discovery"];
    assert_eq!(d["organizations"][0]["id"], emu.org_id().to_string());
    assert_eq!(d["hubs"][0]["url"], emu.hub_url().to_string());
    assert_eq!(d["service_access"][0]["org_id"], emu.org_id().to_string());
    assert_eq!(d["service_access"][0]["hub_code"], d["hubs"][0]["code"]);
    assert!(
        d["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["code"] == "file")
    );

    let url = format!(
        "{}evo/identity/v2/discovery?service=nothing",
        emu.discovery_url()
    );
    let (status, body) = json(c.get(&url).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(status, 200);
    for k in ["organizations", "hubs", "services", "service_access"] {
        assert_eq!(body["discovery"][k], json!([]), "{k}");
    }
}

async fn token_call(emu: &evo_emulator::Emulator, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = client()
        .post(format!("{}connect/token", emu.ims_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    json(resp).await
}

#[tokio::test]
async fn client_credentials_grant_and_its_errors() {
    let emu = start().await;
    let sc = emu.service_client();
    assert!(
        !format!("{sc:?}").contains(&sc.client_secret),
        "Debug must not show the secret"
    );
    let (status, body) = token_call(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "evo.discovery evo.workspace"),
            ("client_id", &sc.client_id),
            ("client_secret", &sc.client_secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap();
    let resp = client()
        .get(format!("{}/workspaces", ws_base(&emu)))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = client()
        .get(format!(
            "{}file/v2/orgs/{}/workspaces/{}/files",
            emu.hub_url(),
            emu.org_id(),
            uuid::Uuid::nil()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "token lacks evo.file");

    let (status, body) = token_call(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &sc.client_id),
            ("client_secret", "nope"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = token_call(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "evo.nope"),
            ("client_id", &sc.client_id),
            ("client_secret", &sc.client_secret),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = token_call(
        &emu,
        &[
            ("grant_type", "password"),
            ("client_id", &sc.client_id),
            ("client_secret", &sc.client_secret),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let resp = client()
        .post(format!("{}connect/token", emu.ims_url()))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // HTTP Basic client authentication works too.
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", sc.client_id, sc.client_secret));
    let resp = client()
        .post(format!("{}connect/token", emu.ims_url()))
        .header("authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // A public client cannot use client_credentials.
    let (status, body) = token_call(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &emu.public_client_id()),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    assert_eq!(emu.token_requests(), 7);
}

fn pkce() -> (String, String) {
    let verifier = "a-verifier-that-is-long-enough-for-pkce-0123456789-abcdefghijkl".to_owned();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

async fn authorize(
    emu: &evo_emulator::Emulator,
    challenge: &str,
    redirect: &str,
    scope: &str,
) -> reqwest::Response {
    let mut u = emu.ims_url().join("connect/authorize").unwrap();
    u.query_pairs_mut()
        .append_pair("client_id", &emu.public_client_id())
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("redirect_uri", redirect)
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("state", "st4te");
    client().get(u).send().await.unwrap()
}

fn location_params(
    resp: &reqwest::Response,
) -> (url::Url, std::collections::HashMap<String, String>) {
    let loc = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let params = loc.query_pairs().into_owned().collect();
    (loc, params)
}

#[tokio::test]
async fn authorization_code_with_pkce_refresh_rotation_and_consent_denial() {
    let emu = start().await;
    let (verifier, challenge) = pkce();
    let redirect = "http://localhost:3000/signin-callback";
    let resp = authorize(
        &emu,
        &challenge,
        redirect,
        "evo.discovery evo.workspace offline_access",
    )
    .await;
    assert_eq!(resp.status(), 302);
    let (loc, p) = location_params(&resp);
    assert_eq!(loc.path(), "/signin-callback");
    assert_eq!(p["state"], "st4te");
    let client_id = emu.public_client_id();

    // A wrong verifier fails, and the code is spent.
    let (status, body) = token_call(
        &emu,
        &[
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("code_verifier", "wrong"),
            ("redirect_uri", redirect),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let resp = authorize(
        &emu,
        &challenge,
        redirect,
        "evo.discovery evo.workspace offline_access",
    )
    .await;
    let (_, p) = location_params(&resp);
    let (status, body) = token_call(
        &emu,
        &[
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("code_verifier", &verifier),
            ("redirect_uri", redirect),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let refresh = body["refresh_token"]
        .as_str()
        .expect("offline_access gives a refresh token")
        .to_owned();
    let access = body["access_token"].as_str().unwrap().to_owned();
    let url = format!(
        "{}evo/identity/v2/discovery?service=evo",
        emu.discovery_url()
    );
    assert_eq!(
        client()
            .get(&url)
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Refresh rotates: the new refresh token works, the old one is rejected.
    let (status, body) = token_call(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let refresh2 = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh);
    let (status, body) = token_call(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Without offline_access there is no refresh token.
    let resp = authorize(&emu, &challenge, redirect, "evo.discovery").await;
    let (_, p) = location_params(&resp);
    let (status, body) = token_call(
        &emu,
        &[
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("code_verifier", &verifier),
            ("redirect_uri", redirect),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.get("refresh_token").is_none());

    emu.deny_consent(true);
    let resp = authorize(&emu, &challenge, redirect, "evo.discovery").await;
    assert_eq!(resp.status(), 302);
    let (_, p) = location_params(&resp);
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "st4te");
    assert!(!p.contains_key("code"));

    emu.deny_consent(false);
    // PKCE is required, and only S256.
    let mut u = emu.ims_url().join("connect/authorize").unwrap();
    u.query_pairs_mut()
        .append_pair("client_id", &emu.public_client_id())
        .append_pair("redirect_uri", redirect)
        .append_pair("response_type", "code")
        .append_pair("state", "s");
    let resp = client().get(u.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(location_params(&resp).1["error"], "invalid_request");
    u.query_pairs_mut()
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "plain");
    let resp = client().get(u).send().await.unwrap();
    assert_eq!(location_params(&resp).1["error"], "invalid_request");
    let resp = authorize(&emu, &challenge, "https://evil.example/cb", "evo.discovery").await;
    assert_eq!(
        resp.status(),
        400,
        "non-loopback redirect URIs are refused without redirecting"
    );
}

#[tokio::test]
async fn expired_tokens_answer_401() {
    let emu = start().await;
    let token = emu.issue_token(ALL);
    let url = format!("{}/workspaces", ws_base(&emu));
    assert_eq!(
        client()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    emu.expire_tokens();
    let resp = client().get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let (_, body) = json(resp).await;
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/workspace/auth/invalid-token"
    );

    let short = evo_emulator::Emulator::builder()
        .token_ttl(std::time::Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let t = short.issue_token(ALL);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let resp = client()
        .get(format!("{}/workspaces", ws_base(&short)))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
