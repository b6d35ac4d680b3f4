//! The Colormap API's handlers and the checks it makes on colormaps and associations.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::state::{ColormapsState, StoredAssociation, StoredColormap, WorkspaceColormaps};
use crate::clock::format_naive_time;
use crate::http_util::{ApiError, Ctx, Service, WorkspaceApi, live_workspace, parse_uuid, respond};
use crate::state::{Model, Role, Shared};

const S: Service = Service::Colormaps;

/// The most colors of a continuous or discrete colormap.
const MAX_COLORS: usize = 1024;
/// The most colors of a category colormap.
const MAX_CATEGORY_COLORS: usize = 16_384;
/// The most associations in one batch.
const MAX_BATCH: usize = 128;

/// How the Colormap API reads the context of a request.
const API: WorkspaceApi = WorkspaceApi {
    service: S,
    scope: "evo.object",
    org_param: "org_id",
};

fn not_found(what: &str, detail: String) -> ApiError {
    ApiError::new(S, 404, &format!("{what}/not-found"), "Not Found.", detail)
}

/// The colormaps of the workspace of `c`, once it is known to exist and the caller's role is
/// at least `min`.
fn workspace<'a>(
    model: &'a mut Model,
    c: &Ctx,
    min: Role,
) -> Result<&'a mut WorkspaceColormaps, ApiError> {
    live_workspace(model, S, c.org, c.ws, c.user, min, || {
        not_found("workspace", format!("Workspace {} not found.", c.ws))
    })?;
    Ok(model
        .services
        .get_mut::<ColormapsState>()
        .workspaces
        .entry(c.ws)
        .or_default())
}

fn base(shared: &Shared, c: &Ctx) -> String {
    format!(
        "{}colormap/orgs/{}/workspaces/{}",
        shared.hub(),
        c.org,
        c.ws
    )
}

fn colormap_json(shared: &Shared, c: &Ctx, m: &StoredColormap) -> Value {
    let mut v = Value::Object(m.fields.clone());
    v["id"] = json!(m.id);
    v["name"] = json!(m.name);
    v["schema"] = json!(m.kind);
    v["created_at"] = json!(format_naive_time(m.created_at));
    v["created_by"] = json!(m.created_by);
    v["modified_at"] = json!(format_naive_time(m.created_at));
    v["modified_by"] = json!(m.created_by);
    v["self_link"] = json!(format!("{}/colormaps/{}", base(shared, c), m.id));
    v
}

fn association_json(shared: &Shared, c: &Ctx, object: Uuid, a: &StoredAssociation) -> Value {
    let base = base(shared, c);
    json!({
        "id": a.id,
        "attribute_id": a.attribute_id,
        "colormap_id": a.colormap_id,
        "colormap_uri": format!("{base}/colormaps/{}", a.colormap_id),
        "workspace_id": c.ws,
        "created_at": format_naive_time(a.created_at),
        "created_by": a.created_by,
        "modified_at": format_naive_time(a.modified_at),
        "modified_by": a.modified_by,
        "self_link": format!("{base}/objects/{object}/associations/{}", a.id),
    })
}

fn json_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::validation(
            S,
            vec![("body".into(), "a JSON object is expected".into())],
        )),
    }
}

fn numbers(map: &Map<String, Value>, key: &str, bad: &mut Vec<(String, String)>) -> Vec<f64> {
    match map.get(key).and_then(Value::as_array) {
        Some(list) if list.iter().all(|v| v.as_f64().is_some_and(f64::is_finite)) => {
            list.iter().filter_map(Value::as_f64).collect()
        }
        _ => {
            bad.push((key.into(), "a list of finite numbers is required".into()));
            Vec::new()
        }
    }
}

fn ascending(key: &str, values: &[f64], bad: &mut Vec<(String, String)>) {
    if values.windows(2).any(|w| w[1] < w[0]) {
        bad.push((key.into(), "values must be in ascending order".into()));
    }
}

/// Checks a colormap request: its kind, name and the kind's fields. Returns the kind and the
/// fields to store.
fn check_colormap(
    map: &Map<String, Value>,
) -> Result<(&'static str, String, Map<String, Value>), ApiError> {
    let mut bad: Vec<(String, String)> = Vec::new();
    let name = match map.get("name").and_then(Value::as_str) {
        Some(n) if !n.trim().is_empty() => n.to_owned(),
        _ => {
            bad.push(("name".into(), "a non-empty name is required".into()));
            String::new()
        }
    };
    let kind = match map.get("dtype").and_then(Value::as_str) {
        Some("continuous") => "continuous",
        Some("discrete") => "discrete",
        Some("category") => "category",
        None if map.contains_key("attribute_controls") => "continuous",
        None if map.contains_key("end_points") => "discrete",
        None if map.contains_key("map") => "category",
        _ => {
            bad.push((
                "dtype".into(),
                "one of continuous, discrete, category".into(),
            ));
            return Err(ApiError::validation(S, bad));
        }
    };
    let colors = match map.get("colors").and_then(Value::as_array) {
        Some(list) => list,
        None => {
            bad.push(("colors".into(), "a list of colors is required".into()));
            return Err(ApiError::validation(S, bad));
        }
    };
    let (min, max) = match kind {
        "continuous" => (2, MAX_COLORS),
        "discrete" => (1, MAX_COLORS),
        _ => (1, MAX_CATEGORY_COLORS),
    };
    if colors.len() < min || colors.len() > max {
        bad.push((
            "colors".into(),
            format!("between {min} and {max} colors are required"),
        ));
    }
    let is_channel = |v: &Value| v.as_u64().is_some_and(|c| c <= 255);
    if let Some(i) = colors.iter().position(|c| {
        c.as_array()
            .is_none_or(|rgb| rgb.len() != 3 || !rgb.iter().all(is_channel))
    }) {
        bad.push((
            format!("colors[{i}]"),
            "a color is three integers in 0..=255".into(),
        ));
    }
    let mut fields = Map::new();
    fields.insert("colors".into(), Value::Array(colors.clone()));
    match kind {
        "continuous" => {
            let a = numbers(map, "attribute_controls", &mut bad);
            let g = numbers(map, "gradient_controls", &mut bad);
            if a.len() < 2 || g.len() < 2 {
                bad.push(("attribute_controls".into(), "at least 2 controls".into()));
            } else if a.len() != g.len() {
                bad.push((
                    "gradient_controls".into(),
                    "as many gradient controls as attribute controls".into(),
                ));
            }
            ascending("attribute_controls", &a, &mut bad);
            ascending("gradient_controls", &g, &mut bad);
            if g.iter().any(|g| !(0.0..=1.0).contains(g)) {
                bad.push(("gradient_controls".into(), "values lie in [0, 1]".into()));
            }
            fields.insert("attribute_controls".into(), json!(a));
            fields.insert("gradient_controls".into(), json!(g));
        }
        "discrete" => {
            let e = numbers(map, "end_points", &mut bad);
            let inclusive = match map.get("end_inclusive").and_then(Value::as_array) {
                Some(list) if list.iter().all(Value::is_boolean) => list.clone(),
                _ => {
                    bad.push(("end_inclusive".into(), "a list of booleans".into()));
                    Vec::new()
                }
            };
            if e.len() + 1 != colors.len() {
                bad.push((
                    "end_points".into(),
                    "one fewer end point than colors".into(),
                ));
            }
            if inclusive.len() != e.len() {
                bad.push(("end_inclusive".into(), "one flag per end point".into()));
            }
            ascending("end_points", &e, &mut bad);
            fields.insert("end_points".into(), json!(e));
            fields.insert("end_inclusive".into(), Value::Array(inclusive));
        }
        _ => {
            let names = match map.get("map").and_then(Value::as_array) {
                Some(list) if list.iter().all(Value::is_string) => list.clone(),
                _ => {
                    bad.push(("map".into(), "a list of category names".into()));
                    Vec::new()
                }
            };
            if names.len() != colors.len() {
                bad.push(("map".into(), "one category name per color".into()));
            }
            fields.insert("map".into(), Value::Array(names));
        }
    }
    if bad.is_empty() {
        Ok((kind, name, fields))
    } else {
        Err(ApiError::validation(S, bad))
    }
}

pub(super) async fn create_colormap(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let (kind, name, fields) = check_colormap(&json_body(&body)?)?;
        let now = shared.clock.now();
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Editor)?;
        let stored = StoredColormap {
            id: Uuid::new_v4(),
            name,
            kind,
            fields,
            created_at: now,
            created_by: c.user,
        };
        let answer = colormap_json(&shared, &c, &stored);
        w.colormaps.push(stored);
        Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
    })())
}

pub(super) async fn list_colormaps(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let list: Vec<Value> = w
            .colormaps
            .iter()
            .map(|m| colormap_json(&shared, &c, m))
            .collect();
        Ok(axum::Json(json!({ "colormaps": list })).into_response())
    })())
}

pub(super) async fn get_colormap(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (c, id) = API.item(&shared, &headers, (&org, &ws, &id), "colormap_id")?;
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let m = w
            .colormaps
            .iter()
            .find(|m| m.id == id)
            .ok_or_else(|| not_found("colormap", format!("Colormap {id} not found.")))?;
        Ok(axum::Json(colormap_json(&shared, &c, m)).into_response())
    })())
}

/// Checks one association request against the workspace's colormaps.
fn check_association(w: &WorkspaceColormaps, v: &Value) -> Result<(String, Uuid), ApiError> {
    let attribute = match v.get("attribute_id").and_then(Value::as_str) {
        Some(a) if !a.is_empty() => a.to_owned(),
        _ => {
            return Err(ApiError::validation(
                S,
                vec![("attribute_id".into(), "a non-empty string".into())],
            ));
        }
    };
    let colormap = v
        .get("colormap_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| {
            ApiError::validation(S, vec![("colormap_id".into(), "a colormap UUID".into())])
        })?;
    if !w.colormaps.iter().any(|m| m.id == colormap) {
        return Err(not_found(
            "colormap",
            format!("Colormap {colormap} not found."),
        ));
    }
    Ok((attribute, colormap))
}

/// Stores an association (replacing the colormap of an attribute already associated).
fn associate(
    w: &mut WorkspaceColormaps,
    c: &Ctx,
    object: Uuid,
    attribute: String,
    colormap: Uuid,
    now: OffsetDateTime,
) -> StoredAssociation {
    let list = w.associations.entry(object).or_default();
    if let Some(a) = list.iter_mut().find(|a| a.attribute_id == attribute) {
        a.colormap_id = colormap;
        a.modified_at = now;
        a.modified_by = c.user;
        return a.clone();
    }
    let a = StoredAssociation {
        id: Uuid::new_v4(),
        attribute_id: attribute,
        colormap_id: colormap,
        created_at: now,
        created_by: c.user,
        modified_at: now,
        modified_by: c.user,
    };
    list.push(a.clone());
    a
}

pub(super) async fn create_association(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, object)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let (c, object) = API.item(&shared, &headers, (&org, &ws, &object), "object_id")?;
        let request = Value::Object(json_body(&body)?);
        let now = shared.clock.now();
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Editor)?;
        let (attribute, colormap) = check_association(w, &request)?;
        let a = associate(w, &c, object, attribute, colormap, now);
        Ok(axum::Json(association_json(&shared, &c, object, &a)).into_response())
    })())
}

pub(super) async fn create_associations(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, object)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let (c, object) = API.item(&shared, &headers, (&org, &ws, &object), "object_id")?;
        let request = json_body(&body)?;
        let list = match request.get("associations").and_then(Value::as_array) {
            Some(list) if !list.is_empty() && list.len() <= MAX_BATCH => list.clone(),
            _ => {
                return Err(ApiError::validation(
                    S,
                    vec![(
                        "associations".into(),
                        format!("1 to {MAX_BATCH} associations"),
                    )],
                ));
            }
        };
        let now = shared.clock.now();
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Editor)?;
        // All or nothing: every item is checked before any is stored.
        let checked = list
            .iter()
            .map(|v| check_association(w, v))
            .collect::<Result<Vec<_>, _>>()?;
        let stored: Vec<Value> = checked
            .into_iter()
            .map(|(attribute, colormap)| {
                let a = associate(w, &c, object, attribute, colormap, now);
                association_json(&shared, &c, object, &a)
            })
            .collect();
        Ok(axum::Json(json!({ "associations": stored })).into_response())
    })())
}

pub(super) async fn list_associations(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, object)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (c, object) = API.item(&shared, &headers, (&org, &ws, &object), "object_id")?;
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let list: Vec<Value> = w
            .associations
            .get(&object)
            .map(|l| {
                l.iter()
                    .map(|a| association_json(&shared, &c, object, a))
                    .collect()
            })
            .unwrap_or_default();
        Ok(axum::Json(json!({ "associations": list })).into_response())
    })())
}

pub(super) async fn get_association(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, object, id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (c, object) = API.item(&shared, &headers, (&org, &ws, &object), "object_id")?;
        let id = parse_uuid(S, "association_id", &id)?;
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let a = w
            .associations
            .get(&object)
            .and_then(|l| l.iter().find(|a| a.id == id))
            .ok_or_else(|| {
                not_found(
                    "association",
                    format!("Association {id} of object {object} not found."),
                )
            })?;
        Ok(axum::Json(association_json(&shared, &c, object, a)).into_response())
    })())
}

pub(super) async fn workspace_metadata(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let objects: Map<String, Value> = w
            .associations
            .iter()
            .filter(|(_, list)| !list.is_empty())
            .map(|(object, list)| {
                let attributes: Map<String, Value> = list
                    .iter()
                    .map(|a| (a.attribute_id.clone(), json!(a.colormap_id)))
                    .collect();
                (
                    object.to_string(),
                    json!({ "attribute_colormaps": attributes }),
                )
            })
            .collect();
        Ok(
            axum::Json(json!({ "workspace_id": c.ws, "objects_metadata": objects }))
                .into_response(),
        )
    })())
}
