//! Shared pieces of the Workspaces API handlers: the request context, lookups with their
//! errors, JSON shapes.

use axum::http::HeaderMap;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::clock::format_workspace_time;
use crate::http_util::{
    ApiError, Service, WorkspaceApi, authenticate, link, parse_uuid, require_role, user_json,
};
pub(super) use crate::http_util::{Ctx, respond};
use crate::state::{Model, Org, Role, Shared, Workspace};

pub(super) const S: Service = Service::Workspace;

/// 404 `not-found` saying what `detail` says.
pub(super) fn not_found(detail: impl Into<String>) -> ApiError {
    ApiError::new(S, 404, "not-found", "Not Found.", detail)
}

/// 400 `validation` for one query or body parameter.
pub(super) fn invalid(name: &str, reason: impl Into<String>) -> ApiError {
    ApiError::validation(S, vec![(name.to_owned(), reason.into())])
}

pub(super) fn org_not_found(org: Uuid) -> ApiError {
    not_found(format!("Organization {org} was not found."))
}

pub(super) fn ws_not_found(ws: Uuid) -> ApiError {
    not_found(format!("Workspace {ws} was not found."))
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

/// The caller (scope `evo.workspace`) of a request on organization `org`, and the
/// organization's id.
pub(super) fn org_caller(
    shared: &Shared,
    headers: &HeaderMap,
    org: &str,
) -> Result<(Uuid, Uuid), ApiError> {
    let user = authenticate(shared, headers, S, "evo.workspace")?;
    let org = parse_uuid(S, "org_id", org)?;
    Ok((user, org))
}

/// How the Workspaces API reads the context of a request on one workspace.
pub(super) const API: WorkspaceApi = WorkspaceApi {
    service: S,
    scope: "evo.workspace",
    org_param: "org_id",
};

pub(super) fn org_mut(model: &mut Model, org: Uuid) -> Result<&mut Org, ApiError> {
    model.org_mut(org).ok_or_else(|| org_not_found(org))
}

/// The workspace of `c`, checked for existence, deletion (unless `allow_deleted`) and the
/// caller's role.
pub(super) fn ws_mut<'a>(
    model: &'a mut Model,
    c: &Ctx,
    min_role: Role,
    allow_deleted: bool,
) -> Result<&'a mut Workspace, ApiError> {
    let o = org_mut(model, c.org)?;
    let w = o
        .workspaces
        .iter_mut()
        .find(|w| w.id == c.ws)
        .ok_or_else(|| ws_not_found(c.ws))?;
    if w.deleted && !allow_deleted {
        return Err(ws_gone(c.ws));
    }
    require_role(S, w.role_of(c.user), min_role)?;
    Ok(w)
}

/// Removes the entries of `list` that `gone` picks; `missing` when it picks none.
pub(super) fn remove_where<T>(
    list: &mut Vec<T>,
    gone: impl Fn(&T) -> bool,
    missing: impl FnOnce() -> ApiError,
) -> Result<(), ApiError> {
    let before = list.len();
    list.retain(|x| !gone(x));
    if list.len() == before {
        return Err(missing());
    }
    Ok(())
}
