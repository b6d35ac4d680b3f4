//! What the Python SDK's workspace objects offer beyond the wire models: a workspace's
//! environment, and the name limit checked before sending.

use evo_core::uuid::Uuid;
use evo_core::{Environment, Error};

use crate::generated::models::{CreateWorkspaceRequest, UpdateWorkspaceRequest, Workspace};

/// The longest workspace name the service accepts, in characters.
pub const MAX_WORKSPACE_NAME_CHARS: usize = 60;

impl Workspace {
    /// The environment (hub URL, organization, workspace) that workspace-scoped clients take,
    /// read from the workspace's `self_link` (`{hub}/workspace/orgs/{org}/workspaces/{id}`), as
    /// the Python SDK's `get_environment()`. An error names the link when it does not have
    /// that shape or names another workspace.
    pub fn environment(&self) -> Result<Environment, Error> {
        let bad = |why: &str| {
            Error::invalid_request(format!(
                "the self_link of workspace {} ({:?}) {why}",
                self.id,
                evo_core::redact_text_secrets(&self.self_link)
            ))
        };
        let url: evo_core::url::Url = self
            .self_link
            .parse()
            .map_err(|_| bad("is not an absolute URL"))?;
        let path = url.path();
        let start = path
            .find("/workspace/orgs/")
            .ok_or_else(|| bad("has no /workspace/orgs/ segment"))?;
        let mut segments = path[start + "/workspace/orgs/".len()..].split('/');
        let org_id: Uuid = segments
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("has no organization id"))?;
        let workspace_id: Option<Uuid> = match (segments.next(), segments.next()) {
            (Some("workspaces"), Some(id)) => id.parse().ok(),
            _ => None,
        };
        if workspace_id != Some(self.id) {
            return Err(bad("does not name this workspace"));
        }
        let mut hub_url = url.clone();
        hub_url.set_query(None);
        hub_url.set_fragment(None);
        hub_url.set_path(&path[..start]);
        Ok(Environment::new(hub_url, org_id, self.id))
    }
}

/// Refuses a name the service would reject for its length (more than
/// [`MAX_WORKSPACE_NAME_CHARS`] characters) or emptiness, before anything is sent. Names are
/// never shortened silently.
pub(crate) fn check_name(name: &str) -> Result<(), Error> {
    let chars = name.chars().count();
    if name.trim().is_empty() {
        return Err(Error::invalid_request("a workspace name cannot be empty"));
    }
    if chars > MAX_WORKSPACE_NAME_CHARS {
        return Err(Error::invalid_request(format!(
            "a workspace name has at most {MAX_WORKSPACE_NAME_CHARS} characters; this one has \
             {chars}"
        )));
    }
    Ok(())
}

impl CreateWorkspaceRequest {
    /// Checks what the service would reject before sending: the name's length (1 to
    /// [`MAX_WORKSPACE_NAME_CHARS`] characters).
    /// [`WorkspacesClient::create_workspace`](crate::WorkspacesClient::create_workspace) calls it.
    pub fn validate(&self) -> Result<(), Error> {
        check_name(&self.name)
    }
}

impl UpdateWorkspaceRequest {
    /// Checks the new name, when there is one, as [`CreateWorkspaceRequest::validate`] does.
    pub fn validate(&self) -> Result<(), Error> {
        self.name.as_deref().map_or(Ok(()), check_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_over_sixty_characters_are_refused_not_truncated() {
        let sixty = "é".repeat(60);
        assert!(
            CreateWorkspaceRequest::new(sixty.clone())
                .validate()
                .is_ok()
        );
        let long = CreateWorkspaceRequest::new(format!("{sixty}x"));
        let error = long.validate().unwrap_err();
        assert!(error.to_string().contains("61"), "{error}");
        assert!(CreateWorkspaceRequest::new("  ").validate().is_err());
        let update = UpdateWorkspaceRequest::new().with_name("n".repeat(61));
        assert!(update.validate().is_err());
        assert!(UpdateWorkspaceRequest::default().validate().is_ok());
    }
}
