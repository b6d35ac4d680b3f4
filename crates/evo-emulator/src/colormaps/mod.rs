//! The Colormap API under `/colormap` (scope `evo.object`).
//!
//! Colormaps (continuous, discrete, category) are stored per workspace after the checks the
//! service makes (the number of colors per kind, each color three channels in `0..=255`,
//! control points paired and ascending with gradient positions in `[0, 1]`, one end point
//! fewer than colors, a category name per color; 422 with `invalid-params` otherwise).
//! Associations of a colormap with an object attribute are stored per object (at most one per
//! attribute: associating an attribute again points it at the new colormap); the colormap must
//! exist in the workspace (404 otherwise). The object itself is not looked up in the Object API.
//! `GET .../metadata` lists, per object with associations, its attributes and their colormaps
//! (the emulator's shape: the real service does not document it).

mod api;
mod state;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::faults::RouteClass;
use crate::http_util::{Service, fault_problem, health_check};
use crate::service::ServiceDef;
use crate::state::Shared;

/// The Colormap API in the service registry.
pub(crate) const SERVICE: ServiceDef = ServiceDef {
    name: "colormap",
    route_classes: &[("/colormap/", RouteClass::Colormaps)],
    routes,
    fault_response: |status| fault_problem(Service::Colormaps, status),
    discovery: &[("colormap", "Colormap API")],
    on_blob_committed: None,
};

fn routes() -> Router<Arc<Shared>> {
    let ws = "/colormap/orgs/{org}/workspaces/{ws}";
    Router::new()
        .route("/colormap/health_check", get(health_check))
        .route(
            &format!("{ws}/colormaps"),
            get(api::list_colormaps).post(api::create_colormap),
        )
        .route(&format!("{ws}/colormaps/{{id}}"), get(api::get_colormap))
        .route(
            &format!("{ws}/objects/{{object}}/associations"),
            get(api::list_associations).post(api::create_association),
        )
        .route(
            &format!("{ws}/objects/{{object}}/associations/batch"),
            post(api::create_associations),
        )
        .route(
            &format!("{ws}/objects/{{object}}/associations/{{id}}"),
            get(api::get_association),
        )
        .route(&format!("{ws}/metadata"), get(api::workspace_metadata))
}
