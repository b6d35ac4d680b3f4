//! Reading objects: get by id or path (at a version, with its versions, conditionally), chosen
//! versions of an object, the latest versions of many objects, and the stages.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::common::{
    API, Ctx, R, S, caller, invalid, json_body, normalize_path, object_json, object_not_found,
    respond, version_json, workspace,
};
use super::state::{ObjectRec, ObjectsState};
use crate::http_util::{ApiError, Query, parse_uuid};
use crate::state::{Role, Shared};

/// At most this many ids per latest-versions request.
const MAX_LATEST: usize = 500;
/// At most this many version ids per versions request.
const MAX_VERSIONS: usize = 100;

/// A version id as sent in `If-Match` / `If-None-Match` (quotes, as an ETag, are accepted).
pub(super) fn header_version(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    let v = headers.get(name)?.to_str().ok()?.trim();
    let v = v.strip_prefix("W/").unwrap_or(v);
    Some(v.trim_matches('"').to_owned())
}

fn get_common(shared: &Shared, c: &Ctx, o: &ObjectRec, q: &Query, headers: &HeaderMap) -> R {
    let include = q
        .flag("include_versions")
        .map_err(|e| invalid("include_versions", e))?;
    if header_version(headers, header::IF_NONE_MATCH)
        .is_some_and(|known| known == o.latest().version_id)
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let v = match q.get("version") {
        None => o.latest(),
        Some(id) => o.version(id).ok_or_else(|| {
            object_not_found(
                Some(o.id),
                &format!("Version {id} of this object does not exist."),
            )
        })?,
    };
    let model = shared.model();
    Ok(axum::Json(object_json(shared, &model, c, o, v, include)).into_response())
}

pub(super) async fn get_by_id(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let (c, id) = API.item(&shared, &headers, (&org, &ws, &id), "object_id")?;
        let q = Query::parse(raw.as_deref());
        // `deleted=true` asks for a deleted object; otherwise only live objects are found.
        let deleted = q.flag("deleted").map_err(|e| invalid("deleted", e))?;
        let o = {
            let mut model = shared.model();
            let w = workspace(&mut model, &c, Role::Viewer)?;
            w.objects
                .get(&id)
                .filter(|o| o.stamps.deleted_at.is_some() == deleted)
                .cloned()
                .ok_or_else(|| object_not_found(Some(id), "Object not found."))?
        };
        get_common(&shared, &c, &o, &q, &headers)
    })())
}

pub(super) async fn get_by_path(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, path)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let path = normalize_path(&path)?;
        let q = Query::parse(raw.as_deref());
        let o = {
            let mut model = shared.model();
            let w = workspace(&mut model, &c, Role::Viewer)?;
            w.live_at(&path)
                .cloned()
                .ok_or_else(|| object_not_found(None, "Object not found."))?
        };
        get_common(&shared, &c, &o, &q, &headers)
    })())
}

/// `POST .../objects/{id}/versions` with `{version_ids: [...]}`: those versions, in the order
/// asked (ids the object does not have are left out).
pub(super) async fn list_versions(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let (c, id) = API.item(&shared, &headers, (&org, &ws, &id), "object_id")?;
        let body = json_body(&body)?;
        let ids: Vec<&str> = body
            .get("version_ids")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("version_ids", "a list of version ids is required"))?
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| invalid("version_ids", "must be strings"))
            })
            .collect::<Result<_, _>>()?;
        if ids.is_empty() || ids.len() > MAX_VERSIONS {
            return Err(invalid(
                "version_ids",
                format!("between 1 and {MAX_VERSIONS} version ids"),
            ));
        }
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let o = w
            .objects
            .get(&id)
            .filter(|o| o.stamps.deleted_at.is_none())
            .cloned()
            .ok_or_else(|| object_not_found(Some(id), "Object not found."))?;
        let versions: Vec<Value> = ids
            .iter()
            .filter_map(|v| o.version(v))
            .map(|v| version_json(&shared, &model, &c, &o, v))
            .collect();
        Ok(axum::Json(json!({"versions": versions})).into_response())
    })())
}

/// `PATCH .../objects` with a list of object ids: the latest version of each, `null` for a
/// deleted or unknown object.
pub(super) async fn latest_versions(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let body = json_body(&body)?;
        let ids: Vec<Uuid> = body
            .as_array()
            .ok_or_else(|| invalid("body", "a list of object ids is required"))?
            .iter()
            .map(|v| {
                v.as_str()
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .ok_or_else(|| invalid("body", format!("{v} is not an object id")))
            })
            .collect::<Result<_, _>>()?;
        if ids.len() > MAX_LATEST {
            return Err(invalid("body", format!("at most {MAX_LATEST} object ids")));
        }
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let answer: Vec<Value> = ids
            .iter()
            .map(|id| {
                let version = w
                    .objects
                    .get(id)
                    .filter(|o| o.stamps.deleted_at.is_none())
                    .map(|o| o.latest().version_id.clone());
                json!({"object_id": id, "version_id": version})
            })
            .collect();
        Ok(axum::Json(Value::Array(answer)).into_response())
    })())
}

/// `GET /geoscience-object/orgs/{org}/stages`.
pub(super) async fn list_stages(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        caller(&shared, &headers)?;
        let org = parse_uuid(S, "org_id", &org)?;
        let mut model = shared.model();
        if model.org(org).is_none() {
            return Err(org_not_found());
        }
        let state = model.services.get_mut::<ObjectsState>();
        state.ensure_stages(org);
        let stages: Vec<Value> = state
            .stages(org)
            .iter()
            .map(|s| json!({"name": s.name, "stage_id": s.id}))
            .collect();
        Ok(axum::Json(json!({"stages": stages})).into_response())
    })())
}

/// 404 for an organization the emulator does not know.
pub(super) fn org_not_found() -> ApiError {
    ApiError::new(
        S,
        404,
        "orgs/not-found",
        "Organization Not Found.",
        "Organization not found.",
    )
}
