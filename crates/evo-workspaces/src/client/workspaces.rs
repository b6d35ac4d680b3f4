//! Workspaces: list (a page, or every page; in full or as summaries), get, create, update,
//! delete and restore.

use evo_core::Error;
use evo_core::uuid::Uuid;
use futures_core::Stream;

use super::{DEFAULT_PAGE_SIZE, WorkspacesClient};
use crate::generated::endpoints as ep;
use crate::generated::models::*;
use crate::paging::{Page, follow_links};
use crate::query::ListWorkspacesQuery;

impl WorkspacesClient {
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
        let first = async move { ep::list_workspaces(&connector, org_id, &params).await };
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
        let first = async move { ep::list_workspaces_summary(&connector, org_id, &params).await };
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
