//! Every Geoscience Object API fixture of the official Python SDK's tests parses into the
//! models (straight, and through the client on a scripted transport, gzip-compressed), and
//! re-serializing keeps every member (timestamps normalized to RFC 3339). The 409 and 412
//! problem details become the typed errors.

use crate::common;

use std::path::PathBuf;

use evo_objects::models::{ObjectsPage, PageLinks};
use evo_objects::{
    DataUploadTarget, Error, GetOptions, ListObjectsQuery, ListedObject, ObjectResponse,
    OrgListedObject,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use common::{gzip, mock_client};
use evo_core::test_util::MockResponse;
use http::Method;

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Compares a fixture value with the re-serialized one: equal, or both timestamps of the
/// same instant.
fn same(original: &Value, written: &Value, at: &str) {
    match (original, written) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let other = b
                    .get(key)
                    .unwrap_or_else(|| panic!("{at}.{key} lost on re-serialization"));
                same(value, other, &format!("{at}.{key}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}: array length changed");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::String(a), Value::String(b)) if a != b => {
            let parse = |s: &str| {
                time::OffsetDateTime::parse(
                    &s.replacen(' ', "T", 1),
                    &time::format_description::well_known::Rfc3339,
                )
                .unwrap_or_else(|_| panic!("{at}: {a:?} became {b:?}"))
            };
            assert_eq!(parse(a), parse(b), "{at}: timestamp changed");
        }
        (a, b) => assert_eq!(a, b, "{at}"),
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(name: &str) -> T {
    let original = load(name);
    let parsed: T = serde_json::from_value(original.clone())
        .unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
    let written = serde_json::to_value(&parsed).unwrap();
    same(&original, &written, name);
    parsed
}

#[test]
fn every_fixture_parses_and_round_trips() {
    for name in [
        "get_object.json",
        "get_object_detailed.json",
        "get_object_validator_check.json",
        "list_versions.json",
    ] {
        let object: ObjectResponse = round_trip(name);
        assert_eq!(
            object.id().unwrap().to_string(),
            "00000000-0000-0000-0000-000000000002",
            "{name}"
        );
        assert!(object.schema_id().unwrap().starts_with("/objects/"));
    }
    let versions: ObjectResponse = round_trip("list_versions.json");
    let newest = versions.versions_newest_first();
    assert_eq!(newest.len(), 3);
    assert_eq!(newest[0].version_id, "2022-01-01T01:30:00.0000000Z");
    assert!(newest[0].created_at > newest[2].created_at);

    let detailed: ObjectResponse = round_trip("get_object_detailed.json");
    assert_eq!(detailed.links.data.len(), 4);
    assert_eq!(detailed.stage.as_ref().unwrap().name, "Approved");
    assert_eq!(
        evo_objects::referenced_data(&detailed.object).len(),
        4,
        "every data name of the object is found"
    );

    for name in ["list_objects_0.json", "list_objects_1.json"] {
        let page: ObjectsPage<ListedObject> = round_trip(name);
        assert_eq!(page.total, 3);
    }
    let first: ObjectsPage<ListedObject> = round_trip("list_objects_0.json");
    assert_eq!(first.objects[0].full_path(), "A/m.json");
    assert!(!first.is_last());
    for name in [
        "list_objects_for_instance_0.json",
        "list_objects_for_instance_1.json",
    ] {
        let page: ObjectsPage<OrgListedObject> = round_trip(name);
        assert!(page.objects.iter().all(|o| o.workspace_name.is_some()));
    }
    let stages: Value = load("list_stages.json");
    let stages: Vec<evo_objects::Stage> = serde_json::from_value(stages["stages"].clone()).unwrap();
    assert_eq!(stages.len(), 6);
    for name in [
        "put_data.json",
        "put_data_batch.json",
        "put_data_exists.json",
    ] {
        let targets: Vec<DataUploadTarget> = round_trip(name);
        assert!(targets.iter().all(|t| t.exists || t.upload_url.is_some()));
    }
    let _: PageLinks =
        serde_json::from_value(load("list_objects_1.json")["links"].clone()).unwrap();
}

#[tokio::test]
async fn fixtures_parse_through_the_client_gzipped() {
    let (mock, client) = mock_client();
    let body = serde_json::to_vec(&load("get_object_detailed.json")).unwrap();
    mock.push(
        MockResponse::new(200)
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(gzip(&body)),
    );
    let id = "00000000-0000-0000-0000-000000000002".parse().unwrap();
    let object = client.get_by_id(id, &GetOptions::new()).await.unwrap();
    assert_eq!(object.links.data.len(), 4);
    let request = mock.last_request().unwrap();
    assert_eq!(request.header("accept-encoding"), Some("gzip"));

    mock.push(MockResponse::json(200, &load("list_objects_0.json")));
    mock.push(MockResponse::json(200, &load("list_objects_1.json")));
    use futures_util::StreamExt as _;
    let all: Vec<_> = client
        .list_all(ListObjectsQuery::new().limit(2))
        .collect()
        .await;
    let names: Vec<String> = all.into_iter().map(|r| r.unwrap().name).collect();
    assert_eq!(names, ["m.json", "n.json", "o.json"]);
    let offsets: Vec<String> = mock
        .requests()
        .iter()
        .skip(1)
        .map(|r| r.query().unwrap_or_default().to_owned())
        .collect();
    assert!(
        offsets[0].contains("offset=0") && offsets[1].contains("offset=2"),
        "{offsets:?}"
    );

    mock.push(MockResponse::json(200, &load("list_stages.json")));
    assert_eq!(client.list_stages().await.unwrap().len(), 6);
}

#[tokio::test]
async fn conflict_and_stale_version_are_typed_errors() {
    let (mock, client) = mock_client();
    let object =
        serde_json::json!({"schema": "/objects/pointset/1.3.0/pointset.schema.json", "name": "p"});
    mock.push(MockResponse::json(
        409,
        &load("object_already_exists_error.json"),
    ));
    let err = client.create("A/m.json", &object).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    assert_eq!(
        err.existing_id().unwrap().to_string(),
        "00000000-0000-0000-0000-000000000002"
    );
    assert!(err.is_conflict());
    assert!(err.to_string().contains("A/m.json"), "{err}");

    mock.push(MockResponse::json(412, &load("object_modified_error.json")));
    let id = "00000000-0000-0000-0000-000000000002".parse().unwrap();
    let err = client
        .update_by_id(id, &object, Some("1"))
        .await
        .unwrap_err();
    assert!(err.is_modified(), "{err:?}");
    assert_eq!(err.status(), Some(http::StatusCode::PRECONDITION_FAILED));
    assert_eq!(
        err.problem_type(),
        Some("https://seequent.com/error-codes/geoscienceobject/objects/modified")
    );
    let request = mock.last_request().unwrap();
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.header("if-match"), Some("1"));
    let sent: Value = request.body_json().unwrap();
    assert_eq!(sent["uuid"], id.to_string());
}
