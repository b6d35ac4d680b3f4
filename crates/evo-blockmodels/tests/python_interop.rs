//! Interoperability with the official Python SDK (`evo-blockmodels` with pyarrow) through the
//! emulator: a model made and filled by Python is queried by this crate with identical values,
//! and a model made and filled by this crate is queried by Python with identical values
//! (SHA-256 of each column's values in block order on both sides); a report specification and
//! its result made by this crate are read by Python's generated `ReportsApi` (strict pydantic
//! models), whose reporting job this crate then waits for.
//!
//! The Python SDK only accepts `https` blob URLs on the default port, so the emulator serves
//! blobs over TLS on port 443 of a random `127.x.y.z` address; both sides trust its CA. The venv
//! comes from `scripts/install-peers.sh`.

use std::path::Path;
use std::sync::Arc;

use evo_blockmodels::evo_tables::arrow_array::cast::AsArray;
use evo_blockmodels::evo_tables::arrow_array::types::{Float64Type, Int32Type, UInt32Type};
use evo_blockmodels::evo_tables::arrow_array::{
    ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray,
};
use evo_blockmodels::{
    BlockModelsClient, BlockSize, ColumnChanges, NewBlockModel, NewReportSpecification, Query,
    ReportAggregation, ReportCategory, ReportColumn, ReportRun, Size3, SizeOptions,
};
use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;
use futures_util::TryStreamExt as _;
use sha2::Digest as _;

const N: (u32, u32, u32) = (30, 20, 10);

/// grade, count and rock of every block in block order (the formulas of interop.py).
fn columns() -> (Vec<f64>, Vec<i32>, Vec<String>) {
    let n = (N.0 * N.1 * N.2) as usize;
    (
        (0..n)
            .map(|b| (b % 13) as f64 * 0.37 + b as f64 / 1000.0)
            .collect(),
        (0..n).map(|b| (b % 500) as i32 - 250).collect(),
        (0..n).map(|b| format!("rock-{}", b % 5)).collect(),
    )
}

fn digests(grade: &[f64], count: &[i32], rock: &[String]) -> serde_json::Value {
    let mut g = sha2::Sha256::new();
    grade.iter().for_each(|v| g.update(v.to_le_bytes()));
    let mut c = sha2::Sha256::new();
    count.iter().for_each(|v| c.update(v.to_le_bytes()));
    serde_json::json!({
        "rows": grade.len(),
        "grade": hex::encode(g.finalize()),
        "count": hex::encode(c.finalize()),
        "rock": hex::encode(sha2::Sha256::digest(rock.join("\n").as_bytes())),
    })
}

/// Queries grade, count and rock and puts the rows in block order.
async fn rust_reads(client: &BlockModelsClient, bm: uuid::Uuid) -> serde_json::Value {
    let batches: Vec<RecordBatch> = client
        .query(bm, &Query::new(["grade", "count", "rock"]))
        .await
        .unwrap()
        .batches()
        .try_collect()
        .await
        .unwrap();
    let mut rows: Vec<(u32, f64, i32, String)> = Vec::new();
    for b in &batches {
        let col = |n: &str| b.column_by_name(n).unwrap().clone();
        let (i, j, k) = (col("i"), col("j"), col("k"));
        let (i, j, k) = (
            i.as_primitive::<UInt32Type>(),
            j.as_primitive::<UInt32Type>(),
            k.as_primitive::<UInt32Type>(),
        );
        let grade = col("grade");
        let count = col("count");
        let rock = col("rock");
        for r in 0..b.num_rows() {
            let block = i.value(r) + N.0 * (j.value(r) + N.1 * k.value(r));
            rows.push((
                block,
                grade.as_primitive::<Float64Type>().value(r),
                count.as_primitive::<Int32Type>().value(r),
                rock.as_string::<i32>().value(r).to_owned(),
            ));
        }
    }
    rows.sort_by_key(|r| r.0);
    let grade: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let count: Vec<i32> = rows.iter().map(|r| r.2).collect();
    let rock: Vec<String> = rows.iter().map(|r| r.3.clone()).collect();
    digests(&grade, &count, &rock)
}

async fn python(
    mode: &str,
    emu: &Emulator,
    workspace: &str,
    target: &str,
    token: &str,
    ca: &Path,
    cache: &Path,
) -> serde_json::Value {
    let out = tokio::process::Command::new(evo_testkit::python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/interop.py"))
        .args([
            mode,
            emu.hub_url().as_str(),
            &emu.org_id().to_string(),
            workspace,
            target,
            &N.0.to_string(),
            &N.1.to_string(),
            &N.2.to_string(),
        ])
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
async fn python_and_rust_query_each_others_block_models() {
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
    let token = emu.issue_token(&["evo.blocksync"]);
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(Arc::new(transport))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token.clone())))
        .build()
        .unwrap();
    let workspace = emu.organizations()[0].workspaces[0].0;
    let environment = Environment::new(emu.hub_url(), emu.org_id(), workspace);
    let client = BlockModelsClient::new(environment, connector).unwrap();
    let (grade, count, rock) = columns();
    let expected = digests(&grade, &count, &rock);
    let ws = workspace.to_string();

    // Python creates and fills, Rust queries.
    let made = python(
        "create",
        &emu,
        &ws,
        "by python",
        &token,
        &ca,
        &dir.path().join("py1"),
    )
    .await;
    assert_eq!(made["columns"], expected, "Python's own query differs");
    let bm: uuid::Uuid = made["bm_id"].as_str().unwrap().parse().unwrap();
    let model = client.get(bm).await.unwrap();
    assert_eq!(model.name, "by python");
    let version = client.latest_version(bm).await.unwrap();
    assert_eq!(
        version.mapping.column("grade").unwrap().unit_id.as_deref(),
        Some("g/t")
    );
    assert_eq!(rust_reads(&client, bm).await, expected);

    // Rust creates and fills, Python queries.
    let (model, _) = client
        .create(
            &NewBlockModel::new(
                "by rust",
                SizeOptions::Regular {
                    n_blocks: Size3::new(N.0, N.1, N.2),
                    block_size: BlockSize::new(10.0, 10.0, 5.0),
                },
            )
            .origin(100.0, 200.0, 300.0)
            .size_unit("m"),
        )
        .await
        .unwrap();
    let grade: ArrayRef = Arc::new(Float64Array::from(grade));
    let count: ArrayRef = Arc::new(Int32Array::from(count));
    let rock: ArrayRef = Arc::new(StringArray::from(rock));
    client
        .update_columns(
            model.bm_uuid,
            &ColumnChanges::new()
                .add("grade", grade, Some("g/t".into()))
                .add("count", count, None)
                .add("rock", rock, None),
        )
        .await
        .unwrap();
    let read = python(
        "read",
        &emu,
        &ws,
        &model.bm_uuid.to_string(),
        &token,
        &ca,
        &dir.path().join("py2"),
    )
    .await;
    assert_eq!(read["columns"], expected);

    // Rust makes and runs a report specification; Python reads it, its listing and its
    // result, and starts a reporting job that Rust waits for.
    let version = client.latest_version(model.bm_uuid).await.unwrap();
    let column = |t: &str| version.mapping.column(t).unwrap();
    let spec = client
        .create_report_specification(
            model.bm_uuid,
            &NewReportSpecification::new("grade by rock", "t")
                .autorun(false)
                .column(
                    ReportColumn::of(column("grade"), ReportAggregation::MassAverage, "g/t")
                        .unwrap(),
                )
                .category(ReportCategory::of(column("rock")).unwrap())
                .density_value(2.5, "t/m3"),
        )
        .await
        .unwrap();
    let rs = spec.report_specification_uuid;
    let result = client.run_report(model.bm_uuid, rs, None).await.unwrap();
    let read = python(
        "report",
        &emu,
        &ws,
        &format!("{}/{rs}", model.bm_uuid),
        &token,
        &ca,
        &dir.path().join("py3"),
    )
    .await;
    assert_eq!(read["name"], "grade by rock");
    assert_eq!(read["revision"], 0);
    assert_eq!(read["labels"], serde_json::json!(["grade"]));
    assert_eq!(read["aggregations"], serde_json::json!(["MASS_AVERAGE"]));
    assert_eq!(read["density_value"], 2.5);
    assert_eq!(read["last_result_version_id"], version.version_id);
    assert_eq!(read["listed"], serde_json::json!(["grade by rock"]));
    assert_eq!(read["units"], serde_json::json!(["g/t", "t", "t/m3"]));
    assert_eq!(read["result_uuid"], result.report_result_uuid.to_string());
    assert_eq!(read["value_columns"], serde_json::json!(["Mass", "grade"]));
    let rows: Vec<serde_json::Value> = result.result_sets[0]
        .rows
        .iter()
        .map(|r| {
            serde_json::json!([
                r.categories,
                r.values.iter().map(|c| c.value).collect::<Vec<_>>(),
                r.values.iter().map(|c| c.status).collect::<Vec<_>>(),
            ])
        })
        .collect();
    assert_eq!(read["rows"], serde_json::Value::from(rows));
    assert_eq!(
        read["rows"].as_array().unwrap().len(),
        6,
        "5 rocks and the total"
    );
    let job: uuid::Uuid = read["job_uuid"].as_str().unwrap().parse().unwrap();
    let run = client
        .job::<ReportRun>(model.bm_uuid, job)
        .wait()
        .await
        .unwrap();
    assert_eq!(run.version_id, version.version_id);
    let again = client
        .get_report_result(model.bm_uuid, rs, run.report_result_uuid)
        .await
        .unwrap();
    assert_eq!(again.result_sets, result.result_sets);
}
