//! Every `ObjectsClient` call against the in-process emulator, with its error paths: 404,
//! 403, 409 on an existing path, 412 on a stale `If-Match`, 400/422 for an invalid object or a
//! missing data reference; data deduplication (counted by the emulator) and SHA-256 checks
//! (the emulator's byte-flip fault).

use std::sync::{Arc, Mutex};

use evo_core::{ApiConnector, Environment, RetryPolicy, SharedTransport, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Fault, FaultPlan, RouteClass, Seed};
use evo_hyper::HyperTransport;
use evo_objects::{
    Conditional, DataFile, Error, GetOptions, ListObjectsQuery, ObjectPath, ObjectReference,
    ObjectsClient, OrderBy, RestoreOutcome, SortField,
};
use futures_util::TryStreamExt as _;
use serde_json::{Value, json};
use uuid::Uuid;

const POINTSET: &str = "/objects/pointset/1.3.0/pointset.schema.json";

struct Setup {
    emu: Emulator,
    client: ObjectsClient,
    environment: Environment,
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(5)
        .with_initial_backoff(std::time::Duration::from_millis(5))
        .with_max_backoff(std::time::Duration::from_millis(20))
}

/// A transport that records `METHOD path` of every request.
fn recording(inner: SharedTransport, log: Arc<Mutex<Vec<String>>>) -> SharedTransport {
    Arc::new(evo_core::transport_fn(
        move |request: http::Request<evo_core::Body>| {
            let inner = inner.clone();
            let log = log.clone();
            async move {
                log.lock()
                    .unwrap()
                    .push(format!("{} {}", request.method(), request.uri().path()));
                inner.send(request).await
            }
        },
    ))
}

async fn start() -> Setup {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Objects Org", "workspaces": [{"name": "Objects Test"}, {"name": "Other"}]}]}"#,
    )
    .unwrap();
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    let transport: SharedTransport = Arc::new(HyperTransport::new());
    let token = emu.issue_token(&["evo.object", "evo.workspace"]);
    let environment = Environment::new(
        emu.hub_url(),
        emu.org_id(),
        emu.organizations()[0].workspaces[0].0,
    );
    let client = client_for(&emu, &environment, transport, token);
    Setup {
        emu,
        client,
        environment,
    }
}

fn client_for(
    emu: &Emulator,
    environment: &Environment,
    transport: SharedTransport,
    token: String,
) -> ObjectsClient {
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(transport.clone())
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
        .retry_policy(quick_retries())
        .build()
        .unwrap();
    let blobs = evo_io::BlobClient::builder(transport)
        .retry(quick_retries())
        .build();
    ObjectsClient::builder(environment.clone(), connector)
        .blob_client(blobs)
        .build()
        .unwrap()
}

/// A point set object referencing `coordinates` (a data name) for `n` points, with one
/// scalar attribute `values`.
fn point_set(name: &str, coordinates: &str, values: &str, n: u64) -> Value {
    json!({
        "schema": POINTSET,
        "uuid": null,
        "name": name,
        "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
        "coordinate_reference_system": {"epsg_code": 2048},
        "locations": {
            "coordinates": {"data": coordinates, "length": n, "width": 3, "data_type": "float64"},
            "attributes": [{
                "name": "grade", "key": "grade", "attribute_type": "scalar",
                "nan_description": {"values": []},
                "values": {"data": values, "length": n, "width": 1, "data_type": "float64"}
            }]
        }
    })
}

/// Uploads two data files and returns a point set object referencing them.
async fn stored_point_set(s: &Setup, name: &str, salt: u8) -> (Value, Vec<DataFile>) {
    let files = vec![
        DataFile::from_bytes(vec![salt; 3000]),
        DataFile::from_bytes(vec![salt.wrapping_add(1); 1000]),
    ];
    s.client.upload_data(&files, None).await.unwrap();
    (
        point_set(name, files[0].name(), files[1].name(), 125),
        files,
    )
}

#[tokio::test]
async fn create_get_list_and_versions() {
    let s = start().await;
    let (object, _) = stored_point_set(&s, "first", 1).await;
    let created = s.client.create("surveys/a.json", &object).await.unwrap();
    let id = created.id().unwrap();
    assert_eq!(created.object["name"], "first");

    // By id, by path, by reference.
    let by_id = s.client.get_by_id(id, &GetOptions::new()).await.unwrap();
    assert_eq!(by_id.version_id, created.version_id);
    assert_eq!(by_id.links.data.len(), 2);
    let by_path = s
        .client
        .get_by_path("surveys/a.json", &GetOptions::new())
        .await
        .unwrap();
    assert_eq!(by_path.id(), Some(id));
    let reference = ObjectReference::new(&s.environment, id, Some(&created.version_id));
    let via_reference = s.client.get_reference(&reference).await.unwrap();
    assert_eq!(via_reference.version_id, created.version_id);

    // A second version; the first stays readable.
    let mut changed = by_id.object.clone();
    changed["name"] = json!("second");
    let second = s
        .client
        .update_by_id(id, &changed, Some(&created.version_id))
        .await
        .unwrap();
    assert_ne!(second.version_id, created.version_id);
    let old = s
        .client
        .get_by_id(id, &GetOptions::new().version(&created.version_id))
        .await
        .unwrap();
    assert_eq!(old.object["name"], "first");
    let versions = s.client.list_versions(id).await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].version_id, second.version_id, "newest first");
    let chosen = s
        .client
        .get_versions(id, &[&created.version_id])
        .await
        .unwrap();
    assert_eq!(chosen[0].version_id, created.version_id);

    // Conditional get: unchanged is an outcome.
    assert_eq!(
        s.client
            .get_if_changed(id, &second.version_id)
            .await
            .unwrap(),
        Conditional::Unchanged
    );
    match s
        .client
        .get_if_changed(id, &created.version_id)
        .await
        .unwrap()
    {
        Conditional::Changed(o) => assert_eq!(o.version_id, second.version_id),
        other => panic!("{other:?}"),
    }

    // Listings with filters and ordering; the stream of all pages.
    let (other, _) = stored_point_set(&s, "other", 7).await;
    s.client.create("b.json", &other).await.unwrap();
    let page = s
        .client
        .list_page(
            &ListObjectsQuery::new()
                .schema_id(POINTSET)
                .order_by(OrderBy::asc(SortField::ObjectName)),
        )
        .await
        .unwrap();
    let names: Vec<String> = page.items.iter().map(|o| o.full_path()).collect();
    assert_eq!(names, ["surveys/a.json", "b.json"]);
    let none = s
        .client
        .list_page(&ListObjectsQuery::new().schema_id("/objects/other/1.0.0/other.schema.json"))
        .await
        .unwrap();
    assert!(none.items.is_empty());
    let all: Vec<_> = s
        .client
        .list_all(ListObjectsQuery::new().limit(1))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let org: Vec<_> = s
        .client
        .list_org_all(ListObjectsQuery::new().limit(1))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(org.len(), 2);
    assert!(
        org.iter()
            .all(|o| o.workspace_id == s.environment.workspace_id)
    );
}

#[tokio::test]
async fn error_paths_are_typed() {
    let s = start().await;
    let (object, _) = stored_point_set(&s, "p", 2).await;
    let created = s.client.create("p.json", &object).await.unwrap();
    let id = created.id().unwrap();

    // 409: creating over an existing path names the object there.
    let err = s.client.create("p.json", &object).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    assert_eq!(err.existing_id(), Some(id));

    // 412: a stale If-Match.
    let mut v2 = created.object.clone();
    v2["name"] = json!("v2");
    let second = s.client.update_by_id(id, &v2, None).await.unwrap();
    let err = s
        .client
        .update_by_id(id, &v2, Some(&created.version_id))
        .await
        .unwrap_err();
    assert!(err.is_modified(), "{err:?}");
    let err = s
        .client
        .save_by_path("p.json", &second.object, Some(&created.version_id))
        .await
        .unwrap_err();
    assert!(err.is_modified(), "{err:?}");

    // 404: unknown object, version, path.
    let err = s
        .client
        .get_by_id(Uuid::new_v4(), &GetOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let err = s
        .client
        .get_by_id(id, &GetOptions::new().version("123"))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let err = s
        .client
        .get_by_path("nope.json", &GetOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");

    // 400/422: an object that does not validate, and one whose data was never uploaded.
    let mut invalid = object.clone();
    invalid["locations"]["coordinates"]["width"] = json!(2);
    let err = s.client.create("invalid.json", &invalid).await.unwrap_err();
    assert!(err.is_bad_request() || err.is_unprocessable(), "{err:?}");
    let missing = point_set("m", &"a".repeat(64), &"b".repeat(64), 1);
    let err = s.client.create("missing.json", &missing).await.unwrap_err();
    assert!(err.is_bad_request() || err.is_unprocessable(), "{err:?}");
    assert!(
        s.client
            .get_by_path("missing.json", &GetOptions::new())
            .await
            .unwrap_err()
            .is_not_found()
    );

    // 403: a user without a role in the workspace.
    let stranger = s.emu.add_user("Stranger", "stranger@example.com");
    let token = s.emu.issue_token_for(stranger, &["evo.object"]);
    let outsider = client_for(
        &s.emu,
        &s.environment,
        Arc::new(HyperTransport::new()),
        token,
    );
    let err = outsider
        .get_by_id(id, &GetOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    let err = outsider.create("x.json", &object).await.unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
}

#[tokio::test]
async fn move_delete_restore_and_latest_versions() {
    let s = start().await;
    let (object, _) = stored_point_set(&s, "m", 3).await;
    let a = s.client.create("old/a.json", &object).await.unwrap();
    let id = a.id().unwrap();
    let moved = s.client.move_to(id, "new/b.json").await.unwrap();
    assert_eq!(moved.id(), Some(id));
    assert!(
        s.client
            .get_by_path("old/a.json", &GetOptions::new())
            .await
            .unwrap_err()
            .is_not_found()
    );
    let at_new = s
        .client
        .get_by_path("new/b.json", &GetOptions::new())
        .await
        .unwrap();
    assert_eq!(at_new.version_id, moved.version_id);

    let (other, _) = stored_point_set(&s, "o", 4).await;
    let o = s.client.create("o.json", &other).await.unwrap();
    let other_id = o.id().unwrap();
    let unknown = Uuid::new_v4();

    s.client.delete(id).await.unwrap();
    let latest = s
        .client
        .latest_versions(&[id, other_id, unknown])
        .await
        .unwrap();
    let of = |k: Uuid| {
        latest
            .iter()
            .find(|l| l.object_id == k)
            .and_then(|l| l.version_id.clone())
    };
    assert_eq!(of(id), None, "deleted");
    assert_eq!(of(other_id), Some(o.version_id.clone()));
    assert_eq!(of(unknown), None, "missing");

    assert!(s.client.get_by_id(id, &GetOptions::new()).await.is_err());
    let deleted = s
        .client
        .get_by_id(id, &GetOptions::new().include_deleted(true))
        .await
        .unwrap();
    assert!(deleted.is_deleted());
    let listed = s
        .client
        .list_page(&ListObjectsQuery::new().deleted(true))
        .await
        .unwrap();
    assert_eq!(
        listed.items.iter().map(|o| o.object_id).collect::<Vec<_>>(),
        [id]
    );

    // Restored in place.
    assert_eq!(
        s.client.restore(id).await.unwrap(),
        RestoreOutcome::Restored
    );
    s.client
        .get_by_path("new/b.json", &GetOptions::new())
        .await
        .unwrap();

    // Restored under another name when its path was taken meanwhile.
    s.client
        .delete(ObjectPath::new("new/b.json").unwrap())
        .await
        .unwrap();
    let (taker, _) = stored_point_set(&s, "t", 5).await;
    s.client.create("new/b.json", &taker).await.unwrap();
    match s.client.restore(id).await.unwrap() {
        RestoreOutcome::Moved(o) => {
            assert_eq!(o.id(), Some(id));
            assert_ne!(o.object_path.as_deref(), Some("new/b.json"));
        }
        other => panic!("{other:?}"),
    }
    s.client
        .delete(ObjectPath::new("o.json").unwrap())
        .await
        .unwrap();
    assert!(
        s.client
            .delete(Uuid::new_v4())
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn stages_are_listed_and_set() {
    let s = start().await;
    let stages = s.client.list_stages().await.unwrap();
    assert!(!stages.is_empty());
    let (object, _) = stored_point_set(&s, "s", 6).await;
    let created = s.client.create("s.json", &object).await.unwrap();
    let id = created.id().unwrap();
    s.client
        .set_stage(id, Some(&created.version_id), Some(stages[0].stage_id))
        .await
        .unwrap();
    let got = s.client.get_by_id(id, &GetOptions::new()).await.unwrap();
    assert_eq!(
        got.stage.as_ref().map(|st| st.stage_id),
        Some(stages[0].stage_id)
    );
    let err = s
        .client
        .set_stage(id, None, Some(Uuid::new_v4()))
        .await
        .unwrap_err();
    assert!(
        err.status().is_some_and(|st| st.is_client_error()),
        "{err:?}"
    );
}

#[tokio::test]
async fn unchanged_data_is_not_sent_twice_and_reads_back_identical() {
    let s = start().await;
    let coordinates = DataFile::from_bytes(
        (0..200_000u32)
            .flat_map(|i| i.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    let values = DataFile::from_bytes(vec![9u8; 50_000]);
    let files = vec![coordinates.clone(), values.clone()];
    let before = s.emu.data_bytes_received();
    let first = s.client.upload_data(&files, None).await.unwrap();
    assert_eq!(first.uploaded.len(), 2);
    let sent = s.emu.data_bytes_received() - before;
    assert_eq!(sent, coordinates.len() + values.len());
    let object = point_set("d", coordinates.name(), values.name(), 200_000 / 3);
    let created = s.client.create("d.json", &object).await.unwrap();

    // The same object saved again: no data bytes.
    let again = s.client.upload_data(&files, None).await.unwrap();
    assert_eq!(again.bytes_uploaded, 0);
    assert_eq!(again.skipped.len(), 2);
    let mut second = created.object.clone();
    second["description"] = json!("saved again");
    s.client
        .update_by_id(created.id().unwrap(), &second, None)
        .await
        .unwrap();
    assert_eq!(
        s.emu.data_bytes_received() - before,
        sent,
        "no data bytes on the second save"
    );

    let got = s
        .client
        .get_by_id(created.id().unwrap(), &GetOptions::new())
        .await
        .unwrap();
    let bytes = s
        .client
        .download_data_bytes(&got, coordinates.name())
        .await
        .unwrap();
    assert_eq!(evo_objects::sha256_hex(&bytes), coordinates.name());
}

#[tokio::test]
async fn a_flipped_byte_is_an_integrity_error_never_data() {
    let s = start().await;
    let file = DataFile::from_bytes(vec![1u8; 4096]);
    let other = DataFile::from_bytes(vec![2u8; 10]);
    s.client
        .upload_data(&[file.clone(), other.clone()], None)
        .await
        .unwrap();
    let created = s
        .client
        .create("f.json", &point_set("f", file.name(), other.name(), 1))
        .await
        .unwrap();
    s.emu
        .set_faults(FaultPlan::none().with(RouteClass::BlobRead, Fault::FlipByte, 1.0));
    let err = s
        .client
        .download_data_bytes(&created, file.name())
        .await
        .unwrap_err();
    assert!(err.is_integrity(), "{err:?}");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("f.parquet");
    let err = s
        .client
        .download_data(
            &created,
            file.name(),
            evo_objects::Destination::file(&target),
            None,
        )
        .await
        .unwrap_err();
    assert!(err.is_integrity(), "{err:?}");
    assert!(!target.exists(), "no corrupted file is left behind");
    s.emu.set_faults(FaultPlan::none());
    let bytes = s
        .client
        .download_data_bytes(&created, file.name())
        .await
        .unwrap();
    assert_eq!(bytes.len(), 4096);
}

#[tokio::test]
async fn concurrent_cache_reads_download_each_file_once() {
    let s = start().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = evo_core::Cache::new(dir.path()).unwrap();
    let file = DataFile::from_bytes(vec![5u8; 100_000]);
    let other = DataFile::from_bytes(vec![6u8; 10]);
    s.client
        .upload_data(&[file.clone(), other.clone()], None)
        .await
        .unwrap();
    let created = s
        .client
        .create("c.json", &point_set("c", file.name(), other.name(), 1))
        .await
        .unwrap();
    let token = s.emu.issue_token(&["evo.object"]);
    let log = Arc::new(Mutex::new(Vec::new()));
    let transport = recording(Arc::new(HyperTransport::new()), log.clone());
    let cached = ObjectsClient::builder(
        s.environment.clone(),
        ApiConnector::builder(s.emu.hub_url())
            .transport(transport.clone())
            .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
            .build()
            .unwrap(),
    )
    .blob_client(evo_io::BlobClient::new(transport))
    .cache(cache)
    .build()
    .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = cached.clone();
            let o = created.clone();
            let name = file.name().to_owned();
            tokio::spawn(async move { c.download_data_to_cache(&o, &name).await })
        })
        .collect();
    let mut paths = Vec::new();
    for t in tasks {
        paths.push(t.await.unwrap().unwrap());
    }
    assert!(paths.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(std::fs::read(&paths[0]).unwrap().len(), 100_000);
    let blob_reads = |log: &Arc<Mutex<Vec<String>>>| {
        log.lock()
            .unwrap()
            .iter()
            .filter(|l| {
                (l.starts_with("GET ") || l.starts_with("HEAD ")) && l.contains(file.name())
            })
            .count()
    };
    let after_eight = blob_reads(&log);
    assert!(after_eight >= 1);
    // One download of the same file into a fresh cache takes as many requests as eight did.
    let single_dir = tempfile::tempdir().unwrap();
    let single_log = Arc::new(Mutex::new(Vec::new()));
    let single_transport = recording(Arc::new(HyperTransport::new()), single_log.clone());
    let single = ObjectsClient::builder(
        s.environment.clone(),
        ApiConnector::builder(s.emu.hub_url())
            .transport(single_transport.clone())
            .authorizer(Arc::new(StaticTokenAuthorizer::new(
                s.emu.issue_token(&["evo.object"]),
            )))
            .build()
            .unwrap(),
    )
    .blob_client(evo_io::BlobClient::new(single_transport))
    .cache(evo_core::Cache::new(single_dir.path()).unwrap())
    .build()
    .unwrap();
    single
        .download_data_to_cache(&created, file.name())
        .await
        .unwrap();
    assert_eq!(
        after_eight,
        blob_reads(&single_log),
        "eight tasks, one download"
    );
}
