//! HTTPS with the emulator's own CA, the hub-side discovery route, and the command-line binary.

use crate::common;

use std::time::Duration;

use common::*;
use evo_emulator::{Emulator, Fault, FaultPlan, RouteClass};
use tokio::io::{AsyncBufReadExt, BufReader};

fn tls_client(emu: &Emulator) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(emu.ca_cert_pem().expect("TLS on").as_bytes()).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap()
}

#[tokio::test]
async fn https_listener_with_the_emulator_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("ca.pem");
    let emu = Emulator::builder()
        .tls(true)
        .ca_cert_path(&pem)
        .start()
        .await
        .unwrap();
    assert_eq!(emu.base_url().scheme(), "https");
    assert_eq!(
        std::fs::read_to_string(&pem).unwrap(),
        emu.ca_cert_pem().unwrap()
    );
    let token = emu.issue_token(ALL);
    let c = tls_client(&emu);
    let url = format!(
        "{}evo/identity/v2/discovery?service=evo",
        emu.discovery_url()
    );
    let (status, body) = json(c.get(&url).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["discovery"]["hubs"][0]["url"],
        emu.hub_url().to_string()
    );
    // A client that does not trust the CA is refused.
    assert!(client().get(&url).send().await.is_err());

    // Blob URLs are https too, and faults work over TLS.
    let blob = emu.blob_url("t", "b", "rcw").to_string();
    assert!(blob.starts_with("https://"));
    let r = c
        .put(&blob)
        .header("x-ms-blob-type", "BlockBlob")
        .body("tls bytes")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    emu.set_faults(FaultPlan::none().with_first(RouteClass::BlobRead, Fault::ResetBeforeBody, 1));
    assert!(c.get(&blob).send().await.is_err());
    assert_eq!(
        c.get(&blob).send().await.unwrap().text().await.unwrap(),
        "tls bytes"
    );
}

#[tokio::test]
async fn hub_side_discovery_route() {
    let emu = start().await;
    let token = emu.issue_token(&["evo.discovery"]);
    let url = format!(
        "{}workspace/evo/identity/v2/discovery?service=file",
        emu.hub_url()
    );
    let (status, body) = json(client().get(&url).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["discovery"]["service_access"][0]["services"],
        serde_json::json!(["file"])
    );
}

#[tokio::test]
async fn binary_prints_urls_and_clients_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        r#"{"organizations":[{"id":"00000000-0000-0000-0000-0000000004d2","display_name":"CLI Org",
            "workspaces":[{"name":"CLI Workspace"}]}],
            "clients":[{"client_id":"cli-service","client_secret":"cli-secret"}]}"#,
    )
    .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_evo-emulator"))
        .args(["--port", "0", "--seed"])
        .arg(&seed)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let done = line.contains("workspace:");
            printed.push(line);
            if done {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("the binary prints its URLs");
    let text = printed.join("\n");
    assert!(
        text.contains("client_id=cli-service client_secret=cli-secret"),
        "{text}"
    );
    assert!(
        text.contains("00000000-0000-0000-0000-0000000004d2 CLI Org"),
        "{text}"
    );
    assert!(text.contains("CLI Workspace"), "{text}");
    let base = printed
        .iter()
        .find_map(|l| l.strip_prefix("base_url:"))
        .map(|s| s.trim().to_owned())
        .expect("base_url line");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "cli-service"),
        ("client_secret", "cli-secret"),
    ];
    let (status, body) = json(
        client()
            .post(format!("{base}connect/token"))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let (status, list) = json(
        client()
            .get(format!(
                "{base}workspace/orgs/00000000-0000-0000-0000-0000000004d2/workspaces"
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["results"][0]["name"], "CLI Workspace");
    child.kill().await.unwrap();
}
