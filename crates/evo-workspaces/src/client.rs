//! [`WorkspacesClient`]: the hand-written client over the generated endpoint functions.

use evo_core::bytes::Bytes;
use evo_core::uuid::Uuid;
use evo_core::{ApiConnector, Environment, Error};

use crate::generated::endpoints as ep;
use crate::generated::models::*;
use crate::health::{HealthCheckType, HealthReport};
use crate::paging::{Page, follow_links};
use crate::query::ListWorkspacesQuery;
use crate::thumbnail::{ImageFormat, Thumbnail, check_upload};
use futures_core::Stream;

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

    // ------------------------------------------------------------ workspaces

    /// One page of the workspaces the caller has a role in.
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
    /// use evo_workspaces::{CreateWorkspaceRequest, ListWorkspacesQuery};
    ///
    /// workspaces.create_workspace(&CreateWorkspaceRequest::new("Pit A")).await?;
    /// workspaces.create_workspace(&CreateWorkspaceRequest::new("Pit B")).await?;
    /// let page = workspaces.list_workspaces(&ListWorkspacesQuery::new().name("Pit A")).await?;
    /// let names: Vec<&str> = page.items.iter().map(|w| w.name.as_str()).collect();
    /// assert_eq!(names, ["Pit A"]);
    /// # Ok(()) }
    /// ```
    pub async fn list_workspaces(
        &self,
        query: &ListWorkspacesQuery,
    ) -> Result<Page<Workspace>, Error> {
        let response = ep::list_workspaces(&self.connector, self.org_id, &query.params()).await?;
        Ok(page_with_total(
            query.offset,
            query.limit,
            response.links,
            response.results,
        ))
    }

    /// Every workspace matching `query` (its `offset` is the starting point, its `limit` the
    /// page size, [`DEFAULT_PAGE_SIZE`] when unset), fetched page by page by following the
    /// `next` links as the stream is polled.
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
    /// use evo_workspaces::{CreateWorkspaceRequest, ListWorkspacesQuery};
    /// use futures_util::TryStreamExt as _;
    ///
    /// for name in ["North", "South", "East"] {
    ///     workspaces.create_workspace(&CreateWorkspaceRequest::new(name)).await?;
    /// }
    /// // Pages of two, followed to the end.
    /// let all: Vec<_> = workspaces
    ///     .list_all_workspaces(ListWorkspacesQuery::new().limit(2))
    ///     .try_collect()
    ///     .await?;
    /// assert_eq!(all.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn list_all_workspaces(
        &self,
        query: ListWorkspacesQuery,
    ) -> impl Stream<Item = Result<Workspace, Error>> + 'static {
        let mut params = query.params();
        params.limit = params.limit.or(Some(DEFAULT_PAGE_SIZE as i64));
        let connector = self.connector.clone();
        let org_id = self.org_id;
        let first = async move {
            let r = ep::list_workspaces(&connector, org_id, &params).await?;
            Ok((r.results, r.links.next))
        };
        follow_links(
            self.connector.clone(),
            first,
            |r: ListWorkspacesResponse| (r.results, r.links.next),
        )
    }

    /// One page of the ids and names of the workspaces the caller has a role in.
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
    /// use evo_workspaces::{CreateWorkspaceRequest, ListWorkspacesQuery};
    ///
    /// let created = workspaces.create_workspace(&CreateWorkspaceRequest::new("Survey")).await?;
    /// let page = workspaces.list_workspaces_summary(&ListWorkspacesQuery::new()).await?;
    /// assert!(page.items.iter().any(|s| s.id == created.id && s.name == "Survey"));
    /// # Ok(()) }
    /// ```
    pub async fn list_workspaces_summary(
        &self,
        query: &ListWorkspacesQuery,
    ) -> Result<Page<WorkspaceSummary>, Error> {
        let params = query.summary_params();
        let response = ep::list_workspaces_summary(&self.connector, self.org_id, &params).await?;
        Ok(page_with_total(
            query.offset,
            query.limit,
            response.links,
            response.results,
        ))
    }

    /// Every workspace summary matching `query`, following the `next` links.
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
    /// use evo_workspaces::{CreateWorkspaceRequest, ListWorkspacesQuery};
    /// use futures_util::TryStreamExt as _;
    ///
    /// workspaces.create_workspace(&CreateWorkspaceRequest::new("One")).await?;
    /// workspaces.create_workspace(&CreateWorkspaceRequest::new("Two")).await?;
    /// let all: Vec<_> = workspaces
    ///     .list_all_workspaces_summary(ListWorkspacesQuery::new().limit(1))
    ///     .try_collect()
    ///     .await?;
    /// assert_eq!(all.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn list_all_workspaces_summary(
        &self,
        query: ListWorkspacesQuery,
    ) -> impl Stream<Item = Result<WorkspaceSummary, Error>> + 'static {
        let mut params = query.summary_params();
        params.limit = params.limit.or(Some(DEFAULT_PAGE_SIZE as i64));
        let connector = self.connector.clone();
        let org_id = self.org_id;
        let first = async move {
            let r = ep::list_workspaces_summary(&connector, org_id, &params).await?;
            Ok((r.results, r.links.next))
        };
        follow_links(
            self.connector.clone(),
            first,
            |r: ListWorkspaceSummariesResponse| (r.results, r.links.next),
        )
    }

    /// Reads a workspace (not a deleted one: that is a 410 error; see
    /// [`get_deleted_workspace`](Self::get_deleted_workspace)).
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
    /// use evo_workspaces::CreateWorkspaceRequest;
    ///
    /// let created = workspaces.create_workspace(&CreateWorkspaceRequest::new("Assays")).await?;
    /// let read = workspaces.get_workspace(created.id).await?;
    /// assert_eq!(read.name, "Assays");
    /// # Ok(()) }
    /// ```
    pub async fn get_workspace(&self, workspace_id: Uuid) -> Result<Workspace, Error> {
        let params = ep::GetWorkspaceParams { deleted: None };
        ep::get_workspace(&self.connector, self.org_id, workspace_id, &params).await
    }

    /// Reads a workspace whether or not it is soft-deleted (`?deleted=true`).
    ///
    /// See the example on [`delete_workspace`](Self::delete_workspace).
    pub async fn get_deleted_workspace(&self, workspace_id: Uuid) -> Result<Workspace, Error> {
        let params = ep::GetWorkspaceParams {
            deleted: Some(true),
        };
        ep::get_workspace(&self.connector, self.org_id, workspace_id, &params).await
    }

    /// Creates a workspace; the caller becomes its owner. A duplicate name is a 409 error; a
    /// name over [`MAX_WORKSPACE_NAME_CHARS`](crate::MAX_WORKSPACE_NAME_CHARS) characters (or
    /// empty) is refused before sending, as `Error::InvalidRequest`.
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
    /// use evo_workspaces::{CreateWorkspaceRequest, WorkspaceRole};
    ///
    /// let request = CreateWorkspaceRequest::new("Drillholes 2026").with_description("Phase 2");
    /// let created = workspaces.create_workspace(&request).await?;
    /// assert_eq!(created.description, "Phase 2");
    /// assert_eq!(created.current_user_role, WorkspaceRole::Owner);
    /// // The same name again is a conflict.
    /// let again = workspaces.create_workspace(&request).await.unwrap_err();
    /// assert!(again.is_conflict());
    /// # Ok(()) }
    /// ```
    pub async fn create_workspace(
        &self,
        request: &CreateWorkspaceRequest,
    ) -> Result<Workspace, Error> {
        request.validate()?;
        ep::create_workspace(&self.connector, self.org_id, request).await
    }

    /// Changes the fields of `update` that are set (`Some`); the others are not sent. A new
    /// name is checked as [`create_workspace`](Self::create_workspace) checks it.
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
    /// use evo_workspaces::{CreateWorkspaceRequest, UpdateWorkspaceRequest};
    ///
    /// let created = workspaces.create_workspace(&CreateWorkspaceRequest::new("Draft")).await?;
    /// let update = UpdateWorkspaceRequest::new().with_name("Final");
    /// let updated = workspaces.update_workspace(created.id, &update).await?;
    /// assert_eq!(updated.name, "Final");
    /// # Ok(()) }
    /// ```
    pub async fn update_workspace(
        &self,
        workspace_id: Uuid,
        update: &UpdateWorkspaceRequest,
    ) -> Result<Workspace, Error> {
        update.validate()?;
        ep::update_workspace(&self.connector, self.org_id, workspace_id, update).await
    }

    /// Soft-deletes a workspace (owners only).
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
    /// use evo_workspaces::{CreateWorkspaceRequest, RestoreWorkspaceResponse};
    ///
    /// let created = workspaces.create_workspace(&CreateWorkspaceRequest::new("Old")).await?;
    /// workspaces.delete_workspace(created.id).await?;
    /// assert!(workspaces.get_workspace(created.id).await.is_err()); // 410 Gone
    /// let deleted = workspaces.get_deleted_workspace(created.id).await?;
    /// assert_eq!(deleted.name, "Old");
    ///
    /// let restored = workspaces.restore_workspace(created.id).await?;
    /// assert_eq!(restored, RestoreWorkspaceResponse::NoContent);
    /// assert_eq!(workspaces.get_workspace(created.id).await?.name, "Old");
    /// # Ok(()) }
    /// ```
    pub async fn delete_workspace(&self, workspace_id: Uuid) -> Result<(), Error> {
        ep::delete_workspace(&self.connector, self.org_id, workspace_id).await
    }

    /// Restores a soft-deleted workspace (owners only). The answer is
    /// [`RestoreWorkspaceResponse::NoContent`](ep::RestoreWorkspaceResponse::NoContent) when it
    /// is restored in place.
    ///
    /// See the example on [`delete_workspace`](Self::delete_workspace).
    pub async fn restore_workspace(
        &self,
        workspace_id: Uuid,
    ) -> Result<ep::RestoreWorkspaceResponse, Error> {
        let params = ep::RestoreWorkspaceParams { deleted: false };
        ep::restore_workspace(&self.connector, self.org_id, workspace_id, &params).await
    }

    // ------------------------------------------------------------ roles

    /// The caller's role in a workspace.
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
    /// use evo_workspaces::{CreateWorkspaceRequest, WorkspaceRole};
    ///
    /// let created = workspaces.create_workspace(&CreateWorkspaceRequest::new("Mine")).await?;
    /// let role = workspaces.get_current_user_role(created.id).await?;
    /// assert_eq!((role.user_id, role.role), (emulator.test_user_id(), WorkspaceRole::Owner));
    /// # Ok(()) }
    /// ```
    pub async fn get_current_user_role(&self, workspace_id: Uuid) -> Result<UserRole, Error> {
        ep::get_current_user_role(&self.connector, self.org_id, workspace_id).await
    }

    /// The users with a role in a workspace, optionally only `user_id`.
    ///
    /// See the example on [`assign_user_role`](Self::assign_user_role).
    pub async fn list_user_roles(
        &self,
        workspace_id: Uuid,
        user_id: Option<Uuid>,
    ) -> Result<Vec<WorkspaceUser>, Error> {
        let params = ep::ListUserRolesParams { user_id };
        Ok(
            ep::list_user_roles(&self.connector, self.org_id, workspace_id, &params)
                .await?
                .results,
        )
    }

    /// Gives user `user_id` a role in a workspace, replacing any role they had (owners only).
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
    /// use evo_workspaces::{CreateWorkspaceRequest, WorkspaceRole};
    ///
    /// let created = workspaces.create_workspace(&CreateWorkspaceRequest::new("Shared")).await?;
    /// let geologist = emulator.add_user("Ada", "ada@example.com");
    /// let analyst = emulator.add_user("Ben", "ben@example.com");
    ///
    /// workspaces.assign_user_role(created.id, geologist, WorkspaceRole::Editor).await?;
    /// workspaces.assign_user_role_by_email(created.id, "ben@example.com", WorkspaceRole::Viewer).await?;
    /// let roles = workspaces.list_user_roles(created.id, Some(analyst)).await?;
    /// assert_eq!(roles[0].role, WorkspaceRole::Viewer);
    ///
    /// workspaces.remove_user_role(created.id, geologist).await?;
    /// let everyone = workspaces.list_user_roles(created.id, None).await?;
    /// assert_eq!(everyone.len(), 2); // the owner and the viewer
    /// # Ok(()) }
    /// ```
    pub async fn assign_user_role(
        &self,
        workspace_id: Uuid,
        user_id: Uuid,
        role: WorkspaceRole,
    ) -> Result<AssignedRole, Error> {
        let body = AssignRoleRequest {
            user_id: Some(user_id),
            email: None,
            role,
        };
        ep::assign_user_role(&self.connector, self.org_id, workspace_id, &body).await
    }

    /// Gives the user with this email address a role in a workspace (owners only).
    ///
    /// See the example on [`assign_user_role`](Self::assign_user_role).
    pub async fn assign_user_role_by_email(
        &self,
        workspace_id: Uuid,
        email: &str,
        role: WorkspaceRole,
    ) -> Result<AssignedRole, Error> {
        let body = AssignRoleRequest {
            user_id: None,
            email: Some(email.to_owned()),
            role,
        };
        ep::assign_user_role(&self.connector, self.org_id, workspace_id, &body).await
    }

    /// Removes a user's role in a workspace (owners only).
    ///
    /// See the example on [`assign_user_role`](Self::assign_user_role).
    pub async fn remove_user_role(&self, workspace_id: Uuid, user_id: Uuid) -> Result<(), Error> {
        ep::delete_user_role(&self.connector, self.org_id, workspace_id, user_id).await
    }

    // ------------------------------------------------------------ thumbnails

    /// Downloads a workspace's thumbnail (a 404 error when it has none).
    ///
    /// See the example on [`put_thumbnail`](Self::put_thumbnail).
    pub async fn get_thumbnail(&self, workspace_id: Uuid) -> Result<Thumbnail, Error> {
        let body = ep::get_thumbnail(&self.connector, self.org_id, workspace_id).await?;
        Ok(Thumbnail {
            format: ImageFormat::detect(&body.data),
            content_type: body.content_type,
            data: body.data,
        })
    }

    /// Sets a workspace's thumbnail. The image must be a PNG or JPEG of at most
    /// [`MAX_THUMBNAIL_BYTES`](crate::MAX_THUMBNAIL_BYTES); both are checked before anything is
    /// sent, and the `Content-Type` is taken from the image bytes.
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
    /// use evo_workspaces::{CreateWorkspaceRequest, ImageFormat};
    ///
    /// let created = workspaces.create_workspace(&CreateWorkspaceRequest::new("Pictures")).await?;
    /// // The first bytes of a PNG file (a real image in practice).
    /// let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    /// workspaces.put_thumbnail(created.id, png.clone()).await?;
    ///
    /// let thumbnail = workspaces.get_thumbnail(created.id).await?;
    /// assert_eq!((thumbnail.format, &thumbnail.data[..]), (Some(ImageFormat::Png), &png[..]));
    ///
    /// workspaces.delete_thumbnail(created.id).await?;
    /// assert!(workspaces.get_thumbnail(created.id).await.unwrap_err().is_not_found());
    /// # Ok(()) }
    /// ```
    pub async fn put_thumbnail(
        &self,
        workspace_id: Uuid,
        image: impl Into<Bytes>,
    ) -> Result<(), Error> {
        let image: Bytes = image.into();
        let format = check_upload(&image)?;
        ep::put_thumbnail(
            &self.connector,
            self.org_id,
            workspace_id,
            image,
            format.content_type(),
        )
        .await
    }

    /// Removes a workspace's thumbnail.
    ///
    /// See the example on [`put_thumbnail`](Self::put_thumbnail).
    pub async fn delete_thumbnail(&self, workspace_id: Uuid) -> Result<(), Error> {
        ep::delete_thumbnail(&self.connector, self.org_id, workspace_id).await
    }

    // ------------------------------------------------------------ organization members

    /// One page of the organization's members (`limit` default: the server's).
    ///
    /// See the example on [`add_instance_users`](Self::add_instance_users).
    pub async fn list_instance_users(
        &self,
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> Result<Page<InstanceUser>, Error> {
        let params = ep::ListInstanceUsersParams {
            limit: limit.map(to_i64),
            offset: offset.map(to_i64),
        };
        let r = ep::list_instance_users(&self.connector, self.org_id, &params).await?;
        Ok(Page::new(
            r.results,
            offset.unwrap_or(0),
            limit,
            None,
            r.links.next,
        ))
    }

    /// Every member of the organization, `page_size` at a time (default [`DEFAULT_PAGE_SIZE`]).
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
    /// use futures_util::TryStreamExt as _;
    ///
    /// let members: Vec<_> = workspaces.list_all_instance_users(Some(10)).try_collect().await?;
    /// assert!(members.iter().any(|m| m.id == emulator.test_user_id()));
    /// # Ok(()) }
    /// ```
    pub fn list_all_instance_users(
        &self,
        page_size: Option<u64>,
    ) -> impl Stream<Item = Result<InstanceUser, Error>> + 'static {
        let params = ep::ListInstanceUsersParams {
            limit: Some(to_i64(page_size.unwrap_or(DEFAULT_PAGE_SIZE))),
            offset: Some(0),
        };
        let connector = self.connector.clone();
        let org_id = self.org_id;
        let first = async move {
            let r = ep::list_instance_users(&connector, org_id, &params).await?;
            Ok((r.results, r.links.next))
        };
        follow_links(
            self.connector.clone(),
            first,
            |r: ListInstanceUsersResponse| (r.results, r.links.next),
        )
    }

    /// Adds users to the organization with instance roles; unknown addresses are invited.
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
    /// use evo_workspaces::NewInstanceUser;
    ///
    /// let roles = workspaces.list_instance_roles().await?;
    /// let user_role = roles.iter().find(|r| r.name == "Evo User").unwrap().id;
    /// let admin_role = roles.iter().find(|r| r.name == "Evo Admin").unwrap().id;
    /// let ada = emulator.add_user("Ada", "ada@example.com");
    ///
    /// // A known address becomes a member, an unknown one is invited.
    /// let added = workspaces
    ///     .add_instance_users(vec![
    ///         NewInstanceUser { email: "ada@example.com".into(), roles: vec![user_role] },
    ///         NewInstanceUser { email: "new@example.com".into(), roles: vec![user_role] },
    ///     ])
    ///     .await?;
    /// assert_eq!((added.members.len(), added.invitations.len()), (1, 1));
    ///
    /// let changed = workspaces.update_instance_user_roles(ada, vec![admin_role]).await?;
    /// assert_eq!(changed.roles[0].id, admin_role);
    /// let members = workspaces.list_instance_users(Some(100), None).await?;
    /// assert!(members.items.iter().any(|m| m.id == ada));
    /// workspaces.remove_instance_user(ada).await?;
    ///
    /// let invitations = workspaces.list_instance_user_invitations(None, None).await?;
    /// assert_eq!(invitations.items[0].email, "new@example.com");
    /// workspaces.delete_instance_user_invitation(invitations.items[0].id).await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_instance_users(
        &self,
        users: Vec<NewInstanceUser>,
    ) -> Result<AddInstanceUsersResponse, Error> {
        let body = AddInstanceUsersRequest { users };
        ep::add_instance_users(&self.connector, self.org_id, &body).await
    }

    /// Replaces a member's instance roles.
    ///
    /// See the example on [`add_instance_users`](Self::add_instance_users).
    pub async fn update_instance_user_roles(
        &self,
        user_id: Uuid,
        roles: Vec<Uuid>,
    ) -> Result<UpdateInstanceUserRolesResponse, Error> {
        let body = UpdateInstanceUserRolesRequest { roles };
        ep::update_instance_user_roles(&self.connector, self.org_id, user_id, &body).await
    }

    /// Removes a member from the organization.
    ///
    /// See the example on [`add_instance_users`](Self::add_instance_users).
    pub async fn remove_instance_user(&self, user_id: Uuid) -> Result<(), Error> {
        ep::remove_instance_user(&self.connector, self.org_id, user_id).await
    }

    /// One page of the organization's invitations.
    ///
    /// See the example on [`add_instance_users`](Self::add_instance_users).
    pub async fn list_instance_user_invitations(
        &self,
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> Result<Page<InstanceUserInvitation>, Error> {
        let params = ep::ListInstanceUserInvitationsParams {
            limit: limit.map(to_i64),
            offset: offset.map(to_i64),
        };
        let r = ep::list_instance_user_invitations(&self.connector, self.org_id, &params).await?;
        Ok(Page::new(
            r.results,
            offset.unwrap_or(0),
            limit,
            None,
            r.links.next,
        ))
    }

    /// Every invitation of the organization, `page_size` at a time.
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
    /// use evo_workspaces::NewInstanceUser;
    /// use futures_util::TryStreamExt as _;
    ///
    /// let role = workspaces.list_instance_roles().await?[0].id;
    /// let invite = |email: &str| NewInstanceUser { email: email.into(), roles: vec![role] };
    /// workspaces.add_instance_users(vec![invite("a@example.com"), invite("b@example.com")]).await?;
    /// let all: Vec<_> = workspaces.list_all_instance_user_invitations(Some(1)).try_collect().await?;
    /// assert_eq!(all.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn list_all_instance_user_invitations(
        &self,
        page_size: Option<u64>,
    ) -> impl Stream<Item = Result<InstanceUserInvitation, Error>> + 'static {
        let params = ep::ListInstanceUserInvitationsParams {
            limit: Some(to_i64(page_size.unwrap_or(DEFAULT_PAGE_SIZE))),
            offset: Some(0),
        };
        let connector = self.connector.clone();
        let org_id = self.org_id;
        let first = async move {
            let r = ep::list_instance_user_invitations(&connector, org_id, &params).await?;
            Ok((r.results, r.links.next))
        };
        follow_links(
            self.connector.clone(),
            first,
            |r: ListInstanceUserInvitationsResponse| (r.results, r.links.next),
        )
    }

    /// Withdraws an invitation.
    ///
    /// See the example on [`add_instance_users`](Self::add_instance_users).
    pub async fn delete_instance_user_invitation(&self, invitation_id: Uuid) -> Result<(), Error> {
        ep::delete_instance_user_invitation(&self.connector, self.org_id, invitation_id).await
    }

    /// The roles members of the organization can hold.
    ///
    /// See the example on [`add_instance_users`](Self::add_instance_users).
    pub async fn list_instance_roles(&self) -> Result<Vec<InstanceRole>, Error> {
        Ok(ep::list_instance_roles(&self.connector, self.org_id)
            .await?
            .roles)
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn page_with_total<T>(
    offset: Option<u64>,
    limit: Option<u64>,
    links: PaginationLinks,
    items: Vec<T>,
) -> Page<T> {
    let non_negative = |v: i64| u64::try_from(v).unwrap_or(0);
    Page::new(
        items,
        offset.unwrap_or(0),
        limit,
        Some(non_negative(links.total)),
        links.next,
    )
}
