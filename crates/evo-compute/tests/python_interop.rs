//! Interoperability with the official Python SDK (`evo-compute`) through the emulator: a job
//! submitted by Python is awaited by this crate, and one submitted by this crate is awaited by
//! Python; both see the same results. The venv comes from `scripts/install-peers.sh`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use evo_compute::tasks::{Ellipsoid, NearestNeighbours, SearchNeighborhood, Source, Target};
use evo_compute::{ComputeClient, Task, TaskResult};
use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;
use evo_objects::evo_tables::arrow_array::Float64Array;
use evo_objects::{ObjectReference, ObjectsClient, SpatialObject};
use serde_json::Value;

async fn python(args: &[&str], token: &str) -> Value {
    let out = tokio::process::Command::new(evo_testkit::python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/compute.py"))
        .args(args)
        .env("EVO_TOKEN", token)
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
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_rust_await_each_others_jobs() {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Interop", "workspaces": [{"name": "Interop"}]}]}"#,
    )
    .unwrap();
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    emu.set_compute_job_step(Duration::from_millis(50));
    let token = emu.issue_token(&["evo.object"]);
    let env = Environment::new(
        emu.hub_url(),
        emu.org_id(),
        emu.organizations()[0].workspaces[0].0,
    );
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(Arc::new(HyperTransport::new()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token.clone())))
        .build()
        .unwrap();
    let objects = ObjectsClient::new(env.clone(), connector.clone()).unwrap();
    let compute = ComputeClient::new(connector, env.org_id).unwrap();
    let f = |v: &[f64]| Float64Array::from(v.to_vec());
    let positions =
        evo_objects::evo_tables::positions(f(&[0.0, 4.0, 8.0]), f(&[0.0, 0.0, 0.0]), f(&[0.0; 3]))
            .unwrap();
    let samples = objects
        .create_spatial(
            "samples.json",
            &SpatialObject::point_set("samples", positions)
                .attribute("grade", Arc::new(f(&[1.0, 2.0, 4.0]))),
        )
        .await
        .unwrap();
    let grid = objects
        .create_spatial(
            "grid.json",
            &SpatialObject::regular_grid("grid", [0.0; 3], [4, 1, 1], [2.0, 1.0, 1.0]),
        )
        .await
        .unwrap();
    let samples = ObjectReference::new(&env, samples.id().unwrap(), None);
    let grid = ObjectReference::new(&env, grid.id().unwrap(), None);
    let task = |name: &str| {
        NearestNeighbours::new(
            Source::point_set_attribute(&samples, "grade"),
            Target::new_attribute(&grid, name),
            SearchNeighborhood::new(Ellipsoid::sphere(3.0), 2),
        )
    };
    let hub = emu.hub_url().to_string();

    // Rust submits, Python awaits.
    let job = compute.submit(&task("by_rust")).await.unwrap();
    let from_python = python(&["wait", &hub, &job.status_url()], &token).await;
    let from_rust: TaskResult = job.wait_for(Some(Duration::from_secs(30))).await.unwrap();
    assert_eq!(
        from_python["results"],
        serde_json::to_value(&from_rust).unwrap()
    );
    assert_eq!(from_rust.target.attribute.name, "by_rust");

    // Python submits, Rust awaits.
    let parameters = task("by_python").parameters().unwrap().to_string();
    let submitted = python(
        &["submit", &hub, &env.org_id.to_string(), "knn", &parameters],
        &token,
    )
    .await;
    let job = compute
        .job_from_url(submitted["url"].as_str().unwrap())
        .unwrap();
    let result: TaskResult = job.wait_for(Some(Duration::from_secs(30))).await.unwrap();
    assert_eq!(result.target.attribute.name, "by_python");
    assert_eq!(result.target.name, "grid");
}
