//! Interoperability with the official Python SDK (`evo-objects` with pyarrow) through the
//! emulator: Python creates a point set with attributes and this crate reads identical values;
//! this crate creates one and Python reads identical values, column by column (SHA-256 of each
//! column's little-endian values on both sides).
//!
//! The Python SDK only accepts `https` blob URLs on the default port, so the emulator serves
//! blobs over TLS on port 443 of a random `127.x.y.z` address; both sides trust its CA. The venv
//! comes from `scripts/install-peers.sh`.

#![cfg(feature = "arrow")]

use std::path::Path;
use std::sync::Arc;

use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;
use evo_objects::evo_tables::arrow_array::{Array, Float64Array, Int32Array, RecordBatch};
use evo_objects::{GetOptions, ObjectsClient, SpatialObject};
use sha2::Digest as _;

const N: usize = 20_000;

/// x, y, z, grade and count, in that order.
type Columns = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<i32>);

/// The columns both sides generate (the same formulas as `columns` in interop.py).
fn columns() -> Columns {
    let x = (0..N).map(|i| i as f64 * 0.5).collect();
    let y = (0..N).map(|i| i as f64 * -1.25).collect();
    let z = (0..N).map(|i| (i as f64).sqrt()).collect();
    let grade = (0..N).map(|i| (i % 7) as f64 * 1.1).collect();
    let count = (0..N).map(|i| (i % 1000) as i32 - 500).collect();
    (x, y, z, grade, count)
}

fn digest_f64(values: impl IntoIterator<Item = f64>) -> String {
    let mut h = sha2::Sha256::new();
    for v in values {
        h.update(v.to_le_bytes());
    }
    hex::encode(h.finalize())
}

fn digest_i32(values: impl IntoIterator<Item = i32>) -> String {
    let mut h = sha2::Sha256::new();
    for v in values {
        h.update(v.to_le_bytes());
    }
    hex::encode(h.finalize())
}

fn f64_column(batches: &[RecordBatch], column: usize) -> Vec<f64> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b
                .column(column)
                .as_any()
                .downcast_ref::<Float64Array>()
                .expect("float64");
            assert_eq!(a.null_count(), 0);
            a.values().to_vec()
        })
        .collect()
}

async fn python(
    mode: &str,
    emu: &Emulator,
    workspace: &str,
    token: &str,
    ca: &Path,
    path: &str,
    cache: &Path,
) -> serde_json::Value {
    let out = tokio::process::Command::new(evo_testkit::python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/interop.py"))
        .args([
            mode,
            emu.hub_url().as_str(),
            &emu.org_id().to_string(),
            workspace,
            path,
        ])
        .arg(N.to_string())
        .arg(cache)
        .env("EVO_TOKEN", token)
        .env("SSL_CERT_FILE", ca)
        .kill_on_drop(true)
        .output()
        .await
        .expect("python starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the Python SDK failed to {mode} ({}):\n{stdout}\n{stderr}",
        out.status
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_rust_read_each_others_point_sets() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("emulator-ca.pem");
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Interop", "workspaces": [{"name": "Interop"}]}]}"#,
    )
    .unwrap();
    let emu = Emulator::builder()
        .seed(seed)
        .blob_listener_on_random_loopback_443()
        .ca_cert_path(&ca)
        .start()
        .await
        .unwrap_or_else(|e| {
            panic!("the emulator could not serve blobs on a loopback port 443: {e}")
        });
    let transport = HyperTransport::builder()
        .add_root_certificate(emu.ca_cert_pem().expect("the emulator has a CA"))
        .build()
        .unwrap();
    let token = emu.issue_token(&["evo.object"]);
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(Arc::new(transport))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token.clone())))
        .build()
        .unwrap();
    let workspace = emu.organizations()[0].workspaces[0].0;
    let environment = Environment::new(emu.hub_url(), emu.org_id(), workspace);
    let objects = ObjectsClient::new(environment, connector).unwrap();
    let (x, y, z, grade, count) = columns();
    let expected = serde_json::json!({
        "x": digest_f64(x.iter().copied()),
        "y": digest_f64(y.iter().copied()),
        "z": digest_f64(z.iter().copied()),
        "grade": digest_f64(grade.iter().copied()),
        "count": digest_i32(count.iter().copied()),
    });
    let ws = workspace.to_string();

    // Python creates, Rust reads.
    let made = python(
        "create",
        &emu,
        &ws,
        &token,
        &ca,
        "interop/python.json",
        &dir.path().join("py-cache"),
    )
    .await;
    assert_eq!(
        made["columns"], expected,
        "the Python side computed other columns"
    );
    let object = objects
        .get_by_path("interop/python.json", &GetOptions::new())
        .await
        .unwrap();
    assert_eq!(object.id().unwrap().to_string(), made["object_id"]);
    let positions: Vec<RecordBatch> = objects
        .read_positions(&object)
        .await
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(digest_f64(f64_column(&positions, 0)), expected["x"]);
    assert_eq!(digest_f64(f64_column(&positions, 1)), expected["y"]);
    assert_eq!(digest_f64(f64_column(&positions, 2)), expected["z"]);
    let grades: Vec<RecordBatch> = objects
        .read_attribute(&object, "grade")
        .await
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(digest_f64(f64_column(&grades, 0)), expected["grade"]);
    let counts: Vec<RecordBatch> = objects
        .read_attribute(&object, "count")
        .await
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let counts: Vec<i32> = counts
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Int32Array>()
                .expect("int32")
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(digest_i32(counts), expected["count"]);

    // Rust creates, Python reads.
    let positions = evo_objects::evo_tables::positions(
        Float64Array::from(x),
        Float64Array::from(y),
        Float64Array::from(z),
    )
    .unwrap();
    let point_set = SpatialObject::point_set("from rust", positions)
        .epsg(2193)
        .attribute("grade", Arc::new(Float64Array::from(grade)))
        .attribute("count", Arc::new(Int32Array::from(count)));
    let created = objects
        .create_spatial("interop/rust.json", &point_set)
        .await
        .unwrap();
    let read = python(
        "read",
        &emu,
        &ws,
        &token,
        &ca,
        "interop/rust.json",
        &dir.path().join("py-cache-2"),
    )
    .await;
    assert_eq!(read["object_id"], created.id().unwrap().to_string());
    assert_eq!(read["columns"]["rows"], N);
    for column in ["x", "y", "z", "grade", "count"] {
        assert_eq!(
            read["columns"][column], expected[column],
            "column {column} differs in Python"
        );
    }
}
