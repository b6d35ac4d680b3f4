//! evo-compute against the in-process emulator: inverse distance weighting and k-nearest
//! neighbours run on stored objects (checked against values computed here), jobs that fail,
//! are cancelled (also on drop) or outlast the wait, pending results, unknown tasks, the
//! preview header, the progress stream and running many jobs at once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use evo_compute::polling::{Event, Outcome};
use evo_compute::tasks::{
    Ellipsoid, InverseDistance, NearestNeighbours, SearchNeighborhood, Source, Target,
};
use evo_compute::{ComputeClient, Error, GenericTask, JobResults, JobStatus, TaskResult};
use evo_core::{ApiConnector, Environment, SharedTransport, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;
use evo_objects::evo_tables::arrow_array::{Array, Float64Array};
use evo_objects::{GetOptions, ObjectReference, ObjectsClient, SpatialObject};
use futures_util::StreamExt as _;
use serde_json::json;

struct Setup {
    emu: Emulator,
    env: Environment,
    objects: ObjectsClient,
    compute: ComputeClient,
    headers: Arc<Mutex<Vec<(String, bool)>>>,
}

/// A transport recording each request's path and whether it carried `API-Preview: opt-in`.
fn recording(inner: SharedTransport, log: Arc<Mutex<Vec<(String, bool)>>>) -> SharedTransport {
    Arc::new(evo_core::transport_fn(
        move |request: http::Request<evo_core::Body>| {
            let inner = inner.clone();
            let log = log.clone();
            async move {
                let preview = request
                    .headers()
                    .get("api-preview")
                    .is_some_and(|v| v == "opt-in");
                log.lock()
                    .unwrap()
                    .push((request.uri().path().to_owned(), preview));
                inner.send(request).await
            }
        },
    ))
}

async fn start(step: Duration) -> Setup {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Compute Org", "workspaces": [{"name": "Compute"}]}]}"#,
    )
    .unwrap();
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    emu.set_compute_job_step(step);
    let env = Environment::new(
        emu.hub_url(),
        emu.org_id(),
        emu.organizations()[0].workspaces[0].0,
    );
    let headers = Arc::new(Mutex::new(Vec::new()));
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(recording(Arc::new(HyperTransport::new()), headers.clone()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(
            emu.issue_token(&["evo.object"]),
        )))
        .build()
        .unwrap();
    let objects = ObjectsClient::new(env.clone(), connector.clone()).unwrap();
    let compute = ComputeClient::builder(env.org_id, connector)
        .poll_intervals(Duration::from_millis(10), Duration::from_millis(40))
        .build()
        .unwrap();
    Setup {
        emu,
        env,
        objects,
        compute,
        headers,
    }
}

/// Samples: 6 points with a grade.
const SAMPLES: [[f64; 4]; 6] = [
    [1.0, 1.0, 0.5, 1.0],
    [9.0, 1.0, 0.5, 4.0],
    [1.0, 9.0, 0.5, 2.0],
    [9.0, 9.0, 0.5, 8.0],
    [5.0, 5.0, 0.5, 5.0],
    [3.0, 7.0, 0.5, 3.0],
];

async fn point_set(s: &Setup, name: &str, points: &[[f64; 4]]) -> ObjectReference {
    let col = |k: usize| Float64Array::from_iter_values(points.iter().map(|p| p[k]));
    let positions = evo_objects::evo_tables::positions(col(0), col(1), col(2)).unwrap();
    let object = SpatialObject::point_set(name, positions).attribute("grade", Arc::new(col(3)));
    let created = s
        .objects
        .create_spatial(format!("{name}.json").as_str(), &object)
        .await
        .unwrap();
    ObjectReference::new(&s.env, created.id().unwrap(), None)
}

async fn grid(s: &Setup) -> ObjectReference {
    let object = SpatialObject::regular_grid("grid", [0.0, 0.0, 0.0], [5, 5, 1], [2.0, 2.0, 1.0]);
    let created = s
        .objects
        .create_spatial("grid.json", &object)
        .await
        .unwrap();
    ObjectReference::new(&s.env, created.id().unwrap(), None)
}

async fn read_attribute(s: &Setup, object: &ObjectReference, name: &str) -> Vec<Option<f64>> {
    let latest = s
        .objects
        .get_by_id(object.object_id().unwrap(), &GetOptions::new())
        .await
        .unwrap();
    let mut out = Vec::new();
    for batch in s.objects.read_attribute(&latest, name).await.unwrap() {
        let batch = batch.unwrap();
        let col = batch
            .column(0)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .clone();
        out.extend((0..col.len()).map(|i| (!col.is_null(i)).then(|| col.value(i))));
    }
    out
}

fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|k| (a[k] - b[k]).powi(2)).sum::<f64>().sqrt()
}

#[tokio::test]
async fn inverse_distance_onto_a_grid() {
    let s = start(Duration::from_millis(20)).await;
    let points = point_set(&s, "samples", &SAMPLES).await;
    let grid = grid(&s).await;
    let task = InverseDistance::new(
        Source::point_set_attribute(&points, "grade"),
        Target::new_attribute(&grid, "grade_idw"),
        SearchNeighborhood::new(Ellipsoid::sphere(100.0), 50),
        2.0,
    );
    let job = s.compute.submit(&task).await.unwrap();
    assert_eq!(job.id().task, "idw");
    let result: TaskResult = job.wait_for(Some(Duration::from_secs(30))).await.unwrap();
    assert_eq!(result.target.name, "grid");
    assert_eq!(result.target.attribute.name, "grade_idw");
    assert!(result.target.reference.contains("version="));

    let estimated = read_attribute(&s, &grid, "grade_idw").await;
    assert_eq!(estimated.len(), 25);
    for j in 0..5 {
        for i in 0..5 {
            let centre = [1.0 + 2.0 * i as f64, 1.0 + 2.0 * j as f64, 0.5];
            let mut hit = None;
            let (mut num, mut den) = (0.0, 0.0);
            for p in SAMPLES {
                let d = distance(centre, [p[0], p[1], p[2]]);
                if d == 0.0 {
                    hit = Some(p[3]);
                }
                num += p[3] / (d * d);
                den += 1.0 / (d * d);
            }
            let expected = hit.unwrap_or(num / den);
            let got = estimated[j * 5 + i].unwrap();
            assert!(
                (got - expected).abs() < 1e-9,
                "cell {i},{j}: {got} vs {expected}"
            );
        }
    }
    // A sample sits at the centre of cell (0, 0): its value.
    assert_eq!(estimated[0], Some(1.0));
}

#[tokio::test]
async fn nearest_neighbours_onto_points_and_limits() {
    let s = start(Duration::from_millis(20)).await;
    let samples = point_set(&s, "samples", &SAMPLES).await;
    let targets = [
        [2.0, 2.0, 0.5, 0.0],
        [6.0, 6.0, 0.5, 0.0],
        [40.0, 40.0, 0.5, 0.0],
    ];
    let points = point_set(&s, "targets", &targets).await;
    let task = NearestNeighbours::new(
        Source::point_set_attribute(&samples, "grade"),
        Target::new_attribute(&points, "grade_knn"),
        SearchNeighborhood::new(Ellipsoid::sphere(10.0), 3),
    );
    s.compute
        .submit(&task)
        .await
        .unwrap()
        .wait_for_results(Some(Duration::from_secs(30)))
        .await
        .unwrap();
    let estimated = read_attribute(&s, &points, "grade_knn").await;
    for (t, got) in targets.iter().zip(&estimated) {
        let mut near: Vec<(f64, f64)> = SAMPLES
            .iter()
            .map(|p| (distance([t[0], t[1], t[2]], [p[0], p[1], p[2]]), p[3]))
            .filter(|(d, _)| *d <= 10.0)
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0));
        near.truncate(3);
        let expected =
            (!near.is_empty()).then(|| near.iter().map(|n| n.1).sum::<f64>() / near.len() as f64);
        assert_eq!(*got, expected, "target {t:?}");
    }
    assert_eq!(estimated[2], None, "nothing within range of the far point");
    // The grade of the targets' own attribute list is untouched.
    assert_eq!(read_attribute(&s, &points, "grade").await[0], Some(0.0));
}

#[tokio::test]
async fn a_failed_job_keeps_its_error() {
    let s = start(Duration::from_millis(20)).await;
    let points = point_set(&s, "samples", &SAMPLES).await;
    let grid = grid(&s).await;
    let task = NearestNeighbours::new(
        Source::point_set_attribute(&points, "no such attribute"),
        Target::new_attribute(&grid, "x"),
        SearchNeighborhood::new(Ellipsoid::sphere(10.0), 3),
    );
    let job = s.compute.submit(&task).await.unwrap();
    let outcome = job
        .wait(s.compute.poller(Some(Duration::from_secs(30))))
        .await
        .unwrap();
    let Outcome::Failed(error) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(error.status, 404);
    assert_eq!(error.title, "Attribute Not Found.");
    assert!(error.type_uri.ends_with("/attribute-not-found"));
    let e = job.wait_for_results(None).await.unwrap_err();
    assert_eq!(e.job_error().map(|e| e.status), Some(404), "{e}");
    assert!(matches!(
        job.results().await.unwrap(),
        JobResults::Failed(_)
    ));
    assert_eq!(job.status().await.unwrap().status, JobStatus::Failed);
}

#[tokio::test]
async fn cancelled_pending_and_timed_out_jobs() {
    let s = start(Duration::from_millis(400)).await;
    let points = point_set(&s, "samples", &SAMPLES).await;
    let grid = grid(&s).await;
    let task = InverseDistance::new(
        Source::point_set_attribute(&points, "grade"),
        Target::new_attribute(&grid, "never"),
        SearchNeighborhood::new(Ellipsoid::sphere(10.0), 3),
        2.0,
    );
    // Pending: 202 is not an error.
    let job = s.compute.submit(&task).await.unwrap();
    assert_eq!(
        job.results().await.unwrap(),
        JobResults::Pending(JobStatus::Requested)
    );
    // Timed out.
    let outcome = job
        .wait(s.compute.poller(Some(Duration::from_millis(150))))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::TimedOut { .. }), "{outcome:?}");
    let e = job
        .wait_for_results(Some(Duration::from_millis(50)))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::TimedOut { .. }), "{e}");
    // Cancelled: cancelling, then cancelled; the stream shows the states on the way.
    job.cancel().await.unwrap();
    assert_eq!(job.status().await.unwrap().status, JobStatus::Cancelling);
    let events: Vec<_> = job
        .watch(s.compute.poller(Some(Duration::from_secs(30))))
        .collect()
        .await;
    let states: Vec<JobStatus> = events
        .iter()
        .filter_map(|e| match e {
            Ok(Event::State(p)) => Some(p.status.clone()),
            _ => None,
        })
        .collect();
    assert!(
        states.iter().all(|s| *s == JobStatus::Cancelling),
        "{states:?}"
    );
    assert!(matches!(
        events.last(),
        Some(Ok(Event::Finished(Outcome::Cancelled)))
    ));
    assert_eq!(job.results().await.unwrap(), JobResults::Cancelled);
    assert!(matches!(
        job.wait_for_results(None).await.unwrap_err(),
        Error::JobCancelled { .. }
    ));
    // Nothing was written.
    let latest = s
        .objects
        .get_by_id(grid.object_id().unwrap(), &GetOptions::new())
        .await
        .unwrap();
    assert!(s.objects.read_attribute(&latest, "never").await.is_err());

    // Cancel on drop: the dropped handle's job is cancelled.
    let job = s.compute.submit(&task).await.unwrap().cancel_on_drop(true);
    let url = job.status_url();
    drop(job);
    let again = s.compute.job_from_url(&url).unwrap();
    let outcome = again
        .wait(s.compute.poller(Some(Duration::from_secs(30))))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Cancelled);
}

#[tokio::test]
async fn unknown_tasks_and_bad_parameters_are_refused() {
    let s = start(Duration::from_millis(20)).await;
    let e = s
        .compute
        .submit(&GenericTask::new("geostatistics", "teleport", json!({})))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(
        e.problem_type(),
        Some("https://seequent.com/error-codes/compute/task-not-found")
    );
    let e = s
        .compute
        .submit(&GenericTask::new("geostatistics", "kriging", json!({})))
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(501), "{e}");
    let e = s
        .compute
        .submit(&GenericTask::new(
            "geostatistics",
            "idw",
            json!({"power": -1}),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(422), "{e}");
    // Checked before sending.
    let e = s
        .compute
        .submit(&GenericTask::new("a/b", "idw", json!({})))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e}");
    assert!(
        s.compute
            .job_from_url("https://elsewhere.example/compute/x")
            .is_err()
    );
}

#[tokio::test]
async fn many_jobs_with_the_preview_header() {
    let s = start(Duration::from_millis(20)).await;
    let points = point_set(&s, "samples", &SAMPLES).await;
    let grid = grid(&s).await;
    let tasks: Vec<Box<dyn evo_compute::Task>> = vec![
        Box::new(NearestNeighbours::new(
            Source::point_set_attribute(&points, "grade"),
            Target::new_attribute(&grid, "a"),
            SearchNeighborhood::new(Ellipsoid::sphere(5.0), 2),
        )),
        Box::new(GenericTask::new("geostatistics", "teleport", json!({}))),
        Box::new(NearestNeighbours::new(
            Source::point_set_attribute(&points, "missing"),
            Target::new_attribute(&grid, "b"),
            SearchNeighborhood::new(Ellipsoid::sphere(5.0), 2),
        )),
    ];
    let preview = s.compute.with_preview(true);
    let results = preview
        .run_many(&tasks, 2, Some(Duration::from_secs(30)))
        .await;
    assert_eq!(results.len(), 3);
    let first: TaskResult = serde_json::from_value(results[0].as_ref().unwrap().clone()).unwrap();
    assert_eq!(first.target.attribute.name, "a");
    assert!(results[1].as_ref().unwrap_err().is_not_found());
    assert!(results[2].as_ref().unwrap_err().job_error().is_some());
    let log = s.headers.lock().unwrap().clone();
    let compute: Vec<_> = log
        .iter()
        .filter(|(p, _)| p.starts_with("/compute/"))
        .collect();
    assert!(!compute.is_empty());
    assert!(compute.iter().all(|(_, preview)| *preview), "{compute:?}");
    assert!(
        log.iter()
            .filter(|(p, _)| p.starts_with("/geoscience-object/"))
            .all(|(_, preview)| !preview)
    );
    drop(s.emu);
}

#[tokio::test]
async fn progress_callbacks_and_the_callers_cancel_signal() {
    let s = start(Duration::from_millis(60)).await;
    let points = point_set(&s, "samples", &SAMPLES).await;
    let grid = grid(&s).await;
    let task = |name: &str| {
        NearestNeighbours::new(
            Source::point_set_attribute(&points, "grade"),
            Target::new_attribute(&grid, name),
            SearchNeighborhood::new(Ellipsoid::sphere(5.0), 2),
        )
    };
    // wait_with sees the job requested, then in progress, then it is done.
    let job = s.compute.submit(&task("seen")).await.unwrap();
    let mut seen = Vec::new();
    let outcome = job
        .wait_with(s.compute.poller(Some(Duration::from_secs(30))), |p| {
            seen.push(p.status.clone())
        })
        .await
        .unwrap();
    assert!(outcome.is_done(), "{outcome:?}");
    assert_eq!(seen.first(), Some(&JobStatus::Requested), "{seen:?}");
    assert!(seen.contains(&JobStatus::InProgress), "{seen:?}");
    assert!(
        seen.windows(2)
            .all(|w| !(w[0] == JobStatus::InProgress && w[1] == JobStatus::Requested)),
        "{seen:?}"
    );

    // The caller's cancel signal ends the wait; the job itself goes on and succeeds.
    let job = s.compute.submit(&task("later")).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let poller = s
        .compute
        .poller(Some(Duration::from_secs(30)))
        .cancel_on(async move {
            let _ = stopped.await;
        });
    let waiting = tokio::spawn(async move {
        let outcome = job.wait(poller).await;
        (job, outcome)
    });
    stop.send(()).unwrap();
    let (job, outcome) = waiting.await.unwrap();
    assert_eq!(outcome.unwrap(), Outcome::Cancelled);
    let result: TaskResult = job.wait_for(Some(Duration::from_secs(30))).await.unwrap();
    assert_eq!(result.target.attribute.name, "later");
}
