//! Discovery, OAuth and Workspaces API, driven with a plain HTTP client.

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

#[tokio::test]
async fn workspace_crud_validation_paging_and_restore() {
    let emu = start().await;
    let token = emu.issue_token(ALL);
    let c = client();
    let base = ws_base(&emu);

    // create: shape of the fixtures
    let resp = c
        .post(format!("{base}/workspaces"))
        .bearer_auth(&token)
        .json(&json!({"name": "Test Workspace B", "description": "test workspace", "bounding_box": {"coordinates": [[[100,0],[101,0],[101,1],[100,1],[100,0]]], "type": "Polygon"}, "labels": null, "default_coordinate_system": ""}))
        .send()
        .await
        .unwrap();
    let (status, ws) = json(resp).await;
    assert_eq!(status, 201, "{ws}");
    for key in [
        "id",
        "name",
        "description",
        "current_user_role",
        "bounding_box",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "ml_enabled",
        "default_coordinate_system",
        "labels",
        "self_link",
    ] {
        assert!(ws.get(key).is_some(), "missing {key}");
    }
    assert_eq!(ws["current_user_role"], "owner");
    assert_eq!(ws["labels"], json!([]));
    assert_eq!(ws["bounding_box"]["type"], "Polygon");
    assert_eq!(ws["created_by"]["id"], emu.test_user_id().to_string());
    let id = ws["id"].as_str().unwrap().to_owned();
    assert_eq!(ws["self_link"], format!("{base}/workspaces/{id}"));
    assert!(ws["created_at"].as_str().unwrap().ends_with("+00:00"));

    // validation
    let resp = c
        .post(format!("{base}/workspaces"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/workspace/bad-request"
    );
    let resp = c
        .post(format!("{base}/workspaces"))
        .bearer_auth(&token)
        .json(&json!({"description": "x", "labels": [""]}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 400);
    let names: Vec<&str> = body["invalid-params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"name") && names.contains(&"labels"),
        "{body}"
    );
    assert!(body["title"].is_string() && body["detail"].is_string());
    let resp = c.post(format!("{base}/workspaces")).bearer_auth(&token).json(&json!({"name": "bb", "bounding_box": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[5,5]]]}})).send().await.unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 400);
    assert_eq!(body["invalid-params"][0]["name"], "bounding_box");
    let resp = c
        .post(format!("{base}/workspaces"))
        .bearer_auth(&token)
        .json(&json!({"name": "Test Workspace B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);

    create_workspace(&emu, &token, "Test Workspace A").await;
    create_workspace(&emu, &token, "Test Workspace C").await;

    // list + paging
    let (status, page) = json(
        c.get(format!(
            "{base}/workspaces?limit=2&offset=0&order_by=asc%3Aname"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Test Workspace A", "Test Workspace B"]);
    let links = &page["links"];
    assert_eq!(links["count"], 2);
    assert_eq!(links["total"], 3);
    assert_eq!(links["previous"], Value::Null);
    let next = links["next"].as_str().unwrap();
    assert!(
        next.starts_with(&emu.hub_url().to_string())
            && next.contains("offset=2")
            && next.contains("limit=2"),
        "{next}"
    );
    assert!(links["last"].as_str().unwrap().contains("offset=2"));
    let (_, page2) = json(c.get(next).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(page2["results"][0]["name"], "Test Workspace C");
    assert_eq!(page2["links"]["next"], Value::Null);
    assert!(
        page2["links"]["previous"]
            .as_str()
            .unwrap()
            .contains("offset=0")
    );

    let (_, page) = json(
        c.get(format!("{base}/workspaces?order_by=desc:name"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["results"][0]["name"], "Test Workspace C");
    for q in [
        "name=Test+Workspace+A",
        "filter%5Bname%5D=Test%20Workspace%20A",
        "filter[name]=Test Workspace A",
    ] {
        let (_, page) = json(
            c.get(format!("{base}/workspaces?{q}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(page["links"]["total"], 1, "{q}");
        assert_eq!(page["results"][0]["name"], "Test Workspace A");
    }
    let (status, _) = json(
        c.get(format!("{base}/workspaces?limit=abc"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, sum) = json(
        c.get(format!("{base}/workspaces/summary"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(sum["results"].as_array().unwrap().len(), 3);
    assert_eq!(
        sum["results"][0].as_object().unwrap().len(),
        2,
        "summary items are {{id, name}}"
    );
    assert_eq!(sum["links"]["first"], format!("{base}/workspaces/summary"));

    // update: partial; updated_at moves; the updated_at filter sees it
    let before = ws["updated_at"].as_str().unwrap().to_owned();
    let resp = c
        .patch(format!("{base}/workspaces/{id}"))
        .bearer_auth(&token)
        .json(&json!({"description": "new"}))
        .send()
        .await
        .unwrap();
    let (status, upd) = json(resp).await;
    assert_eq!(status, 200);
    assert_eq!(upd["description"], "new");
    assert_eq!(upd["name"], "Test Workspace B");
    assert_eq!(upd["bounding_box"]["type"], "Polygon");
    assert!(upd["updated_at"].as_str().unwrap() > before.as_str());
    let updated = upd["updated_at"].as_str().unwrap();
    let mut u = url::Url::parse(&format!("{base}/workspaces")).unwrap();
    u.query_pairs_mut()
        .append_pair("updated_at", &format!("gte:{updated}"));
    let (_, page) = json(c.get(u).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(page["links"]["total"], 1, "{page}");
    assert_eq!(page["results"][0]["id"], id);
    let mut u = url::Url::parse(&format!("{base}/workspaces")).unwrap();
    u.query_pairs_mut()
        .append_pair("updated_at", &format!("lt:{updated}"));
    let (_, page) = json(c.get(u).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(page["links"]["total"], 2, "{page}");

    // soft delete, get, restore
    let resp = c
        .delete(format!("{base}/workspaces/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = c
        .get(format!("{base}/workspaces/{id}?deleted=False"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 410);
    let resp = c
        .get(format!("{base}/workspaces/{id}?deleted=True"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, page) = json(
        c.get(format!("{base}/workspaces"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["links"]["total"], 2);
    let (_, page) = json(
        c.get(format!("{base}/workspaces?deleted=true"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["links"]["total"], 3);
    let resp = c
        .post(format!("{base}/workspaces/{id}?deleted=false"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = c
        .get(format!("{base}/workspaces/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = c
        .get(format!("{base}/workspaces/{}", uuid::Uuid::new_v4()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let (status, body) = json(
        c.get(format!("{base}/workspaces/not-a-uuid"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn roles_and_insufficient_role() {
    let emu = start().await;
    let token = emu.issue_token(ALL);
    let c = client();
    let base = ws_base(&emu);
    let ws = create_workspace(&emu, &token, "Roles").await;
    let (status, role) = json(
        c.get(format!("{base}/workspaces/{ws}/current-user-role"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        role,
        json!({"user_id": emu.test_user_id().to_string(), "role": "owner"})
    );

    let viewer = emu.add_user("Vera Viewer", "vera@example.test");
    let vtoken = emu.issue_token_for(viewer, ALL);
    // no role yet → 403 insufficient-role
    let (status, body) = json(
        c.get(format!("{base}/workspaces/{ws}"))
            .bearer_auth(&vtoken)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/workspace/auth/insufficient-role"
    );

    let resp = c
        .post(format!("{base}/workspaces/{ws}/users"))
        .bearer_auth(&token)
        .json(&json!({"user_id": viewer, "role": "viewer"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 201);
    assert_eq!(
        body,
        json!({"user_id": viewer.to_string(), "role": "viewer"})
    );
    let resp = c
        .post(format!("{base}/workspaces/{ws}/users"))
        .bearer_auth(&token)
        .json(&json!({"user_id": viewer, "role": "boss"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    let (status, users) = json(
        c.get(format!("{base}/workspaces/{ws}/users"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let results = users["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().any(|u| u["user_id"] == viewer.to_string()
        && u["role"] == "viewer"
        && u["email"] == "vera@example.test"
        && u["full_name"] == "Vera Viewer"));
    let (_, filtered) = json(
        c.get(format!("{base}/workspaces/{ws}/users?user_id={viewer}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(filtered["results"].as_array().unwrap().len(), 1);

    // the viewer can read but not write
    assert_eq!(
        c.get(format!("{base}/workspaces/{ws}"))
            .bearer_auth(&vtoken)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (status, body) = json(
        c.patch(format!("{base}/workspaces/{ws}"))
            .bearer_auth(&vtoken)
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["your_role"], "viewer");
    assert_eq!(body["permitted_roles"], json!(["editor", "owner"]));
    assert_eq!(
        c.delete(format!("{base}/workspaces/{ws}"))
            .bearer_auth(&vtoken)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let resp = c
        .delete(format!("{base}/workspaces/{ws}/users/{viewer}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = c
        .delete(format!("{base}/workspaces/{ws}/users/{viewer}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        c.get(format!("{base}/workspaces/{ws}"))
            .bearer_auth(&vtoken)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn thumbnails_are_checked_and_served() {
    let emu = start().await;
    let token = emu.issue_token(ALL);
    let c = client();
    let ws = create_workspace(&emu, &token, "Thumbs").await;
    let url = format!("{}/workspaces/{ws}/thumbnail", ws_base(&emu));
    assert_eq!(
        c.get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let png = [
        &[0x89u8, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
        b"rest-of-image",
    ]
    .concat();
    let resp = c
        .put(&url)
        .bearer_auth(&token)
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = c.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), png.as_slice());
    let resp = c
        .put(&url)
        .bearer_auth(&token)
        .body("GIF89a-not-allowed")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let big = vec![0xFFu8; 10 * 1024 * 1024 + 10];
    let resp = c
        .put(&url)
        .bearer_auth(&token)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(
        c.delete(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        c.get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn instance_members_invitations_roles_and_health() {
    let emu = start().await;
    let token = emu.issue_token(ALL);
    let c = client();
    let base = ws_base(&emu);
    let (status, roles) = json(
        c.get(format!("{base}/members/roles"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let admin = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Evo Admin")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = emu.add_user("Known Person", "known@example.test");
    let resp = c
        .post(format!("{base}/members/users"))
        .bearer_auth(&token)
        .json(&json!({"users": [{"email": "known@example.test", "roles": [admin]}, {"email": "stranger@example.test", "roles": [admin]}]}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["members"][0]["id"], other.to_string());
    assert_eq!(body["members"][0]["roles"][0]["name"], "Evo Admin");
    assert_eq!(body["invitations"][0]["email"], "stranger@example.test");
    let inv = body["invitations"][0]["id"].as_str().unwrap().to_owned();

    let (status, page) = json(
        c.get(format!("{base}/members/users?limit=1&offset=0"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["links"]["count"], 1);
    assert!(
        page["links"].get("total").is_none(),
        "member links have no total"
    );
    let next = page["links"]["next"].as_str().unwrap().to_owned();
    let (_, page2) = json(c.get(&next).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(page2["links"]["next"], Value::Null);
    assert_eq!(page2["results"][0]["email"], "known@example.test");

    let resp = c
        .patch(format!("{base}/members/users/{other}"))
        .bearer_auth(&token)
        .json(&json!({"user_id": other, "roles": [uuid::Uuid::from_u128(1)]}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["roles"][0]["name"], "Evo User");

    let (_, invs) = json(
        c.get(format!("{base}/members/invitations?limit=2&offset=0"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(invs["results"][0]["status"], "Pending");
    assert_eq!(
        c.delete(format!("{base}/members/invitations/{inv}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        c.delete(format!("{base}/members/invitations/{inv}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        c.delete(format!("{base}/members/users/{other}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );

    let (status, h) = json(
        c.get(format!("{}workspace/health_check?full=true", emu.hub_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(h["status"], "pass");
    assert!(h["dependencies"].is_object());
    let (status, h) = json(
        c.get(format!("{}file/health_check", emu.hub_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(h.get("dependencies").is_none());
}

#[tokio::test]
async fn seed_file_sets_orgs_workspaces_and_clients() {
    let seed = evo_emulator::Seed::from_json(
        r#"{"users":[{"id":"00000000-0000-0000-0000-000000000002","name":"Test User","email":"test.user@unit.test"}],
            "organizations":[{"id":"00000000-0000-0000-0000-000000000000","display_name":"Org 0","hub_code":"hub0",
              "workspaces":[{"id":"00000000-0000-0000-0000-00000000000a","name":"Test Workspace A"}]}],
            "clients":[{"client_id":"svc","client_secret":"s3cret"}]}"#,
    )
    .unwrap();
    assert!(
        evo_emulator::Seed::from_json(r#"{"orgs": []}"#).is_err(),
        "unknown keys are refused"
    );
    let emu = evo_emulator::Emulator::builder()
        .seed(seed)
        .start()
        .await
        .unwrap();
    assert_eq!(emu.org_id(), uuid::Uuid::nil());
    assert_eq!(emu.service_client().client_id, "svc");
    assert_eq!(emu.organizations()[0].hub_code, "hub0");
    let token = emu.issue_token(ALL);
    let (_, ws) = json(
        client()
            .get(format!(
                "{}/workspaces/00000000-0000-0000-0000-00000000000a",
                ws_base(&emu)
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ws["name"], "Test Workspace A");
    assert_eq!(ws["created_by"]["email"], "test.user@unit.test");
}
