//! Interoperability with the official Python SDK (`evo-compute`) through the emulator: a job
//! submitted by Python is awaited by this crate, and one submitted by this crate is awaited by
//! Python; both see the same results. Python's own typed `IDWParameters`, run by its
//! `IDWRunner`, are the JSON this crate writes for the same task (and so are its kNN,
//! kriging, declustering, break-ties and normal-score parameters), and the estimate they produce
//! is checked against one computed here. The seven simulation, distribution and economic tasks
//! are written by Python's typed parameters and by this crate's builders alike. The venv comes
//! from `scripts/install-peers.sh`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use evo_compute::polling::Outcome;
use evo_compute::tasks::{
    BlockDiscretisation, BreakTies, ConSimLossCalculation, ConditionalTurningBands,
    ConditionedSimulation, ContinuousDistribution, Cutoffs, Declustering, Ellipsoid,
    InverseDistance, Kriging, LocationWise, LossCalculation, MaterialCategory, NearestNeighbours,
    NormalScore, NormalScoreMethod, ProfitCalculation, ReportContext, ReportContextItem,
    ReportMeanThresholds, SearchNeighborhood, SimulationDistribution, SimulationReport, Source,
    TailExtrapolation, Target, TargetAttribute, UpperTail,
};
use evo_compute::{ComputeClient, Task, TaskResult};
use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;
use evo_objects::evo_tables::arrow_array::{Array, Float64Array};
use evo_objects::{GetOptions, ObjectReference, ObjectsClient, SpatialObject};
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

/// Every number as a float, so `0` and `0.0` compare equal.
fn as_floats(value: Value) -> Value {
    match value {
        Value::Number(n) => n.as_f64().map_or(Value::Number(n), Value::from),
        Value::Array(items) => Value::Array(items.into_iter().map(as_floats).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, as_floats(v))).collect())
        }
        other => other,
    }
}

/// The emulator, its token, the workspace, the clients, and two objects: samples (a point set
/// with a grade at x = 0, 4, 8) and a grid of 4 cells of size 2 along x.
struct Setup {
    emu: Emulator,
    token: String,
    env: Environment,
    objects: ObjectsClient,
    compute: ComputeClient,
    samples: ObjectReference,
    grid: ObjectReference,
}

async fn setup() -> Setup {
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
    let compute = ComputeClient::new(env.org_id, connector).unwrap();
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
    Setup {
        emu,
        token,
        env,
        objects,
        compute,
        samples,
        grid,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_rust_await_each_others_jobs() {
    let Setup {
        emu,
        token,
        env,
        compute,
        samples,
        grid,
        ..
    } = setup().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_cancelled_jobs_end_alike_on_both_sides() {
    let Setup {
        emu,
        token,
        env,
        compute,
        samples,
        grid,
        ..
    } = setup().await;
    let hub = emu.hub_url().to_string();
    let org = env.org_id.to_string();
    let wait = Some(Duration::from_secs(30));
    let task = |attribute: &str| {
        NearestNeighbours::new(
            Source::point_set_attribute(&samples, attribute),
            Target::new_attribute(&grid, "never"),
            SearchNeighborhood::new(Ellipsoid::sphere(3.0), 2),
        )
    };
    let failing = task("no such attribute");

    // Rust submits a job that fails: Python's wait raises the SDK's JobError carrying the job's
    // problem, the one this crate reads.
    let job = compute.submit(&failing).await.unwrap();
    let from_python = python(&["wait", &hub, &job.status_url()], &token).await;
    let e = job.wait_for_results(wait).await.unwrap_err();
    let problem = e.job_error().expect("the job's problem").clone();
    assert_eq!(from_python["raised"], "JobError", "{from_python}");
    assert_eq!(from_python["status"], 404, "{from_python}");
    assert_eq!(from_python["content"]["title"], problem.title.as_str());
    assert_eq!(from_python["content"]["type"], problem.type_uri.as_str());
    assert_eq!(problem.title, "Attribute Not Found.");

    // Python submits the same task: this crate's wait ends with the same problem.
    let parameters = failing.parameters().unwrap().to_string();
    let submitted = python(&["submit", &hub, &org, "knn", &parameters], &token).await;
    let job = compute
        .job_from_url(submitted["url"].as_str().unwrap())
        .unwrap();
    let Outcome::Failed(error) = job.wait(compute.poller(wait)).await.unwrap() else {
        panic!("the job did not fail");
    };
    assert_eq!((error.status, &error.title), (404, &problem.title));

    // Jobs submitted while the step is long stay requested; the cancellations, made once the
    // step is short again, complete at once.
    let hold = Duration::from_secs(60);
    let quick = Duration::from_millis(50);
    let runnable = task("grade");
    // Python cancels a job this crate submitted; this crate sees it cancelled.
    emu.set_compute_job_step(hold);
    let job = compute.submit(&runnable).await.unwrap();
    emu.set_compute_job_step(quick);
    python(&["cancel", &hub, &job.status_url()], &token).await;
    assert_eq!(
        job.wait(compute.poller(wait)).await.unwrap(),
        Outcome::Cancelled
    );
    // This crate cancels a job Python submitted; Python's wait ends (it does not poll forever).
    // The Python SDK has no cancelled outcome: a finished job without results or an error is
    // an UnknownResponseError to it (this crate answers Error::JobCancelled).
    let parameters = runnable.parameters().unwrap().to_string();
    emu.set_compute_job_step(hold);
    let submitted = python(&["submit", &hub, &org, "knn", &parameters], &token).await;
    emu.set_compute_job_step(quick);
    let url = submitted["url"].as_str().unwrap();
    compute.job_from_url(url).unwrap().cancel().await.unwrap();
    let from_python = python(&["wait", &hub, url], &token).await;
    assert!(from_python["results"].is_null(), "{from_python}");
    assert_eq!(
        from_python["raised"], "UnknownResponseError",
        "{from_python}"
    );
    assert_eq!(
        from_python["content"]["status"], "cancelled",
        "{from_python}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_typed_idw_sends_our_parameters_and_gets_our_estimate() {
    let Setup {
        emu,
        token,
        env,
        objects,
        samples,
        grid,
        ..
    } = setup().await;
    let hub = emu.hub_url().to_string();
    // Python's own typed IDW parameters are the ones this crate writes, and the estimate it
    // ran is the one computed here.
    let ran = python(
        &[
            "idw",
            &hub,
            &env.org_id.to_string(),
            &samples.to_string(),
            &grid.to_string(),
        ],
        &token,
    )
    .await;
    let ours = InverseDistance::new(
        Source::point_set_attribute(&samples, "grade"),
        Target::new_attribute(&grid, "by_python_idw"),
        SearchNeighborhood::new(Ellipsoid::sphere(3.0), 2),
        2.0,
    );
    // Equal as JSON numbers: Python writes the default rotation as integers (0), this crate
    // as floats (0.0).
    assert_eq!(
        as_floats(ran["parameters"].clone()),
        as_floats(ours.parameters().unwrap())
    );
    let grade = || Source::point_set_attribute(&samples, "grade");
    let near = || SearchNeighborhood::new(Ellipsoid::sphere(3.0), 2);
    let others: [(&str, Box<dyn Task>); 5] = [
        (
            "declustering",
            Box::new(Declustering::new(
                &samples,
                &grid,
                Target::new_attribute(&grid, "d"),
                near(),
            )),
        ),
        (
            "kriging",
            Box::new(
                Kriging::new(grade(), Target::new_attribute(&grid, "kr"), &grid, near())
                    .with_block_discretisation(BlockDiscretisation {
                        nx: 2,
                        ny: 3,
                        nz: 1,
                    }),
            ),
        ),
        (
            "knn",
            Box::new(NearestNeighbours::new(
                grade(),
                Target::new_attribute(&grid, "k"),
                near(),
            )),
        ),
        (
            "break-ties",
            Box::new(BreakTies::new(
                grade(),
                Target::new_attribute(&grid, "b"),
                near(),
            )),
        ),
        (
            "normal-score",
            Box::new(NormalScore::new(
                NormalScoreMethod::Forward,
                grade(),
                Target::new_attribute(&grid, "n"),
                &grid,
            )),
        ),
    ];
    for (name, task) in others {
        assert_eq!(task.task(), name);
        assert_eq!(
            as_floats(ran["others"][name].clone()),
            as_floats(task.parameters().unwrap()),
            "{name}"
        );
    }
    assert_eq!(ran["attribute"], "by_python_idw");
    assert!(
        ran["reference"].as_str().unwrap().contains("version="),
        "{ran}"
    );
    let latest = objects
        .get_by_id(grid.object_id().unwrap(), &GetOptions::new())
        .await
        .unwrap();
    let mut estimated = Vec::new();
    for batch in objects
        .read_attribute(&latest, "by_python_idw")
        .await
        .unwrap()
    {
        let batch = batch.unwrap();
        let col = batch
            .column(0)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .clone();
        estimated.extend((0..col.len()).map(|i| (!col.is_null(i)).then(|| col.value(i))));
    }
    // Cell centres (1 + 2i, 0.5, 0.5); samples (0, 0, 0) = 1, (4, 0, 0) = 2, (8, 0, 0) = 4.
    let samples = [(0.0, 1.0), (4.0, 2.0), (8.0, 4.0)];
    let expected: Vec<Option<f64>> = (0..4)
        .map(|i| {
            let x = 1.0 + 2.0 * f64::from(i);
            let mut near: Vec<(f64, f64)> = samples
                .iter()
                .map(|(sx, v)| (((x - sx) * (x - sx) + 0.5).sqrt(), *v))
                .filter(|(d, _)| *d <= 3.0)
                .collect();
            near.sort_by(|a, b| a.0.total_cmp(&b.0));
            near.truncate(2);
            let w: f64 = near.iter().map(|(d, _)| d.powi(-2)).sum();
            (!near.is_empty()).then(|| near.iter().map(|(d, v)| v * d.powi(-2)).sum::<f64>() / w)
        })
        .collect();
    assert_eq!(estimated.len(), 4);
    for (got, want) in estimated.iter().zip(&expected) {
        match (got, want) {
            (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{estimated:?} vs {expected:?}"),
            _ => assert_eq!(got, want, "{estimated:?} vs {expected:?}"),
        }
    }
}

/// The builders of the tasks the emulator does not run, beside Python's typed parameters for
/// the same choices (`tests/python/compute.py params`): the same JSON, key for key.
fn simulation_and_economic_tasks(
    source: &ObjectReference,
    target: &ObjectReference,
) -> Vec<(&'static str, Box<dyn Task>)> {
    let grade = "locations.attributes[?name=='grade']";
    let near = || SearchNeighborhood::new(Ellipsoid::sphere(3.0), 2);
    let tails = TailExtrapolation {
        upper: UpperTail {
            power: 0.5,
            max: 10.0,
        },
        lower: None,
    };
    let categories = vec![
        MaterialCategory::new("waste", 0.0, 0.0),
        MaterialCategory::new("ore", 0.5, 200.0),
    ];
    let mut consim = ConditionedSimulation::new(source, grade, target, target, near())
        .with_simulations(3)
        .with_seed(7);
    consim.distribution = Some(SimulationDistribution {
        weights: None,
        tail_extrapolation: Some(tails),
    });
    consim.loss_calculation = Some(ConSimLossCalculation {
        material_categories: vec![MaterialCategory::new("ore", 0.5, 200.0)],
        processing_cost: 20.0,
        mining_waste_cost: 5.0,
        mining_ore_cost: 10.0,
        metal_recovery_fraction: 0.85,
        target_attribute: TargetAttribute::Create {
            name: "loss".into(),
        },
    });
    consim.location_wise_quantiles = Some(vec![0.1, 0.9]);
    consim.perform_validation = true;
    consim.report_context = Some(ReportContext {
        title: "Run".into(),
        details: vec![ReportContextItem {
            label: "by".into(),
            value: "test".into(),
        }],
    });
    consim.report_mean_thresholds = Some(ReportMeanThresholds {
        acceptable: 0.05,
        marginal: 0.1,
    });
    let mut bands = ConditionalTurningBands::new(source, grade, target, target, target, near());
    bands.kriging_method = "ordinary".into();
    bands.realizations = 4;
    let mut report = SimulationReport::new(
        source,
        grade,
        target,
        ["p", "pn", "b", "bn"].map(String::from),
        target,
        near(),
        4,
    );
    report.distribution = Some(SimulationDistribution {
        weights: Some("w".into()),
        tail_extrapolation: None,
    });
    let mut location_wise = LocationWise::new(Source::new(source, grade), target)
        .with_summary()
        .with_quantiles(vec![0.1, 0.5]);
    location_wise.probability_above_cutoff = Some(Cutoffs {
        cutoffs: vec![1.0, 2.0],
    });
    let mut distribution = ContinuousDistribution::new(Source::new(source, grade), target);
    distribution.tail_extrapolation = Some(tails);
    let economics = |category: Vec<MaterialCategory>| {
        (
            Source::new(source, grade),
            Target::new_attribute(target, "money"),
            category,
        )
    };
    let (s, t, c) = economics(categories.clone());
    let loss = LossCalculation::new(s, t, c, 20.0, 5.0, 10.0, 0.85);
    let (s, t, c) = economics(categories);
    let profit = ProfitCalculation::new(s, t, c, 20.0, 5.0, 10.0, 0.85);
    vec![
        ("consim", Box::new(consim)),
        ("conditional-turning-bands", Box::new(bands)),
        ("simulation-report", Box::new(report)),
        ("location-wise", Box::new(location_wise)),
        ("continuous-distribution", Box::new(distribution)),
        ("loss-calculation", Box::new(loss)),
        ("profit-calculation", Box::new(profit)),
    ]
}

#[tokio::test]
async fn python_writes_the_simulation_and_economic_tasks_as_this_crate_does() {
    let hub = "https://hub.test";
    let objects = |id: &str| {
        ObjectReference::parse(&format!(
            "{hub}/geoscience-object/orgs/00000000-0000-0000-0000-000000000001/workspaces/\
             00000000-0000-0000-0000-000000000002/objects/{id}"
        ))
        .unwrap()
    };
    let source = objects("00000000-0000-0000-0000-000000000003");
    let target = objects("00000000-0000-0000-0000-000000000004");
    let written = python(
        &["params", hub, &source.to_string(), &target.to_string()],
        "unused",
    )
    .await;
    let tasks = simulation_and_economic_tasks(&source, &target);
    assert_eq!(
        written["parameters"].as_object().map(|m| m.len()),
        Some(tasks.len()),
        "{written}"
    );
    for (name, task) in tasks {
        assert_eq!(task.task(), name);
        assert_eq!(
            as_floats(written["parameters"][name].clone()),
            as_floats(task.parameters().unwrap()),
            "{name}"
        );
    }
}
