//! What every Object API handler shares: the request context, the role check, path rules, the
//! API's problem details, and the JSON shapes of objects, versions and data links.

use axum::http::HeaderMap;
use serde_json::{Value, json};
use uuid::Uuid;

use super::state::{
    DATA_CONTAINER, ObjectRec, ObjectVersion, ObjectsState, Stage, WorkspaceObjects,
};
use crate::clock::format_workspace_time;
use crate::http_util::{
    ApiError, Service, WorkspaceApi, authenticate, item_path, link, live_workspace, user_json,
    with_stamps,
};
pub(super) use crate::http_util::{ApiResult as R, Ctx, respond};
use crate::state::{Model, Role, Shared, Workspace};
use crate::storage::sas::presign;

pub(super) const S: Service = Service::Objects;

/// The largest object JSON accepted (after decompression).
pub(super) const MAX_OBJECT_BYTES: usize = 512 * 1024 * 1024;

/// 404 for an object id (or path) that is not there.
pub(super) fn object_not_found(id: Option<Uuid>, detail: &str) -> ApiError {
    let e = ApiError::new(S, 404, "objects/not-found", "Object Not Found.", detail);
    match id {
        Some(id) => e.with("object_id", json!(id)),
        None => e,
    }
}

fn workspace_not_found() -> ApiError {
    ApiError::new(
        S,
        404,
        "objects/not-found",
        "Object Not Found.",
        "Workspace not found.",
    )
    .with("upstream_type", json!("/workspace/not-found"))
}

/// 422 for a query or body parameter.
pub(super) fn invalid(name: &str, reason: impl Into<String>) -> ApiError {
    ApiError::validation(S, vec![(name.to_owned(), reason.into())])
}

/// A request body parsed as JSON (422 on `body` when it is not JSON).
pub(super) fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| invalid("body", format!("not JSON: {e}")))
}

/// 400 with the API's `bad-request` type.
pub(super) fn bad_request(detail: impl Into<String>) -> ApiError {
    ApiError::new(S, 400, "bad-request", "Bad Request.", detail)
}

/// How the Object API reads the context of a request.
pub(super) const API: WorkspaceApi = WorkspaceApi {
    service: S,
    scope: "evo.object",
    org_param: "org_id",
};

/// The caller (scope `evo.object`) of a request on an organization.
pub(super) fn caller(shared: &Shared, headers: &HeaderMap) -> Result<Uuid, ApiError> {
    authenticate(shared, headers, S, "evo.object")
}

/// The live workspace of `c`, checked for the caller's role.
pub(super) fn check_role<'a>(
    model: &'a Model,
    c: &Ctx,
    min: Role,
) -> Result<&'a Workspace, ApiError> {
    live_workspace(model, S, c.org, c.ws, c.user, min, workspace_not_found)
}

/// The objects of the workspace of `c`, if it exists and the caller has at least `min` role.
pub(super) fn workspace<'a>(
    model: &'a mut Model,
    c: &Ctx,
    min: Role,
) -> Result<&'a mut WorkspaceObjects, ApiError> {
    check_role(model, c, min)?;
    let state = model.services.get_mut::<ObjectsState>();
    state.ensure_stages(c.org);
    Ok(state.workspace(c.ws))
}

/// Normalizes an object path (`/a/b.json` → `a/b.json`): no empty, `.` or `..` segments, no
/// control characters, a `.json` file name.
pub(super) fn normalize_path(raw: &str) -> Result<String, ApiError> {
    let p = item_path(raw).ok_or_else(|| {
        ApiError::new(
            S,
            400,
            "invalid-path",
            "Invalid Path.",
            format!("'{raw}' is not a valid object path."),
        )
    })?;
    if !p.ends_with(".json") || p.rsplit('/').next() == Some(".json") {
        return Err(ApiError::new(
            S,
            400,
            "objects/invalid-object",
            "Object Error.",
            "The object file name must have a .json extension.",
        ));
    }
    Ok(p.to_owned())
}

/// `/geoscience-object/orgs/{org}/workspaces/{ws}`.
pub(super) fn workspace_base(c: &Ctx) -> String {
    format!("/geoscience-object/orgs/{}/workspaces/{}", c.org, c.ws)
}

/// The URL of an object by path, at `version` if given.
pub(super) fn object_url(shared: &Shared, c: &Ctx, path: &str, version: Option<&str>) -> String {
    let pairs: Vec<(String, String)> = version
        .map(|v| vec![("version".to_owned(), v.to_owned())])
        .unwrap_or_default();
    link(
        shared.hub(),
        &format!("{}/objects/path/{path}", workspace_base(c)),
        &pairs,
    )
}

/// The blob key part (inside [`DATA_CONTAINER`]) of a data file.
pub(super) fn data_blob(org: Uuid, ws: Uuid, name: &str) -> String {
    format!("{org}/{ws}/{name}")
}

/// Whether the emulator holds the bytes of data file `name` (its blob is committed).
pub(super) fn data_held(shared: &Shared, c: &Ctx, name: &str) -> bool {
    shared
        .blobs
        .props(&format!(
            "{DATA_CONTAINER}/{}",
            data_blob(c.org, c.ws, name)
        ))
        .is_some()
}

/// `links.data` of a version: each data file with a fresh download URL.
pub(super) fn data_links(
    shared: &Shared,
    c: &Ctx,
    w: Option<&WorkspaceObjects>,
    v: &ObjectVersion,
) -> Value {
    Value::Array(
        v.data
            .iter()
            .map(|name| {
                json!({
                    "id": w.and_then(|w| w.data.get(name)).map_or(Uuid::nil(), |d| d.id),
                    "name": name,
                    "download_url": presign(shared, DATA_CONTAINER, &data_blob(c.org, c.ws, name), "r"),
                })
            })
            .collect(),
    )
}

/// The stages of the organization and the objects of the workspace of `c`, for rendering.
pub(super) fn view<'a>(model: &'a Model, c: &Ctx) -> (&'a [Stage], Option<&'a WorkspaceObjects>) {
    match model.services.get::<ObjectsState>() {
        Some(state) => (state.stages(c.org), state.workspaces.get(&c.ws)),
        None => (&[], None),
    }
}

/// `{name, stage_id}` of a stage id, or null.
pub(super) fn stage_json(state_stages: &[Stage], stage: Option<Uuid>) -> Value {
    stage
        .and_then(|id| state_stages.iter().find(|s| s.id == id))
        .map_or(Value::Null, |s| json!({"name": s.name, "stage_id": s.id}))
}

/// The GeoJSON polygon of an object's `bounding_box`, when its coordinates are longitude and
/// latitude (EPSG:4326); `null` otherwise (the emulator does not reproject).
pub(super) fn geojson_bbox(object: &Value) -> Value {
    let epsg = object
        .pointer("/coordinate_reference_system/epsg_code")
        .and_then(Value::as_i64);
    let b = object.get("bounding_box");
    let num = |k: &str| b.and_then(|b| b.get(k)).and_then(Value::as_f64);
    match (epsg, num("min_x"), num("max_x"), num("min_y"), num("max_y")) {
        (Some(4326), Some(x0), Some(x1), Some(y0), Some(y1)) => json!({
            "type": "Polygon",
            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
        }),
        _ => Value::Null,
    }
}

/// One entry of `versions`: a `GeoscienceObjectVersion`.
pub(super) fn version_json(
    shared: &Shared,
    model: &Model,
    c: &Ctx,
    o: &ObjectRec,
    v: &ObjectVersion,
) -> Value {
    let (stages, w) = view(model, c);
    json!({
        "version_id": v.version_id,
        "created_at": format_workspace_time(v.created_at),
        "created_by": user_json(model, Some(v.created_by)),
        "etag": v.etag,
        "stage": stage_json(stages, v.stage),
        "links": {
            "download": object_url(shared, c, &o.path, Some(&v.version_id)),
            "data": data_links(shared, c, w, v),
        },
    })
}

/// A `GetObjectResponse` (also the `PostObjectResponse`) of version `v` of `o`.
pub(super) fn object_json(
    shared: &Shared,
    model: &Model,
    c: &Ctx,
    o: &ObjectRec,
    v: &ObjectVersion,
    include_versions: bool,
) -> Value {
    let (stages, w) = view(model, c);
    let body = json!({
        "object_path": format!("/{}", o.path),
        "object_id": o.id,
        "object": &*v.object,
        "version_id": v.version_id,
        "etag": v.etag,
        "stage": stage_json(stages, v.stage),
        "geojson_bounding_box": geojson_bbox(&v.object),
        "links": {
            "download": object_url(shared, c, &o.path, Some(&v.version_id)),
            "data": data_links(shared, c, w, v),
        },
    });
    let mut body = with_stamps(body, model, &o.stamps, format_workspace_time);
    // An object at a version was last changed when that version was made.
    body["modified_at"] = json!(format_workspace_time(v.created_at));
    body["modified_by"] = user_json(model, v.created_by);
    if include_versions {
        body["versions"] = Value::Array(
            o.versions
                .iter()
                .rev()
                .map(|v| version_json(shared, model, c, o, v))
                .collect(),
        );
    }
    body
}

/// A `ListedObject`: the newest version of `o`, without its JSON.
pub(super) fn listed_json(shared: &Shared, model: &Model, c: &Ctx, o: &ObjectRec) -> Value {
    let (stages, _) = view(model, c);
    let v = o.latest();
    let body = json!({
        "name": o.name(),
        "path": o.folder(),
        "object_id": o.id,
        "schema": v.schema(),
        "version_id": v.version_id,
        "etag": v.etag,
        "stage": stage_json(stages, v.stage),
        "geojson_bounding_box": geojson_bbox(&v.object),
        "links": {"download": object_url(shared, c, &o.path, None)},
    });
    with_stamps(body, model, &o.stamps, format_workspace_time)
}
