//! The Geoscience Object API over HTTP: objects and their versions, conditional headers, data
//! files (content-addressed, deduplicated, refused when missing, the byte-flip fault), schema
//! validation, and delete and restore. Listings and stages are in `objects_listing`; gzip,
//! roles and reaching the service in `objects_access`.

use crate::common;

use crate::objects_fixture::*;
use common::{client, json, upload_blocks};
use evo_emulator::{Fault, FaultKind, FaultPlan, RouteClass};
use serde_json::json;

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
