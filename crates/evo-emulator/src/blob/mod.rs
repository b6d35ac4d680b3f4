//! Azure block-blob semantics on pre-signed URLs, under `/blob/{container}/{blob}`.
//!
//! * [`handlers`]: the blob operations and Azure's XML errors;
//! * [`headers`]: claimed checksums (MD5, CRC-64) and user metadata;
//! * [`xml`]: the XML bodies (block lists, errors).
//!
//! The bytes live in the neutral [`crate::storage`] (which also signs and checks the URLs), so
//! the services that hand out blob URLs (the File API, the Object API) never import this one;
//! they learn about commits through their blob-commit hooks.

mod handlers;
mod headers;
mod xml;

use std::sync::Arc;

use axum::Router;
use axum::routing::any;

use crate::faults::RouteClass;
use crate::service::ServiceDef;
use crate::state::Shared;

/// The blob service in the registry.
pub(crate) const SERVICE: ServiceDef = ServiceDef {
    name: "blob",
    route_classes: &[("/blob/", RouteClass::Blob)],
    routes,
    fault_response,
    discovery: &[],
    on_blob_committed: None,
};

fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/blob/{container}/{*blob}", any(handlers::handler))
}

fn fault_response(status: u16) -> axum::response::Response {
    let code = match status {
        429 => "TooManyRequests",
        503 => "ServerBusy",
        _ => "InternalError",
    };
    xml::error_response(status, code, "Injected fault (evo-emulator).", None)
}
