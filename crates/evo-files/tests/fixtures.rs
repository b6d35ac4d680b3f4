//! Every File API fixture of the official Python SDK's tests parses into the models, and
//! serializing the model keeps every member of the fixture (timestamps normalized to RFC 3339).

use std::path::PathBuf;

use evo_files::{FileMetadata, FilesPage, UploadTarget};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Copies of the File API fixtures of the evo-files tests in SeequentEvo/evo-python-sdk.
fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(name: &str) -> Value {
    let path = fixtures_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Compares a fixture value with the re-serialized one: equal, or both timestamps for the same
/// instant.
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
        _ => assert_eq!(original, written, "{at} changed"),
    }
}

fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(name: &str) -> T {
    let original = load(name);
    let model: T = serde_json::from_value(original.clone())
        .unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
    let written = serde_json::to_value(&model).unwrap();
    same(&original, &written, name);
    let again: T = serde_json::from_value(written).unwrap();
    assert_eq!(model, again, "{name}: model changed after a round trip");
    model
}

#[test]
fn every_fixture_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("the fixtures folder exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "get_file.json",
            "get_file_long_name.json",
            "list_files_0.json",
            "list_files_1.json",
            "list_files_empty.json",
            "list_versions.json",
            "update_file.json",
            "upsert_file.json",
        ],
        "a fixture was added or removed: cover it in this file"
    );
}

#[test]
fn get_file() {
    let f: FileMetadata = round_trip("get_file.json");
    assert_eq!(f.name, "points.csv");
    // The service's `path` is the folder: `/` for a file at the workspace root.
    assert_eq!(
        (f.folder.as_str(), f.full_path()),
        ("/", "points.csv".to_owned())
    );
    assert_eq!(f.size, 10);
    assert_eq!(f.version_id, "1");
    assert_eq!(f.file_id, uuid::Uuid::from_u128(6));
    assert_eq!(f.created_by.as_ref().unwrap().name.as_deref(), Some("x y"));
    assert_eq!(f.versions.as_ref().unwrap().len(), 1);
    assert!(!f.is_deleted());
    assert!(f.download.starts_with("https://unittest.localhost/"));
}

#[test]
fn get_file_long_name() {
    let f: FileMetadata = round_trip("get_file_long_name.json");
    assert_eq!(f.name.len(), 328);
    assert!(f.name.ends_with("points.csv"));
}

#[test]
fn list_versions_newest_first() {
    let f: FileMetadata = round_trip("list_versions.json");
    let versions = f.versions_newest_first();
    let ids: Vec<&str> = versions.iter().map(|v| v.version_id.as_str()).collect();
    assert_eq!(ids, ["3", "2", "1"]);
    let sizes: Vec<u64> = versions.iter().map(|v| v.size).collect();
    assert_eq!(sizes, [16, 15, 14]);
    assert_eq!(
        versions[1].created_by.as_ref().unwrap().name.as_deref(),
        Some("x z")
    );
}

#[test]
fn list_files_pages() {
    let first: FilesPage = round_trip("list_files_0.json");
    assert_eq!(
        (first.count, first.total, first.limit, first.offset),
        (2, 3, 5000, 0)
    );
    assert!(first.links.next.is_some());
    assert!(first.links.prev.is_none());
    let names: Vec<String> = first.files.iter().map(|f| f.full_path()).collect();
    assert_eq!(names, ["A/x.csv", "A/y.csv"]);
    assert_eq!(first.files[1].created_by.as_ref().unwrap().name, None);
    assert_eq!(first.files[0].version_id, "2");

    let second: FilesPage = round_trip("list_files_1.json");
    assert_eq!(second.files.len(), 1);
    assert_eq!(second.files[0].full_path(), "B/z.csv");
    assert!(second.links.next.is_none());
    assert!(second.links.prev.is_some());

    let empty: FilesPage = round_trip("list_files_empty.json");
    assert!(empty.files.is_empty());
    assert_eq!(empty.total, 0);
}

#[test]
fn upload_targets() {
    let u: UploadTarget = round_trip("upsert_file.json");
    assert_eq!(u.file_id, uuid::Uuid::from_u128(5));
    assert_eq!(u.version_id, "1");
    let v: UploadTarget = round_trip("update_file.json");
    assert!(
        v.upload
            .ends_with("/files/00000000-0000-0000-0000-000000000005")
    );
}

#[test]
fn unknown_members_survive_and_missing_required_ones_fail() {
    let mut value = load("get_file.json");
    value["brand_new_field"] = serde_json::json!({"x": 1});
    let f: FileMetadata = serde_json::from_value(value).unwrap();
    assert_eq!(serde_json::to_value(&f).unwrap()["brand_new_field"]["x"], 1);

    for required in [
        "file_id",
        "name",
        "version_id",
        "size",
        "download",
        "created_at",
    ] {
        let mut value = load("get_file.json");
        value.as_object_mut().unwrap().remove(required);
        let err = serde_json::from_value::<FileMetadata>(value).unwrap_err();
        assert!(err.to_string().contains(required), "{required}: {err}");
    }
    let mut value = load("get_file.json");
    value["created_at"] = Value::String("not a time".into());
    assert!(serde_json::from_value::<FileMetadata>(value).is_err());
    let mut value = load("list_files_0.json");
    value["files"][0]["size"] = Value::from(-1);
    assert!(serde_json::from_value::<FilesPage>(value).is_err());
}
