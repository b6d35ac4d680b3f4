//! What a service of the emulator declares to be served: its routes, the route families fault
//! rules can target, how its injected faults look, what discovery advertises for it, and its
//! blob-commit hook. The list of services is in [`crate::services`].

use std::sync::Arc;

use axum::Router;
use axum::response::Response;

use crate::faults::RouteClass;
use crate::state::{BlobCommitHook, Shared};

/// One emulated service.
pub(crate) struct ServiceDef {
    /// A short name, for logs.
    pub(crate) name: &'static str,
    /// Path prefixes the service answers, each with the fault route class of its requests (the
    /// longest matching prefix over all services wins).
    pub(crate) route_classes: &'static [(&'static str, RouteClass)],
    /// Its routes.
    pub(crate) routes: fn() -> Router<Arc<Shared>>,
    /// The answer of an injected fault with this status, shaped as the service's own errors.
    pub(crate) fault_response: fn(u16) -> Response,
    /// Service codes and display names that discovery advertises for it.
    pub(crate) discovery: &'static [(&'static str, &'static str)],
    /// Run after every blob commit (see [`BlobCommitHook`]).
    pub(crate) on_blob_committed: Option<BlobCommitHook>,
}

impl std::fmt::Debug for ServiceDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceDef")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
