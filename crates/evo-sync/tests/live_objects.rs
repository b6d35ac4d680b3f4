//! `LiveObjects` against the emulator: objects created, changed, deleted and restored through
//! the Geoscience Object API show up in the replica; deletions are found with the
//! latest-versions call (no listing of deleted objects).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use evo_core::uuid::Uuid;
use evo_core::{ApiConnector, Environment, SharedTransport, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_objects::{DataFile, ListObjectsQuery, ObjectsClient};
use evo_sync::evo::{EvoPollOptions, LiveObjects};
use evo_sync::{BackoffPolicy, LiveOptions};
use futures_util::TryStreamExt;
use serde_json::{Value, json};

fn recording(inner: SharedTransport, log: Arc<Mutex<Vec<String>>>) -> SharedTransport {
    Arc::new(evo_core::transport_fn(
        move |request: http::Request<evo_core::Body>| {
            let inner = inner.clone();
            let log = log.clone();
            async move {
                let uri = request.uri();
                log.lock().unwrap().push(format!(
                    "{} {}",
                    request.method(),
                    uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
                ));
                inner.send(request).await
            }
        },
    ))
}

fn client(emu: &Emulator, transport: SharedTransport) -> ObjectsClient {
    let environment = Environment::new(
        emu.hub_url(),
        emu.org_id(),
        emu.organizations()[0].workspaces[0].0,
    );
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(transport)
        .authorizer(Arc::new(StaticTokenAuthorizer::new(
            emu.issue_token(&["evo.object"]),
        )))
        .build()
        .expect("connector");
    ObjectsClient::new(environment, connector).expect("client")
}

fn fast() -> EvoPollOptions {
    EvoPollOptions {
        interval: Duration::from_millis(30),
        overlap: Duration::from_secs(1),
        reconcile_every: 0,
        live: LiveOptions {
            backoff: BackoffPolicy {
                initial: Duration::from_millis(10),
                max: Duration::from_millis(100),
                reset_after: Duration::from_secs(5),
            },
            ..LiveOptions::default()
        },
    }
}

async fn point_set(objects: &ObjectsClient, name: &str) -> Value {
    let files = [
        DataFile::from_bytes(vec![1u8; 64]),
        DataFile::from_bytes(vec![2u8; 16]),
    ];
    objects
        .upload_data(&files, None)
        .await
        .expect("upload data");
    json!({
        "schema": "/objects/pointset/1.3.0/pointset.schema.json",
        "uuid": null,
        "name": name,
        "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
        "coordinate_reference_system": "unspecified",
        "locations": {
            "coordinates": {"data": files[0].name(), "length": 2, "width": 3, "data_type": "float64"},
            "attributes": [{"name": "g", "key": "g", "attribute_type": "scalar",
                "nan_description": {"values": []},
                "values": {"data": files[1].name(), "length": 2, "width": 1, "data_type": "float64"}}]
        }
    })
}

/// The server's live objects and their latest versions.
async fn server(objects: &ObjectsClient) -> BTreeMap<Uuid, String> {
    let listed: Vec<_> = objects
        .list_all(ListObjectsQuery::new())
        .try_collect()
        .await
        .expect("list");
    listed
        .into_iter()
        .map(|o| (o.object_id, o.version_id))
        .collect()
}

async fn converge(objects: &ObjectsClient, live: &LiveObjects) {
    let expected = server(objects).await;
    let view = |snap: &evo_sync::Snapshot<Uuid, evo_objects::ListedObject>| {
        snap.iter()
            .map(|(k, o)| (*k, o.version_id.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let reached = tokio::time::timeout(
        Duration::from_secs(30),
        live.wait_for(|snap| snap.is_ready() && view(snap) == expected),
    )
    .await;
    assert!(
        reached.is_ok(),
        "object replica did not converge:\n replica {:?}\n server  {:?}\n status {:?}",
        view(&live.snapshot()),
        expected,
        live.status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_changes_deletions_and_restores_show_up() {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Sync Org", "workspaces": [{"name": "Objects"}]}]}"#,
    )
    .expect("seed");
    let emu = Emulator::builder()
        .seed(seed)
        .start()
        .await
        .expect("emulator");
    let writer = client(&emu, Arc::new(evo_hyper::HyperTransport::new()));
    let log = Arc::new(Mutex::new(Vec::new()));
    let poller = client(
        &emu,
        recording(Arc::new(evo_hyper::HyperTransport::new()), log.clone()),
    );
    let first = writer
        .create("a.json", &point_set(&writer, "a").await)
        .await
        .expect("create a");
    let live = LiveObjects::start(poller, fast()).expect("live objects");
    converge(&writer, &live).await;
    let a = first.id().unwrap();
    assert!(live.snapshot().contains(&a));

    let b = writer
        .create("b.json", &point_set(&writer, "b").await)
        .await
        .expect("create b");
    converge(&writer, &live).await;
    let mut changed = b.object.clone();
    changed["name"] = json!("b2");
    writer
        .update_by_id(b.id().unwrap(), &changed, Some(&b.version_id))
        .await
        .expect("update b");
    converge(&writer, &live).await;
    assert_eq!(
        live.snapshot()
            .get(&b.id().unwrap())
            .map(|o| o.name.clone()),
        Some("b.json".to_owned())
    );

    writer.delete(a).await.expect("delete a");
    converge(&writer, &live).await;
    assert!(!live.snapshot().contains(&a));
    writer.restore(a).await.expect("restore a");
    converge(&writer, &live).await;
    assert!(live.snapshot().contains(&a));
    assert_eq!(
        live.snapshot().resets(),
        1,
        "only the initial load was a full listing"
    );

    let log = log.lock().unwrap().clone();
    assert!(
        log.iter()
            .any(|l| l.starts_with("PATCH ") && l.ends_with("/objects")),
        "deletions were looked for with the latest-versions call"
    );
    assert!(
        !log.iter().any(|l| l.contains("deleted=true")),
        "no listing of deleted objects"
    );
    live.stop().await;
}
