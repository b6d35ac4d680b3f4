//! Jobs: created by a model creation, a column change, a query or a report, they move
//! `QUEUED` → `PROCESSING` → `COMPLETE`/`FAILED` (column changes start `PENDING_UPLOAD` until
//! `.../uploaded`), each state lasting half of the configured delay, the work itself done by a
//! task of its own. `GET .../jobs/{job}` shows the state and payload; URLs in payloads are
//! signed afresh on every read.
//!
//! The machinery only: what a job does is the [`Work`] the handler that opened it recorded
//! with it (`models`, `update`, `query`, `reports`), so this module, below the handlers,
//! calls into none of them.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::common::{S, model_ctx, model_rec, not_found, respond};
use super::state::{BlockModelsState, CONTAINER, JobKind, JobRec, Status, Work};
use crate::http_util::{ApiError, link, parse_uuid};
use crate::state::{Model, Role, Shared};
use crate::storage::sas::presign;

/// Sets the delay of jobs started from now on.
pub(crate) fn set_job_delay(shared: &Shared, delay: Duration) {
    shared
        .model()
        .services
        .get_mut::<BlockModelsState>()
        .job_delay = delay;
}

/// `{hub}/blockmodel/orgs/{org}/workspaces/{ws}/block-models/{bm}/jobs/{job}`.
pub(super) fn job_url(shared: &Shared, org: Uuid, ws: Uuid, bm: Uuid, job: Uuid) -> String {
    link(
        shared.hub(),
        &format!("/blockmodel/orgs/{org}/workspaces/{ws}/block-models/{bm}/jobs/{job}"),
        &[],
    )
}

/// Records a new job (`PENDING_UPLOAD` when `pending_upload`, else `QUEUED`) that runs as
/// `work` says.
pub(super) fn new_job(
    model: &mut Model,
    bm: Uuid,
    user: Uuid,
    kind: JobKind,
    work: Work,
    pending_upload: bool,
) -> Uuid {
    let state = model.services.get_mut::<BlockModelsState>();
    let id = Uuid::new_v4();
    let delay = state.job_delay;
    state.jobs.insert(
        id,
        JobRec {
            bm,
            user,
            kind,
            status: if pending_upload {
                Status::PendingUpload
            } else {
                Status::Queued
            },
            payload: None,
            delay,
            work,
        },
    );
    id
}

/// A failure payload (`JobErrorPayload`).
pub(super) fn failure(status: u16, title: &str, detail: impl Into<String>) -> Value {
    json!({
        "type": "https://seequent.com/error-codes/block-model-service/job/update-error",
        "title": title,
        "status": status,
        "detail": detail.into(),
    })
}

fn set_status(shared: &Shared, job: Uuid, status: Status, payload: Option<Value>) {
    let mut model = shared.model();
    if let Some(j) = model
        .services
        .get_mut::<BlockModelsState>()
        .jobs
        .get_mut(&job)
    {
        j.status = status;
        if payload.is_some() {
            j.payload = payload;
        }
    }
}

/// The answer of a request that may have opened a job: `status` and the JSON answer, after
/// starting the job (if any; only when the request succeeded, and only now, once the request
/// let go of the model).
pub(super) fn answer_with_job(
    shared: &Arc<Shared>,
    answered: Result<(StatusCode, Value, Option<Uuid>), ApiError>,
) -> Response {
    match answered {
        Ok((status, answer, job)) => {
            if let Some(job) = job {
                spawn_job(shared.clone(), job);
            }
            (status, axum::Json(answer)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Runs job `job` in a task of its own: half the delay `QUEUED`, then `PROCESSING` for the
/// other half and the work, then `COMPLETE` (and what its work does after) or `FAILED`.
pub(super) fn spawn_job(shared: Arc<Shared>, job: Uuid) {
    tokio::spawn(async move {
        let (delay, then) = {
            let mut model = shared.model();
            let state = model.services.get_mut::<BlockModelsState>();
            let Some(j) = state.jobs.get_mut(&job) else {
                return;
            };
            j.status = Status::Queued;
            (j.delay, j.work.then)
        };
        tokio::time::sleep(delay / 2).await;
        set_status(&shared, job, Status::Processing, None);
        tokio::time::sleep(delay - delay / 2).await;
        let outcome = work(&shared, job).await;
        match outcome {
            Ok(payload) => {
                set_status(&shared, job, Status::Complete, Some(payload));
                if let Some(then) = then {
                    then(&shared, job);
                }
            }
            Err(payload) => set_status(&shared, job, Status::Failed, Some(payload)),
        }
    });
}

async fn work(shared: &Arc<Shared>, job: Uuid) -> Result<Value, Value> {
    let rec = {
        let model = shared.model();
        model
            .services
            .get::<BlockModelsState>()
            .and_then(|s| s.jobs.get(&job))
            .cloned()
            .ok_or_else(|| failure(404, "Job Not Found", "the job is gone"))?
    };
    (rec.work.run)(shared.clone(), rec).await
}

/// `GET .../block-models/{bm}/jobs/{job}`.
pub(super) async fn get_job(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm, job)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (c, bm) = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let job = parse_uuid(S, "job_id", &job)?;
        let mut model = shared.model();
        model_rec(&mut model, &c, bm, Role::Viewer, false)?;
        let j = job_of(&model, bm, job)?;
        let payload = match (&j.status, &j.kind) {
            (
                Status::PendingUpload,
                JobKind::Update {
                    blob: Some(blob), ..
                },
            ) => {
                json!({"upload_url": presign(&shared, CONTAINER, blob, "rcw")})
            }
            (Status::Complete, JobKind::Query { blob, .. }) => {
                json!({"download_url": presign(&shared, CONTAINER, blob, "r")})
            }
            _ => j.payload.clone().unwrap_or(Value::Null),
        };
        let mut body = json!({"job_status": j.status.as_str()});
        if !payload.is_null() {
            body["payload"] = payload;
        }
        Ok(axum::Json(body).into_response())
    })())
}

fn job_of(model: &Model, bm: Uuid, job: Uuid) -> Result<&JobRec, ApiError> {
    model
        .services
        .get::<BlockModelsState>()
        .and_then(|s| s.jobs.get(&job))
        .filter(|j| j.bm == bm)
        .ok_or_else(|| not_found("Job", job))
}

/// `POST .../block-models/{bm}/jobs/{job}/uploaded`: the file is in place, run the job.
pub(super) async fn uploaded(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm, job)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let run = (|| {
        let (c, bm) = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let job = parse_uuid(S, "job_id", &job)?;
        let mut model = shared.model();
        model_rec(&mut model, &c, bm, Role::Editor, false)?;
        job_of(&model, bm, job)?;
        let answer = json!({"job_url": job_url(&shared, c.org, c.ws.unwrap_or_default(), bm, job)});
        // A repeated notification answers the same and starts nothing.
        let start = model
            .services
            .get_mut::<BlockModelsState>()
            .jobs
            .get_mut(&job)
            .filter(|j| j.status == Status::PendingUpload)
            .map(|j| j.status = Status::Queued)
            .is_some();
        Ok((StatusCode::CREATED, answer, start.then_some(job)))
    })();
    answer_with_job(&shared, run)
}
