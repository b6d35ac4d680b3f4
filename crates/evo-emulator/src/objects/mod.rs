//! The Geoscience Object API under `/geoscience-object` (scope `evo.object`).
//!
//! * [`state`]: objects with every version, the data files of each workspace, stages;
//! * [`common`]: request context, role check, path rules, problem details, JSON shapes;
//! * [`schema`]: validation against the embedded Evo object JSON Schemas;
//! * [`data`]: `PUT .../data` (upload URLs, `exists`) and the data references of objects;
//! * [`read`]: get by id or path (versions, `If-None-Match`), versions, latest versions, stages;
//! * [`write`]: create/update by path (move), update by id (`If-Match`), restore, delete, stage;
//! * [`listing`]: list in a workspace and across the organization;
//! * [`internal`]: what other services (the compute tasks) may read and write.
//!
//! Object data is content-addressed: a file is named by the SHA-256 of its bytes and lives in the
//! blob store under `geoscience-data/{org}/{ws}/{name}`; `exists` and the refusal of objects that
//! reference files not uploaded ask the store. Request bodies may be gzip-compressed
//! (`Content-Encoding: gzip`) and answers are compressed for `Accept-Encoding: gzip`.

mod common;
mod data;
pub(crate) mod internal;
mod listing;
mod read;
mod schema;
pub(crate) mod state;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post, put};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;

use crate::faults::RouteClass;
use crate::http_util::{Service, fault_problem, health_check};
use crate::service::ServiceDef;
use crate::state::Shared;

/// The Geoscience Object API in the service registry.
pub(crate) const SERVICE: ServiceDef = ServiceDef {
    name: "geoscience-object",
    route_classes: &[("/geoscience-object/", RouteClass::Objects)],
    routes,
    fault_response: |status| fault_problem(Service::Objects, status),
    discovery: &[("geoscienceobject", "Geoscience Object API")],
    on_blob_committed: None,
};

fn routes() -> Router<Arc<Shared>> {
    let org = "/geoscience-object/orgs/{org}";
    let ws = "/geoscience-object/orgs/{org}/workspaces/{ws}";
    Router::new()
        .route("/geoscience-object/health_check", get(health_check))
        .route(&format!("{org}/objects"), get(listing::list_org_objects))
        .route(&format!("{org}/stages"), get(read::list_stages))
        .route(
            &format!("{ws}/objects"),
            get(listing::list_objects).patch(read::latest_versions),
        )
        .route(
            &format!("{ws}/objects/path/{{*path}}"),
            get(read::get_by_path)
                .post(write::post_by_path)
                .delete(write::delete_by_path),
        )
        .route(
            &format!("{ws}/objects/{{id}}"),
            get(read::get_by_id)
                .post(write::post_by_id)
                .delete(write::delete_by_id),
        )
        .route(
            &format!("{ws}/objects/{{id}}/versions"),
            post(read::list_versions),
        )
        .route(
            &format!("{ws}/objects/{{id}}/metadata"),
            patch(write::update_metadata),
        )
        .route(&format!("{ws}/data"), put(data::put_data))
        .layer(DefaultBodyLimit::max(common::MAX_OBJECT_BYTES))
        .layer(RequestDecompressionLayer::new().gzip(true))
        .layer(CompressionLayer::new().gzip(true))
}
