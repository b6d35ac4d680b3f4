//! IMS `/connect/endsession` (OpenID Connect RP-initiated logout) and `/connect/revocation`
//! (RFC 7009), over real HTTP: registered post-logout URIs only (no open redirect), `state`
//! echoed, the session's refresh tokens revoked.

use crate::common;

use std::collections::HashMap;

use base64::Engine;
use common::{client, json};
use evo_emulator::seed::SeedClient;
use evo_emulator::{Emulator, Seed};
use serde_json::Value;
use sha2::Digest;

const CALLBACK: &str = "http://localhost:3000/signin-callback";
const SIGNED_OUT: &str = "http://localhost:3000/signed-out";
const VERIFIER: &str = "a-verifier-that-is-long-enough-for-pkce-0123456789-abcdefghijkl";

fn seed_client(id: &str, redirects: Option<&[&str]>, post_logout: Option<&[&str]>) -> SeedClient {
    let list = |l: Option<&[&str]>| l.map(|l| l.iter().map(|s| (*s).to_owned()).collect());
    SeedClient {
        client_id: id.to_owned(),
        client_secret: None,
        scopes: Some(
            ["openid", "offline_access", "evo.discovery", "evo.workspace"]
                .map(String::from)
                .to_vec(),
        ),
        redirect_uris: list(redirects),
        post_logout_redirect_uris: list(post_logout),
    }
}

/// An emulator with the public clients `app` (redirect and post-logout URIs registered),
/// `app2` (redirect URIs only) and `loopback` (nothing registered: any http loopback URL).
async fn start() -> Emulator {
    Emulator::builder()
        .seed(Seed {
            clients: vec![
                seed_client("app", Some(&[CALLBACK]), Some(&[SIGNED_OUT])),
                seed_client("app2", Some(&[CALLBACK]), None),
                seed_client("loopback", None, None),
            ],
            ..Seed::default()
        })
        .start()
        .await
        .expect("emulator starts")
}

/// A browser login of `client_id`: authorize, then exchange the code. Returns the token answer.
async fn login(emu: &Emulator, client_id: &str, scope: &str) -> Value {
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
    let mut u = emu.ims_url().join("connect/authorize").unwrap();
    u.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("state", "login");
    let resp = client().get(u).send().await.unwrap();
    assert_eq!(resp.status(), 302, "{:?}", resp.text().await);
    let code = location(&resp).1["code"].clone();
    let (status, body) = form_post(
        emu,
        "connect/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", CALLBACK),
            ("client_id", client_id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn form_post(emu: &Emulator, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = client()
        .post(emu.ims_url().join(path).unwrap())
        .form(form)
        .send()
        .await
        .unwrap();
    json(resp).await
}

async fn refresh(emu: &Emulator, client_id: &str, token: &str) -> (u16, Value) {
    form_post(
        emu,
        "connect/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", client_id),
        ],
    )
    .await
}

async fn end_session(emu: &Emulator, params: &[(&str, &str)]) -> reqwest::Response {
    let mut u = emu.ims_url().join("connect/endsession").unwrap();
    u.query_pairs_mut().extend_pairs(params.iter().copied());
    client().get(u).send().await.unwrap()
}

fn location(resp: &reqwest::Response) -> (url::Url, HashMap<String, String>) {
    let loc = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let params = loc.query_pairs().into_owned().collect();
    (loc, params)
}

/// A 400 that is not a redirect, with an OAuth-style error body.
async fn assert_refused(resp: reqwest::Response, what: &str) {
    assert_eq!(resp.status(), 400, "{what}");
    assert!(
        resp.headers().get("location").is_none(),
        "{what}: must not redirect"
    );
    let (_, body) = json(resp).await;
    assert_eq!(body["error"], "invalid_request", "{what}: {body}");
    assert!(body["error_description"].is_string(), "{what}: {body}");
}

async fn discovery_status(emu: &Emulator, access: &str) -> u16 {
    client()
        .get(format!("{}evo/identity/v2/discovery", emu.discovery_url()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn claims(id_token: &str) -> Value {
    let parts: Vec<&str> = id_token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWT");
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .expect("base64url payload");
    serde_json::from_slice(&payload).expect("JSON claims")
}

#[tokio::test]
async fn logout_with_id_token_hint_redirects_with_state_and_revokes_the_refresh_tokens() {
    let emu = start().await;
    let tokens = login(&emu, "app", "openid offline_access evo.discovery").await;
    let id_token = tokens["id_token"]
        .as_str()
        .expect("openid gives an id token");
    let c = claims(id_token);
    assert_eq!(c["aud"], "app");
    assert_eq!(c["sub"], emu.test_user_id().to_string());
    assert!(c["sid"].is_string() && c["exp"].is_i64(), "{c}");
    // A second login of the same client and user: logout ends both.
    let second = login(&emu, "app", "offline_access evo.discovery").await;
    assert!(second.get("id_token").is_none(), "no openid, no id token");
    // Another client's session is not touched.
    let other = login(&emu, "app2", "offline_access evo.discovery").await;

    let resp = end_session(
        &emu,
        &[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", SIGNED_OUT),
            ("state", "bye 123"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 302);
    let (loc, params) = location(&resp);
    assert_eq!(
        format!("{}://{}{}", loc.scheme(), loc.authority(), loc.path()),
        SIGNED_OUT
    );
    assert_eq!(params["state"], "bye 123");

    for t in [&tokens, &second] {
        let (status, body) = refresh(&emu, "app", t["refresh_token"].as_str().unwrap()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "the session's refresh tokens are revoked: {body}"
        );
    }
    let (status, body) = refresh(&emu, "app2", other["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "another client's session survives: {body}");
}

#[tokio::test]
async fn unregistered_post_logout_uris_are_refused_never_redirected_to() {
    let emu = start().await;
    let tokens = login(&emu, "app", "offline_access evo.discovery").await;
    for uri in [
        "https://evil.example/",
        "http://localhost:3000/signed-out/../elsewhere",
        // Registered as a redirect URI, but `app` lists its post-logout URIs explicitly.
        CALLBACK,
    ] {
        let resp = end_session(
            &emu,
            &[
                ("client_id", "app"),
                ("post_logout_redirect_uri", uri),
                ("state", "s"),
            ],
        )
        .await;
        assert_refused(resp, uri).await;
    }
    // A client without registered URIs accepts http loopback URLs only.
    let public = "loopback";
    let resp = end_session(
        &emu,
        &[
            ("client_id", public),
            ("post_logout_redirect_uri", "https://evil.example/cb"),
        ],
    )
    .await;
    assert_refused(resp, "non-loopback URI for the default client").await;
    // A refused logout ends nothing.
    let (status, body) = refresh(&emu, "app", tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn client_id_names_the_client_without_a_hint_and_redirect_uris_are_the_default() {
    let emu = start().await;
    // `app2` registers no post-logout URIs: its redirect URIs are accepted.
    let tokens = login(&emu, "app2", "offline_access evo.discovery").await;
    let resp = end_session(
        &emu,
        &[
            ("client_id", "app2"),
            ("post_logout_redirect_uri", CALLBACK),
            ("state", "x"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp).1["state"], "x");
    let (status, _) = refresh(&emu, "app2", tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        status, 400,
        "logout by client_id revokes the test user's session"
    );

    // A client without registered URIs accepts any http loopback URL; without `state`, none is
    // added.
    let resp = end_session(
        &emu,
        &[
            ("client_id", "loopback"),
            (
                "post_logout_redirect_uri",
                "http://127.0.0.1:8765/bye?keep=1",
            ),
        ],
    )
    .await;
    assert_eq!(resp.status(), 302);
    let (loc, params) = location(&resp);
    assert_eq!(loc.port(), Some(8765));
    assert_eq!(params.get("keep").map(String::as_str), Some("1"));
    assert!(!params.contains_key("state"));

    // POST with a form body works as GET does.
    let resp = client()
        .post(emu.ims_url().join("connect/endsession").unwrap())
        .form(&[
            ("client_id", "app"),
            ("post_logout_redirect_uri", SIGNED_OUT),
            ("state", "p"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp).1["state"], "p");
}

#[tokio::test]
async fn bad_logout_requests_are_refused() {
    let emu = start().await;
    let tokens = login(&emu, "app", "openid offline_access evo.discovery").await;
    let id_token = tokens["id_token"].as_str().unwrap();

    let resp = end_session(&emu, &[("post_logout_redirect_uri", SIGNED_OUT)]).await;
    assert_refused(resp, "a post-logout URI without client_id or hint").await;
    let resp = end_session(
        &emu,
        &[
            ("client_id", "nobody"),
            ("post_logout_redirect_uri", SIGNED_OUT),
        ],
    )
    .await;
    assert_refused(resp, "unknown client").await;
    let resp = end_session(
        &emu,
        &[
            ("id_token_hint", id_token),
            ("client_id", "app2"),
            ("post_logout_redirect_uri", CALLBACK),
        ],
    )
    .await;
    assert_refused(resp, "client_id contradicting the hint").await;

    // A hint whose signature does not verify (claims changed to another client).
    let parts: Vec<&str> = id_token.split('.').collect();
    let mut forged_claims = claims(id_token);
    forged_claims["aud"] = "app2".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged_claims.to_string()),
        parts[2]
    );
    for hint in [forged.as_str(), "not-a-jwt", "a.b.c"] {
        let resp = end_session(
            &emu,
            &[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", CALLBACK),
            ],
        )
        .await;
        assert_refused(resp, hint).await;
    }
    // Nothing above ended the session.
    let (status, _) = refresh(&emu, "app", tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);

    // No post-logout URI: a "signed out" page, no redirect.
    let resp = end_session(&emu, &[]).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("signed out"));
}

#[tokio::test]
async fn revocation_of_refresh_and_access_tokens() {
    let emu = start().await;
    let tokens = login(&emu, "app", "offline_access evo.discovery").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(discovery_status(&emu, access).await, 200);

    // Unknown tokens, and another client's token (left alone), answer 200.
    let (status, _) = form_post(
        &emu,
        "connect/revocation",
        &[("token", "never-issued"), ("client_id", "app")],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = form_post(
        &emu,
        "connect/revocation",
        &[
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
            ("client_id", "app2"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(discovery_status(&emu, access).await, 200);

    // Missing token; bad client authentication.
    let (status, body) = form_post(&emu, "connect/revocation", &[("client_id", "app")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let sc = emu.service_client();
    let (status, body) = form_post(
        &emu,
        "connect/revocation",
        &[
            ("token", refresh_token),
            ("client_id", &sc.client_id),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // Revoking the refresh token also revokes the access tokens of its grant.
    let (status, _) = form_post(
        &emu,
        "connect/revocation",
        &[
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
            ("client_id", "app"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = refresh(&emu, "app", refresh_token).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(discovery_status(&emu, access).await, 401);

    // An access token alone, with the client secret of a confidential client.
    let (status, body) = form_post(
        &emu,
        "connect/token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", "evo.discovery"),
            ("client_id", &sc.client_id),
            ("client_secret", &sc.client_secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let service_access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(discovery_status(&emu, &service_access).await, 200);
    let (status, _) = form_post(
        &emu,
        "connect/revocation",
        &[
            ("token", &service_access),
            ("token_type_hint", "access_token"),
            ("client_id", &sc.client_id),
            ("client_secret", &sc.client_secret),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(discovery_status(&emu, &service_access).await, 401);
}

#[tokio::test]
async fn registered_redirect_uris_bind_authorize() {
    let emu = start().await;
    let mut u = emu.ims_url().join("connect/authorize").unwrap();
    u.query_pairs_mut()
        .append_pair("client_id", "app")
        .append_pair("code_challenge", "x")
        .append_pair("code_challenge_method", "S256")
        .append_pair("redirect_uri", "http://localhost:3000/other")
        .append_pair("response_type", "code");
    let resp = client().get(u).send().await.unwrap();
    assert_eq!(resp.status(), 400, "a loopback URI that is not registered");
    assert!(resp.headers().get("location").is_none());
}

#[test]
fn seed_json_declares_redirect_and_post_logout_uris() {
    let seed = Seed::from_json(
        r#"{"clients": [{"client_id": "web", "client_secret": "s3cret",
            "redirect_uris": ["https://app.example/cb"],
            "post_logout_redirect_uris": ["https://app.example/bye"]}]}"#,
    )
    .expect("seed parses");
    let c = &seed.clients[0];
    assert_eq!(
        c.redirect_uris.as_deref(),
        Some(&["https://app.example/cb".to_owned()][..])
    );
    assert_eq!(
        c.post_logout_redirect_uris.as_deref(),
        Some(&["https://app.example/bye".to_owned()][..])
    );
    let debug = format!("{c:?}");
    assert!(
        debug.contains("app.example/bye") && !debug.contains("s3cret"),
        "{debug}"
    );
}
