//! The Object API's data: objects with every version, the data files each workspace holds, and
//! the organization's stages.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::state::{Stamps, item_folder, item_name};

/// The blob container object data lives in (`{org}/{ws}/{name}` inside it).
pub(crate) const DATA_CONTAINER: &str = "geoscience-data";

/// The stages every organization offers (the names of the SDK's fixture).
const STAGE_NAMES: &[&str] = &[
    "Approved",
    "Experimental",
    "In Review",
    "Peer Review",
    "Preliminary Update",
    "Resource Ready",
];

/// The Object API's part of the model.
#[derive(Debug, Default)]
pub(super) struct ObjectsState {
    pub(super) workspaces: HashMap<Uuid, WorkspaceObjects>,
    stages: HashMap<Uuid, Vec<Stage>>,
    last_version: u128,
}

impl ObjectsState {
    /// The objects and data of workspace `ws` (none yet: empty).
    pub(super) fn workspace(&mut self, ws: Uuid) -> &mut WorkspaceObjects {
        self.workspaces.entry(ws).or_default()
    }

    /// A new version id: the time in nanoseconds since the epoch, as Evo's, kept strictly
    /// increasing (two writes in the same nanosecond, or a clock moved back, still order).
    pub(super) fn next_version_id(&mut self, now: OffsetDateTime) -> String {
        let nanos = u128::try_from(now.unix_timestamp_nanos()).unwrap_or(0);
        self.last_version = nanos.max(self.last_version + 1);
        self.last_version.to_string()
    }

    /// The stages of organization `org` (none before [`Self::ensure_stages`]).
    pub(super) fn stages(&self, org: Uuid) -> &[Stage] {
        self.stages.get(&org).map_or(&[], Vec::as_slice)
    }

    /// Creates the stages of organization `org`, with fresh ids, unless they exist.
    pub(super) fn ensure_stages(&mut self, org: Uuid) {
        self.stages.entry(org).or_insert_with(|| {
            STAGE_NAMES
                .iter()
                .map(|name| Stage {
                    id: Uuid::new_v4(),
                    name: (*name).to_owned(),
                })
                .collect()
        });
    }
}

/// A stage an object version can be set to.
#[derive(Debug, Clone)]
pub(super) struct Stage {
    pub(super) id: Uuid,
    pub(super) name: String,
}

/// The objects and data files of one workspace.
#[derive(Debug, Default)]
pub(super) struct WorkspaceObjects {
    pub(super) objects: HashMap<Uuid, ObjectRec>,
    /// Data files asked for with `PUT .../data`, by name (SHA-256 hex or UUID).
    pub(super) data: HashMap<String, DataFile>,
}

impl WorkspaceObjects {
    /// The live (not deleted) object at `path`.
    pub(super) fn live_at(&self, path: &str) -> Option<&ObjectRec> {
        self.objects
            .values()
            .find(|o| o.stamps.deleted_at.is_none() && o.path == path)
    }
}

/// A data file of a workspace: its server id (its bytes are the blob
/// `{DATA_CONTAINER}/{org}/{ws}/{name}`).
#[derive(Debug, Clone)]
pub(super) struct DataFile {
    pub(super) id: Uuid,
}

/// A geoscience object.
#[derive(Debug, Clone)]
pub(super) struct ObjectRec {
    pub(super) id: Uuid,
    /// Full path without a leading slash, e.g. `a/b/x.json`.
    pub(super) path: String,
    /// Who made, last changed and deleted it, and when.
    pub(super) stamps: Stamps,
    /// Every version, oldest first (never empty).
    pub(super) versions: Vec<ObjectVersion>,
}

impl ObjectRec {
    /// The newest version.
    pub(super) fn latest(&self) -> &ObjectVersion {
        // `versions` is never empty: an object is created with its first version.
        &self.versions[self.versions.len() - 1]
    }

    /// The version with this id.
    pub(super) fn version(&self, id: &str) -> Option<&ObjectVersion> {
        self.versions.iter().find(|v| v.version_id == id)
    }

    /// The file name: `x.json` of `a/b/x.json`.
    pub(super) fn name(&self) -> &str {
        item_name(&self.path)
    }

    /// `/a/b/` for `a/b/x.json`, `/` for `x.json`.
    pub(super) fn folder(&self) -> String {
        item_folder(&self.path)
    }

    /// The schema id of the newest version.
    pub(super) fn schema(&self) -> &str {
        self.latest().schema()
    }
}

/// One version of an object: the JSON as posted (with its `uuid` set) and who made it.
#[derive(Debug, Clone)]
pub(super) struct ObjectVersion {
    pub(super) version_id: String,
    pub(super) object: Arc<Value>,
    pub(super) created_at: OffsetDateTime,
    pub(super) created_by: Uuid,
    /// The lowercase hex SHA-256 of the stored JSON.
    pub(super) etag: String,
    pub(super) stage: Option<Uuid>,
    /// The data files it references, in the order they appear.
    pub(super) data: Vec<String>,
}

impl ObjectVersion {
    pub(super) fn schema(&self) -> &str {
        self.object
            .get("schema")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}
