//! Helpers shared by the integration tests: a plain HTTP client and small assertions.
#![allow(dead_code)]

use evo_emulator::Emulator;
use serde_json::Value;

pub const ALL: &[&str] = &["evo.discovery", "evo.workspace", "evo.file"];

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds")
}

pub async fn start() -> Emulator {
    Emulator::builder().start().await.expect("emulator starts")
}

pub fn ws_base(emu: &Emulator) -> String {
    format!("{}workspace/orgs/{}", emu.hub_url(), emu.org_id())
}

pub async fn json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, v)
}

/// Creates a workspace and returns its id.
pub async fn create_workspace(emu: &Emulator, token: &str, name: &str) -> String {
    let resp = client()
        .post(format!("{}/workspaces", ws_base(emu)))
        .bearer_auth(token)
        .json(&serde_json::json!({"name": name, "description": "d", "bounding_box": null, "labels": null, "default_coordinate_system": ""}))
        .send()
        .await
        .expect("send");
    let (status, body) = json(resp).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("id").to_owned()
}

pub fn files_base(emu: &Emulator, ws: &str) -> String {
    format!(
        "{}file/v2/orgs/{}/workspaces/{}",
        emu.hub_url(),
        emu.org_id(),
        ws
    )
}

/// Standard base64, as the blob protocol's digests and block ids are written.
pub fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

pub fn block_id(offset: u64) -> String {
    b64(format!("{offset:032}").as_bytes())
}

/// Appends `extra` query pairs to a pre-signed URL.
pub fn with_query(url: &str, extra: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(url).expect("url");
    u.query_pairs_mut().extend_pairs(extra.iter().copied());
    u.to_string()
}

/// Uploads `data` to `upload` as Put Block per `chunk` bytes plus Put Block List.
pub async fn upload_blocks(upload: &str, data: &[u8], chunk: usize) {
    let c = client();
    let mut ids = Vec::new();
    for (i, part) in data.chunks(chunk.max(1)).enumerate() {
        let id = block_id((i * chunk) as u64);
        let resp = c
            .put(with_query(upload, &[("comp", "block"), ("blockid", &id)]))
            .body(part.to_vec())
            .send()
            .await
            .expect("put block");
        assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.text().await);
        ids.push(id);
    }
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<BlockList>");
    for id in &ids {
        xml.push_str(&format!("\n  <Latest>{id}</Latest>"));
    }
    xml.push_str("\n</BlockList>");
    let resp = c
        .put(with_query(upload, &[("comp", "blocklist")]))
        .header("content-type", "text/plain; charset=UTF-8")
        .body(xml)
        .send()
        .await
        .expect("put block list");
    assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.text().await);
}

/// Registers `path` in workspace `ws`, uploads `data`, returns (file_id, version_id).
pub async fn upload_file(
    emu: &Emulator,
    token: &str,
    ws: &str,
    path: &str,
    data: &[u8],
) -> (String, String) {
    let resp = client()
        .put(format!("{}/files/path/{}", files_base(emu, ws), path))
        .bearer_auth(token)
        .send()
        .await
        .expect("send");
    let (status, body) = json(resp).await;
    assert_eq!(status, 200, "{body}");
    let upload = body["upload"].as_str().expect("upload").to_owned();
    upload_blocks(&upload, data, 1000).await;
    (
        body["file_id"].as_str().expect("id").to_owned(),
        body["version_id"].as_str().expect("v").to_owned(),
    )
}
