//! The Colormap API's data: the colormaps and associations of each workspace.

use std::collections::HashMap;

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// The Colormap API's part of the model.
#[derive(Debug, Default)]
pub(super) struct ColormapsState {
    pub(super) workspaces: HashMap<Uuid, WorkspaceColormaps>,
}

/// The colormaps and associations of one workspace.
#[derive(Debug, Default)]
pub(super) struct WorkspaceColormaps {
    /// In creation order.
    pub(super) colormaps: Vec<StoredColormap>,
    /// Per object id, in creation order.
    pub(super) associations: HashMap<Uuid, Vec<StoredAssociation>>,
}

/// A colormap: its kind's fields as checked, and who made it when.
#[derive(Debug, Clone)]
pub(super) struct StoredColormap {
    pub(super) id: Uuid,
    pub(super) name: String,
    /// `continuous`, `discrete` or `category`.
    pub(super) kind: &'static str,
    /// The kind's fields (`colors` and the others), as sent.
    pub(super) fields: serde_json::Map<String, Value>,
    pub(super) created_at: OffsetDateTime,
    pub(super) created_by: Uuid,
}

/// An association of a colormap with an object attribute.
#[derive(Debug, Clone)]
pub(super) struct StoredAssociation {
    pub(super) id: Uuid,
    pub(super) attribute_id: String,
    pub(super) colormap_id: Uuid,
    pub(super) created_at: OffsetDateTime,
    pub(super) created_by: Uuid,
    pub(super) modified_at: OffsetDateTime,
    pub(super) modified_by: Uuid,
}
