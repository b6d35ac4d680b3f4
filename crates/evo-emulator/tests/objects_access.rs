//! How the Geoscience Object API is reached: gzip both ways, tokens, scopes and roles, data
//! URLs on the TLS blob listener, and the health check and discovery entry.

use crate::common;

use std::io::Read;

use crate::objects_fixture::*;
use common::{client, json};
use evo_emulator::{Emulator, Fault, FaultPlan, RouteClass};
use serde_json::{Value, json};

#[tokio::test]
async fn gzip_both_ways() {
    let f = Fixture::new().await;
    let data = f.upload(b"gz").await;
    let body = serde_json::to_vec(&pointset("gz", &data, None)).unwrap();
    let resp = client()
        .post(format!("{}/objects/path/gz.json", f.base()))
        .bearer_auth(&f.token)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gzip(&body))
        .send()
        .await
        .unwrap();
    let (status, created) = json(resp).await;
    assert_eq!(status, 201, "{created}");
    let resp = client()
        .get(format!("{}/objects/path/gz.json", f.base()))
        .bearer_auth(&f.token)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let raw = resp.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_string(&mut text)
        .unwrap();
    let got: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(got["object"]["name"], "gz");
    // Without Accept-Encoding: plain JSON.
    let resp = client()
        .get(format!("{}/objects/path/gz.json", f.base()))
        .bearer_auth(&f.token)
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn tokens_scopes_and_roles() {
    let f = Fixture::new().await;
    let url = format!("{}/objects", f.base());
    let resp = client().get(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let no_scope = f.emu.issue_token(&["evo.workspace"]);
    let resp = client()
        .get(&url)
        .bearer_auth(no_scope)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);

    let viewer = f.emu.add_user("Vera", "vera@example.test");
    let resp = client()
        .post(format!(
            "{}workspace/orgs/{}/workspaces/{}/users",
            f.emu.hub_url(),
            f.emu.org_id(),
            f.ws
        ))
        .bearer_auth(&f.token)
        .json(&json!({"user_id": viewer, "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let vt = f.emu.issue_token_for(viewer, SCOPES);
    let resp = client().get(&url).bearer_auth(&vt).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (status, body) = json(
        client()
            .put(format!("{}/data", f.base()))
            .bearer_auth(&vt)
            .json(&json!([{"name": sha(b"v")}]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/geoscienceobject/auth/insufficient-role"
    );
    let stranger = f
        .emu
        .issue_token_for(f.emu.add_user("S", "s@example.test"), SCOPES);
    let resp = client()
        .get(&url)
        .bearer_auth(stranger)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let missing = format!(
        "{}geoscience-object/orgs/{}/workspaces/{}/objects",
        f.emu.hub_url(),
        f.emu.org_id(),
        uuid::Uuid::new_v4()
    );
    let resp = client()
        .get(missing)
        .bearer_auth(&f.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);

    // Injected faults answer in the API's problem format.
    f.emu
        .set_faults(FaultPlan::none().with_first(RouteClass::Objects, Fault::Status(503), 1));
    let (status, body) = f.get("/objects").await;
    assert_eq!(status, 503);
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/geoscienceobject/api-errors"
    );
    assert_eq!(f.get("/objects").await.0, 200);
}

#[tokio::test]
async fn data_urls_use_the_tls_blob_listener() {
    let f = Fixture::with(Emulator::builder().blob_listener("127.0.0.1:0".parse().unwrap())).await;
    let bytes = b"over tls".to_vec();
    let name = sha(&bytes);
    let (_, answer) = f.put_data(&[&name]).await;
    let upload = answer[0]["upload_url"].as_str().unwrap().to_owned();
    assert!(upload.starts_with("https://"), "{upload}");
    let ca = reqwest::Certificate::from_pem(f.emu.ca_cert_pem().unwrap().as_bytes()).unwrap();
    let tls = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let resp = tls
        .put(&upload)
        .header("x-ms-blob-type", "BlockBlob")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.text().await);
    let (status, o) = f
        .post("/objects/path/t.json", &pointset("t", &name, None))
        .await;
    assert_eq!(status, 201, "{o}");
    let url = o["links"]["data"][0]["download_url"].as_str().unwrap();
    assert!(url.starts_with("https://"), "{url}");
    let got = tls.get(url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&got[..], &bytes[..]);
}

#[tokio::test]
async fn health_check_and_discovery_list_the_service() {
    let f = Fixture::new().await;
    let (status, body) = json(
        client()
            .get(format!("{}geoscience-object/health_check", f.emu.hub_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["status"].clone()), (200, json!("pass")));
    let token = f.emu.issue_token(&["evo.discovery"]);
    let (_, d) = json(
        client()
            .get(format!(
                "{}evo/identity/v2/discovery?service=geoscienceobject",
                f.emu.discovery_url()
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        d["discovery"]["services"],
        json!([{"code": "geoscienceobject", "display_name": "Geoscience Object API"}])
    );
}
