//! The Workspaces API under `/workspace`: workspaces (CRUD, listing, restore), user roles,
//! thumbnails, and the organization's members, invitations and instance roles.
//!
//! * [`common`]: ids, lookups with their errors, JSON shapes;
//! * [`validation`]: workspace bodies;
//! * [`crud`], [`listing`], [`roles`], [`thumbnail`], [`members`]: the handlers.
//!
//! Workspaces themselves (and their roles) live in the shared model ([`crate::state`]): every
//! hub service checks them.

mod common;
mod crud;
mod listing;
mod members;
mod roles;
mod thumbnail;
mod validation;

use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get, patch};

use crate::faults::RouteClass;
use crate::http_util::{Service, fault_problem, health_check};
use crate::service::ServiceDef;
use crate::state::Shared;

/// The Workspaces API in the service registry.
pub(crate) const SERVICE: ServiceDef = ServiceDef {
    name: "workspace",
    route_classes: &[("/workspace/", RouteClass::Workspaces)],
    routes,
    fault_response: |status| fault_problem(Service::Workspace, status),
    discovery: &[("workspace", "Workspaces")],
    on_blob_committed: None,
};

/// The routes of the Workspaces API.
fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/workspace/health_check", get(health_check))
        .route(
            "/workspace/orgs/{org}/workspaces",
            get(listing::list_workspaces).post(crud::create_workspace),
        )
        .route(
            "/workspace/orgs/{org}/workspaces/summary",
            get(listing::list_summary),
        )
        .route(
            "/workspace/orgs/{org}/workspaces/{ws}",
            get(crud::get_workspace)
                .patch(crud::update_workspace)
                .delete(crud::delete_workspace)
                .post(crud::restore_workspace),
        )
        .route(
            "/workspace/orgs/{org}/workspaces/{ws}/current-user-role",
            get(roles::current_user_role),
        )
        .route(
            "/workspace/orgs/{org}/workspaces/{ws}/users",
            get(roles::list_user_roles).post(roles::assign_user_role),
        )
        .route(
            "/workspace/orgs/{org}/workspaces/{ws}/users/{user}",
            delete(roles::delete_user_role),
        )
        .route(
            "/workspace/orgs/{org}/workspaces/{ws}/thumbnail",
            get(thumbnail::get_thumbnail)
                .put(thumbnail::put_thumbnail)
                .delete(thumbnail::delete_thumbnail),
        )
        .route(
            "/workspace/orgs/{org}/members/users",
            get(members::list_members).post(members::add_members),
        )
        .route(
            "/workspace/orgs/{org}/members",
            get(members::list_members).post(members::add_members),
        )
        .route(
            "/workspace/orgs/{org}/members/users/{user}",
            patch(members::update_member).delete(members::remove_member),
        )
        .route(
            "/workspace/orgs/{org}/members/{user}",
            patch(members::update_member).delete(members::remove_member),
        )
        .route(
            "/workspace/orgs/{org}/members/invitations",
            get(members::list_invitations),
        )
        .route(
            "/workspace/orgs/{org}/members/invitations/{inv}",
            delete(members::delete_invitation),
        )
        .route(
            "/workspace/orgs/{org}/members/roles",
            get(members::list_instance_roles),
        )
}
