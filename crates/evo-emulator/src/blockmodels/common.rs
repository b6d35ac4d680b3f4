//! What every Block Model API handler shares: the request context and role check, the API's
//! problem details, request bodies and paging, and the JSON shapes of models, versions and
//! columns.

use axum::http::HeaderMap;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::state::{BlockModelsState, ColumnRec, Geometry, ModelRec, VersionRec};
use crate::clock::format_workspace_time;
use crate::http_util::{
    ApiError, Query, Service, authenticate, live_workspace, parse_uuid, user_json,
};
pub(super) use crate::http_util::{ApiResult as R, respond};
use crate::state::{Model, Role, Shared};

pub(super) const S: Service = Service::BlockModels;

/// 404 for a block model that is not there (or deleted).
pub(super) fn model_not_found(id: Uuid) -> ApiError {
    ApiError::new(
        S,
        404,
        "block-model/not-found",
        "Block Model Not Found",
        format!("Block model {id} not found."),
    )
}

/// 404 for something else that is not there.
pub(super) fn not_found(what: &str, id: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        S,
        404,
        "not-found",
        "Not Found",
        format!("{what} {id} not found."),
    )
}

/// 400 for a request that does not fit the model.
pub(super) fn bad_request(detail: impl Into<String>) -> ApiError {
    ApiError::new(S, 400, "bad-request", "Bad Request", detail)
}

/// 422 for a malformed request.
pub(super) fn invalid(name: &str, reason: impl Into<String>) -> ApiError {
    ApiError::validation(S, vec![(name.to_owned(), reason.into())])
}

/// A request body parsed as JSON (422 on `body` when it is not JSON).
pub(super) fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| invalid("body", format!("not JSON: {e}")))
}

/// 400 when `value` is not an object.
pub(super) fn object(value: Value, what: &str) -> Result<Map<String, Value>, ApiError> {
    match value {
        Value::Object(m) => Ok(m),
        _ => Err(bad_request(format!("{what} must be a JSON object"))),
    }
}

/// The `offset` and `limit` of a listing (default 0 and 50; `limit` from 1 to 100).
pub(super) fn page(q: &Query) -> Result<(usize, usize), ApiError> {
    let offset = q
        .u64("offset")
        .map_err(|e| invalid("offset", e))?
        .unwrap_or(0);
    let limit = q
        .u64("limit")
        .map_err(|e| invalid("limit", e))?
        .unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(invalid("limit", "must be between 1 and 100"));
    }
    Ok((offset as usize, limit as usize))
}

/// A page of a listing: `results` from `offset`, of `total`.
pub(super) fn page_json(results: Vec<Value>, total: usize, offset: usize, limit: usize) -> Value {
    json!({"count": results.len(), "total": total, "offset": offset, "limit": limit, "results": results})
}

/// 409.
pub(super) fn conflict(detail: impl Into<String>) -> ApiError {
    ApiError::new(S, 409, "conflict", "Conflict", detail)
}

/// The caller, organization and workspace of a request.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ctx {
    pub(super) user: Uuid,
    pub(super) org: Uuid,
    pub(super) ws: Option<Uuid>,
}

/// The caller (scope `evo.blocksync`) of a request on `org` (and `ws`).
pub(super) fn ctx(
    shared: &Shared,
    headers: &HeaderMap,
    org: &str,
    ws: Option<&str>,
) -> Result<Ctx, ApiError> {
    let user = authenticate(shared, headers, S, "evo.blocksync")?;
    let org = parse_uuid(S, "org_id", org)?;
    let ws = ws.map(|w| parse_uuid(S, "workspace_id", w)).transpose()?;
    Ok(Ctx { user, org, ws })
}

/// The caller of a request on a block model and the model it names (read before the model is
/// locked: authentication reads the model too).
pub(super) fn model_ctx(
    shared: &Shared,
    headers: &HeaderMap,
    (org, ws, bm): (&str, &str, &str),
) -> Result<(Ctx, Uuid), ApiError> {
    let c = ctx(shared, headers, org, Some(ws))?;
    Ok((c, parse_uuid(S, "bm_id", bm)?))
}

/// Checks that the workspace of `c` exists and the caller has at least `min` role in it.
pub(super) fn check_role(model: &Model, c: &Ctx, min: Role) -> Result<(), ApiError> {
    let ws = c.ws.ok_or_else(|| bad_request("a workspace is required"))?;
    live_workspace(model, S, c.org, ws, c.user, min, || {
        not_found("Workspace", ws)
    })?;
    Ok(())
}

/// The workspaces of `c`'s organization the caller can read.
pub(super) fn readable_workspaces(model: &Model, c: &Ctx) -> Vec<Uuid> {
    model
        .org(c.org)
        .map(|o| {
            o.workspaces
                .iter()
                .filter(|w| !w.deleted && w.role_of(c.user).is_some())
                .map(|w| w.id)
                .collect()
        })
        .unwrap_or_default()
}

/// The model `bm` of `c`'s workspace (deleted ones only when `deleted`), after the role check.
pub(super) fn model_rec<'a>(
    model: &'a mut Model,
    c: &Ctx,
    bm: Uuid,
    min: Role,
    deleted: bool,
) -> Result<&'a mut ModelRec, ApiError> {
    check_role(model, c, min)?;
    let state = model.services.get_mut::<BlockModelsState>();
    state
        .models
        .get_mut(&bm)
        .filter(|m| m.org == c.org && Some(m.ws) == c.ws && m.deleted == deleted)
        .ok_or_else(|| model_not_found(bm))
}

/// A `BlockModel`.
pub(super) fn model_json(model: &Model, m: &ModelRec) -> Value {
    let ext = m.extent();
    let range = |axis: usize| json!({"min": ext[axis][0], "max": ext[axis][1]});
    json!({
        "bm_uuid": m.id,
        "name": m.name,
        "description": m.description,
        "org_uuid": m.org,
        "workspace_id": m.ws,
        "coordinate_reference_system": m.crs,
        "size_unit_id": m.size_unit_id,
        "fill_subblocks": m.fill_subblocks,
        "geoscience_object_id": null,
        "model_origin": {"x": m.origin[0], "y": m.origin[1], "z": m.origin[2]},
        "block_rotation": m.rotation.iter().map(|(axis, angle)| json!({"axis": axis.to_string(), "angle": angle})).collect::<Vec<_>>(),
        "normalized_rotation": normalized_rotation(m),
        "size_options": m.size_options,
        "bbox": {"x_minmax": range(0), "y_minmax": range(1), "z_minmax": range(2)},
        "created_at": format_workspace_time(m.created_at),
        "created_by": user_json(model, m.created_by),
        "last_updated_at": format_workspace_time(m.updated_at),
        "last_updated_by": user_json(model, m.updated_by),
    })
}

/// The rotations as three angles (z, x, z), as far as the emulator reduces them: the sum of
/// the angles about each axis.
fn normalized_rotation(m: &ModelRec) -> Value {
    let sum = |a: char| -> f64 {
        m.rotation
            .iter()
            .filter(|(axis, _)| *axis == a)
            .map(|(_, v)| v)
            .sum()
    };
    json!([sum('z'), sum('x'), 0.0])
}

/// The system columns of a model's versions.
pub(super) fn system_columns(geometry: &Geometry) -> Vec<Value> {
    let ijk = ["i", "j", "k"].map(|n| json!({"col_id": n, "title": n, "data_type": "UInt32", "unit_id": null, "group_uuid": null}));
    let mut columns = ijk.to_vec();
    if let Geometry::SubBlocked { .. } = geometry {
        columns.push(json!({"col_id": "sidx", "title": "sidx", "data_type": "UInt32", "unit_id": null, "group_uuid": null}));
    }
    columns
}

pub(super) fn column_json(c: &ColumnRec) -> Value {
    json!({
        "col_id": c.id,
        "title": c.title,
        "data_type": c.data_type,
        "unit_id": c.unit_id,
        "group_uuid": null,
    })
}

/// A `Version` (with `changes` when asked for).
pub(super) fn version_json(
    model: &Model,
    m: &ModelRec,
    v: &VersionRec,
    include_changes: bool,
) -> Value {
    let mut columns = system_columns(&m.geometry);
    columns.extend(v.columns.iter().map(column_json));
    let parent = v.version_id.saturating_sub(1);
    let mut body = json!({
        "bm_uuid": m.id,
        "version_id": v.version_id,
        "version_uuid": v.uuid,
        "created_at": format_workspace_time(v.created_at),
        "created_by": user_json(model, v.created_by),
        "comment": v.comment,
        "bbox": v.bbox.map(|b| json!({
            "i_minmax": {"min": b[0][0], "max": b[0][1]},
            "j_minmax": {"min": b[1][0], "max": b[1][1]},
            "k_minmax": {"min": b[2][0], "max": b[2][1]},
        })),
        "base_version_id": (parent > 0).then_some(parent),
        "parent_version_id": parent,
        "geoscience_version_id": null,
        "mapping": {"columns": columns, "groups": []},
    });
    if include_changes {
        body["changes"] = v.changes.clone();
    }
    body
}

/// The units the emulator knows.
pub(super) fn units() -> Value {
    let u = |id: &str, symbol: &str, description: &str, kind: &str, factor: f64| json!({"unit_id": id, "symbol": symbol, "description": description, "unit_type": kind, "conversion_factor": factor});
    Value::Array(vec![
        u("m", "m", "metre", "LENGTH", 1.0),
        u("ft", "ft", "foot", "LENGTH", 0.3048),
        u("km", "km", "kilometre", "LENGTH", 1000.0),
        u("kg", "kg", "kilogram", "MASS", 1.0),
        u("t", "t", "tonne", "MASS", 1000.0),
        u("g", "g", "gram", "MASS", 0.001),
        u("m3", "m³", "cubic metre", "VOLUME", 1.0),
        u(
            "t/m3",
            "t/m³",
            "tonne per cubic metre",
            "MASS_PER_VOLUME",
            1000.0,
        ),
        u(
            "g/cm3",
            "g/cm³",
            "gram per cubic centimetre",
            "MASS_PER_VOLUME",
            1000.0,
        ),
        u(
            "kg/m3",
            "kg/m³",
            "kilogram per cubic metre",
            "MASS_PER_VOLUME",
            1.0,
        ),
        u("%[mass]", "%", "percent by mass", "MASS_PER_MASS", 0.01),
        u("g/t", "g/t", "gram per tonne", "MASS_PER_MASS", 1e-6),
        u(
            "ppm[mass]",
            "ppm",
            "part per million by mass",
            "MASS_PER_MASS",
            1e-6,
        ),
        u("USD", "$", "US dollar", "VALUE", 1.0),
        u(
            "USD/t",
            "$/t",
            "US dollar per tonne",
            "VALUE_PER_MASS",
            0.001,
        ),
    ])
}

/// Whether `id` is a unit the emulator knows.
pub(super) fn known_unit(id: &str) -> bool {
    units()
        .as_array()
        .is_some_and(|all| all.iter().any(|u| u["unit_id"] == id))
}
