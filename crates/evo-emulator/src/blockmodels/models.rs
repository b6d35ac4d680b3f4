//! Block models and versions: list (workspace, organization), get, create (and the job that
//! makes the first version), update metadata, delete, restore; versions, one version; units.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::common::{
    R, S, check_role, conflict, ctx, invalid, known_unit, model_ctx, model_json, model_rec, page,
    page_json, readable_workspaces, respond, units, version_json,
};
use super::jobs::{answer_with_job, failure, job_url, new_job};
use super::state::{
    BlockModelsState, Geometry, JobKind, JobRec, ModelRec, Touched, VersionRec, Work,
};
use crate::http_util::{ApiError, Query, no_content, parse_uuid};
use crate::state::{Model, Role, Shared};

type P2 = Path<(String, String)>;
type P3 = Path<(String, String, String)>;

/// `GET .../workspaces/{ws}/block-models[?offset&limit&deleted]`.
pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): P2,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let c = ctx(&shared, &headers, &org, Some(&ws))?;
        let q = Query::parse(raw.as_deref());
        let (offset, limit) = page(&q)?;
        let deleted = q.flag("deleted").map_err(|e| invalid("deleted", e))?;
        let model = shared.model();
        check_role(&model, &c, Role::Viewer)?;
        let in_ws = |m: &ModelRec| Some(m.ws) == c.ws;
        Ok(listing(&model, &c, deleted, offset, limit, in_ws))
    })())
}

/// `GET .../orgs/{org}/block-models`: the models of every workspace the caller can read.
pub(super) async fn list_org(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let c = ctx(&shared, &headers, &org, None)?;
        let q = Query::parse(raw.as_deref());
        let (offset, limit) = page(&q)?;
        let deleted = q.flag("deleted").map_err(|e| invalid("deleted", e))?;
        let model = shared.model();
        let readable = readable_workspaces(&model, &c);
        Ok(listing(&model, &c, deleted, offset, limit, |m| {
            readable.contains(&m.ws)
        }))
    })())
}

fn listing(
    model: &Model,
    c: &super::common::Ctx,
    deleted: bool,
    offset: usize,
    limit: usize,
    keep: impl Fn(&ModelRec) -> bool,
) -> Response {
    let mut all: Vec<&ModelRec> = model
        .services
        .get::<BlockModelsState>()
        .map(|s| {
            s.models
                .values()
                .filter(|m| m.org == c.org && m.deleted == deleted && keep(m))
                .collect()
        })
        .unwrap_or_default();
    all.sort_by_key(|m| (m.created_at, m.id));
    let total = all.len();
    let results = all
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|m| model_json(model, m))
        .collect();
    axum::Json(page_json(results, total, offset, limit)).into_response()
}

/// `GET .../block-models/{bm}[?deleted]`.
pub(super) async fn get(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm)): P3,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (c, bm) = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let q = Query::parse(raw.as_deref());
        let deleted = q.flag("deleted").map_err(|e| invalid("deleted", e))?;
        let mut model = shared.model();
        let m = model_rec(&mut model, &c, bm, Role::Viewer, deleted)?.clone();
        Ok(axum::Json(model_json(&model, &m)).into_response())
    })())
}

fn size3(v: &Value, name: &str, max: u32, octree: bool) -> Result<[u32; 3], ApiError> {
    let mut out = [0u32; 3];
    for (slot, key) in out.iter_mut().zip(["nx", "ny", "nz"]) {
        let n = v
            .get(key)
            .and_then(Value::as_u64)
            .filter(|n| (1..=u64::from(max)).contains(n))
            .ok_or_else(|| {
                invalid(
                    &format!("size_options.{name}.{key}"),
                    format!("an integer from 1 to {max}"),
                )
            })?;
        if octree && !n.is_power_of_two() {
            return Err(invalid(
                &format!("size_options.{name}.{key}"),
                "a power of two",
            ));
        }
        *slot = n as u32;
    }
    Ok(out)
}

fn sizes(v: &Value, name: &str) -> Result<[f64; 3], ApiError> {
    let mut out = [0f64; 3];
    for (slot, key) in out.iter_mut().zip(["x", "y", "z"]) {
        *slot = v
            .get(key)
            .and_then(Value::as_f64)
            .filter(|s| *s > 0.0 && *s < 1_000_000.0)
            .ok_or_else(|| {
                invalid(
                    &format!("size_options.{name}.{key}"),
                    "a number above 0 and below 1000000",
                )
            })?;
    }
    Ok(out)
}

/// Checks `size_options` and gives the model's geometry.
fn geometry(size_options: &Value) -> Result<Geometry, ApiError> {
    let kind = size_options
        .get("model_type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match kind {
        "regular" => {
            let n = size3(&size_options["n_blocks"], "n_blocks", u32::MAX, false)?;
            let size = sizes(&size_options["block_size"], "block_size")?;
            if n.iter().map(|v| u128::from(*v)).product::<u128>() > 2_000_000_000 {
                return Err(invalid(
                    "size_options.n_blocks",
                    "at most 2,000,000,000 blocks",
                ));
            }
            Ok(Geometry::Regular { n, size })
        }
        "fully-sub-blocked" | "flexible" | "variable-octree" => {
            let n = size3(
                &size_options["n_parent_blocks"],
                "n_parent_blocks",
                u32::MAX,
                false,
            )?;
            let octree = kind == "variable-octree";
            size3(
                &size_options["n_subblocks_per_parent"],
                "n_subblocks_per_parent",
                if octree { 64 } else { 100 },
                octree,
            )?;
            let size = sizes(&size_options["parent_block_size"], "parent_block_size")?;
            Ok(Geometry::SubBlocked { n, size })
        }
        other => Err(invalid(
            "size_options.model_type",
            format!(
                "'{other}' is not one of regular, fully-sub-blocked, flexible, variable-octree"
            ),
        )),
    }
}

fn opt_str(body: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(key, "must be a string")),
    }
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.contains(['/', '\\']) || name.chars().count() > 250 {
        return Err(invalid("name", "1 to 250 characters, without '/' or '\\'"));
    }
    Ok(())
}

fn check_unit(unit: Option<&str>) -> Result<(), ApiError> {
    match unit {
        Some(u) if !known_unit(u) => Err(invalid("size_unit_id", format!("unknown unit '{u}'"))),
        _ => Ok(()),
    }
}

fn name_taken(model: &Model, org: Uuid, ws: Uuid, name: &str, except: Option<Uuid>) -> bool {
    model.services.get::<BlockModelsState>().is_some_and(|s| {
        s.models.values().any(|m| {
            m.org == org && m.ws == ws && !m.deleted && m.name == name && Some(m.id) != except
        })
    })
}

/// `POST .../workspaces/{ws}/block-models`: the model at once, its first version by a job.
pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): P2,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let created = (|| {
        let c = ctx(&shared, &headers, &org, Some(&ws))?;
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&body) else {
            return Err(invalid("body", "a JSON object is required"));
        };
        let name = opt_str(&body, "name")?.ok_or_else(|| invalid("name", "required"))?;
        check_name(&name)?;
        let size_options = body.get("size_options").cloned().unwrap_or(Value::Null);
        let geometry = geometry(&size_options)?;
        let origin = &body.get("model_origin").cloned().unwrap_or(Value::Null);
        let coord = |k: &str| {
            origin
                .get(k)
                .and_then(Value::as_f64)
                .ok_or_else(|| invalid(&format!("model_origin.{k}"), "a number is required"))
        };
        let origin = [coord("x")?, coord("y")?, coord("z")?];
        let mut rotation = Vec::new();
        for r in body
            .get("block_rotation")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let axis = match r.get("axis").and_then(Value::as_str) {
                Some("x") => 'x',
                Some("y") => 'y',
                Some("z") => 'z',
                _ => return Err(invalid("block_rotation.axis", "one of x, y, z")),
            };
            let angle = r
                .get("angle")
                .and_then(Value::as_f64)
                .ok_or_else(|| invalid("block_rotation.angle", "a number"))?;
            rotation.push((axis, angle));
        }
        let size_unit_id = opt_str(&body, "size_unit_id")?;
        check_unit(size_unit_id.as_deref())?;
        let comment = opt_str(&body, "comment")?.unwrap_or_default();
        let now = shared.clock.now();
        let mut model = shared.model();
        check_role(&model, &c, Role::Editor)?;
        let ws = c.ws.unwrap_or_default();
        if name_taken(&model, c.org, ws, &name, None) {
            return Err(conflict(format!(
                "A block model named '{name}' already exists."
            )));
        }
        let m = ModelRec {
            id: Uuid::new_v4(),
            org: c.org,
            ws,
            name,
            description: opt_str(&body, "description")?,
            crs: opt_str(&body, "coordinate_reference_system")?,
            size_unit_id,
            fill_subblocks: body
                .get("fill_subblocks")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            origin,
            rotation,
            size_options,
            geometry,
            created_at: now,
            created_by: c.user,
            updated_at: now,
            updated_by: c.user,
            deleted: false,
            versions: Vec::new(),
        };
        let mut answer = model_json(&model, &m);
        let bm = m.id;
        model
            .services
            .get_mut::<BlockModelsState>()
            .models
            .insert(bm, m);
        let kind = JobKind::Create { comment };
        let job = new_job(&mut model, bm, c.user, kind, CREATE, false);
        answer["job_url"] = json!(job_url(&shared, c.org, ws, bm, job));
        Ok((StatusCode::CREATED, answer, Some(job)))
    })();
    answer_with_job(&shared, created)
}

/// How the job of a creation runs: it makes the model's first version.
const CREATE: Work = Work {
    run: run_create,
    then: None,
};

fn run_create(shared: Arc<Shared>, rec: JobRec) -> BoxFuture<'static, Result<Value, Value>> {
    Box::pin(async move {
        let JobKind::Create { comment } = rec.kind.clone() else {
            return Err(failure(500, "Error in Create", "not a creation job"));
        };
        Ok(first_version(&shared, &rec, comment))
    })
}

/// Version 1 of a new model: no user columns.
fn first_version(shared: &Shared, rec: &JobRec, comment: String) -> Value {
    let now = shared.clock.now();
    let mut model = shared.model();
    let state = model.services.get_mut::<BlockModelsState>();
    let Some(m) = state.models.get_mut(&rec.bm) else {
        return failure(404, "Error in Create", "the block model is gone");
    };
    if m.versions.is_empty() {
        m.versions.push(VersionRec {
            version_id: 1,
            uuid: Uuid::new_v4(),
            created_at: now,
            created_by: rec.user,
            comment,
            columns: Vec::new(),
            bbox: None,
            changes: json!({
                "columns": {"new": [], "updated": [], "deleted": [], "renamed": [], "metadata_updated": []},
                "total_blocks": m.geometry.blocks(),
                "blocks_uploaded": 0,
                "update_type": null,
            }),
            touched: Touched::default(),
        });
    }
    let m = m.clone();
    let v = &m.versions[0];
    version_json(&model, &m, v, false)
}

/// `PATCH .../block-models/{bm}`: name, description, CRS, size unit, `fill_subblocks`.
pub(super) async fn update(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm)): P3,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let (c, bm) = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&body) else {
            return Err(invalid("body", "a JSON object is required"));
        };
        let name = opt_str(&body, "name")?;
        if let Some(name) = &name {
            check_name(name)?;
        }
        let unit = opt_str(&body, "size_unit_id")?;
        check_unit(unit.as_deref())?;
        let now = shared.clock.now();
        let mut model = shared.model();
        let (org_id, ws_id) = {
            let m = model_rec(&mut model, &c, bm, Role::Editor, false)?;
            (m.org, m.ws)
        };
        if let Some(name) = &name
            && name_taken(&model, org_id, ws_id, name, Some(bm))
        {
            return Err(conflict(format!(
                "A block model named '{name}' already exists."
            )));
        }
        let m = model_rec(&mut model, &c, bm, Role::Editor, false)?;
        if let Some(name) = name {
            m.name = name;
        }
        if body.contains_key("description") {
            m.description = opt_str(&body, "description")?;
        }
        if body.contains_key("coordinate_reference_system") {
            m.crs = opt_str(&body, "coordinate_reference_system")?;
        }
        if body.contains_key("size_unit_id") {
            m.size_unit_id = unit;
        }
        if let Some(fill) = body.get("fill_subblocks").and_then(Value::as_bool) {
            m.fill_subblocks = fill;
        }
        m.touch(now, c.user);
        let m = m.clone();
        Ok(axum::Json(model_json(&model, &m)).into_response())
    })())
}

/// `DELETE .../block-models/{bm}`.
pub(super) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm)): P3,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (c, bm) = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let now = shared.clock.now();
        let mut model = shared.model();
        let m = model_rec(&mut model, &c, bm, Role::Editor, false)?;
        m.deleted = true;
        m.touch(now, c.user);
        Ok(no_content())
    })())
}

/// `POST .../block-models/{bm}?deleted=false`: restores a deleted model (202).
pub(super) async fn restore(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm)): P3,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (c, bm) = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let q = Query::parse(raw.as_deref());
        if q.bool("deleted").map_err(|e| invalid("deleted", e))? != Some(false) {
            return Err(invalid(
                "deleted",
                "only deleted=false (restore) is supported",
            ));
        }
        let now = shared.clock.now();
        let mut model = shared.model();
        check_role(&model, &c, Role::Editor)?;
        let live = model
            .services
            .get::<BlockModelsState>()
            .and_then(|s| s.models.get(&bm))
            .is_some_and(|m| !m.deleted && m.org == c.org && Some(m.ws) == c.ws);
        if live {
            return Err(conflict(format!("Block model {bm} is not deleted.")));
        }
        let (org_id, ws_id, name) = {
            let m = model_rec(&mut model, &c, bm, Role::Editor, true)?;
            (m.org, m.ws, m.name.clone())
        };
        if name_taken(&model, org_id, ws_id, &name, Some(bm)) {
            return Err(conflict(format!(
                "A block model named '{name}' already exists."
            )));
        }
        let m = model_rec(&mut model, &c, bm, Role::Editor, true)?;
        m.deleted = false;
        m.touch(now, c.user);
        let m = m.clone();
        Ok((StatusCode::ACCEPTED, axum::Json(model_json(&model, &m))).into_response())
    })())
}

/// `GET .../block-models/{bm}/versions[?offset&limit]`, newest first.
pub(super) async fn versions(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm)): P3,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (c, bm) = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let (offset, limit) = page(&Query::parse(raw.as_deref()))?;
        let mut model = shared.model();
        let m = model_rec(&mut model, &c, bm, Role::Viewer, false)?.clone();
        let results: Vec<Value> = m
            .versions
            .iter()
            .rev()
            .skip(offset)
            .take(limit)
            .map(|v| version_json(&model, &m, v, false))
            .collect();
        let mut body = page_json(results, m.versions.len(), offset, limit);
        let used: Vec<Value> = units()
            .as_array()
            .into_iter()
            .flatten()
            .filter(|u| {
                m.versions.iter().any(|v| {
                    v.columns
                        .iter()
                        .any(|c| c.unit_id.as_deref() == u["unit_id"].as_str())
                })
            })
            .cloned()
            .collect();
        body["referenced_units"] = Value::Array(used);
        Ok(axum::Json(body).into_response())
    })())
}

/// `GET .../block-models/{bm}/versions/{version_uuid}[?include_changes]`.
pub(super) async fn version(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm, version)): Path<(String, String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (c, bm) = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let version = parse_uuid(S, "version_id", &version)?;
        let q = Query::parse(raw.as_deref());
        let changes = q
            .bool("include_changes")
            .map_err(|e| invalid("include_changes", e))?;
        let mut model = shared.model();
        let m = model_rec(&mut model, &c, bm, Role::Viewer, false)?.clone();
        let v = m
            .version(version)
            .ok_or_else(|| super::common::not_found("Version", version))?;
        Ok(axum::Json(version_json(&model, &m, v, changes.unwrap_or(true))).into_response())
    })())
}

/// `GET /blockmodel/orgs/{org}/units`.
pub(super) async fn list_units(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond((|| -> R {
        ctx(&shared, &headers, &org, None)?;
        Ok(axum::Json(units()).into_response())
    })())
}
