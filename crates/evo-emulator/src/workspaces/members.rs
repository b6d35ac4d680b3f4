//! An organization's members, invitations and instance roles.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::clock::format_workspace_time;
use crate::http_util::{ApiError, ApiResult, Query, no_content, parse_uuid};
use crate::state::{Invitation, Model, Org, Shared};

use super::common::S;
use super::common::{
    invalid, not_found, org_caller, org_mut, org_not_found, remove_where, respond,
};
use super::listing::paged_json;
use super::validation::parse_body;

pub(super) fn role_json(o: &Org, id: Uuid) -> Value {
    match o.instance_roles.iter().find(|r| r.id == id) {
        Some(r) => json!({"id": r.id, "name": r.name, "description": r.description}),
        None => json!({"id": id, "name": "", "description": ""}),
    }
}

pub(super) fn member_json(model: &Model, o: &Org, id: Uuid, roles: &[Uuid]) -> Value {
    let u = model.user(id);
    json!({
        "id": id,
        "email": u.map(|u| u.email.clone()),
        "full_name": u.map(|u| u.name.clone()),
        "roles": roles.iter().map(|r| role_json(o, *r)).collect::<Vec<_>>(),
    })
}

pub(super) fn invitation_json(o: &Org, i: &Invitation) -> Value {
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

/// A read of organization `org` (any caller with scope `evo.workspace`): `read` answers from
/// the model, the organization and the query.
fn read_org(
    shared: &Shared,
    headers: &HeaderMap,
    org: &str,
    raw_query: Option<&str>,
    read: impl FnOnce(&Model, &Org, &Query) -> ApiResult,
) -> Response {
    respond((|| {
        let (_, org) = org_caller(shared, headers, org)?;
        let q = Query::parse(raw_query);
        let model = shared.model();
        let o = model.org(org).ok_or_else(|| org_not_found(org))?;
        read(&model, o, &q)
    })())
}

pub(super) async fn list_members(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    read_org(&shared, &headers, &org, raw.as_deref(), |model, o, q| {
        paged_json(
            &shared,
            &format!("/workspace/orgs/{}/members/users", o.id),
            q,
            o.members.iter(),
            false,
            |(id, roles)| member_json(model, o, *id, roles),
        )
    })
}

pub(super) fn role_ids(o: &Org, v: Option<&Value>) -> Result<Vec<Uuid>, ApiError> {
    let bad = || invalid("roles", "must be a list of instance role ids");
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

pub(super) async fn add_members(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let (caller, org) = org_caller(&shared, &headers, &org)?;
        let body = parse_body(&body)?;
        let Some(users) = body.get("users").and_then(Value::as_array) else {
            return Err(invalid("users", "field required"));
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
                return Err(invalid("users.email", "field required"));
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

pub(super) async fn update_member(
    State(shared): State<Arc<Shared>>,
    Path((org, user)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let (_, org) = org_caller(&shared, &headers, &org)?;
        let user = parse_uuid(S, "user_id", &user)?;
        let body = parse_body(&body)?;
        let mut model = shared.model();
        let o = org_mut(&mut model, org)?;
        let roles = role_ids(o, body.get("roles"))?;
        let Some(m) = o.members.iter_mut().find(|(m, _)| *m == user) else {
            return Err(not_member(user));
        };
        m.1 = roles.clone();
        let o = model.org(org).ok_or_else(|| org_not_found(org))?;
        let body = json!({"id": user, "roles": roles.iter().map(|r| role_json(o, *r)).collect::<Vec<_>>()});
        Ok(axum::Json(body).into_response())
    })())
}

pub(super) async fn remove_member(
    State(shared): State<Arc<Shared>>,
    Path((org, user)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (_, org) = org_caller(&shared, &headers, &org)?;
        let user = parse_uuid(S, "user_id", &user)?;
        let mut model = shared.model();
        let o = org_mut(&mut model, org)?;
        remove_where(&mut o.members, |(m, _)| *m == user, || not_member(user))?;
        Ok(no_content())
    })())
}

pub(super) async fn list_invitations(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    read_org(&shared, &headers, &org, raw.as_deref(), |_, o, q| {
        paged_json(
            &shared,
            &format!("/workspace/orgs/{}/members/invitations", o.id),
            q,
            o.invitations.iter(),
            false,
            |i| invitation_json(o, i),
        )
    })
}

pub(super) async fn delete_invitation(
    State(shared): State<Arc<Shared>>,
    Path((org, inv)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (_, org) = org_caller(&shared, &headers, &org)?;
        let inv = parse_uuid(S, "invitation_id", &inv)?;
        let mut model = shared.model();
        let o = org_mut(&mut model, org)?;
        remove_where(
            &mut o.invitations,
            |i| i.id == inv,
            || not_found(format!("Invitation {inv} was not found.")),
        )?;
        Ok(no_content())
    })())
}

pub(super) async fn list_instance_roles(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    read_org(&shared, &headers, &org, None, |_, o, _| {
        let roles: Vec<Value> = o
            .instance_roles
            .iter()
            .map(|r| json!({"id": r.id, "name": r.name, "description": r.description, "permissions": [format!("{} permission", r.description)]}))
            .collect();
        Ok(axum::Json(json!({"roles": roles})).into_response())
    })
}

/// 404 for a user who is not a member of the organization.
fn not_member(user: Uuid) -> ApiError {
    not_found(format!("User {user} is not a member."))
}
