//! The Geoscience Object API over HTTP: objects and their versions, conditional headers, data
//! files (content-addressed, deduplicated, refused when missing), schema validation, listing,
//! stages, gzip, roles, and the byte-flip fault.

use crate::common;

use std::io::{Read, Write};

use common::{client, create_workspace, json, upload_blocks};
use evo_emulator::{Emulator, Fault, FaultKind, FaultPlan, RouteClass};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SCOPES: &[&str] = &["evo.workspace", "evo.object"];
const POINTSET: &str = "/objects/pointset/1.3.0/pointset.schema.json";

struct Fixture {
    emu: Emulator,
    token: String,
    ws: String,
}

impl Fixture {
    async fn new() -> Self {
        Self::with(Emulator::builder()).await
    }

    async fn with(builder: evo_emulator::EmulatorBuilder) -> Self {
        let emu = builder.start().await.expect("emulator starts");
        let token = emu.issue_token(SCOPES);
        let ws = create_workspace(&emu, &token, "objects").await;
        Self { emu, token, ws }
    }

    fn base(&self) -> String {
        format!(
            "{}geoscience-object/orgs/{}/workspaces/{}",
            self.emu.hub_url(),
            self.emu.org_id(),
            self.ws
        )
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        json(req.bearer_auth(&self.token).send().await.expect("send")).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(client().get(format!("{}{path}", self.base())))
            .await
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(client().post(format!("{}{path}", self.base())).json(body))
            .await
    }

    /// `PUT .../data` for `names`.
    async fn put_data(&self, names: &[&str]) -> (u16, Value) {
        let body: Vec<Value> = names.iter().map(|n| json!({"name": n})).collect();
        self.send(client().put(format!("{}/data", self.base())).json(&body))
            .await
    }

    /// Uploads `bytes` as a data file named by its SHA-256 (if the emulator lacks it).
    async fn upload(&self, bytes: &[u8]) -> String {
        let name = sha(bytes);
        let (status, body) = self.put_data(&[&name]).await;
        assert_eq!(status, 200, "{body}");
        if let Some(url) = body[0]["upload_url"].as_str() {
            upload_blocks(url, bytes, 7).await;
        }
        name
    }
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn pointset(name: &str, coordinates: &str, uuid: Option<&str>) -> Value {
    json!({
        "schema": POINTSET,
        "uuid": uuid,
        "name": name,
        "bounding_box": {"min_x": 170.0, "max_x": 171.0, "min_y": -44.0, "max_y": -43.0, "min_z": 0.0, "max_z": 1.0},
        "coordinate_reference_system": {"epsg_code": 4326},
        "locations": {"coordinates": {"data": coordinates, "length": 2, "width": 3, "data_type": "float64"}},
    })
}

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/objects")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

/// Every key of the fixture object is in the answer.
fn assert_has_fixture_keys(answer: &Value, fixture: &Value) {
    for k in keys(fixture) {
        assert!(answer.get(&k).is_some(), "answer lacks '{k}': {answer}");
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn create_read_update_with_versions_and_conditional_headers() {
    let f = Fixture::new().await;
    let data = f.upload(b"coordinates v1").await;
    let (status, created) = f
        .post("/objects/path/A/points.json", &pointset("p", &data, None))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_has_fixture_keys(&created, &fixture("get_object.json"));
    let id = created["object_id"].as_str().unwrap().to_owned();
    let v1 = created["version_id"].as_str().unwrap().to_owned();
    assert!(
        v1.len() >= 19 && v1.bytes().all(|b| b.is_ascii_digit()),
        "{v1}"
    );
    assert_eq!(created["object"]["uuid"], json!(id));
    assert_eq!(created["object_path"], "/A/points.json");
    assert_eq!(created["links"]["data"][0]["name"], json!(data));
    assert_eq!(
        created["geojson_bounding_box"]["coordinates"][0][2],
        json!([171.0, -43.0])
    );

    // By path and by id, the same version.
    let (status, by_path) = f.get("/objects/path/A/points.json").await;
    assert_eq!(status, 200);
    let (_, by_id) = f.get(&format!("/objects/{id}")).await;
    assert_eq!(by_path["version_id"], json!(v1));
    assert_eq!(by_id["object"], by_path["object"]);

    // If-None-Match with the latest version: 304, no body.
    let resp = client()
        .get(format!("{}/objects/{id}", f.base()))
        .bearer_auth(&f.token)
        .header("If-None-Match", &v1)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 304);
    assert!(resp.bytes().await.unwrap().is_empty());

    // Update by id with a stale If-Match: 412 shaped as the fixture.
    let changed = pointset("p2", &data, Some(&id));
    let resp = client()
        .post(format!("{}/objects/{id}", f.base()))
        .bearer_auth(&f.token)
        .header("If-Match", "1")
        .json(&changed)
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 412);
    assert_eq!(body, fixture("object_modified_error.json"));

    // With the right version: a new version.
    let resp = client()
        .post(format!("{}/objects/{id}", f.base()))
        .bearer_auth(&f.token)
        .header("If-Match", &v1)
        .json(&changed)
        .send()
        .await
        .unwrap();
    let (status, updated) = json(resp).await;
    assert_eq!(status, 201, "{updated}");
    let v2 = updated["version_id"].as_str().unwrap().to_owned();
    assert!(v2 > v1 && v2.len() == v1.len(), "{v1} {v2}");
    assert_eq!(updated["object"]["name"], "p2");

    // The old version stays readable; If-None-Match with it is not "unchanged".
    let (_, old) = f.get(&format!("/objects/{id}?version={v1}")).await;
    assert_eq!(old["object"]["name"], "p");
    let resp = client()
        .get(format!("{}/objects/{id}", f.base()))
        .bearer_auth(&f.token)
        .header("If-None-Match", &v1)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (status, body) = f.get(&format!("/objects/{id}?version=42")).await;
    assert_eq!(status, 404, "{body}");

    // Versions, newest first; chosen versions; latest versions of many.
    let (_, with) = f
        .get("/objects/path/A/points.json?include_versions=true")
        .await;
    let listed: Vec<&str> = with["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [v2.as_str(), v1.as_str()]);
    assert!(with["versions"][1]["links"]["data"][0]["download_url"].is_string());
    let (status, chosen) = f
        .post(
            &format!("/objects/{id}/versions"),
            &json!({"version_ids": [v1, "nope"]}),
        )
        .await;
    assert_eq!(status, 200, "{chosen}");
    assert_eq!(chosen["versions"].as_array().unwrap().len(), 1);
    assert_eq!(chosen["versions"][0]["version_id"], json!(v1));
    let (status, body) = f
        .post(
            &format!("/objects/{id}/versions"),
            &json!({"version_ids": []}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, latest) = f
        .send(
            client()
                .patch(format!("{}/objects", f.base()))
                .json(&json!([id, unknown])),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        latest,
        json!([{"object_id": id, "version_id": v2}, {"object_id": unknown, "version_id": null}])
    );
    let many: Vec<String> = (0..501).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let (status, _) = f
        .send(client().patch(format!("{}/objects", f.base())).json(&many))
        .await;
    assert_eq!(status, 422);

    // Creating over the path: 409 with the existing id (the fixture's members).
    let (status, body) = f
        .post(
            "/objects/path/A/points.json",
            &pointset("again", &data, None),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        keys(&body),
        keys(&fixture("object_already_exists_error.json"))
    );
    assert_eq!(body["existing_id"], json!(id));
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/geoscienceobject/objects/already-exists"
    );

    // Posting the uuid to a new path moves (renames) the object.
    let (status, moved) = f
        .post(
            "/objects/path/B/renamed.json",
            &pointset("p3", &data, Some(&id)),
        )
        .await;
    assert_eq!(status, 201, "{moved}");
    assert_eq!(moved["object_id"], json!(id));
    assert_eq!(moved["object_path"], "/B/renamed.json");
    assert_eq!(f.get("/objects/path/A/points.json").await.0, 404);
    assert_eq!(f.get("/objects/path/B/renamed.json").await.0, 200);

    // An unknown uuid, a mismatching uuid, a bad id.
    let (status, _) = f
        .post(
            "/objects/path/C/x.json",
            &pointset("x", &data, Some(&unknown)),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = f
        .post(
            &format!("/objects/{id}"),
            &pointset("x", &data, Some(&unknown)),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(f.get("/objects/not-a-uuid").await.0, 422);
    assert_eq!(f.get(&format!("/objects/{unknown}")).await.0, 404);
}

#[tokio::test]
async fn data_is_deduplicated_refused_when_missing_and_downloaded_from_links() {
    let f = Fixture::new().await;
    let bytes: Vec<u8> = (0..5000u32).flat_map(|i| i.to_le_bytes()).collect();
    let name = sha(&bytes);
    let (status, first) = f.put_data(&[&name]).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&first[0]), keys(&fixture("put_data.json")[0]));
    assert_eq!(first[0]["exists"], false);
    let upload = first[0]["upload_url"].as_str().unwrap();
    assert!(upload.starts_with(&format!("{}blob/geoscience-data/", f.emu.blob_base_url())));
    upload_blocks(upload, &bytes, 4096).await;
    assert_eq!(f.emu.data_bytes_received(), bytes.len() as u64);

    // Known now: `exists`, no URL, same id; nothing more is received.
    let (_, again) = f.put_data(&[&name]).await;
    assert_eq!(keys(&again[0]), keys(&fixture("put_data_exists.json")[0]));
    assert_eq!(again[0]["exists"], true);
    assert_eq!(again[0]["id"], first[0]["id"]);
    let org = f.emu.org_id();
    let ws: uuid::Uuid = f.ws.parse().unwrap();
    assert_eq!(
        f.emu.data_file_bytes_received(org, ws, &name),
        bytes.len() as u64
    );

    // Saving an object twice with the same data sends no data bytes.
    for label in ["one", "two"] {
        let (status, body) = f
            .post("/objects/path/p.json", &{
                let mut o = pointset(label, &name, None);
                if label == "two" {
                    o["uuid"] = json!(f.get("/objects/path/p.json").await.1["object_id"]);
                }
                o
            })
            .await;
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(f.emu.data_bytes_received(), bytes.len() as u64);

    // The download URL in links.data serves the bytes.
    let (_, got) = f.get("/objects/path/p.json").await;
    let link = &got["links"]["data"][0];
    assert_eq!(link["name"], json!(name));
    assert_eq!(link["id"], first[0]["id"]);
    let url = link["download_url"].as_str().unwrap().to_owned();
    let downloaded = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha(&downloaded), name);

    // A flipped byte: same length, one byte differs, the SHA-256 no longer matches the name.
    f.emu
        .set_faults(FaultPlan::none().with_first(RouteClass::BlobRead, Fault::FlipByte, 1));
    let corrupt = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(corrupt.len(), bytes.len());
    assert_eq!(
        corrupt.iter().zip(&bytes).filter(|(a, b)| a != b).count(),
        1
    );
    assert_ne!(sha(&corrupt), name);
    assert_eq!(
        f.emu
            .fault_counters()
            .get(RouteClass::BlobRead, FaultKind::FlipByte)
            + f.emu
                .fault_counters()
                .get(RouteClass::Blob, FaultKind::FlipByte),
        1
    );
    let clean = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha(&clean), name);

    // A reference to data never uploaded, and one that is no name at all.
    let missing = sha(b"never uploaded");
    let (status, body) = f
        .post("/objects/path/q.json", &pointset("q", &missing, None))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/geoscienceobject/objects/data-key-not-found"
    );
    assert_eq!(body["missing"], json!([missing]));
    let (status, body) = f
        .post("/objects/path/q.json", &pointset("q", "../etc", None))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["invalid"], json!(["../etc"]));
    // Registered with PUT .../data but never uploaded: still missing.
    let pending = sha(b"asked for, not sent");
    f.put_data(&[&pending]).await;
    let (status, _) = f
        .post("/objects/path/q.json", &pointset("q", &pending, None))
        .await;
    assert_eq!(status, 400);

    // Batches: at most 32 names, valid names only.
    let names: Vec<String> = (0..33).map(|i| sha(&[i])).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(f.put_data(&refs).await.0, 422);
    let (status, batch) = f.put_data(&refs[..32]).await;
    assert_eq!(status, 200);
    assert_eq!(batch.as_array().unwrap().len(), 32);
    let (status, body) = f.put_data(&["NOT-A-SHA"]).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/geoscienceobject/data/invalid-key"
    );
}

#[tokio::test]
async fn objects_are_validated_against_their_schema() {
    let f = Fixture::new().await;
    let data = f.upload(b"xyz").await;
    let mut bad = pointset("bad", &data, None);
    bad["locations"]["coordinates"]["width"] = json!(2);
    let (status, body) = f.post("/objects/path/bad.json", &bad).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/geoscienceobject/schemas/invalid-object"
    );
    assert!(
        body["json_path"]
            .as_str()
            .unwrap()
            .starts_with("$.locations"),
        "{body}"
    );
    assert!(body["schema_path"].is_array());

    let mut unknown = pointset("u", &data, None);
    unknown["schema"] = json!("/objects/unicorn/1.0.0/unicorn.schema.json");
    let (status, body) = f.post("/objects/path/u.json", &unknown).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/geoscienceobject/schemas/not-found"
    );

    let mut no_schema = pointset("n", &data, None);
    no_schema.as_object_mut().unwrap().remove("schema");
    assert_eq!(f.post("/objects/path/n.json", &no_schema).await.0, 422);
    let mut bad_uuid = pointset("n", &data, None);
    bad_uuid["uuid"] = json!("nope");
    assert_eq!(f.post("/objects/path/n.json", &bad_uuid).await.0, 422);
    let (status, body) = f
        .send(
            client()
                .post(format!("{}/objects/path/n.json", f.base()))
                .body("{not json"),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = f
        .post("/objects/path/no-extension", &pointset("n", &data, None))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/geoscienceobject/objects/invalid-object"
    );
    assert_eq!(
        f.post("/objects/path/a//b.json", &pointset("n", &data, None))
            .await
            .0,
        400
    );

    // An update must keep the schema type.
    let (_, created) = f
        .post("/objects/path/keep.json", &pointset("k", &data, None))
        .await;
    let id = created["object_id"].as_str().unwrap();
    let ellipsoid = |uuid: Option<&str>| {
        json!({
            "schema": "/objects/global-ellipsoid/1.2.0/global-ellipsoid.schema.json",
            "uuid": uuid,
            "name": "e",
            "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
            "coordinate_reference_system": "unspecified",
            "domain": "d",
            "attribute": "a",
            "ellipsoid_ranges": {"major": 3.0, "semi_major": 2.0, "minor": 1.0},
            "rotation": {"dip_azimuth": 0.0, "dip": 0.0, "pitch": 0.0},
        })
    };
    let (status, body) = f.post("/objects/path/e.json", &ellipsoid(None)).await;
    assert_eq!(status, 201, "a valid ellipsoid: {body}");
    let (status, body) = f
        .post(&format!("/objects/{id}"), &ellipsoid(Some(id)))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/geoscienceobject/objects/invalid-object"
    );
    assert_eq!(
        (body["expected"].clone(), body["actual"].clone()),
        (
            json!("pointset.schema.json"),
            json!("global-ellipsoid.schema.json")
        )
    );
}

#[tokio::test]
async fn delete_restore_and_the_deleted_listing() {
    let f = Fixture::new().await;
    let data = f.upload(b"d").await;
    let (_, a) = f
        .post("/objects/path/dir/a.json", &pointset("a", &data, None))
        .await;
    let id = a["object_id"].as_str().unwrap().to_owned();
    let resp = client()
        .delete(format!("{}/objects/path/dir/a.json", f.base()))
        .bearer_auth(&f.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(f.get(&format!("/objects/{id}")).await.0, 404);
    let (status, deleted) = f.get(&format!("/objects/{id}?deleted=true")).await;
    assert_eq!(status, 200);
    assert!(deleted["deleted_at"].is_string());
    let (_, live) = f.get("/objects").await;
    assert_eq!(live["total"], 0);
    let (_, gone) = f.get("/objects?deleted=true").await;
    assert_eq!(gone["total"], 1);
    assert_eq!(gone["objects"][0]["object_id"], json!(id));
    // Deleting again: 404.
    let resp = client()
        .delete(format!("{}/objects/{id}", f.base()))
        .bearer_auth(&f.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);

    // Restore in place: 204.
    let (status, _) = f
        .send(client().post(format!("{}/objects/{id}?deleted=false", f.base())))
        .await;
    assert_eq!(status, 204);
    assert_eq!(f.get("/objects/path/dir/a.json").await.0, 200);

    // Restore when the path was taken: renamed, 303 with the object.
    f.send(client().delete(format!("{}/objects/{id}", f.base())))
        .await;
    f.post(
        "/objects/path/dir/a.json",
        &pointset("usurper", &data, None),
    )
    .await;
    let (status, restored) = f
        .send(client().post(format!("{}/objects/{id}?deleted=false", f.base())))
        .await;
    assert_eq!(status, 303, "{restored}");
    assert_eq!(restored["object_path"], "/dir/a (1).json");
    let unknown = uuid::Uuid::new_v4();
    let (status, _) = f
        .send(client().post(format!("{}/objects/{unknown}?deleted=false", f.base())))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn listing_filters_orders_and_pages() {
    let f = Fixture::new().await;
    let data = f.upload(b"l").await;
    for (path, name) in [
        ("A/gold.json", "g"),
        ("A/goldcolumns.json", "c"),
        ("B/silver.json", "s"),
    ] {
        let (status, body) = f
            .post(
                &format!("/objects/path/{path}"),
                &pointset(name, &data, None),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        f.emu.advance_clock(std::time::Duration::from_secs(60));
    }
    let (_, all) = f.get("/objects").await;
    assert_eq!(all["total"], 3);
    assert_has_fixture_keys(&all, &fixture("list_objects_0.json"));
    assert_has_fixture_keys(
        &all["objects"][0],
        &fixture("list_objects_0.json")["objects"][0],
    );
    assert_eq!(all["objects"][0]["path"], "/A/");
    assert_eq!(all["objects"][0]["name"], "gold.json");

    let names = |v: &Value| -> Vec<String> {
        v["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&f.get("/objects?object_name=gold").await.1),
        ["gold.json", "goldcolumns.json"]
    );
    assert_eq!(
        names(&f.get("/objects?object_name=eq:/B/silver.json").await.1),
        ["silver.json"]
    );
    assert_eq!(
        names(&f.get("/objects?object_name=like:*COLUMNS*").await.1),
        ["goldcolumns.json"]
    );
    assert_eq!(
        f.get("/objects?schema_id=like:*pointset*").await.1["total"],
        3
    );
    assert_eq!(
        f.get(&format!("/objects?schema_id={POINTSET}")).await.1["total"],
        3
    );
    assert_eq!(f.get("/objects?schema_id=like:*grid*").await.1["total"], 0);
    let me = f.emu.test_user_id();
    assert_eq!(
        f.get(&format!("/objects?created_by={me}")).await.1["total"],
        3
    );
    let stranger = uuid::Uuid::new_v4();
    assert_eq!(
        f.get(&format!("/objects?created_by={stranger}")).await.1["total"],
        0
    );
    let cut = all["objects"][1]["created_at"].as_str().unwrap().to_owned();
    let (status, after) = f
        .send(
            client()
                .get(format!("{}/objects", f.base()))
                .query(&[("created_at", format!("gte:{cut}"))]),
        )
        .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(names(&after), ["goldcolumns.json", "silver.json"]);
    assert_eq!(
        f.get("/objects?geojson_bounding_box=geointersects:(170.5,-43.5),(180,-43.5),(180,-40),(170.5,-40),(170.5,-43.5)")
            .await
            .1["total"],
        3
    );
    assert_eq!(
        f.get("/objects?geojson_bounding_box=geowithin:(170.5,-43.5),(180,-43.5),(180,-40),(170.5,-40),(170.5,-43.5)")
            .await
            .1["total"],
        0
    );
    assert_eq!(
        names(&f.get("/objects?order_by=desc:object_name").await.1),
        ["silver.json", "goldcolumns.json", "gold.json"]
    );
    assert_eq!(
        names(&f.get("/objects?order_by=asc:object.name").await.1),
        ["goldcolumns.json", "gold.json", "silver.json"]
    );

    // Paging: the fixture's shape, links that lead on and back.
    let (_, page) = f.get("/objects?limit=2").await;
    assert_eq!(
        (page["count"].clone(), page["total"].clone()),
        (json!(2), json!(3))
    );
    assert!(page["links"]["prev"].is_null());
    let next = page["links"]["next"].as_str().unwrap().to_owned();
    let (_, page2) = json(
        client()
            .get(&next)
            .bearer_auth(&f.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page2["offset"], 2);
    assert_eq!(names(&page2), ["silver.json"]);
    assert!(page2["links"]["next"].is_null());
    assert!(page2["links"]["prev"].as_str().unwrap().contains("limit=2"));

    // Bad parameters.
    for bad in [
        "limit=0",
        "limit=5001",
        "order_by=sideways:name",
        "order_by=colour",
        "created_by=nobody",
        "created_at=yesterday",
        "geojson_bounding_box=(1,2)",
    ] {
        let (status, body) = f.get(&format!("/objects?{bad}")).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }

    // Across the organization: workspace name and access.
    let other = create_workspace(&f.emu, &f.token, "second").await;
    let url = format!(
        "{}geoscience-object/orgs/{}/workspaces/{other}/objects/path/x.json",
        f.emu.hub_url(),
        f.emu.org_id()
    );
    let (status, _) = f
        .send(client().post(url).json(&pointset("x", &data, None)))
        .await;
    assert_eq!(
        status, 400,
        "data is per workspace: not uploaded to the second one"
    );
    let org_url = format!(
        "{}geoscience-object/orgs/{}/objects",
        f.emu.hub_url(),
        f.emu.org_id()
    );
    let (status, org) = f.send(client().get(&org_url)).await;
    assert_eq!(status, 200, "{org}");
    assert_eq!(org["total"], 3);
    assert_has_fixture_keys(
        &org["objects"][0],
        &fixture("list_objects_for_instance_1.json")["objects"][0],
    );
    assert_eq!(org["objects"][0]["workspace_name"], "objects");
    assert_eq!(org["objects"][0]["workspace_access"], "owner");
    let outsider = f.emu.add_user("Out", "out@example.test");
    let token = f.emu.issue_token_for(outsider, SCOPES);
    let (_, seen) = json(
        client()
            .get(&org_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(seen["total"], 3);
    assert!(seen["objects"][0]["workspace_access"].is_null());
    let (_, permitted) = json(
        client()
            .get(format!("{org_url}?permitted_workspaces_only=true"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(permitted["total"], 0);
}

#[tokio::test]
async fn stages_are_listed_and_set_per_version() {
    let f = Fixture::new().await;
    let url = format!(
        "{}geoscience-object/orgs/{}/stages",
        f.emu.hub_url(),
        f.emu.org_id()
    );
    let (status, stages) = f.send(client().get(&url)).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = stages["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let expected = fixture("list_stages.json");
    let expected: Vec<&str> = expected["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, expected);
    let approved = stages["stages"][0]["stage_id"].clone();

    let data = f.upload(b"s").await;
    let (_, o) = f
        .post("/objects/path/s.json", &pointset("s", &data, None))
        .await;
    let id = o["object_id"].as_str().unwrap();
    assert!(o["stage"].is_null());
    let (status, _) = f
        .send(
            client()
                .patch(format!("{}/objects/{id}/metadata", f.base()))
                .json(&json!({"stage_id": approved})),
        )
        .await;
    assert_eq!(status, 204);
    let (_, got) = f.get(&format!("/objects/{id}")).await;
    assert_eq!(
        got["stage"],
        json!({"name": "Approved", "stage_id": approved})
    );
    let (_, listed) = f.get("/objects").await;
    assert_eq!(listed["objects"][0]["stage"]["name"], "Approved");
    let (status, _) = f
        .send(
            client()
                .patch(format!("{}/objects/{id}/metadata", f.base()))
                .json(&json!({"stage_id": uuid::Uuid::new_v4()})),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = f
        .send(
            client()
                .patch(format!("{}/objects/{id}/metadata?version_id=1", f.base()))
                .json(&json!({"stage_id": null})),
        )
        .await;
    assert_eq!(status, 404);
}

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
