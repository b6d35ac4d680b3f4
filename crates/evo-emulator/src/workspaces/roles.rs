//! A workspace's user roles: the caller's role, list, assign, remove.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http_util::{Query, link, no_content};
use crate::state::{Role, Shared, User};

use super::common::{API, invalid, not_found, remove_where, respond, ws_mut};
use super::validation::parse_body;

pub(super) async fn current_user_role(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let mut model = shared.model();
        let role = ws_mut(&mut model, &c, Role::Viewer, false)?.role_of(c.user);
        Ok(axum::Json(json!({"user_id": c.user, "role": role.map(Role::as_str)})).into_response())
    })())
}

pub(super) async fn list_user_roles(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let q = Query::parse(raw.as_deref());
        let filter = q.uuids("user_id").map_err(|e| invalid("user_id", e))?;
        let mut model = shared.model();
        let roles = ws_mut(&mut model, &c, Role::Viewer, false)?.roles.clone();
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
            &format!("/workspace/orgs/{}/workspaces/{}/users", c.org, c.ws),
            &[],
        );
        Ok(axum::Json(json!({"links": {"self": self_url}, "results": results})).into_response())
    })())
}

pub(super) async fn assign_user_role(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let body = parse_body(&body)?;
        let role = body
            .get("role")
            .and_then(Value::as_str)
            .and_then(Role::parse);
        let Some(role) = role else {
            return Err(invalid("role", "must be one of owner, editor, viewer"));
        };
        let now = shared.clock.now();
        let mut model = shared.model();
        ws_mut(&mut model, &c, Role::Owner, false)?;
        let (target, by_email) = if let Some(id) = body.get("user_id") {
            let id = id
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| invalid("user_id", "must be a UUID"))?;
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
            return Err(invalid("user_id", "user_id or email is required"));
        };
        let w = ws_mut(&mut model, &c, Role::Owner, false)?;
        match w.roles.iter_mut().find(|(u, _)| *u == target) {
            Some(entry) => entry.1 = role,
            None => w.roles.push((target, role)),
        }
        w.touch(now, c.user);
        let body = match by_email {
            Some(email) => json!({"email": email, "role": role.as_str()}),
            None => json!({"user_id": target, "role": role.as_str()}),
        };
        Ok((StatusCode::CREATED, axum::Json(body)).into_response())
    })())
}

pub(super) async fn delete_user_role(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, target)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (c, target) = API.item(&shared, &headers, (&org, &ws, &target), "user_id")?;
        let now = shared.clock.now();
        let mut model = shared.model();
        let w = ws_mut(&mut model, &c, Role::Owner, false)?;
        remove_where(
            &mut w.roles,
            |(u, _)| *u == target,
            || not_found(format!("User {target} has no role here.")),
        )?;
        w.touch(now, c.user);
        Ok(no_content())
    })())
}
