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
//! ```no_run
//! # async fn demo(environment: evo_core::Environment, connector: evo_core::ApiConnector) -> Result<(), evo_colormaps::Error> {
//! use evo_colormaps::{Association, ColormapsClient, ContinuousColormap};
//! let colormaps = ColormapsClient::new(environment, connector)?;
//! let heat = ContinuousColormap {
//!     colors: vec![[0, 0, 255], [255, 255, 0], [255, 0, 0]],
//!     attribute_controls: vec![0.0, 10.0],
//!     gradient_controls: vec![0.0, 1.0],
//! };
//! let stored = colormaps.create_colormap(&heat.into(), "grade heat").await?;
//! let object_id = evo_core::uuid::Uuid::nil(); // a point set's id
//! colormaps
//!     .create_association(object_id, &Association::new("grade", stored.id))
//!     .await?;
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
