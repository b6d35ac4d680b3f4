//! The organization's members: list (a page, or every page), add, change their roles and
//! remove them; their invitations; and the roles they can hold.

use evo_core::Error;
use evo_core::uuid::Uuid;
use futures_core::Stream;

use super::{DEFAULT_PAGE_SIZE, WorkspacesClient};
use crate::generated::endpoints as ep;
use crate::generated::models::*;
use crate::paging::{Page, follow_links};

impl WorkspacesClient {
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
        let first = async move { ep::list_instance_users(&connector, org_id, &params).await };
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
        let first =
            async move { ep::list_instance_user_invitations(&connector, org_id, &params).await };
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
