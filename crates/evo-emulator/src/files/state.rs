//! The File API's data: files with their committed versions and pending uploads, per workspace.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::state::{Stamps, item_folder, item_name};

/// The container that File API uploads live in.
pub(super) const FILES_CONTAINER: &str = "files";

/// The File API's part of the model.
#[derive(Debug, Default)]
pub(super) struct FilesState {
    /// Files per workspace id.
    pub(super) workspaces: HashMap<Uuid, WorkspaceFiles>,
    /// Registered uploads, by blob key (`files/{blob}`): what committing that blob creates.
    pub(super) uploads: HashMap<String, UploadBinding>,
    last_version_id: u64,
}

impl FilesState {
    /// The files of workspace `ws` (none yet: an empty set).
    pub(super) fn workspace(&mut self, ws: Uuid) -> &mut WorkspaceFiles {
        self.workspaces.entry(ws).or_default()
    }

    /// A fresh version id, unique across the emulator.
    pub(super) fn next_version_id(&mut self) -> u64 {
        self.last_version_id += 1;
        self.last_version_id
    }
}

/// The files of one workspace.
#[derive(Debug, Default)]
pub(super) struct WorkspaceFiles {
    pub(super) files: HashMap<Uuid, FileRec>,
}

/// One committed version of a file.
#[derive(Debug, Clone)]
pub(super) struct FileVersion {
    pub(super) version_id: u64,
    pub(super) size: u64,
    pub(super) etag: String,
    pub(super) created_at: OffsetDateTime,
    pub(super) created_by: Uuid,
    pub(super) blob_name: String,
}

/// A file of the File API.
#[derive(Debug, Clone)]
pub(super) struct FileRec {
    pub(super) id: Uuid,
    /// Full path without a leading slash, e.g. `a/b/x.csv`.
    pub(super) path: String,
    /// Who made, last changed and deleted it, and when.
    pub(super) stamps: Stamps,
    /// Committed versions, oldest first.
    pub(super) versions: Vec<FileVersion>,
    /// Registered uploads not committed yet: version id -> blob name.
    pub(super) pending: HashMap<u64, String>,
}

impl FileRec {
    pub(super) fn name(&self) -> &str {
        item_name(&self.path)
    }

    /// `/a/b/` for `a/b/x.csv`, `/` for `x.csv`.
    pub(super) fn folder(&self) -> String {
        item_folder(&self.path)
    }

    pub(super) fn latest(&self) -> Option<&FileVersion> {
        self.versions.last()
    }

    /// Visible through the API: at least one committed version.
    pub(super) fn visible(&self) -> bool {
        !self.versions.is_empty()
    }
}

/// What an upload blob belongs to, so committing it creates the file version.
#[derive(Debug, Clone)]
pub(super) struct UploadBinding {
    pub(super) workspace: Uuid,
    pub(super) file: Uuid,
    pub(super) version_id: u64,
    pub(super) user: Uuid,
}
