//! The registry of emulated services: every service the emulator serves is one line here (and a
//! folder of its own). The router, the fault classes, discovery's service list and the
//! blob-commit hooks are all built from this list.

use std::sync::Arc;

use axum::Router;

use crate::faults::RouteClass;
use crate::service::ServiceDef;
use crate::state::{BlobCommitHook, Shared};

/// Every service, in the order discovery advertises them.
pub(crate) const SERVICES: &[ServiceDef] = &[
    crate::discovery::SERVICE,
    crate::oauth::SERVICE,
    crate::workspaces::SERVICE,
    crate::files::SERVICE,
    crate::objects::SERVICE,
    crate::compute::SERVICE,
    crate::colormaps::SERVICE,
    crate::blockmodels::SERVICE,
    crate::blob::SERVICE,
];

/// The routes of every service (without state or middleware).
pub(crate) fn routes() -> Router<Arc<Shared>> {
    SERVICES.iter().fold(Router::new(), |router, service| {
        router.merge((service.routes)())
    })
}

/// The service answering `path` and the fault route class of the request (longest prefix wins).
pub(crate) fn classify(path: &str) -> Option<(&'static ServiceDef, RouteClass)> {
    SERVICES
        .iter()
        .flat_map(|s| s.route_classes.iter().map(move |(p, c)| (s, *p, *c)))
        .filter(|(_, prefix, _)| path.starts_with(prefix))
        .max_by_key(|(_, prefix, _)| prefix.len())
        .map(|(s, _, c)| (s, c))
}

/// What discovery advertises: `evo` (the catch-all code) first, then each service's codes.
pub(crate) fn advertised() -> Vec<(&'static str, &'static str)> {
    std::iter::once(("evo", "Evo"))
        .chain(SERVICES.iter().flat_map(|s| s.discovery.iter().copied()))
        .collect()
}

/// Every service's blob-commit hook.
pub(crate) fn commit_hooks() -> Vec<BlobCommitHook> {
    SERVICES
        .iter()
        .filter_map(|s| s.on_blob_committed)
        .collect()
}
