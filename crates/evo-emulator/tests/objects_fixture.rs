//! What the Geoscience Object API tests share: an emulator with a workspace and a token, a
//! pointset object, the fixture objects, and small helpers.

use crate::common;

use std::io::Write;

use common::{client, create_workspace, json, upload_blocks};
use evo_emulator::Emulator;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const SCOPES: &[&str] = &["evo.workspace", "evo.object"];
pub const POINTSET: &str = "/objects/pointset/1.3.0/pointset.schema.json";

pub struct Fixture {
    pub emu: Emulator,
    pub token: String,
    pub ws: String,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with(Emulator::builder()).await
    }

    pub async fn with(builder: evo_emulator::EmulatorBuilder) -> Self {
        let emu = builder.start().await.expect("emulator starts");
        let token = emu.issue_token(SCOPES);
        let ws = create_workspace(&emu, &token, "objects").await;
        Self { emu, token, ws }
    }

    pub fn base(&self) -> String {
        format!(
            "{}geoscience-object/orgs/{}/workspaces/{}",
            self.emu.hub_url(),
            self.emu.org_id(),
            self.ws
        )
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        json(req.bearer_auth(&self.token).send().await.expect("send")).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(client().get(format!("{}{path}", self.base())))
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(client().post(format!("{}{path}", self.base())).json(body))
            .await
    }

    /// `PUT .../data` for `names`.
    pub async fn put_data(&self, names: &[&str]) -> (u16, Value) {
        let body: Vec<Value> = names.iter().map(|n| json!({"name": n})).collect();
        self.send(client().put(format!("{}/data", self.base())).json(&body))
            .await
    }

    /// Uploads `bytes` as a data file named by its SHA-256 (if the emulator lacks it).
    pub async fn upload(&self, bytes: &[u8]) -> String {
        let name = sha(bytes);
        let (status, body) = self.put_data(&[&name]).await;
        assert_eq!(status, 200, "{body}");
        if let Some(url) = body[0]["upload_url"].as_str() {
            upload_blocks(url, bytes, 7).await;
        }
        name
    }
}

pub fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn pointset(name: &str, coordinates: &str, uuid: Option<&str>) -> Value {
    json!({
        "schema": POINTSET,
        "uuid": uuid,
        "name": name,
        "bounding_box": {"min_x": 170.0, "max_x": 171.0, "min_y": -44.0, "max_y": -43.0, "min_z": 0.0, "max_z": 1.0},
        "coordinate_reference_system": {"epsg_code": 4326},
        "locations": {"coordinates": {"data": coordinates, "length": 2, "width": 3, "data_type": "float64"}},
    })
}

pub fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/objects")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

/// Every key of the fixture object is in the answer.
pub fn assert_has_fixture_keys(answer: &Value, fixture: &Value) {
    for k in keys(fixture) {
        assert!(answer.get(&k).is_some(), "answer lacks '{k}': {answer}");
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}
