//! # evo-colormaps
//!
//! The Colormap API client of evo-rs: the colormaps of an Evo workspace and their
//! associations with attributes of geoscience objects.
//!
//! - Three kinds of [`Colormap`]: [`ContinuousColormap`] (a gradient and a curve from
//!   attribute values to it), [`DiscreteColormap`] (buckets between end points) and
//!   [`CategoryColormap`] (a color per category name). [`Colormap::validate`] checks what the
//!   service checks (2 to 1,024 colors for a gradient, 1 to 1,024 for buckets, 1 to 16,384
//!   for categories; control points paired and ascending, gradient positions in `[0, 1]`;
//!   one end point fewer than colors; a name per category color), and every create does it
//!   before sending.
//! - [`ColormapsClient`]: create, get and list colormaps; associate a colormap with an
//!   object attribute, one or many at a time (batched by [`ASSOCIATION_BATCH`]); get and list
//!   associations; the workspace metadata.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let seed = evo_emulator::Seed::from_json(
//! #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
//! # )?;
//! # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
//! # let workspace_id = emulator.organizations()[0].workspaces[0].0;
//! # let hub_url = emulator.hub_url();
//! # let environment = evo_core::Environment::new(hub_url.clone(), emulator.org_id(), workspace_id);
//! # let token = emulator.issue_token(&["evo.object"]);
//! use std::sync::Arc;
//! use evo_colormaps::{Association, ColormapsClient, ContinuousColormap};
//! use evo_core::{ApiConnector, StaticTokenAuthorizer};
//!
//! // The workspace's environment comes from evo-workspaces, the token (scope `evo.object`)
//! // from evo-auth; here both come from the embedded emulator.
//! let connector = ApiConnector::builder(hub_url)
//!     .transport(Arc::new(evo_hyper::HyperTransport::new()))
//!     .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
//!     .build()?;
//! let colormaps = ColormapsClient::new(environment, connector)?;
//! let heat = ContinuousColormap {
//!     colors: vec![[0, 0, 255], [255, 255, 0], [255, 0, 0]],
//!     attribute_controls: vec![0.0, 10.0],
//!     gradient_controls: vec![0.0, 1.0],
//! };
//! let stored = colormaps.create_colormap(&heat.into(), "grade heat").await?;
//! let object_id = evo_core::uuid::Uuid::new_v4(); // a point set's id
//! colormaps
//!     .create_association(object_id, &Association::new("grade", stored.id))
//!     .await?;
//! let associations = colormaps.list_associations(object_id).await?;
//! assert_eq!((associations[0].attribute_id.as_str(), associations[0].colormap_id), ("grade", stored.id));
//! # Ok(()) }
//! ```

mod client;
mod error;
mod models;
mod timestamp;

pub use client::{ColormapsClient, ColormapsClientBuilder};
pub use error::Error;
pub use models::{
    ASSOCIATION_BATCH, Association, AssociationMetadata, CategoryColormap, Colormap,
    ColormapMetadata, ContinuousColormap, DiscreteColormap, MAX_CATEGORY_COLORS, MAX_COLORS, Rgb,
    WorkspaceMetadata,
};
