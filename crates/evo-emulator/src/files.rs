//! The File API v2 under `/file/v2/orgs/{org}/workspaces/{ws}`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::blob::FILES_CONTAINER;
use crate::blob::sas::presign;
use crate::blob::store::Props;
use crate::clock::{TimeFilter, format_file_time};
use crate::http_util::{ApiError, Query, Service, authenticate, link, no_content, parse_uuid};
use crate::state::{
    FileRec, FileVersion, Model, RestoreConflict, Role, Shared, UploadBinding, Workspace,
};

const S: Service = Service::File;
type R = Result<Response, ApiError>;

/// The routes of the File API.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    let base = "/file/v2/orgs/{org}/workspaces/{ws}";
    Router::new()
        .route("/file/health_check", get(crate::workspaces::health_check))
        .route(&format!("{base}/files"), get(list_files))
        .route(
            &format!("{base}/files/{{file}}"),
            get(get_by_id).put(put_by_id).delete(delete_by_id),
        )
        .route(
            &format!("{base}/files/path/{{*path}}"),
            get(get_by_path).put(put_by_path).delete(delete_by_path),
        )
}

fn respond(r: R) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

fn not_found(detail: &str) -> ApiError {
    ApiError::new(S, 404, "files/not-found", "File Not Found.", detail)
}

fn gone() -> ApiError {
    ApiError::new(
        S,
        410,
        "files/gone",
        "The file has been deleted",
        "The requested file has been deleted.",
    )
}

fn invalid(name: &str, e: String) -> ApiError {
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
fn normalize_path(raw: &str) -> Result<String, ApiError> {
    let p = raw.strip_prefix('/').unwrap_or(raw);
    let bad = p.is_empty()
        || p.len() > 1024
        || p.split('/').any(|s| s.is_empty() || s == "." || s == "..")
        || p.chars().any(char::is_control);
    if bad {
        return Err(ApiError::new(
            S,
            400,
            "files/invalid-path",
            "Invalid Path.",
            format!("'{raw}' is not a valid file path."),
        ));
    }
    Ok(p.to_owned())
}

struct Ctx {
    user: Uuid,
    org: Uuid,
    ws: Uuid,
}

fn ctx(shared: &Shared, headers: &HeaderMap, org: &str, ws: &str) -> Result<Ctx, ApiError> {
    let user = authenticate(shared, headers, S, "evo.file")?;
    let org = parse_uuid(S, "organisation_id", org)?;
    let ws = parse_uuid(S, "workspace_id", ws)?;
    Ok(Ctx { user, org, ws })
}

/// The workspace if it exists, is not deleted and the caller has at least `min` role.
fn workspace<'a>(model: &'a mut Model, c: &Ctx, min: Role) -> Result<&'a mut Workspace, ApiError> {
    let w = model
        .org_mut(c.org)
        .and_then(|o| o.workspaces.iter_mut().find(|w| w.id == c.ws && !w.deleted))
        .ok_or_else(|| not_found("Workspace not found."))?;
    let role = w.role_of(c.user);
    if role.is_none_or(|r| r < min) {
        let permitted: Vec<&str> = [Role::Viewer, Role::Editor, Role::Owner]
            .into_iter()
            .filter(|r| *r >= min)
            .map(Role::as_str)
            .collect();
        return Err(ApiError::insufficient_role(
            S,
            role.map(Role::as_str),
            &permitted,
        ));
    }
    Ok(w)
}

fn user_info(model: &Model, id: Option<Uuid>) -> Value {
    match id {
        None => Value::Null,
        Some(id) => match model.user(id) {
            Some(u) => json!({"id": u.id, "name": u.name, "email": u.email}),
            None => json!({"id": id, "name": null, "email": null}),
        },
    }
}

fn files_base(c: &Ctx) -> String {
    format!("/file/v2/orgs/{}/workspaces/{}/files", c.org, c.ws)
}

fn blob_name(c: &Ctx, file: Uuid, version: u64) -> String {
    format!("{}/{}/{}/{}", c.org, c.ws, file, version)
}

fn download_json(
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
                    "path": format!("/{}", f.path),
                    "version_id": v.version_id.to_string(),
                    "size": v.size,
                    "created_at": format_file_time(v.created_at),
                    "created_by": user_info(model, Some(v.created_by)),
                    "link": link(
                        shared.hub(),
                        &format!("{}/{}", files_base(c), f.id),
                        &[("version_id".into(), v.version_id.to_string())],
                    ),
                })
            })
            .collect::<Vec<_>>()
    });
    json!({
        "file_id": f.id,
        "name": f.name(),
        "path": format!("/{}", f.path),
        "version_id": v.version_id.to_string(),
        "size": v.size,
        "etag": v.etag,
        "created_at": format_file_time(f.created_at),
        "created_by": user_info(model, Some(f.created_by)),
        "modified_at": format_file_time(f.modified_at),
        "modified_by": user_info(model, Some(f.modified_by)),
        "deleted_at": f.deleted_at.map(format_file_time),
        "deleted_by": user_info(model, f.deleted_by),
        "download": presign(shared, FILES_CONTAINER, &v.blob_name, "r"),
        "self": self_url,
        "versions": versions,
    })
}

fn list_json(shared: &Shared, model: &Model, c: &Ctx, f: &FileRec) -> Value {
    let v = f.latest();
    json!({
        "file_id": f.id,
        "name": f.name(),
        "path": f.folder(),
        "version_id": v.map(|v| v.version_id.to_string()),
        "size": v.map_or(0, |v| v.size),
        "etag": v.map_or(String::new(), |v| v.etag.clone()),
        "created_at": format_file_time(f.created_at),
        "created_by": user_info(model, Some(f.created_by)),
        "modified_at": format_file_time(f.modified_at),
        "modified_by": user_info(model, Some(f.modified_by)),
        "deleted_at": f.deleted_at.map(format_file_time),
        "deleted_by": user_info(model, f.deleted_by),
        "links": {"self": link(shared.hub(), &format!("{}/{}", files_base(c), f.id), &[])},
    })
}

// ---------- list ----------

fn date_filters(q: &Query, name: &str) -> Result<Vec<TimeFilter>, ApiError> {
    let raw: Vec<&str> = q.all_raw(name);
    if raw.len() > 2 {
        return Err(invalid(name, "at most 2 dates".into()));
    }
    let parsed: Vec<TimeFilter> = raw
        .iter()
        .map(|v| {
            TimeFilter::parse(v).ok_or_else(|| invalid(name, format!("'{v}' is not [op:]ISO-8601")))
        })
        .collect::<Result<_, _>>()?;
    if parsed.len() == 2 && parsed.iter().any(|f| f.op == crate::clock::TimeOp::Eq) {
        return Err(invalid(
            name,
            "an equality date cannot be combined with another date".into(),
        ));
    }
    Ok(parsed)
}

async fn list_files(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = ctx(&shared, &headers, &org, &ws)?;
        let q = Query::parse(raw.as_deref());
        let limit = q
            .u64("limit")
            .map_err(|e| invalid("limit", e))?
            .unwrap_or(5000);
        if !(1..=5000).contains(&limit) {
            return Err(invalid("limit", "must be between 1 and 5000".into()));
        }
        let offset = q
            .u64("offset")
            .map_err(|e| invalid("offset", e))?
            .unwrap_or(0);
        let deleted = q
            .bool("deleted")
            .map_err(|e| invalid("deleted", e))?
            .unwrap_or(false);
        let authors = q.uuids("author").map_err(|e| invalid("author", e))?;
        let modified_by = q
            .uuids("modified_by")
            .map_err(|e| invalid("modified_by", e))?;
        let deleted_by = q
            .uuids("deleted_by")
            .map_err(|e| invalid("deleted_by", e))?;
        let name = q.get("file_name").map(str::to_lowercase);
        if name
            .as_deref()
            .is_some_and(|n| n.is_empty() || n.contains('/'))
        {
            return Err(invalid(
                "file_name",
                "must be non-empty and contain no '/'".into(),
            ));
        }
        let created_at = date_filters(&q, "created_at")?;
        let modified_at = date_filters(&q, "modified_at")?;
        let deleted_at = date_filters(&q, "deleted_at")?;
        let mut keys = Vec::new();
        for item in q.all("order_by") {
            let (desc, field) = match item.split_once(':') {
                Some(("asc", f)) => (false, f),
                Some(("desc", f)) => (true, f),
                Some(_) => return Err(invalid("order_by", format!("bad item '{item}'"))),
                None => (false, item),
            };
            if !["created_at", "modified_at", "deleted_at"].contains(&field) {
                return Err(invalid("order_by", format!("unknown field '{field}'")));
            }
            keys.push((field.to_owned(), desc));
        }
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let mut files: Vec<FileRec> = w
            .files
            .values()
            .filter(|f| f.visible())
            .filter(|f| f.deleted_at.is_some() == deleted)
            .filter(|f| authors.is_empty() || authors.contains(&f.created_by))
            .filter(|f| modified_by.is_empty() || modified_by.contains(&f.modified_by))
            .filter(|f| {
                deleted_by.is_empty() || f.deleted_by.is_some_and(|d| deleted_by.contains(&d))
            })
            .filter(|f| {
                name.as_deref()
                    .is_none_or(|n| f.name().to_lowercase().contains(n))
            })
            .filter(|f| created_at.iter().all(|t| t.matches(f.created_at)))
            .filter(|f| modified_at.iter().all(|t| t.matches(f.modified_at)))
            .filter(|f| {
                deleted_at
                    .iter()
                    .all(|t| f.deleted_at.is_some_and(|d| t.matches(d)))
            })
            .cloned()
            .collect();
        files.sort_by(|a, b| {
            for (field, desc) in &keys {
                let ord = match field.as_str() {
                    "created_at" => a.created_at.cmp(&b.created_at),
                    "modified_at" => a.modified_at.cmp(&b.modified_at),
                    _ => a.deleted_at.cmp(&b.deleted_at),
                };
                let ord = if *desc { ord.reverse() } else { ord };
                if ord.is_ne() {
                    return ord;
                }
            }
            a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id))
        });
        let total = files.len() as u64;
        let page: Vec<Value> = files
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|f| list_json(&shared, &model, &c, f))
            .collect();
        let count = page.len() as u64;
        let rest = q.without(&["limit", "offset"]);
        let url = |o: u64| {
            let mut pairs = rest.clone();
            pairs.push(("limit".into(), limit.to_string()));
            pairs.push(("offset".into(), o.to_string()));
            link(shared.hub(), &files_base(&c), &pairs)
        };
        let next = if offset + count < total {
            json!(url(offset + limit))
        } else {
            Value::Null
        };
        let prev = if offset > 0 {
            json!(url(offset.saturating_sub(limit)))
        } else {
            Value::Null
        };
        Ok(axum::Json(json!({
            "count": count,
            "total": total,
            "limit": limit,
            "offset": offset,
            "links": {"self": url(offset), "next": next, "prev": prev},
            "files": page,
        }))
        .into_response())
    })())
}

// ---------- get ----------

fn get_common(shared: &Shared, model: &Model, c: &Ctx, f: &FileRec, q: &Query) -> R {
    let include = q
        .bool("include_versions")
        .map_err(|e| invalid("include_versions", e))?
        .unwrap_or(false);
    let version =
        match q.get("version_id") {
            None => f.latest(),
            Some(v) => {
                let id: u64 = v
                    .parse()
                    .map_err(|_| invalid("version_id", format!("'{v}' is not an integer")))?;
                let found = f.versions.iter().find(|x| x.version_id == id);
                Some(found.ok_or_else(|| {
                    not_found(&format!("Version {id} of this file does not exist."))
                })?)
            }
        };
    let v = version.ok_or_else(|| not_found("File not found."))?;
    Ok(axum::Json(download_json(shared, model, c, f, v, include)).into_response())
}

async fn get_by_id(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, file)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = ctx(&shared, &headers, &org, &ws)?;
        let id = parse_uuid(S, "file_id", &file)?;
        let q = Query::parse(raw.as_deref());
        let allow_deleted = q
            .bool("deleted")
            .map_err(|e| invalid("deleted", e))?
            .unwrap_or(false);
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let f = w
            .files
            .get(&id)
            .filter(|f| f.visible())
            .cloned()
            .ok_or_else(|| not_found("File not found."))?;
        if f.deleted_at.is_some() && !allow_deleted {
            return Err(gone());
        }
        get_common(&shared, &model, &c, &f, &q)
    })())
}

/// The live file at `path` (visible or still waiting for its first commit).
fn live_at<'a>(w: &'a Workspace, path: &str) -> Option<&'a FileRec> {
    w.files
        .values()
        .find(|f| f.deleted_at.is_none() && f.path == path)
}

async fn get_by_path(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, path)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = ctx(&shared, &headers, &org, &ws)?;
        let path = normalize_path(&path)?;
        let q = Query::parse(raw.as_deref());
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let f = match live_at(w, &path).filter(|f| f.visible()) {
            Some(f) => f.clone(),
            None if w
                .files
                .values()
                .any(|f| f.path == path && f.visible() && f.deleted_at.is_some()) =>
            {
                return Err(gone());
            }
            None => return Err(not_found("File not found.")),
        };
        get_common(&shared, &model, &c, &f, &q)
    })())
}

// ---------- upload registration ----------

fn upload_response(shared: &Shared, c: &Ctx, file: Uuid, version: u64, blob: &str) -> Response {
    let upload = presign(shared, FILES_CONTAINER, blob, "rcw");
    let _ = c;
    axum::Json(json!({"file_id": file, "upload": upload, "version_id": version.to_string()}))
        .into_response()
}

/// Registers a new pending version of `file` (or resumes `resume`) and answers with its URL.
fn register(shared: &Shared, model: &mut Model, c: &Ctx, file: Uuid, resume: Option<&str>) -> R {
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
            model.next_version_id += 1;
            let id = model.next_version_id;
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
    model.uploads.insert(
        format!("{FILES_CONTAINER}/{blob}"),
        UploadBinding {
            org: c.org,
            workspace: c.ws,
            file,
            version_id: version,
            user: c.user,
        },
    );
    Ok(upload_response(shared, c, file, version, &blob))
}

async fn put_by_path(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, path)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = ctx(&shared, &headers, &org, &ws)?;
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
                        created_at: now,
                        created_by: c.user,
                        modified_at: now,
                        modified_by: c.user,
                        deleted_at: None,
                        deleted_by: None,
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

async fn put_by_id(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, file)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = ctx(&shared, &headers, &org, &ws)?;
        let id = parse_uuid(S, "file_id", &file)?;
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
        if f.deleted_at.is_some() {
            return Err(gone());
        }
        register(&shared, &mut model, &c, id, q.get("version_id"))
    })())
}

fn free_name(w: &Workspace, path: &str, except: Uuid) -> Option<String> {
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
                .any(|f| f.id != except && f.deleted_at.is_none() && f.path == *p)
        })
}

fn restore_file(shared: &Shared, model: &mut Model, c: &Ctx, id: Uuid) -> R {
    let now = shared.clock.now();
    let policy = shared.restore_conflict;
    let w = workspace(model, c, Role::Editor)?;
    let f = w
        .files
        .get(&id)
        .filter(|f| f.visible())
        .ok_or_else(|| not_found("File does not exist."))?;
    if f.deleted_at.is_none() {
        return Ok(no_content());
    }
    let path = f.path.clone();
    let taken = w
        .files
        .values()
        .any(|o| o.id != id && o.deleted_at.is_none() && o.path == path);
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
    f.deleted_at = None;
    f.deleted_by = None;
    f.modified_at = now;
    f.modified_by = c.user;
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
    let mut resp = (StatusCode::SEE_OTHER, axum::Json(body)).into_response();
    let loc = link(shared.hub(), &format!("{}/{}", files_base(c), f.id), &[]);
    if let Ok(v) = HeaderValue::from_str(&loc) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

// ---------- delete ----------

fn delete_file(shared: &Shared, model: &mut Model, c: &Ctx, id: Uuid) -> R {
    let now = shared.clock.now();
    let w = workspace(model, c, Role::Editor)?;
    let f = w
        .files
        .get_mut(&id)
        .filter(|f| f.visible())
        .ok_or_else(|| not_found("File not found."))?;
    if f.deleted_at.is_some() {
        return Err(gone());
    }
    f.deleted_at = Some(now);
    f.deleted_by = Some(c.user);
    f.modified_at = now;
    f.modified_by = c.user;
    Ok(no_content())
}

async fn delete_by_id(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let c = ctx(&shared, &headers, &org, &ws)?;
        let id = parse_uuid(S, "file_id", &file)?;
        let mut model = shared.model();
        delete_file(&shared, &mut model, &c, id)
    })())
}

async fn delete_by_path(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, path)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let c = ctx(&shared, &headers, &org, &ws)?;
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

/// Called after a blob commit: if the blob is a registered upload, its version now exists.
pub(crate) fn on_blob_committed(shared: &Shared, key: &str, props: &Props) {
    let now = shared.clock.now();
    let mut model = shared.model();
    let Some(b) = model.uploads.get(key).cloned() else {
        return;
    };
    let Some(w) = model
        .org_mut(b.org)
        .and_then(|o| o.workspaces.iter_mut().find(|w| w.id == b.workspace))
    else {
        return;
    };
    let Some(f) = w.files.get_mut(&b.file) else {
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
            f.created_at = now;
            f.created_by = b.user;
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
    f.modified_at = now;
    f.modified_by = b.user;
}
