//! The Block Model API under `/blockmodel` (scope `evo.blocksync`).
//!
//! * [`state`]: models with every version, each version's column values (Arrow arrays, one
//!   value per block, shared between versions), jobs with their checked requests and how each
//!   runs ([`state::Work`]), the Arrow type of each column type name;
//! * [`common`]: request context, role check, problem details, request bodies, paging, JSON
//!   shapes, units;
//! * [`result_file`]: a query's result written as Parquet, hashed as it is written;
//! * [`jobs`]: job states with a configurable delay, `GET .../jobs/{job}`, `uploaded`; a job
//!   runs the [`state::Work`] its handler recorded with it;
//! * [`models`]: list (workspace, organization), get, create (and its first-version job),
//!   update, delete, restore, versions, units;
//! * [`query`]: queries that filter blocks by version, box and columns (and their jobs);
//!   deltas between versions;
//! * [`reports`]: report specifications checked against the model's columns, reporting jobs
//!   that compute results from a version's block values, results, comparisons; their own
//!   service state;
//! * [`update`]: column changes applied from uploaded Parquet files (a bad file fails the
//!   job), then the reports that run on every new version.
//!
//! The modules are layered, each naming only those below it (issue #17: no circle of imports
//! between files): `state` at the bottom; `common` and `result_file` on it; `jobs` in the
//! middle; the handlers `models`, `query`, `reports`, `update` at the top (of which `reports`
//! uses `query`'s block selection and `update` starts `reports`' autorun).
//!
//! Column files and query results live in the shared blob store (container
//! `blockmodel-data`) behind pre-signed URLs, as object data does. Not emulated: column
//! values of sub-blocked models (their models are stored and described, value changes and
//! queries answer 400), CSV results, column groups and tags, reports on sub-blocked models and mesh filters.

mod common;
mod jobs;
mod models;
mod query;
mod reports;
mod result_file;
mod selection;
mod state;
mod update;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub(crate) use jobs::set_job_delay;

use crate::faults::RouteClass;
use crate::http_util::{Service, fault_problem, health_check};
use crate::service::ServiceDef;
use crate::state::Shared;

/// The Block Model API in the service registry.
pub(crate) const SERVICE: ServiceDef = ServiceDef {
    name: "blockmodel",
    route_classes: &[("/blockmodel/", RouteClass::BlockModels)],
    routes,
    fault_response: |status| fault_problem(Service::BlockModels, status),
    discovery: &[("blocksync", "Block Model API")],
    on_blob_committed: None,
};

fn routes() -> Router<Arc<Shared>> {
    let org = "/blockmodel/orgs/{org}";
    let bm = "/blockmodel/orgs/{org}/workspaces/{ws}/block-models/{bm}";
    Router::new()
        .route("/blockmodel/health_check", get(health_check))
        .route(&format!("{org}/units"), get(models::list_units))
        .route(&format!("{org}/block-models"), get(models::list_org))
        .route(
            &format!("{org}/workspaces/{{ws}}/block-models"),
            get(models::list).post(models::create),
        )
        .route(
            bm,
            get(models::get)
                .patch(models::update)
                .delete(models::delete)
                .post(models::restore),
        )
        .route(
            &format!("{bm}/blocks"),
            post(query::post_blocks).patch(update::patch_blocks),
        )
        .route(&format!("{bm}/versions"), get(models::versions))
        .route(&format!("{bm}/versions/{{version}}"), get(models::version))
        .route(
            &format!("{bm}/versions/{{version}}/delta"),
            post(query::delta),
        )
        .route(&format!("{bm}/jobs/{{job}}"), get(jobs::get_job))
        .route(&format!("{bm}/jobs/{{job}}/uploaded"), post(jobs::uploaded))
        .merge(reports::routes(bm))
        .layer(DefaultBodyLimit::max(16 * 1024 * 1024))
}
