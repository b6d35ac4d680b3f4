//! The object calls: list, get (conditional too), write, move, delete, restore, versions,
//! latest versions and stages.
//!
//! What lives where: this file holds the options and outcomes of the calls ([`GetOptions`],
//! [`Conditional`], [`RestoreOutcome`]) and how a call finds an object by id or path;
//! `listing` lists objects, `getting` gets one, `writing` creates, updates and moves,
//! `deleting` deletes and restores, and `versions` holds versions and stages.

mod deleting;
mod getting;
mod listing;
mod versions;
mod writing;

use http::Method;

use crate::client::{OBJECT_BY_ID, OBJECT_BY_PATH, ObjectsClient};
use crate::models::ObjectResponse;
use crate::reference::ObjectLocator;

/// The most object ids one latest-versions call takes.
pub const LATEST_VERSIONS_BATCH: usize = 500;

/// The most version ids one chosen-versions call takes.
pub const VERSIONS_BATCH: usize = 100;

/// Which version of an object to get, and what to include.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetOptions {
    pub(crate) version_id: Option<String>,
    pub(crate) include_versions: bool,
    pub(crate) deleted: bool,
}

impl GetOptions {
    /// The latest version, without the version list.
    pub fn new() -> Self {
        GetOptions::default()
    }
    /// A given version instead of the latest.
    pub fn version(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }
    /// Also list every version ([`ObjectResponse::versions`]).
    pub fn include_versions(mut self, include: bool) -> Self {
        self.include_versions = include;
        self
    }
    /// Return a deleted object instead of failing (by id only).
    pub fn include_deleted(mut self, include: bool) -> Self {
        self.deleted = include;
        self
    }
}

/// The result of a conditional get ([`ObjectsClient::get_if_changed`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Conditional {
    /// 304: the known version is still the latest.
    Unchanged,
    /// A newer version, with its object JSON.
    Changed(Box<ObjectResponse>),
}

/// The result of [`ObjectsClient::restore`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RestoreOutcome {
    /// Restored at its old path.
    Restored,
    /// Restored under another path (its old one was taken), as this new version.
    Moved(Box<ObjectResponse>),
}

impl ObjectsClient {
    fn locate(&self, method: Method, locator: &ObjectLocator) -> evo_core::RequestBuilder {
        match locator {
            ObjectLocator::Id(id) => self
                .request(method, OBJECT_BY_ID)
                .path_param("object_id", id),
            ObjectLocator::Path(path) => self
                .request(method, OBJECT_BY_PATH)
                .path_param_with_slashes("object_path", path.as_str()),
        }
    }
}
