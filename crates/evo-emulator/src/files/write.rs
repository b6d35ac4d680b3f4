//! Upload registration (`PUT` by path or id, resumable by `version_id`), restore and delete.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use uuid::Uuid;

use super::common::{
    API, Ctx, R, S, blob_name, download_json, files_base, gone, invalid, normalize_path, not_found,
    respond, workspace,
};
use super::read::live_at;
use super::state::{FILES_CONTAINER, FileRec, FilesState, UploadBinding, WorkspaceFiles};
use crate::http_util::{ApiError, Query, link, no_content, see_other};
use crate::state::{Model, RestoreConflict, Role, Shared, Stamps};
use crate::storage::sas::presign;

// ---------- upload registration ----------

pub(super) fn upload_response(
    shared: &Shared,
    c: &Ctx,
    file: Uuid,
    version: u64,
    blob: &str,
) -> Response {
    let upload = presign(shared, FILES_CONTAINER, blob, "rcw");
    let _ = c;
    axum::Json(json!({"file_id": file, "upload": upload, "version_id": version.to_string()}))
        .into_response()
}

/// Registers a new pending version of `file` (or resumes `resume`) and answers with its URL.
pub(super) fn register(
    shared: &Shared,
    model: &mut Model,
    c: &Ctx,
    file: Uuid,
    resume: Option<&str>,
) -> R {
    let version = match resume {
        Some(v) => {
            let id: u64 = v
                .parse()
                .map_err(|_| invalid("version_id", format!("'{v}' is not an integer")))?;
            let w = workspace(model, c, Role::Editor)?;
            let f = w.files.get(&file).ok_or_else(|| {
                not_found("Unable to complete partial upload. No file exists by this name.")
            })?;
            if !f.pending.contains_key(&id) {
                return Err(ApiError::new(
                    S,
                    400,
                    "files/no-file-upload-in-progress",
                    "No file upload in progress",
                    "The upload has already been completed",
                ));
            }
            id
        }
        None => {
            let id = model.services.get_mut::<FilesState>().next_version_id();
            let blob = blob_name(c, file, id);
            let w = workspace(model, c, Role::Editor)?;
            let f = w
                .files
                .get_mut(&file)
                .ok_or_else(|| not_found("File does not exist."))?;
            f.pending.insert(id, blob);
            id
        }
    };
    let blob = blob_name(c, file, version);
    model.services.get_mut::<FilesState>().uploads.insert(
        format!("{FILES_CONTAINER}/{blob}"),
        UploadBinding {
            workspace: c.ws,
            file,
            version_id: version,
            user: c.user,
        },
    );
    Ok(upload_response(shared, c, file, version, &blob))
}

pub(super) async fn put_by_path(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, path)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let path = normalize_path(&path)?;
        let q = Query::parse(raw.as_deref());
        let now = shared.clock.now();
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Editor)?;
        let existing = live_at(w, &path).map(|f| f.id);
        let resume = q.get("version_id");
        let file = match (existing, resume) {
            (Some(id), _) => id,
            (None, Some(_)) => {
                return Err(not_found(
                    "Unable to complete partial upload. No file exists by this name.",
                ));
            }
            (None, None) => {
                let id = Uuid::new_v4();
                w.files.insert(
                    id,
                    FileRec {
                        id,
                        path,
                        stamps: Stamps::new(now, c.user),
                        versions: Vec::new(),
                        pending: Default::default(),
                    },
                );
                id
            }
        };
        register(&shared, &mut model, &c, file, resume)
    })())
}

pub(super) async fn put_by_id(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, file)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let (c, id) = API.item(&shared, &headers, (&org, &ws, &file), "file_id")?;
        let q = Query::parse(raw.as_deref());
        let restore = q.bool("deleted").map_err(|e| invalid("deleted", e))?;
        let mut model = shared.model();
        if restore == Some(false) {
            return restore_file(&shared, &mut model, &c, id);
        }
        let w = workspace(&mut model, &c, Role::Editor)?;
        let f = w
            .files
            .get(&id)
            .ok_or_else(|| not_found("File does not exist."))?;
        if f.stamps.deleted_at.is_some() {
            return Err(gone());
        }
        register(&shared, &mut model, &c, id, q.get("version_id"))
    })())
}

pub(super) fn free_name(w: &WorkspaceFiles, path: &str, except: Uuid) -> Option<String> {
    let (dir, name) = match path.rsplit_once('/') {
        Some((d, n)) => (format!("{d}/"), n),
        None => (String::new(), path),
    };
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    (1..1000)
        .map(|i| format!("{dir}{stem} ({i}){ext}"))
        .find(|p| {
            !w.files
                .values()
                .any(|f| f.id != except && f.stamps.deleted_at.is_none() && f.path == *p)
        })
}

pub(super) fn restore_file(shared: &Shared, model: &mut Model, c: &Ctx, id: Uuid) -> R {
    let now = shared.clock.now();
    let policy = shared.restore_conflict;
    let w = workspace(model, c, Role::Editor)?;
    let f = w
        .files
        .get(&id)
        .filter(|f| f.visible())
        .ok_or_else(|| not_found("File does not exist."))?;
    if f.stamps.deleted_at.is_none() {
        return Ok(no_content());
    }
    let path = f.path.clone();
    let taken = w
        .files
        .values()
        .any(|o| o.id != id && o.stamps.deleted_at.is_none() && o.path == path);
    let new_path = if taken {
        match policy {
            RestoreConflict::Reject => None,
            RestoreConflict::Rename => free_name(w, &path, id),
        }
        .ok_or_else(|| {
            ApiError::new(
                S,
                409,
                "files/already-exists",
                "Invalid Request.",
                "Another file already exists at this path.",
            )
        })
        .map(Some)?
    } else {
        None
    };
    let f = w
        .files
        .get_mut(&id)
        .ok_or_else(|| not_found("File does not exist."))?;
    f.stamps.restore(now, c.user);
    let Some(p) = new_path else {
        return Ok(no_content());
    };
    f.path = p;
    let f = f.clone();
    let v = f
        .latest()
        .cloned()
        .ok_or_else(|| not_found("File does not exist."))?;
    let body = download_json(shared, model, c, &f, &v, false);
    let location = link(shared.hub(), &format!("{}/{}", files_base(c), f.id), &[]);
    Ok(see_other(&location, body))
}

// ---------- delete ----------

pub(super) fn delete_file(shared: &Shared, model: &mut Model, c: &Ctx, id: Uuid) -> R {
    let now = shared.clock.now();
    let w = workspace(model, c, Role::Editor)?;
    let f = w
        .files
        .get_mut(&id)
        .filter(|f| f.visible())
        .ok_or_else(|| not_found("File not found."))?;
    if f.stamps.deleted_at.is_some() {
        return Err(gone());
    }
    f.stamps.delete(now, c.user);
    Ok(no_content())
}

pub(super) async fn delete_by_id(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (c, id) = API.item(&shared, &headers, (&org, &ws, &file), "file_id")?;
        let mut model = shared.model();
        delete_file(&shared, &mut model, &c, id)
    })())
}

pub(super) async fn delete_by_path(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, path)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let path = normalize_path(&path)?;
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Editor)?;
        let id = live_at(w, &path)
            .filter(|f| f.visible())
            .map(|f| f.id)
            .ok_or_else(|| not_found("File not found."))?;
        delete_file(&shared, &mut model, &c, id)
    })())
}
