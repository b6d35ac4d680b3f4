//! The File API v2 under `/file/v2/orgs/{org}/workspaces/{ws}`: list, get (by id or path, at a
//! version), upload registration on pre-signed blob URLs, delete and restore.
//!
//! * [`state`]: files, their versions and pending uploads, per workspace;
//! * [`common`]: request context, role check, path rules, problem details, JSON shapes;
//! * [`read`]: list (filters, ordering, paging) and get;
//! * [`write`]: upload registration, restore, delete.
//!
//! A version becomes visible when its blob is committed: the blob service calls this service's
//! commit hook ([`SERVICE`]'s `on_blob_committed`).

mod common;
mod read;
mod state;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::faults::RouteClass;
use crate::http_util::{Service, fault_problem, health_check};
use crate::service::ServiceDef;
use crate::state::Shared;
use crate::storage::store::Props;
use state::{FILES_CONTAINER, FileVersion, FilesState};

/// The File API in the service registry.
pub(crate) const SERVICE: ServiceDef = ServiceDef {
    name: "file",
    route_classes: &[("/file/", RouteClass::Files)],
    routes,
    fault_response: |status| fault_problem(Service::File, status),
    discovery: &[("file", "File API")],
    on_blob_committed: Some(on_blob_committed),
};

fn routes() -> Router<Arc<Shared>> {
    let base = "/file/v2/orgs/{org}/workspaces/{ws}";
    Router::new()
        .route("/file/health_check", get(health_check))
        .route(&format!("{base}/files"), get(read::list_files))
        .route(
            &format!("{base}/files/{{file}}"),
            get(read::get_by_id)
                .put(write::put_by_id)
                .delete(write::delete_by_id),
        )
        .route(
            &format!("{base}/files/path/{{*path}}"),
            get(read::get_by_path)
                .put(write::put_by_path)
                .delete(write::delete_by_path),
        )
}

/// Called after a blob commit: if the blob is a registered upload, its version now exists.
fn on_blob_committed(shared: &Shared, key: &str, props: &Props) {
    let now = shared.clock.now();
    let mut model = shared.model();
    let state = model.services.get_mut::<FilesState>();
    let Some(b) = state.uploads.get(key).cloned() else {
        return;
    };
    let Some(f) = state
        .workspaces
        .get_mut(&b.workspace)
        .and_then(|w| w.files.get_mut(&b.file))
    else {
        return;
    };
    let etag = props.etag.trim_matches('"').to_owned();
    if let Some(v) = f.versions.iter_mut().find(|v| v.version_id == b.version_id) {
        v.size = props.size;
        v.etag = etag;
    } else {
        let blob_name = f.pending.remove(&b.version_id).unwrap_or_else(|| {
            key.strip_prefix(&format!("{FILES_CONTAINER}/"))
                .unwrap_or(key)
                .to_owned()
        });
        if f.versions.is_empty() {
            f.stamps.created_at = now;
            f.stamps.created_by = b.user;
        }
        f.versions.push(FileVersion {
            version_id: b.version_id,
            size: props.size,
            etag,
            created_at: now,
            created_by: b.user,
            blob_name,
        });
    }
    f.stamps.modify(now, b.user);
}
