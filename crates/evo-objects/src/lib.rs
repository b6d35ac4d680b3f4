//! # evo-objects
//!
//! The Geoscience Object API client of evo-rs: list, read, write, move, delete and restore
//! the geoscience objects of an Evo workspace (point sets, grids, meshes, drill holes, …),
//! their versions and stages, and move the data files their columns live in.
//!
//! [`ObjectsClient`] works on one workspace ([`evo_core::Environment`]) through an
//! [`evo_core::ApiConnector`] (transport and credentials).
//!
//! - Every endpoint of the API: workspace and organization listings with every filter and
//!   ordering ([`ListObjectsQuery`]; a page, or a `Stream` of all pages), get by id, path or
//!   [`ObjectReference`] (at a version, with the version list), conditional get
//!   ([`Conditional::Unchanged`] is an outcome, not an error), create/update by path, update
//!   by id with `If-Match` ([`Error::Modified`] on a stale version, [`Error::AlreadyExists`]
//!   with the `existing_id` when creating over an existing path), move, delete, restore,
//!   chosen versions, latest versions of many objects (batched by 500), stages.
//! - Object JSON travels gzip-compressed both ways: bodies from
//!   [`DEFAULT_GZIP_THRESHOLD`] bytes are sent with `Content-Encoding: gzip`, answers are
//!   asked for with `Accept-Encoding: gzip` and inflated with a size limit.
//! - Object data ([`DataFile`]): content-addressed Parquet files named by their SHA-256.
//!   [`ObjectsClient::upload_data`] asks `PUT .../data` in batches of [`DATA_BATCH`] and sends
//!   only what the server lacks; downloads take the URLs from the object's `links.data`,
//!   renew them by reading the same version again and check every file's SHA-256 (a
//!   corrupted download is [`Error::is_integrity`], never data), into memory, a file, or the
//!   cache (one download per file however many tasks ask).
//! - Object paths ([`ObjectPath`]) and references are checked before any request.
//!
//! The wire models are in [`models`]. [`generated`] holds the typed geoscience objects,
//! generated from the object JSON Schemas ([`generated::PointSet`], [`generated::Regular3DGrid`],
//! …, and [`generated::GeoscienceObject`] to read any object by its schema id).
//!
//! A point set from Arrow arrays, stored and read back (feature `arrow`, on by default):
//!
//! ```
//! # #[cfg(feature = "arrow")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
//! use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
//! use evo_objects::{GetOptions, ObjectsClient, SpatialObject};
//!
//! # let seed = evo_emulator::Seed::from_json(
//! #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Docs"}]}]}"#)?;
//! # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
//! # let workspace = emulator.organizations()[0].workspaces[0].0;
//! # let environment = Environment::new(emulator.hub_url(), emulator.org_id(), workspace);
//! # let token = emulator.issue_token(&["evo.object"]);
//! // The workspace's environment (hub, organization, workspace) and a token with the
//! // `evo.object` scope come from discovery and evo-auth (or `evo_sdk::Evo::objects`).
//! let connector = ApiConnector::builder(environment.hub_url.clone())
//!     .transport(Arc::new(evo_hyper::HyperTransport::new()))
//!     .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
//!     .build()?;
//! let objects = ObjectsClient::new(environment, connector)?;
//!
//! // Three points with a grade each: the tables are written as Parquet and uploaded (only
//! // what the server lacks), then the object is posted.
//! let x = Float64Array::from(vec![0.0, 10.0, 20.0]);
//! let y = Float64Array::from(vec![0.0, 5.0, 0.0]);
//! let z = Float64Array::from(vec![100.0, 98.5, 97.0]);
//! let points = SpatialObject::point_set("Samples", positions(x, y, z)?)
//!     .epsg(32760)
//!     .attribute("grade", Arc::new(Float64Array::from(vec![1.5, 2.5, 0.5])));
//! let created = objects.create_spatial("samples/points.json", &points).await?;
//!
//! // Read back: the object JSON, and its positions as Arrow (checked against their SHA-256).
//! let object = objects.get_by_path("samples/points.json", &GetOptions::new()).await?;
//! assert_eq!(object.version_id, created.version_id);
//! assert_eq!(objects.read_positions(&object).await?.rows(), 3);
//! # Ok(()) }
//! # #[cfg(not(feature = "arrow"))]
//! # fn main() {}
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
mod client;
mod data;
mod error;
pub mod generated;
mod gzip;
pub mod models;
mod objects;
mod path;
mod query;
mod reference;
#[cfg(feature = "arrow")]
mod spatial;

pub use client::{
    DEFAULT_DATA_CONCURRENCY, DEFAULT_GZIP_THRESHOLD, DEFAULT_MAX_OBJECT_BYTES, ObjectsClient,
    ObjectsClientBuilder,
};
pub use data::{
    CACHE_SCOPE, DATA_BATCH, DataFile, DataUploadReport, is_sha256_name, referenced_data,
    sha256_hex,
};
pub use error::Error;
/// One page of a listing (the same type in every evo-rs service crate).
pub use evo_core::Page;
pub use models::{
    DataLink, DataUploadTarget, LatestVersion, ListedObject, ObjectResponse, ObjectVersion,
    ObjectsPage, OrgListedObject, Stage, UserInfo,
};
pub use objects::{Conditional, GetOptions, LATEST_VERSIONS_BATCH, RestoreOutcome, VERSIONS_BATCH};
pub use path::{MAX_PATH_BYTES, ObjectPath};
pub use query::{ListObjectsQuery, MAX_PAGE_SIZE, OrderBy, SortField, TimeFilter, TimeOp};
pub use reference::{ObjectLocator, ObjectReference};
#[cfg(feature = "arrow")]
#[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
pub use spatial::{Attribute, Geometry, SpatialObject, schema_ids, table_info};

/// Re-export of evo-tables (Arrow and Parquet tables; feature `arrow`), so callers build arrays
/// with the same Arrow version.
#[cfg(feature = "arrow")]
#[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
pub use evo_tables;

/// Re-exports of the evo-io types used in this crate's API.
pub use evo_io::{BlobClient, Destination, DownloadReport};
