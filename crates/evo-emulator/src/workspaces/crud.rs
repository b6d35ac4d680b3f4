//! Create, get, update, delete and restore a workspace.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use uuid::Uuid;

use crate::http_util::{ApiError, Query, no_content};
use crate::state::{Role, Shared, Workspace};

use super::common::S;
use super::common::{API, invalid, org_caller, org_mut, respond, ws_json, ws_mut};
use super::validation::{
    conflict, name_taken, parse_body, validate_bbox, validate_labels, validate_name,
    validate_string,
};

pub(super) async fn create_workspace(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let (user, org) = org_caller(&shared, &headers, &org)?;
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
        };
        o.workspaces.push(ws.clone());
        let body = ws_json(&shared, &model, org, &ws, user);
        Ok((StatusCode::CREATED, axum::Json(body)).into_response())
    })())
}

pub(super) async fn get_workspace(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let q = Query::parse(raw.as_deref());
        let deleted = q.flag("deleted").map_err(|e| invalid("deleted", e))?;
        let mut model = shared.model();
        let w = ws_mut(&mut model, &c, Role::Viewer, deleted)?.clone();
        Ok(axum::Json(ws_json(&shared, &model, c.org, &w, c.user)).into_response())
    })())
}

pub(super) async fn update_workspace(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
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
            let o = org_mut(&mut model, c.org)?;
            if name_taken(o, n, Some(c.ws)) {
                return Err(conflict(n));
            }
        }
        let w = ws_mut(&mut model, &c, Role::Editor, false)?;
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
        w.touch(now, c.user);
        let w = w.clone();
        Ok(axum::Json(ws_json(&shared, &model, c.org, &w, c.user)).into_response())
    })())
}

pub(super) async fn delete_workspace(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let now = shared.clock.now();
        let mut model = shared.model();
        let w = ws_mut(&mut model, &c, Role::Owner, false)?;
        w.deleted = true;
        w.touch(now, c.user);
        Ok(no_content())
    })())
}

pub(super) async fn restore_workspace(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let q = Query::parse(raw.as_deref());
        match q.bool("deleted") {
            Ok(Some(false)) => {}
            Ok(_) => {
                return Err(ApiError::bad_request(
                    S,
                    "Only ?deleted=false (restore) is supported on POST.",
                ));
            }
            Err(e) => return Err(invalid("deleted", e)),
        }
        let now = shared.clock.now();
        let mut model = shared.model();
        let name = ws_mut(&mut model, &c, Role::Owner, true)?.name.clone();
        if name_taken(org_mut(&mut model, c.org)?, &name, Some(c.ws)) {
            return Err(conflict(&name));
        }
        let w = ws_mut(&mut model, &c, Role::Owner, true)?;
        if w.deleted {
            w.deleted = false;
            w.touch(now, c.user);
        }
        Ok(no_content())
    })())
}
