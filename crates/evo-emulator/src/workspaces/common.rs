//! Shared pieces of the Workspaces API handlers: ids, lookups with their errors, JSON shapes.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::clock::format_workspace_time;
pub(super) use crate::http_util::respond;
use crate::http_util::{ApiError, Service, link, parse_uuid, require_role, user_json};
use crate::state::{Model, Org, Role, Shared, Workspace};

pub(super) const S: Service = Service::Workspace;

pub(super) fn org_not_found(org: Uuid) -> ApiError {
    ApiError::new(
        S,
        404,
        "not-found",
        "Not Found.",
        format!("Organization {org} was not found."),
    )
}

pub(super) fn ws_not_found(ws: Uuid) -> ApiError {
    ApiError::new(
        S,
        404,
        "not-found",
        "Not Found.",
        format!("Workspace {ws} was not found."),
    )
}

pub(super) fn ws_gone(ws: Uuid) -> ApiError {
    ApiError::new(
        S,
        410,
        "gone",
        "Gone.",
        format!("Workspace {ws} has been deleted."),
    )
}

pub(super) fn self_link(shared: &Shared, org: Uuid, ws: Uuid) -> String {
    link(
        shared.hub(),
        &format!("/workspace/orgs/{org}/workspaces/{ws}"),
        &[],
    )
}

pub(super) fn ws_json(
    shared: &Shared,
    model: &Model,
    org: Uuid,
    ws: &Workspace,
    user: Uuid,
) -> Value {
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

pub(super) fn parse_ids(org: &str, ws: Option<&str>) -> Result<(Uuid, Option<Uuid>), ApiError> {
    let org = parse_uuid(S, "org_id", org)?;
    let ws = ws.map(|w| parse_uuid(S, "workspace_id", w)).transpose()?;
    Ok((org, ws))
}

pub(super) fn org_mut(model: &mut Model, org: Uuid) -> Result<&mut Org, ApiError> {
    model.org_mut(org).ok_or_else(|| org_not_found(org))
}

/// The workspace, checked for existence, deletion and the caller's role.
pub(super) fn ws_mut(
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
    require_role(S, w.role_of(user), min_role)?;
    Ok(w)
}
