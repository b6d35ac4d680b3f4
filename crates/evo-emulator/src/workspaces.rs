//! The Workspaces API under `/workspace`.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::{TimeFilter, format_workspace_time};
use crate::http_util::{ApiError, Query, Service, authenticate, link, no_content, parse_uuid};
use crate::state::{Invitation, Model, Org, Role, Shared, User, Workspace};

const S: Service = Service::Workspace;
type R = Result<Response, ApiError>;

/// The routes of the Workspaces API.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/workspace/health_check", get(health_check))
        .route(
            "/workspace/evo/identity/v2/discovery",
            get(crate::discovery::discovery),
        )
        .route(
            "/workspace/orgs/{org}/workspaces",
            get(list_workspaces).post(create_workspace),
        )
        .route(
            "/workspace/orgs/{org}/workspaces/summary",
            get(list_summary),
        )
        .route(
            "/workspace/orgs/{org}/workspaces/{ws}",
            get(get_workspace)
                .patch(update_workspace)
                .delete(delete_workspace)
                .post(restore_workspace),
        )
        .route(
            "/workspace/orgs/{org}/workspaces/{ws}/current-user-role",
            get(current_user_role),
        )
        .route(
            "/workspace/orgs/{org}/workspaces/{ws}/users",
            get(list_user_roles).post(assign_user_role),
        )
        .route(
            "/workspace/orgs/{org}/workspaces/{ws}/users/{user}",
            delete(delete_user_role),
        )
        .route(
            "/workspace/orgs/{org}/workspaces/{ws}/thumbnail",
            get(get_thumbnail)
                .put(put_thumbnail)
                .delete(delete_thumbnail),
        )
        .route(
            "/workspace/orgs/{org}/members/users",
            get(list_members).post(add_members),
        )
        .route(
            "/workspace/orgs/{org}/members",
            get(list_members).post(add_members),
        )
        .route(
            "/workspace/orgs/{org}/members/users/{user}",
            patch(update_member).delete(remove_member),
        )
        .route(
            "/workspace/orgs/{org}/members/{user}",
            patch(update_member).delete(remove_member),
        )
        .route(
            "/workspace/orgs/{org}/members/invitations",
            get(list_invitations),
        )
        .route(
            "/workspace/orgs/{org}/members/invitations/{inv}",
            delete(delete_invitation),
        )
        .route(
            "/workspace/orgs/{org}/members/roles",
            get(list_instance_roles),
        )
}

fn respond(r: R) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /{service}/health_check`, shared by every service.
pub(crate) async fn health_check(RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw.as_deref());
    let mut body = json!({"version": env!("CARGO_PKG_VERSION"), "status": "pass"});
    if q.bool("full").ok().flatten() == Some(true) {
        body["dependencies"] = json!({"storage": "pass", "identity": "pass"});
    }
    axum::Json(body).into_response()
}

fn user_json(model: &Model, id: Uuid) -> Value {
    match model.user(id) {
        Some(u) => json!({"id": u.id, "name": u.name, "email": u.email}),
        None => json!({"id": id, "name": null, "email": null}),
    }
}

fn org_not_found(org: Uuid) -> ApiError {
    ApiError::new(
        S,
        404,
        "not-found",
        "Not Found.",
        format!("Organization {org} was not found."),
    )
}

fn ws_not_found(ws: Uuid) -> ApiError {
    ApiError::new(
        S,
        404,
        "not-found",
        "Not Found.",
        format!("Workspace {ws} was not found."),
    )
}

fn ws_gone(ws: Uuid) -> ApiError {
    ApiError::new(
        S,
        410,
        "gone",
        "Gone.",
        format!("Workspace {ws} has been deleted."),
    )
}

fn self_link(shared: &Shared, org: Uuid, ws: Uuid) -> String {
    link(
        shared.hub(),
        &format!("/workspace/orgs/{org}/workspaces/{ws}"),
        &[],
    )
}

fn ws_json(shared: &Shared, model: &Model, org: Uuid, ws: &Workspace, user: Uuid) -> Value {
    json!({
        "id": ws.id,
        "name": ws.name,
        "description": ws.description,
        "current_user_role": ws.role_of(user).map(Role::as_str),
        "bounding_box": ws.bounding_box,
        "created_at": format_workspace_time(ws.created_at),
        "updated_at": format_workspace_time(ws.updated_at),
        "created_by": user_json(model, ws.created_by),
        "updated_by": user_json(model, ws.updated_by),
        "ml_enabled": ws.ml_enabled,
        "default_coordinate_system": ws.default_coordinate_system,
        "labels": ws.labels,
        "self_link": self_link(shared, org, ws.id),
    })
}

fn parse_ids(org: &str, ws: Option<&str>) -> Result<(Uuid, Option<Uuid>), ApiError> {
    let org = parse_uuid(S, "org_id", org)?;
    let ws = ws.map(|w| parse_uuid(S, "workspace_id", w)).transpose()?;
    Ok((org, ws))
}

fn org_mut(model: &mut Model, org: Uuid) -> Result<&mut Org, ApiError> {
    model.org_mut(org).ok_or_else(|| org_not_found(org))
}

/// The workspace, checked for existence, deletion and the caller's role.
fn ws_mut(
    model: &mut Model,
    org: Uuid,
    ws: Uuid,
    user: Uuid,
    min_role: Role,
    allow_deleted: bool,
) -> Result<&mut Workspace, ApiError> {
    let o = org_mut(model, org)?;
    let w = o
        .workspaces
        .iter_mut()
        .find(|w| w.id == ws)
        .ok_or_else(|| ws_not_found(ws))?;
    if w.deleted && !allow_deleted {
        return Err(ws_gone(ws));
    }
    let role = w.role_of(user);
    if role.is_none_or(|r| r < min_role) {
        let permitted: Vec<&str> = [Role::Viewer, Role::Editor, Role::Owner]
            .into_iter()
            .filter(|r| *r >= min_role)
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

// ---------- validation ----------

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request(
            S,
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(ApiError::bad_request(
            S,
            format!("The request body is not valid JSON: {e}"),
        )),
    }
}

fn validate_name(v: &Value, errs: &mut Vec<(String, String)>) -> Option<String> {
    match v.as_str() {
        Some(s) if !s.trim().is_empty() && s.chars().count() <= 60 => Some(s.to_owned()),
        Some(_) => {
            errs.push(("name".into(), "must be 1 to 60 characters".into()));
            None
        }
        None => {
            errs.push(("name".into(), "must be a string".into()));
            None
        }
    }
}

fn validate_string(name: &str, v: &Value, errs: &mut Vec<(String, String)>) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.clone()),
        _ => {
            errs.push((name.into(), "must be a string".into()));
            None
        }
    }
}

fn validate_labels(v: &Value, errs: &mut Vec<(String, String)>) -> Option<Vec<String>> {
    match v {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => {
            let mut out = Vec::new();
            if items.len() > 20 {
                errs.push(("labels".into(), "at most 20 labels".into()));
                return None;
            }
            for i in items {
                match i.as_str() {
                    Some(s) if !s.is_empty() && s.chars().count() <= 100 => out.push(s.to_owned()),
                    _ => {
                        errs.push((
                            "labels".into(),
                            "each label must be a string of 1 to 100 characters".into(),
                        ));
                        return None;
                    }
                }
            }
            Some(out)
        }
        _ => {
            errs.push(("labels".into(), "must be a list of strings".into()));
            None
        }
    }
}

fn validate_bbox(v: &Value, errs: &mut Vec<(String, String)>) -> Option<Value> {
    if v.is_null() {
        return Some(Value::Null);
    }
    let fail = |errs: &mut Vec<(String, String)>, why: &str| {
        errs.push(("bounding_box".into(), why.into()));
        None
    };
    if v.get("type").and_then(Value::as_str) != Some("Polygon") {
        return fail(errs, "type must be Polygon");
    }
    let Some(rings) = v.get("coordinates").and_then(Value::as_array) else {
        return fail(errs, "coordinates must be a list of rings");
    };
    let Some(ring) = rings
        .first()
        .and_then(Value::as_array)
        .filter(|_| rings.len() == 1)
    else {
        return fail(errs, "coordinates must hold exactly one ring");
    };
    if ring.len() != 5 {
        return fail(errs, "the ring must have 5 positions");
    }
    let mut pts = Vec::new();
    for p in ring {
        let Some(pair) = p.as_array().filter(|a| a.len() == 2) else {
            return fail(errs, "each position must be [longitude, latitude]");
        };
        let (Some(lon), Some(lat)) = (pair[0].as_f64(), pair[1].as_f64()) else {
            return fail(errs, "positions must be numbers");
        };
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return fail(
                errs,
                "longitude must be within [-180, 180] and latitude within [-90, 90]",
            );
        }
        pts.push((lon, lat));
    }
    if pts[0] != pts[4] {
        return fail(
            errs,
            "the ring must be closed (first position == last position)",
        );
    }
    Some(json!({"type": "Polygon", "coordinates": v["coordinates"].clone()}))
}

fn name_taken(org: &Org, name: &str, except: Option<Uuid>) -> bool {
    org.workspaces
        .iter()
        .any(|w| !w.deleted && w.name == name && Some(w.id) != except)
}

fn conflict(name: &str) -> ApiError {
    ApiError::new(
        S,
        409,
        "already-exists",
        "Conflict.",
        format!("A workspace named '{name}' already exists."),
    )
}

// ---------- workspaces ----------

async fn create_workspace(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let user = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, _) = parse_ids(&org, None)?;
        let body = parse_body(&body)?;
        let mut errs = Vec::new();
        let name = match body.get("name") {
            Some(v) => validate_name(v, &mut errs),
            None => {
                errs.push(("name".into(), "field required".into()));
                None
            }
        };
        let description = body.get("description").map_or(Some(String::new()), |v| {
            validate_string("description", v, &mut errs)
        });
        let dcs = body
            .get("default_coordinate_system")
            .map_or(Some(String::new()), |v| {
                validate_string("default_coordinate_system", v, &mut errs)
            });
        let bbox = body
            .get("bounding_box")
            .map_or(Some(Value::Null), |v| validate_bbox(v, &mut errs));
        let labels = body
            .get("labels")
            .map_or(Some(Vec::new()), |v| validate_labels(v, &mut errs));
        let (Some(name), Some(description), Some(dcs), Some(bbox), Some(labels)) =
            (name, description, dcs, bbox, labels)
        else {
            return Err(ApiError::validation(S, errs));
        };
        let now = shared.clock.now();
        let mut model = shared.model();
        let o = org_mut(&mut model, org)?;
        if name_taken(o, &name, None) {
            return Err(conflict(&name));
        }
        let ws = Workspace {
            id: Uuid::new_v4(),
            name,
            description,
            default_coordinate_system: dcs,
            bounding_box: bbox,
            labels,
            ml_enabled: false,
            created_at: now,
            created_by: user,
            updated_at: now,
            updated_by: user,
            deleted: false,
            roles: vec![(user, Role::Owner)],
            thumbnail: None,
            files: Default::default(),
        };
        o.workspaces.push(ws.clone());
        let body = ws_json(&shared, &model, org, &ws, user);
        Ok((StatusCode::CREATED, axum::Json(body)).into_response())
    })())
}

async fn get_workspace(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let user = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, ws) = parse_ids(&org, Some(&ws))?;
        let ws = ws.unwrap_or_default();
        let q = Query::parse(raw.as_deref());
        let deleted = q
            .bool("deleted")
            .map_err(|e| ApiError::validation(S, vec![("deleted".into(), e)]))?;
        let mut model = shared.model();
        let w = ws_mut(
            &mut model,
            org,
            ws,
            user,
            Role::Viewer,
            deleted == Some(true),
        )?
        .clone();
        Ok(axum::Json(ws_json(&shared, &model, org, &w, user)).into_response())
    })())
}

async fn update_workspace(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let user = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, ws) = parse_ids(&org, Some(&ws))?;
        let ws = ws.unwrap_or_default();
        let body = parse_body(&body)?;
        let mut errs = Vec::new();
        let name = body.get("name").map(|v| validate_name(v, &mut errs));
        let description = body
            .get("description")
            .map(|v| validate_string("description", v, &mut errs));
        let dcs = body
            .get("default_coordinate_system")
            .map(|v| validate_string("default_coordinate_system", v, &mut errs));
        let bbox = body
            .get("bounding_box")
            .map(|v| validate_bbox(v, &mut errs));
        let labels = body.get("labels").map(|v| validate_labels(v, &mut errs));
        if !errs.is_empty() {
            return Err(ApiError::validation(S, errs));
        }
        let now = shared.clock.now();
        let mut model = shared.model();
        if let Some(Some(n)) = &name {
            let o = org_mut(&mut model, org)?;
            if name_taken(o, n, Some(ws)) {
                return Err(conflict(n));
            }
        }
        let w = ws_mut(&mut model, org, ws, user, Role::Editor, false)?;
        if let Some(Some(n)) = name {
            w.name = n;
        }
        if let Some(Some(d)) = description {
            w.description = d;
        }
        if let Some(Some(d)) = dcs {
            w.default_coordinate_system = d;
        }
        if let Some(Some(b)) = bbox {
            w.bounding_box = b;
        }
        if let Some(Some(l)) = labels {
            w.labels = l;
        }
        w.updated_at = now;
        w.updated_by = user;
        let w = w.clone();
        Ok(axum::Json(ws_json(&shared, &model, org, &w, user)).into_response())
    })())
}

async fn delete_workspace(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let user = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, ws) = parse_ids(&org, Some(&ws))?;
        let now = shared.clock.now();
        let mut model = shared.model();
        let w = ws_mut(
            &mut model,
            org,
            ws.unwrap_or_default(),
            user,
            Role::Owner,
            false,
        )?;
        w.deleted = true;
        w.updated_at = now;
        w.updated_by = user;
        Ok(no_content())
    })())
}

async fn restore_workspace(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let user = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, ws) = parse_ids(&org, Some(&ws))?;
        let ws = ws.unwrap_or_default();
        let q = Query::parse(raw.as_deref());
        match q.bool("deleted") {
            Ok(Some(false)) => {}
            Ok(_) => {
                return Err(ApiError::bad_request(
                    S,
                    "Only ?deleted=false (restore) is supported on POST.",
                ));
            }
            Err(e) => return Err(ApiError::validation(S, vec![("deleted".into(), e)])),
        }
        let now = shared.clock.now();
        let mut model = shared.model();
        let name = ws_mut(&mut model, org, ws, user, Role::Owner, true)?
            .name
            .clone();
        if name_taken(org_mut(&mut model, org)?, &name, Some(ws)) {
            return Err(conflict(&name));
        }
        let w = ws_mut(&mut model, org, ws, user, Role::Owner, true)?;
        if w.deleted {
            w.deleted = false;
            w.updated_at = now;
            w.updated_by = user;
        }
        Ok(no_content())
    })())
}

/// Parses `order_by` (`asc:name,desc:updated_at`) and `sort` (`name,-created_at`).
fn sort_keys(q: &Query) -> Result<Vec<(String, bool)>, ApiError> {
    let mut keys = Vec::new();
    let fields = ["name", "created_at", "updated_at", "user_role"];
    for item in q.all("order_by") {
        let (desc, field) = match item.split_once(':') {
            Some(("asc", f)) => (false, f),
            Some(("desc", f)) => (true, f),
            Some(_) => {
                return Err(ApiError::validation(
                    S,
                    vec![("order_by".into(), format!("bad item '{item}'"))],
                ));
            }
            None => (false, item),
        };
        if !fields.contains(&field) {
            return Err(ApiError::validation(
                S,
                vec![("order_by".into(), format!("unknown field '{field}'"))],
            ));
        }
        keys.push((field.to_owned(), desc));
    }
    for item in q.all("sort") {
        let (desc, field) = match item.strip_prefix('-') {
            Some(f) => (true, f),
            None => (false, item),
        };
        if !fields.contains(&field) {
            return Err(ApiError::validation(
                S,
                vec![("sort".into(), format!("unknown field '{field}'"))],
            ));
        }
        keys.push((field.to_owned(), desc));
    }
    Ok(keys)
}

fn time_filters(q: &Query, name: &str) -> Result<Vec<TimeFilter>, ApiError> {
    q.all_raw(name)
        .into_iter()
        .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            TimeFilter::parse(&v).ok_or_else(|| {
                ApiError::validation(
                    S,
                    vec![(name.to_owned(), format!("'{v}' is not [op:]ISO-8601"))],
                )
            })
        })
        .collect()
}

/// The workspaces a list request selects, filtered and sorted.
fn select_workspaces(
    model: &Model,
    org: Uuid,
    user: Uuid,
    q: &Query,
) -> Result<Vec<Workspace>, ApiError> {
    let o = model.org(org).ok_or_else(|| org_not_found(org))?;
    let inval = |n: &str, e: String| ApiError::validation(S, vec![(n.to_owned(), e)]);
    let deleted = q
        .bool("deleted")
        .map_err(|e| inval("deleted", e))?
        .unwrap_or(false);
    let created_by = q.uuids("created_by").map_err(|e| inval("created_by", e))?;
    let user_ids = q.uuids("user_id").map_err(|e| inval("user_id", e))?;
    let created_at = time_filters(q, "created_at")?;
    let updated_at = time_filters(q, "updated_at")?;
    let name = q.get("name");
    let keys = sort_keys(q)?;
    let mut out: Vec<Workspace> = o
        .workspaces
        .iter()
        .filter(|w| w.role_of(user).is_some())
        .filter(|w| deleted || !w.deleted)
        .filter(|w| created_by.is_empty() || created_by.contains(&w.created_by))
        .filter(|w| user_ids.is_empty() || user_ids.iter().any(|u| w.role_of(*u).is_some()))
        .filter(|w| created_at.iter().all(|f| f.matches(w.created_at)))
        .filter(|w| updated_at.iter().all(|f| f.matches(w.updated_at)))
        .filter(|w| match name {
            None => true,
            Some(n) => match n.split_once(':') {
                Some(("eq", v)) => w.name == v,
                Some(("like" | "ilike", v)) => w
                    .name
                    .to_lowercase()
                    .contains(&v.trim_matches(|c| c == '*' || c == '%').to_lowercase()),
                _ => w.name == n,
            },
        })
        .cloned()
        .collect();
    out.sort_by(|a, b| {
        for (field, desc) in &keys {
            let ord = match field.as_str() {
                "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
                "created_at" => a.created_at.cmp(&b.created_at),
                "updated_at" => a.updated_at.cmp(&b.updated_at),
                _ => a.role_of(user).cmp(&b.role_of(user)),
            };
            let ord = if *desc { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id))
    });
    Ok(out)
}

/// Builds the `links` object of a page from the number of items in it.
pub(crate) type LinkMaker = Box<dyn Fn(usize) -> Value>;

/// Paging with `first/last/next/previous/count/total` (or without `last/total`).
pub(crate) fn paging(
    shared: &Shared,
    path: &str,
    q: &Query,
    total: usize,
    with_total: bool,
) -> Result<(usize, usize, LinkMaker), ApiError> {
    let inval = |n: &str, e: String| ApiError::validation(S, vec![(n.to_owned(), e)]);
    let limit_param = q.u64("limit").map_err(|e| inval("limit", e))?;
    let offset = q
        .u64("offset")
        .map_err(|e| inval("offset", e))?
        .unwrap_or(0) as usize;
    if limit_param == Some(0) {
        return Err(inval("limit", "must be at least 1".into()));
    }
    let limit = limit_param.map(|l| l as usize);
    let rest = q.without(&["limit", "offset"]);
    let hub = shared.hub().clone();
    let path = path.to_owned();
    let url = move |o: usize, l: Option<usize>| {
        let mut pairs = rest.clone();
        if let Some(l) = l {
            pairs.push(("limit".into(), l.to_string()));
            pairs.push(("offset".into(), o.to_string()));
        }
        link(&hub, &path, &pairs)
    };
    let make = move |count: usize| -> Value {
        let (next, prev, last) = match limit {
            None => (Value::Null, Value::Null, url(0, None)),
            Some(l) => {
                let next = if offset + count < total {
                    json!(url(offset + l, Some(l)))
                } else {
                    Value::Null
                };
                let prev = if offset > 0 {
                    json!(url(offset.saturating_sub(l), Some(l)))
                } else {
                    Value::Null
                };
                let last_off = if total == 0 { 0 } else { (total - 1) / l * l };
                (next, prev, url(last_off, Some(l)))
            }
        };
        let mut v = json!({
            "first": url(0, limit),
            "next": next,
            "previous": prev,
            "count": count,
        });
        if with_total {
            v["last"] = json!(last);
            v["total"] = json!(total);
        }
        v
    };
    Ok((offset, limit.unwrap_or(usize::MAX), Box::new(make)))
}

/// A `{links, results}` page of `items` (each rendered by `render`) with the paging links of
/// `path`: the one shape of every paged Workspaces API listing.
fn paged_json<I: ExactSizeIterator>(
    shared: &Shared,
    path: &str,
    q: &Query,
    items: I,
    with_total: bool,
    render: impl FnMut(I::Item) -> Value,
) -> Result<Response, ApiError> {
    let (offset, limit, links) = paging(shared, path, q, items.len(), with_total)?;
    let page: Vec<Value> = items.skip(offset).take(limit).map(render).collect();
    Ok(axum::Json(json!({"links": links(page.len()), "results": page})).into_response())
}

async fn list_workspaces(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    list_page(
        &shared,
        &org,
        &headers,
        raw.as_deref(),
        "workspaces",
        ws_json,
    )
}

async fn list_summary(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    list_page(
        &shared,
        &org,
        &headers,
        raw.as_deref(),
        "workspaces/summary",
        |_, _, _, w, _| json!({"id": w.id, "name": w.name}),
    )
}

/// One page of the workspaces of `org` the caller may see, each rendered by `item`, with the
/// paging links of `/workspace/orgs/{org}/{path}` (the full list and the summary share this).
fn list_page(
    shared: &Arc<Shared>,
    org: &str,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    path: &str,
    item: impl Fn(&Shared, &Model, Uuid, &Workspace, Uuid) -> Value,
) -> Response {
    respond((|| {
        let user = authenticate(shared, headers, S, "evo.workspace")?;
        let (org, _) = parse_ids(org, None)?;
        let q = Query::parse(raw_query);
        let model = shared.model();
        let all = select_workspaces(&model, org, user, &q)?;
        paged_json(
            shared,
            &format!("/workspace/orgs/{org}/{path}"),
            &q,
            all.iter(),
            true,
            |w| item(shared, &model, org, w, user),
        )
    })())
}

// ---------- roles ----------

async fn current_user_role(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let user = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, ws) = parse_ids(&org, Some(&ws))?;
        let mut model = shared.model();
        let w = ws_mut(
            &mut model,
            org,
            ws.unwrap_or_default(),
            user,
            Role::Viewer,
            false,
        )?;
        let role = w.role_of(user).map(Role::as_str);
        Ok(axum::Json(json!({"user_id": user, "role": role})).into_response())
    })())
}

async fn list_user_roles(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let user = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, ws) = parse_ids(&org, Some(&ws))?;
        let ws = ws.unwrap_or_default();
        let q = Query::parse(raw.as_deref());
        let filter = q
            .uuids("user_id")
            .map_err(|e| ApiError::validation(S, vec![("user_id".into(), e)]))?;
        let mut model = shared.model();
        let roles = ws_mut(&mut model, org, ws, user, Role::Viewer, false)?
            .roles
            .clone();
        let results: Vec<Value> = roles
            .iter()
            .filter(|(u, _)| filter.is_empty() || filter.contains(u))
            .map(|(u, r)| {
                let info = model.user(*u);
                json!({
                    "user_id": u,
                    "role": r.as_str(),
                    "email": info.map(|i| i.email.clone()),
                    "full_name": info.map(|i| i.name.clone()),
                })
            })
            .collect();
        let self_url = link(
            shared.hub(),
            &format!("/workspace/orgs/{org}/workspaces/{ws}/users"),
            &[],
        );
        Ok(axum::Json(json!({"links": {"self": self_url}, "results": results})).into_response())
    })())
}

async fn assign_user_role(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let user = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, ws) = parse_ids(&org, Some(&ws))?;
        let ws = ws.unwrap_or_default();
        let body = parse_body(&body)?;
        let role = body
            .get("role")
            .and_then(Value::as_str)
            .and_then(Role::parse);
        let Some(role) = role else {
            return Err(ApiError::validation(
                S,
                vec![("role".into(), "must be one of owner, editor, viewer".into())],
            ));
        };
        let now = shared.clock.now();
        let mut model = shared.model();
        ws_mut(&mut model, org, ws, user, Role::Owner, false)?;
        let (target, by_email) = if let Some(id) = body.get("user_id") {
            let id = id
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| {
                    ApiError::validation(S, vec![("user_id".into(), "must be a UUID".into())])
                })?;
            if model.user(id).is_none() {
                model.users.push(User {
                    id,
                    name: String::new(),
                    email: String::new(),
                });
            }
            (id, None)
        } else if let Some(email) = body.get("email").and_then(Value::as_str) {
            let id = match model
                .users
                .iter()
                .find(|u| u.email.eq_ignore_ascii_case(email))
            {
                Some(u) => u.id,
                None => {
                    let id = Uuid::new_v4();
                    let name = email.split('@').next().unwrap_or(email).to_owned();
                    model.users.push(User {
                        id,
                        name,
                        email: email.to_owned(),
                    });
                    id
                }
            };
            (id, Some(email.to_owned()))
        } else {
            return Err(ApiError::validation(
                S,
                vec![("user_id".into(), "user_id or email is required".into())],
            ));
        };
        let w = ws_mut(&mut model, org, ws, user, Role::Owner, false)?;
        match w.roles.iter_mut().find(|(u, _)| *u == target) {
            Some(entry) => entry.1 = role,
            None => w.roles.push((target, role)),
        }
        w.updated_at = now;
        w.updated_by = user;
        let body = match by_email {
            Some(email) => json!({"email": email, "role": role.as_str()}),
            None => json!({"user_id": target, "role": role.as_str()}),
        };
        Ok((StatusCode::CREATED, axum::Json(body)).into_response())
    })())
}

async fn delete_user_role(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, target)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let user = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, ws) = parse_ids(&org, Some(&ws))?;
        let target = parse_uuid(S, "user_id", &target)?;
        let now = shared.clock.now();
        let mut model = shared.model();
        let w = ws_mut(
            &mut model,
            org,
            ws.unwrap_or_default(),
            user,
            Role::Owner,
            false,
        )?;
        let before = w.roles.len();
        w.roles.retain(|(u, _)| *u != target);
        if w.roles.len() == before {
            return Err(ApiError::new(
                S,
                404,
                "not-found",
                "Not Found.",
                format!("User {target} has no role here."),
            ));
        }
        w.updated_at = now;
        w.updated_by = user;
        Ok(no_content())
    })())
}

// ---------- thumbnails ----------

const THUMBNAIL_LIMIT: usize = 10 * 1024 * 1024;

async fn get_thumbnail(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let user = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, ws) = parse_ids(&org, Some(&ws))?;
        let mut model = shared.model();
        let w = ws_mut(
            &mut model,
            org,
            ws.unwrap_or_default(),
            user,
            Role::Viewer,
            false,
        )?;
        let Some((bytes, ctype)) = w.thumbnail.clone() else {
            return Err(ApiError::new(
                S,
                404,
                "not-found",
                "Not Found.",
                "This workspace has no thumbnail.",
            ));
        };
        let mut resp = Response::new(Body::from(bytes));
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        Ok(resp)
    })())
}

async fn put_thumbnail(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = axum::body::to_bytes(body, THUMBNAIL_LIMIT + 1).await;
    respond((|| {
        let user = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, ws) = parse_ids(&org, Some(&ws))?;
        let bytes = match bytes {
            Ok(b) if b.len() <= THUMBNAIL_LIMIT => b,
            _ => {
                return Err(ApiError::new(
                    S,
                    413,
                    "thumbnail/too-large",
                    "Payload Too Large.",
                    "Thumbnails are limited to 10 MB.",
                ));
            }
        };
        let ctype = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            "image/png"
        } else {
            return Err(ApiError::new(
                S,
                400,
                "thumbnail/invalid-image",
                "Bad Request.",
                "The thumbnail must be a PNG or JPEG image.",
            ));
        };
        let now = shared.clock.now();
        let mut model = shared.model();
        let w = ws_mut(
            &mut model,
            org,
            ws.unwrap_or_default(),
            user,
            Role::Editor,
            false,
        )?;
        w.thumbnail = Some((bytes.to_vec(), ctype));
        w.updated_at = now;
        w.updated_by = user;
        Ok(no_content())
    })())
}

async fn delete_thumbnail(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let user = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, ws) = parse_ids(&org, Some(&ws))?;
        let now = shared.clock.now();
        let mut model = shared.model();
        let w = ws_mut(
            &mut model,
            org,
            ws.unwrap_or_default(),
            user,
            Role::Editor,
            false,
        )?;
        if w.thumbnail.take().is_some() {
            w.updated_at = now;
            w.updated_by = user;
        }
        Ok(no_content())
    })())
}

// ---------- instance members ----------

fn role_json(o: &Org, id: Uuid) -> Value {
    match o.instance_roles.iter().find(|r| r.id == id) {
        Some(r) => json!({"id": r.id, "name": r.name, "description": r.description}),
        None => json!({"id": id, "name": "", "description": ""}),
    }
}

fn member_json(model: &Model, o: &Org, id: Uuid, roles: &[Uuid]) -> Value {
    let u = model.user(id);
    json!({
        "id": id,
        "email": u.map(|u| u.email.clone()),
        "full_name": u.map(|u| u.name.clone()),
        "roles": roles.iter().map(|r| role_json(o, *r)).collect::<Vec<_>>(),
    })
}

fn invitation_json(o: &Org, i: &Invitation) -> Value {
    json!({
        "id": i.id,
        "email": i.email,
        "invited_by_email": i.invited_by_email,
        "status": "Pending",
        "created_date": format_workspace_time(i.created),
        "expiration_date": format_workspace_time(i.created + time::Duration::days(14)),
        "roles": i.roles.iter().map(|r| role_json(o, *r)).collect::<Vec<_>>(),
    })
}

async fn list_members(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, _) = parse_ids(&org, None)?;
        let q = Query::parse(raw.as_deref());
        let model = shared.model();
        let o = model.org(org).ok_or_else(|| org_not_found(org))?;
        paged_json(
            &shared,
            &format!("/workspace/orgs/{org}/members/users"),
            &q,
            o.members.iter(),
            false,
            |(id, roles)| member_json(&model, o, *id, roles),
        )
    })())
}

fn role_ids(o: &Org, v: Option<&Value>) -> Result<Vec<Uuid>, ApiError> {
    let bad = || {
        ApiError::validation(
            S,
            vec![("roles".into(), "must be a list of instance role ids".into())],
        )
    };
    let arr = v.and_then(Value::as_array).ok_or_else(bad)?;
    arr.iter()
        .map(|r| {
            r.as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .filter(|id| o.instance_roles.iter().any(|ir| ir.id == *id))
                .ok_or_else(bad)
        })
        .collect()
}

async fn add_members(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let caller = authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, _) = parse_ids(&org, None)?;
        let body = parse_body(&body)?;
        let Some(users) = body.get("users").and_then(Value::as_array) else {
            return Err(ApiError::validation(
                S,
                vec![("users".into(), "field required".into())],
            ));
        };
        let now = shared.clock.now();
        let mut model = shared.model();
        let inviter = model
            .user(caller)
            .map(|u| u.email.clone())
            .unwrap_or_default();
        let mut members = Vec::new();
        let mut invitations = Vec::new();
        for entry in users {
            let Some(email) = entry.get("email").and_then(Value::as_str) else {
                return Err(ApiError::validation(
                    S,
                    vec![("users.email".into(), "field required".into())],
                ));
            };
            let roles = role_ids(
                model.org(org).ok_or_else(|| org_not_found(org))?,
                entry.get("roles"),
            )?;
            let known = model
                .users
                .iter()
                .find(|u| u.email.eq_ignore_ascii_case(email))
                .map(|u| u.id);
            let o = model.org_mut(org).ok_or_else(|| org_not_found(org))?;
            match known {
                Some(id) => {
                    match o.members.iter_mut().find(|(m, _)| *m == id) {
                        Some(m) => m.1 = roles.clone(),
                        None => o.members.push((id, roles.clone())),
                    }
                    members.push((id, roles));
                }
                None => {
                    let inv = Invitation {
                        id: Uuid::new_v4(),
                        email: email.to_owned(),
                        invited_by_email: inviter.clone(),
                        created: now,
                        roles,
                    };
                    o.invitations.push(inv.clone());
                    invitations.push(inv);
                }
            }
        }
        let o = model.org(org).ok_or_else(|| org_not_found(org))?;
        let body = json!({
            "invitations": invitations.iter().map(|i| invitation_json(o, i)).collect::<Vec<_>>(),
            "members": members.iter().map(|(id, r)| member_json(&model, o, *id, r)).collect::<Vec<_>>(),
        });
        Ok((StatusCode::CREATED, axum::Json(body)).into_response())
    })())
}

async fn update_member(
    State(shared): State<Arc<Shared>>,
    Path((org, user)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, _) = parse_ids(&org, None)?;
        let user = parse_uuid(S, "user_id", &user)?;
        let body = parse_body(&body)?;
        let mut model = shared.model();
        let o = org_mut(&mut model, org)?;
        let roles = role_ids(o, body.get("roles"))?;
        let Some(m) = o.members.iter_mut().find(|(m, _)| *m == user) else {
            return Err(ApiError::new(
                S,
                404,
                "not-found",
                "Not Found.",
                format!("User {user} is not a member."),
            ));
        };
        m.1 = roles.clone();
        let o = model.org(org).ok_or_else(|| org_not_found(org))?;
        let body = json!({"id": user, "roles": roles.iter().map(|r| role_json(o, *r)).collect::<Vec<_>>()});
        Ok(axum::Json(body).into_response())
    })())
}

async fn remove_member(
    State(shared): State<Arc<Shared>>,
    Path((org, user)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, _) = parse_ids(&org, None)?;
        let user = parse_uuid(S, "user_id", &user)?;
        let mut model = shared.model();
        let o = org_mut(&mut model, org)?;
        let before = o.members.len();
        o.members.retain(|(m, _)| *m != user);
        if o.members.len() == before {
            return Err(ApiError::new(
                S,
                404,
                "not-found",
                "Not Found.",
                format!("User {user} is not a member."),
            ));
        }
        Ok(no_content())
    })())
}

async fn list_invitations(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, _) = parse_ids(&org, None)?;
        let q = Query::parse(raw.as_deref());
        let model = shared.model();
        let o = model.org(org).ok_or_else(|| org_not_found(org))?;
        paged_json(
            &shared,
            &format!("/workspace/orgs/{org}/members/invitations"),
            &q,
            o.invitations.iter(),
            false,
            |i| invitation_json(o, i),
        )
    })())
}

async fn delete_invitation(
    State(shared): State<Arc<Shared>>,
    Path((org, inv)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, _) = parse_ids(&org, None)?;
        let inv = parse_uuid(S, "invitation_id", &inv)?;
        let mut model = shared.model();
        let o = org_mut(&mut model, org)?;
        let before = o.invitations.len();
        o.invitations.retain(|i| i.id != inv);
        if o.invitations.len() == before {
            return Err(ApiError::new(
                S,
                404,
                "not-found",
                "Not Found.",
                format!("Invitation {inv} was not found."),
            ));
        }
        Ok(no_content())
    })())
}

async fn list_instance_roles(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        authenticate(&shared, &headers, S, "evo.workspace")?;
        let (org, _) = parse_ids(&org, None)?;
        let model = shared.model();
        let o = model.org(org).ok_or_else(|| org_not_found(org))?;
        let roles: Vec<Value> = o
            .instance_roles
            .iter()
            .map(|r| json!({"id": r.id, "name": r.name, "description": r.description, "permissions": [format!("{} permission", r.description)]}))
            .collect();
        Ok(axum::Json(json!({"roles": roles})).into_response())
    })())
}

/// Used by the unit tests and by seeding: a fresh workspace owned by `owner`.
pub(crate) fn new_workspace(
    id: Uuid,
    name: String,
    description: String,
    labels: Vec<String>,
    owner: Uuid,
    now: OffsetDateTime,
) -> Workspace {
    Workspace {
        id,
        name,
        description,
        default_coordinate_system: String::new(),
        bounding_box: Value::Null,
        labels,
        ml_enabled: false,
        created_at: now,
        created_by: owner,
        updated_at: now,
        updated_by: owner,
        deleted: false,
        roles: vec![(owner, Role::Owner)],
        thumbnail: None,
        files: Default::default(),
    }
}
