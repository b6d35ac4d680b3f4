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
//! `as_api().problem().invalid_params`. Names longer than [`MAX_WORKSPACE_NAME_CHARS`] are
//! refused before sending, never shortened.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use evo_core::{ApiConnector, StaticTokenAuthorizer};
//! use evo_workspaces::{CreateWorkspaceRequest, ListWorkspacesQuery, WorkspacesClient};
//!
//! # let emulator = evo_emulator::Emulator::builder().start().await?;
//! # let (hub_url, org_id) = (emulator.hub_url(), emulator.org_id());
//! # let token = emulator.issue_token(&["evo.workspace"]);
//! // The hub and organization come from discovery (evo-discovery), the token from evo-auth.
//! let connector = ApiConnector::builder(hub_url)
//!     .transport(Arc::new(evo_hyper::HyperTransport::new()))
//!     .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
//!     .build()?;
//! let workspaces = WorkspacesClient::new(org_id, connector);
//!
//! let created = workspaces
//!     .create_workspace(&CreateWorkspaceRequest::new("Block model review").with_description("Q3"))
//!     .await?;
//! let query = ListWorkspacesQuery::new().limit(50);
//! let page = workspaces.list_workspaces(&query).await?;
//! assert!(page.items.iter().any(|w| w.id == created.id));
//!
//! // The environment workspace-scoped clients (files, objects) take.
//! let environment = created.environment()?;
//! assert_eq!(environment, workspaces.environment(created.id));
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod generated;

mod client;
mod conveniences;
mod health;
mod paging;
mod query;
mod thumbnail;

pub use client::{DEFAULT_PAGE_SIZE, WorkspacesClient};
pub use conveniences::MAX_WORKSPACE_NAME_CHARS;
pub use evo_core::Error;
pub use evo_core::{TimeFilter, TimeOp};
pub use generated::endpoints::RestoreWorkspaceResponse;
pub use generated::models;
pub use generated::models::*;
pub use health::{HealthCheckType, HealthReport};
pub use paging::Page;
pub use query::{ListWorkspacesQuery, SortDirection, WorkspaceSortField};
pub use thumbnail::{ImageFormat, MAX_THUMBNAIL_BYTES, Thumbnail};

/// The OAuth scope the Workspaces API needs.
pub const WORKSPACE_SCOPE: &str = "evo.workspace";
