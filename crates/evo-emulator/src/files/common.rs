//! What every File API handler shares: the request context (caller, organization, workspace),
//! the role check, path rules, the File API's problem details and the JSON shapes of a file.

use serde_json::{Value, json};
use uuid::Uuid;

use super::state::{FILES_CONTAINER, FileRec, FileVersion, FilesState, WorkspaceFiles};
use crate::clock::format_file_time;
use crate::http_util::{
    ApiError, Service, WorkspaceApi, item_path, link, live_workspace, user_json, with_stamps,
};
pub(super) use crate::http_util::{ApiResult as R, Ctx, respond};
use crate::state::{Model, Role, Shared};
use crate::storage::sas::presign;

pub(super) const S: Service = Service::File;

pub(super) fn not_found(detail: &str) -> ApiError {
    ApiError::new(S, 404, "files/not-found", "File Not Found.", detail)
}

pub(super) fn gone() -> ApiError {
    ApiError::new(
        S,
        410,
        "files/gone",
        "The file has been deleted",
        "The requested file has been deleted.",
    )
}

pub(super) fn invalid(name: &str, e: String) -> ApiError {
    ApiError::new(
        S,
        422,
        "validation",
        "Validation Error.",
        format!("{name}: {e}"),
    )
    .with("invalid-params", json!([{"name": name, "reason": e}]))
}

/// Normalizes a file path (`/a/b.txt` → `a/b.txt`), refusing empty, `.`/`..` and empty segments.
pub(super) fn normalize_path(raw: &str) -> Result<String, ApiError> {
    let p = item_path(raw).ok_or_else(|| {
        ApiError::new(
            S,
            400,
            "files/invalid-path",
            "Invalid Path.",
            format!("'{raw}' is not a valid file path."),
        )
    })?;
    Ok(p.to_owned())
}

/// How the File API reads the context of a request.
pub(super) const API: WorkspaceApi = WorkspaceApi {
    service: S,
    scope: "evo.file",
    org_param: "organisation_id",
};

/// The files of the workspace, if it exists, is not deleted and the caller has at least `min`
/// role.
pub(super) fn workspace<'a>(
    model: &'a mut Model,
    c: &Ctx,
    min: Role,
) -> Result<&'a mut WorkspaceFiles, ApiError> {
    live_workspace(model, S, c.org, c.ws, c.user, min, || {
        not_found("Workspace not found.")
    })?;
    Ok(model.services.get_mut::<FilesState>().workspace(c.ws))
}

pub(super) fn files_base(c: &Ctx) -> String {
    format!("/file/v2/orgs/{}/workspaces/{}/files", c.org, c.ws)
}

pub(super) fn blob_name(c: &Ctx, file: Uuid, version: u64) -> String {
    format!("{}/{}/{}/{}", c.org, c.ws, file, version)
}

pub(super) fn download_json(
    shared: &Shared,
    model: &Model,
    c: &Ctx,
    f: &FileRec,
    v: &FileVersion,
    include_versions: bool,
) -> Value {
    let self_url = link(shared.hub(), &format!("{}/{}", files_base(c), f.id), &[]);
    let versions = include_versions.then(|| {
        f.versions
            .iter()
            .rev()
            .map(|v| {
                json!({
                    "file_id": f.id,
                    "name": f.name(),
                    "path": f.folder(),
                    "version_id": v.version_id.to_string(),
                    "size": v.size,
                    "created_at": format_file_time(v.created_at),
                    "created_by": user_json(model, Some(v.created_by)),
                    "link": link(
                        shared.hub(),
                        &format!("{}/{}", files_base(c), f.id),
                        &[("version_id".into(), v.version_id.to_string())],
                    ),
                })
            })
            .collect::<Vec<_>>()
    });
    let body = json!({
        "file_id": f.id,
        "name": f.name(),
        "path": f.folder(),
        "version_id": v.version_id.to_string(),
        "size": v.size,
        "etag": v.etag,
        "download": presign(shared, FILES_CONTAINER, &v.blob_name, "r"),
        "self": self_url,
        "versions": versions,
    });
    with_stamps(body, model, &f.stamps, format_file_time)
}

pub(super) fn list_json(shared: &Shared, model: &Model, c: &Ctx, f: &FileRec) -> Value {
    let v = f.latest();
    let body = json!({
        "file_id": f.id,
        "name": f.name(),
        "path": f.folder(),
        "version_id": v.map(|v| v.version_id.to_string()),
        "size": v.map_or(0, |v| v.size),
        "etag": v.map_or(String::new(), |v| v.etag.clone()),
        "links": {"self": link(shared.hub(), &format!("{}/{}", files_base(c), f.id), &[])},
    });
    with_stamps(body, model, &f.stamps, format_file_time)
}
