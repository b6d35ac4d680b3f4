//! The roles users hold in a workspace: the caller's, every user's, assigning and removing.

use evo_core::Error;
use evo_core::uuid::Uuid;

use super::WorkspacesClient;
use crate::generated::endpoints as ep;
use crate::generated::models::*;

impl WorkspacesClient {
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
}
