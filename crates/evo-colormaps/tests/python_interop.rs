//! Interoperability with the official Python SDK (`evo-colormaps`) through the emulator: a
//! colormap created by Python is read identically by this crate, and the other way round;
//! associations made by either are read and listed identically by both.
//! The venv comes from `scripts/install-peers.sh`.

use std::path::Path;
use std::sync::Arc;

use evo_colormaps::{Association, Colormap, ColormapsClient, DiscreteColormap};
use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;
use serde_json::{Value, json};

async fn python(args: &[&str], emu: &Emulator, token: &str) -> Value {
    let out = tokio::process::Command::new(evo_testkit::python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/colormaps.py"))
        .args(args)
        .env("EVO_TOKEN", token)
        .env("NO_PROXY", "127.0.0.1")
        .kill_on_drop(true)
        .output()
        .await
        .expect("python starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python {args:?} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let _ = emu;
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_rust_read_each_others_colormaps() {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Interop", "workspaces": [{"name": "Interop"}]}]}"#,
    )
    .unwrap();
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    let token = emu.issue_token(&["evo.object"]);
    let workspace = emu.organizations()[0].workspaces[0].0;
    let environment = Environment::new(emu.hub_url(), emu.org_id(), workspace);
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(Arc::new(HyperTransport::new()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token.clone())))
        .build()
        .unwrap();
    let client = ColormapsClient::new(environment, connector).unwrap();
    let hub = emu.hub_url().to_string();
    let org = emu.org_id().to_string();
    let ws = workspace.to_string();

    // Python creates, Rust reads.
    let made = python(&["create", &hub, &org, &ws], &emu, &token).await;
    let id = made["id"].as_str().unwrap().parse().unwrap();
    let read = client.get_colormap(id).await.unwrap();
    assert_eq!(read.name, "made by python");
    let Colormap::Continuous(c) = &read.colormap else {
        panic!("{read:?}")
    };
    assert_eq!(json!(c.colors), made["colors"]);
    assert_eq!(json!(c.attribute_controls), made["attribute_controls"]);
    assert_eq!(json!(c.gradient_controls), made["gradient_controls"]);

    // Rust creates, Python reads.
    let buckets: Colormap = DiscreteColormap {
        colors: vec![[1, 2, 3], [40, 50, 60], [250, 251, 252]],
        end_inclusive: vec![false, true],
        end_points: vec![-1.5, 7.25],
    }
    .into();
    let stored = client
        .create_colormap(&buckets, "made by rust")
        .await
        .unwrap();
    let seen = python(
        &["read", &hub, &org, &ws, &stored.id.to_string()],
        &emu,
        &token,
    )
    .await;
    assert_eq!(seen["kind"], "discrete");
    assert_eq!(seen["name"], "made by rust");
    assert_eq!(
        seen["colors"],
        json!([[1, 2, 3], [40, 50, 60], [250, 251, 252]])
    );
    assert_eq!(seen["end_points"], json!([-1.5, 7.25]));
    assert_eq!(seen["end_inclusive"], json!([false, true]));

    // Associations: Python attaches one, Rust attaches one, each side lists both.
    let object = uuid::Uuid::new_v4().to_string();
    let python_made = python(
        &[
            "associate",
            &hub,
            &org,
            &ws,
            &object,
            made["id"].as_str().unwrap(),
        ],
        &emu,
        &token,
    )
    .await;
    let object_id = object.parse().unwrap();
    let rust_made = client
        .create_association(object_id, &Association::new("by_rust", stored.id))
        .await
        .unwrap();
    let read = client
        .get_association(
            object_id,
            python_made["id"].as_str().unwrap().parse().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(read.attribute_id, "by_python");
    assert_eq!(read.colormap_id.to_string(), made["id"]);
    assert_eq!(json!(read.colormap_uri), python_made["colormap_uri"]);
    let listed = python(&["associations", &hub, &org, &ws, &object], &emu, &token).await;
    let mut ours = client.list_associations(object_id).await.unwrap();
    ours.sort_by(|a, b| a.attribute_id.cmp(&b.attribute_id));
    let ours: Vec<Value> = ours
        .iter()
        .map(|a| {
            json!({
                "id": a.id.to_string(),
                "attribute_id": a.attribute_id,
                "colormap_id": a.colormap_id.to_string(),
                "colormap_uri": a.colormap_uri,
            })
        })
        .collect();
    assert_eq!(listed, json!(ours));
    assert_eq!(ours.len(), 2);
    assert_eq!(ours[1]["id"], rust_made.id.to_string());
}
