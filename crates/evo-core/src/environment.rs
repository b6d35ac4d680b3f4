//! Where a workspace lives: hub URL, organization and workspace ids.

use std::fmt;

use uuid::Uuid;

/// The coordinates of one Evo workspace, from which service clients build their URLs
/// (`/file/v2/orgs/{org_id}/workspaces/{workspace_id}/…` on `hub_url`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Environment {
    /// The hub base URL, as discovery returns it (always ending in `/`).
    pub hub_url: url::Url,
    /// The organization (Evo instance) id.
    pub org_id: Uuid,
    /// The workspace id.
    pub workspace_id: Uuid,
}

impl Environment {
    /// An environment; a trailing `/` is added to the hub URL when missing.
    pub fn new(hub_url: url::Url, org_id: Uuid, workspace_id: Uuid) -> Self {
        let mut hub_url = hub_url;
        if !hub_url.path().ends_with('/') {
            let path = format!("{}/", hub_url.path());
            hub_url.set_path(&path);
        }
        Environment {
            hub_url,
            org_id,
            workspace_id,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "workspace {} of organization {} on {}",
            self.workspace_id, self.org_id, self.hub_url
        )
    }
}
