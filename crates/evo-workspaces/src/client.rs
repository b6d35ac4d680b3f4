//! [`WorkspacesClient`]: the hand-written client over the generated endpoint functions.
//!
//! What lives where: this file holds the client, the request builders and the health check;
//! `workspaces` lists and manages workspaces, `roles` the roles users hold in them,
//! `thumbnails` their thumbnails, and `members` the organization's members, invitations and
//! roles.

mod members;
mod roles;
mod thumbnails;
mod workspaces;

use evo_core::uuid::Uuid;
use evo_core::{ApiConnector, Environment, Error};

use crate::generated::endpoints as ep;
use crate::generated::models::*;
use crate::health::{HealthCheckType, HealthReport};

/// The default page size of the `list_all_*` streams (as the official SDK).
pub const DEFAULT_PAGE_SIZE: u64 = 50;

impl UpdateWorkspaceRequest {
    /// An update that changes nothing yet: each `with_` setter adds a field to change, and
    /// only those are sent.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames the workspace (1 to 60 characters).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Changes the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Changes the default coordinate system.
    pub fn with_default_coordinate_system(mut self, system: impl Into<String>) -> Self {
        self.default_coordinate_system = Some(system.into());
        self
    }

    /// Replaces the labels.
    pub fn with_labels<I, S>(mut self, labels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.labels = Some(labels.into_iter().map(Into::into).collect());
        self
    }

    /// Changes the bounding box.
    pub fn with_bounding_box(mut self, bounding_box: BoundingBox) -> Self {
        self.bounding_box = Some(bounding_box);
        self
    }
}

impl CreateWorkspaceRequest {
    /// A request for a workspace named `name`, with every other field at its default.
    pub fn new(name: impl Into<String>) -> Self {
        CreateWorkspaceRequest {
            name: name.into(),
            description: String::new(),
            default_coordinate_system: String::new(),
            bounding_box: None,
            labels: None,
        }
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets the labels.
    pub fn with_labels<I, S>(mut self, labels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.labels = Some(labels.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the bounding box.
    pub fn with_bounding_box(mut self, bounding_box: BoundingBox) -> Self {
        self.bounding_box = Some(bounding_box);
        self
    }
}

impl BoundingBox {
    /// The rectangle from (`min_lon`, `min_lat`) to (`max_lon`, `max_lat`) as the closed,
    /// counter-clockwise GeoJSON polygon the API expects.
    pub fn rectangle(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Self {
        BoundingBox {
            r#type: GeometryType::Polygon,
            coordinates: vec![vec![
                vec![min_lon, min_lat],
                vec![max_lon, min_lat],
                vec![max_lon, max_lat],
                vec![min_lon, max_lat],
                vec![min_lon, min_lat],
            ]],
        }
    }
}

/// The Workspaces API of one organization on one hub.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emulator = evo_emulator::Emulator::builder().start().await?;
/// # let hub = evo_core::ApiConnector::builder(emulator.hub_url())
/// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
/// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
/// #         emulator.issue_token(&["evo.workspace"]),
/// #     )))
/// #     .build()?;
/// # let org_id = emulator.org_id();
/// use evo_workspaces::{CreateWorkspaceRequest, WorkspacesClient};
///
/// let client = WorkspacesClient::new(org_id, hub);
/// let created = client.create_workspace(&CreateWorkspaceRequest::new("Drillholes 2026")).await?;
/// let read = client.get_workspace(created.id).await?;
/// assert_eq!(read.name, "Drillholes 2026");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct WorkspacesClient {
    connector: ApiConnector,
    org_id: Uuid,
}

impl WorkspacesClient {
    /// A client for organization `org_id` on the hub `hub_connector` points at. The scope
    /// comes first, then the connector, as for every service client.
    pub fn new(org_id: Uuid, hub_connector: ApiConnector) -> Self {
        WorkspacesClient {
            connector: hub_connector,
            org_id,
        }
    }

    /// The organization id.
    pub fn org_id(&self) -> Uuid {
        self.org_id
    }

    /// The hub connector.
    pub fn connector(&self) -> &ApiConnector {
        &self.connector
    }

    /// The environment of a workspace of this organization, for the File and Object clients.
    pub fn environment(&self, workspace_id: Uuid) -> Environment {
        Environment::new(self.connector.base_url().clone(), self.org_id, workspace_id)
    }

    // ------------------------------------------------------------ service

    /// Checks the health of the Workspaces service. A 503 answer is a report too (with
    /// [`HealthReport::is_healthy`] false), not an error.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.workspace"]),
    /// #     )))
    /// #     .build()?;
    /// # let workspaces = evo_workspaces::WorkspacesClient::new(emulator.org_id(), connector);
    /// use evo_workspaces::HealthCheckType;
    ///
    /// let report = workspaces.health_check(HealthCheckType::Full).await?;
    /// assert!(report.is_healthy());
    /// # Ok(()) }
    /// ```
    pub async fn health_check(&self, kind: HealthCheckType) -> Result<HealthReport, Error> {
        let params = ep::HealthCheckParams {
            full: Some(true),
            check_dependencies: matches!(kind, HealthCheckType::Full | HealthCheckType::Strict)
                .then_some(true),
            strict: matches!(kind, HealthCheckType::Strict).then_some(true),
        };
        Ok(match ep::health_check(&self.connector, &params).await? {
            ep::HealthCheckResponse::Ok(health) => HealthReport::new(200, health),
            ep::HealthCheckResponse::ServiceUnavailable(health) => HealthReport::new(503, health),
        })
    }
}
