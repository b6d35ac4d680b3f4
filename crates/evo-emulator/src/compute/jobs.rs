//! Jobs: submission, their life (requested → in progress → succeeded or failed; cancelling →
//! cancelled), status, results and cancel.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::tasks::{self, Failure, KNOWN, RUN};
use crate::http_util::{ApiError, Service, authenticate, no_content, parse_uuid, respond};
use crate::state::Shared;

const S: Service = Service::Compute;

/// How long a job stays in each state by default.
const DEFAULT_STEP: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Requested,
    InProgress,
    Succeeded,
    Failed,
    Cancelling,
    Cancelled,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Requested => "requested",
            Status::InProgress => "in progress",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Cancelling => "cancelling",
            Status::Cancelled => "cancelled",
        }
    }
    fn is_terminal(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed | Status::Cancelled)
    }
}

#[derive(Debug)]
struct JobRec {
    org: Uuid,
    topic: String,
    task: String,
    status: Status,
    results: Option<Value>,
    error: Option<Value>,
}

/// The Compute Tasks API's part of the model.
#[derive(Debug, Default)]
pub(super) struct ComputeState {
    step: Option<Duration>,
    jobs: HashMap<Uuid, JobRec>,
}

/// Sets how long a job stays in each state.
pub(crate) fn set_step(shared: &Shared, step: Duration) {
    shared.model().services.get_mut::<ComputeState>().step = Some(step);
}

fn step(shared: &Shared) -> Duration {
    shared
        .model()
        .services
        .get::<ComputeState>()
        .and_then(|s| s.step)
        .unwrap_or(DEFAULT_STEP)
}

/// Moves job `id` from `from` to `to` (and sets its outcome); false when it is not in `from`
/// any more (cancelled meanwhile).
fn advance(
    shared: &Shared,
    id: Uuid,
    from: Status,
    to: Status,
    outcome: Option<Result<Value, Value>>,
) -> bool {
    let mut model = shared.model();
    let Some(job) = model.services.get_mut::<ComputeState>().jobs.get_mut(&id) else {
        return false;
    };
    if job.status != from {
        return false;
    }
    job.status = to;
    match outcome {
        Some(Ok(results)) => job.results = Some(results),
        Some(Err(error)) => job.error = Some(error),
        None => {}
    }
    true
}

fn failure_json(f: &Failure) -> Value {
    json!({
        "status": f.status,
        "type": format!("https://seequent.com/error-codes/compute/{}", f.kind),
        "title": f.title,
        "detail": f.detail,
    })
}

pub(super) async fn submit(
    State(shared): State<Arc<Shared>>,
    Path((org, topic, task)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = match authenticate(&shared, &headers, S, "evo.object") {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    let org_id = match parse_uuid(S, "org_id", &org) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let checked = (|| {
        let member = shared
            .model()
            .org(org_id)
            .is_some_and(|o| o.workspaces.iter().any(|w| w.role_of(user).is_some()));
        if !member {
            return Err(ApiError::new(
                S,
                404,
                "organization-not-found",
                "Organization Not Found.",
                format!("Organization {org_id} not found."),
            ));
        }
        if topic != "geostatistics" || !KNOWN.contains(&task.as_str()) {
            return Err(ApiError::new(
                S,
                404,
                "task-not-found",
                "Task Not Found.",
                format!("There is no task {task:?} in topic {topic:?}."),
            ));
        }
        if !RUN.contains(&task.as_str()) {
            return Err(ApiError::new(
                S,
                501,
                "not-implemented",
                "Not Implemented.",
                format!("The emulator does not run the task {task:?} (only {RUN:?})."),
            ));
        }
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let parameters = &request["parameters"];
        if !parameters.is_object() {
            return Err(ApiError::validation(
                S,
                vec![("parameters".into(), "a JSON object is required".into())],
            ));
        }
        tasks::plan(org_id, &task, parameters)
            .map_err(|reason| ApiError::validation(S, vec![("parameters".into(), reason)]))
    })();
    let plan = match checked {
        Ok(plan) => plan,
        Err(e) => return e.into_response(),
    };
    let id = Uuid::new_v4();
    shared
        .model()
        .services
        .get_mut::<ComputeState>()
        .jobs
        .insert(
            id,
            JobRec {
                org: org_id,
                topic: topic.clone(),
                task: task.clone(),
                status: Status::Requested,
                results: None,
                error: None,
            },
        );
    let step = step(&shared);
    let life = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(step).await;
        if !advance(&life, id, Status::Requested, Status::InProgress, None) {
            return;
        }
        tokio::time::sleep(step).await;
        if life
            .model()
            .services
            .get_mut::<ComputeState>()
            .jobs
            .get(&id)
            .map(|j| j.status)
            != Some(Status::InProgress)
        {
            return;
        }
        let outcome = tasks::run(life.clone(), org_id, user, plan).await;
        match outcome {
            Ok(results) => advance(
                &life,
                id,
                Status::InProgress,
                Status::Succeeded,
                Some(Ok(results)),
            ),
            Err(f) => advance(
                &life,
                id,
                Status::InProgress,
                Status::Failed,
                Some(Err(failure_json(&f))),
            ),
        };
    });
    let location = format!(
        "{}compute/orgs/{org_id}/{topic}/{task}/{id}/status",
        shared.hub()
    );
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// The job of a request, checked against its path.
fn with_job<T>(
    shared: &Shared,
    headers: &HeaderMap,
    (org, topic, task, job): (&str, &str, &str, &str),
    f: impl FnOnce(&mut JobRec) -> T,
) -> Result<T, ApiError> {
    authenticate(shared, headers, S, "evo.object")?;
    let org = parse_uuid(S, "org_id", org)?;
    let id = parse_uuid(S, "job_id", job)?;
    let mut model = shared.model();
    let job = model
        .services
        .get_mut::<ComputeState>()
        .jobs
        .get_mut(&id)
        .filter(|j| j.org == org && j.topic == topic && j.task == task)
        .ok_or_else(|| {
            ApiError::new(
                S,
                404,
                "job-not-found",
                "Job Not Found.",
                format!("Job {id} not found."),
            )
        })?;
    Ok(f(job))
}

fn status_json(job: &JobRec) -> Value {
    let (progress, message) = match job.status {
        Status::Requested => (0, "Job requested"),
        Status::InProgress => (50, "Job in progress"),
        Status::Succeeded => (100, "Job succeeded"),
        Status::Failed => (100, "Job failed"),
        Status::Cancelling => (50, "Job cancelling"),
        Status::Cancelled => (100, "Job cancelled"),
    };
    json!({
        "status": job.status.as_str(),
        "progress": progress,
        "message": message,
        "error": job.error.clone(),
    })
}

pub(super) async fn status(
    State(shared): State<Arc<Shared>>,
    Path((org, topic, task, job)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond(
        with_job(&shared, &headers, (&org, &topic, &task, &job), |j| {
            status_json(j)
        })
        .map(|v| axum::Json(v).into_response()),
    )
}

pub(super) async fn results(
    State(shared): State<Arc<Shared>>,
    Path((org, topic, task, job)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond(with_job(
        &shared,
        &headers,
        (&org, &topic, &task, &job),
        |j| {
            if !j.status.is_terminal() {
                let body = json!({ "status": j.status.as_str() });
                return (StatusCode::ACCEPTED, axum::Json(body)).into_response();
            }
            let mut body = json!({ "status": j.status.as_str(), "error": j.error.clone() });
            if let Some(r) = &j.results {
                body["results"] = r.clone();
            }
            axum::Json(body).into_response()
        },
    ))
}

pub(super) async fn cancel(
    State(shared): State<Arc<Shared>>,
    Path((org, topic, task, job)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let started = with_job(&shared, &headers, (&org, &topic, &task, &job), |j| {
        if matches!(j.status, Status::Requested | Status::InProgress) {
            j.status = Status::Cancelling;
            true
        } else {
            false
        }
    });
    match started {
        Err(e) => e.into_response(),
        Ok(started) => {
            if started && let Ok(id) = job.parse::<Uuid>() {
                let step = step(&shared);
                let life = shared.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(step).await;
                    advance(&life, id, Status::Cancelling, Status::Cancelled, None);
                });
            }
            no_content()
        }
    }
}
