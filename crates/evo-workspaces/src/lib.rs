//! # evo-workspaces
//!
//! The Evo Workspaces API: workspaces of an organization (list, page through, create, read,
//! update, delete, restore), the roles users hold in them, their thumbnails, the organization's
//! members, invitations and roles, and the service's health.
//!
//! [`WorkspacesClient`] is the hand-written client; it calls the endpoint functions that
//! `cargo xtask codegen` generates from `specs/workspaces.yaml` into [`generated`], whose models
//! are re-exported here and in [`models`]. Errors are [`evo_core::Error`]: a missing workspace is
//! `is_not_found()`, a role that does not allow the call `is_forbidden()`, a duplicate name
//! `is_conflict()`, a rejected field `is_bad_request()` with the reasons in
//! `as_api().problem().invalid_params`.

pub mod generated;

mod client;
mod health;
mod paging;
mod thumbnail;

pub use client::{
    DEFAULT_PAGE_SIZE, ListWorkspacesQuery, SortDirection, WorkspacesClient, order_by,
};
pub use evo_core::Error;
pub use generated::endpoints::RestoreWorkspaceResponse;
pub use generated::models;
pub use generated::models::*;
pub use health::{HealthCheckType, HealthReport};
pub use paging::Page;
pub use thumbnail::{ImageFormat, MAX_THUMBNAIL_BYTES, Thumbnail};

/// The OAuth scope the Workspaces API needs.
pub const WORKSPACE_SCOPE: &str = "evo.workspace";
