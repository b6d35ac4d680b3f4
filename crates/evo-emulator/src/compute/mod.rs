//! The Compute Tasks API under `/compute` (scope `evo.object`: the tasks read and write
//! geoscience objects).
//!
//! * `POST /compute/orgs/{org}/{topic}/{task}` with `{"parameters": {...}}` answers 303 with
//!   the job's status URL in `Location`. Topic `geostatistics`; the emulator runs `idw` and
//!   `knn` (their parameters are checked at submission: 422 with `invalid-params`). The other
//!   tasks of the Python SDK are refused with 501, and any other name with 404
//!   `compute/task-not-found` (the emulator's guess at the real service's problem type).
//! * A job is `requested` for one step, `in progress` for one step, then runs and is
//!   `succeeded` (its results) or `failed` (its error, e.g. a missing attribute). `DELETE`
//!   before that makes it `cancelling` for one step, then `cancelled`. The step is 100 ms, set
//!   with [`Emulator::set_compute_job_step`](crate::Emulator::set_compute_job_step).
//! * `GET .../{job}/status`: status, progress, message, error. `GET .../{job}`: 202 with the
//!   status while the job has not finished, then 200 with the results or the error.
//! * Running a task reads the source attribute and positions from the Object API's stored data
//!   files and writes the estimate as a new attribute (or over an existing one) of the target
//!   point set or (unrotated) regular grid: a new version of the target object.

mod estimate;
mod jobs;
mod table;
mod tasks;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::faults::RouteClass;
use crate::http_util::{Service, fault_problem, health_check};
use crate::service::ServiceDef;
use crate::state::Shared;

pub(crate) use jobs::set_step;

/// The Compute Tasks API in the service registry.
pub(crate) const SERVICE: ServiceDef = ServiceDef {
    name: "compute",
    route_classes: &[("/compute/", RouteClass::Compute)],
    routes,
    fault_response: |status| fault_problem(Service::Compute, status),
    discovery: &[("compute", "Compute Tasks API")],
    on_blob_committed: None,
};

fn routes() -> Router<Arc<Shared>> {
    let task = "/compute/orgs/{org}/{topic}/{task}";
    Router::new()
        .route("/compute/health_check", get(health_check))
        .route(task, post(jobs::submit))
        .route(
            &format!("{task}/{{job}}"),
            get(jobs::results).delete(jobs::cancel),
        )
        .route(&format!("{task}/{{job}}/status"), get(jobs::status))
}
