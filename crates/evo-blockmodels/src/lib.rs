//! # evo-blockmodels
//!
//! The Block Model API client of evo-rs: block models (regular, fully sub-blocked, flexible,
//! variable octree) with their versions, column changes, queries and jobs.
//!
//! [`BlockModelsClient`] works on one workspace ([`evo_core::Environment`]) through an
//! [`evo_core::ApiConnector`] (transport and credentials).
//!
//! - Models: list in the workspace or the organization (a page, or a `Stream` of every page),
//!   get, [create](BlockModelsClient::create) from a [`NewBlockModel`] (any [`SizeOptions`],
//!   origin, rotations, CRS, size unit), update metadata, delete, restore.
//! - Versions: list, get by version uuid (with its changes), [deltas](BlockModelsClient::deltas)
//!   between versions, [units](BlockModelsClient::units).
//! - Jobs: a typed [`JobHandle`] that waits with capped, jittered backoff
//!   ([`evo_core::polling`]), reports progress ([`JobHandle::watch`]), stops at the caller's
//!   timeout ([`Error::JobTimedOut`]) and fails with the job's payload ([`Error::JobFailed`]).
//! - Column changes ([`ColumnChanges`]): add, update, rename, delete, set units, merge or
//!   replace, checked against the model's latest version before anything is sent; values go
//!   from Arrow arrays to a Parquet file (evo-tables), up through evo-io, then the job is
//!   waited for.
//! - Queries ([`Query`]): columns, bounding box, version, coordinates or indices; the result is
//!   downloaded through evo-io and read back as Arrow record batches a batch at a time
//!   ([`QueryResult::batches`]), or kept as a file ([`BlockModelsClient::query_to_file`]).
//!
//! - Reports ([`NewReportSpecification`], [`ReportSpecificationUpdate`]): report
//!   specifications (value columns summed or mass-averaged, categories, cut-offs, density,
//!   bounding box) created, listed, read and changed; reporting jobs
//!   ([`BlockModelsClient::run_report`]) whose [`ReportResult`]s are listed and read; and
//!   comparisons of two results ([`BlockModelsClient::compare_reports`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use evo_blockmodels::evo_tables::arrow_array::{Float64Array, RecordBatch};
//! use evo_blockmodels::{
//!     BlockModelsClient, BlockSize, ColumnChanges, NewBlockModel, Query, Size3, SizeOptions,
//! };
//! use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
//! use futures_util::TryStreamExt as _;
//!
//! # let seed = evo_emulator::Seed::from_json(
//! #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
//! # )?;
//! # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
//! # let (hub_url, org_id) = (emulator.hub_url(), emulator.org_id());
//! # let workspace_id = emulator.organizations()[0].workspaces[0].0;
//! # let token = emulator.issue_token(&["evo.blocksync"]);
//! let connector = ApiConnector::builder(hub_url.clone())
//!     .transport(Arc::new(evo_hyper::HyperTransport::new()))
//!     .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
//!     .build()?;
//! let client = BlockModelsClient::new(Environment::new(hub_url, org_id, workspace_id), connector)?;
//!
//! // A 4 x 3 x 2 model of 10 m blocks, then a grade column for its 24 blocks.
//! let size = SizeOptions::Regular {
//!     n_blocks: Size3::new(4, 3, 2),
//!     block_size: BlockSize::new(10.0, 10.0, 10.0),
//! };
//! let (model, _first) = client.create(&NewBlockModel::new("Pit", size)).await?;
//! let grade = Float64Array::from_iter_values((0..24).map(|b| f64::from(b) * 0.5));
//! let changes = ColumnChanges::new().add("grade", Arc::new(grade), Some("g/t".into()));
//! client.update_columns(model.bm_uuid, &changes).await?;
//!
//! // The grades back, with each block's i, j, k.
//! let result = client.query(model.bm_uuid, &Query::new(["grade"])).await?;
//! let batches: Vec<RecordBatch> = result.batches().try_collect().await?;
//! assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 24);
//! # Ok(()) }
//! ```
//!
//! Not yet: column values of sub-blocked models (their models can be created, read and
//! changed in metadata).

mod blockmodels;
mod client;
mod columns;
mod error;
mod jobs;
pub mod models;
mod query;
pub mod reports;

pub use blockmodels::{ListQuery, MAX_PAGE_SIZE, NewBlockModel};
pub use client::{BlockModelsClient, BlockModelsClientBuilder, DEFAULT_JOB_TIMEOUT};
pub use columns::{ColumnChanges, GEOMETRY_COLUMNS};
pub use error::Error;
pub use evo_core::Page;
pub use jobs::{JobEvent, JobHandle, QueryDownload};
pub use models::{
    BBox, BBoxIjk, BBoxXyz, BlockModel, BlockSize, Column, DataType, DeltaRequest, Deltas,
    JobFailure, JobState, JobStatus, ListPage, Location, Mapping, Rotation, RotationAxis, Size3,
    SizeOptions, Unit, UpdateMetadata, UpdateType, UserInfo, Version, VersionChanges,
};
pub use query::{
    ColumnHeaders, DEFAULT_QUERY_BATCH_ROWS, GeometryColumns, Query, QueryResult, QueryStarted,
};
pub use reports::models::{
    CategoryValue, MeshFilter, MeshFilterRelation, NegativeValuesPolicy, NullValuesPolicy,
    ReportAggregation, ReportCategory, ReportCell, ReportCellStatus, ReportColumn,
    ReportComparison, ReportComparisonRequest, ReportComparisonRun, ReportComparisonValue,
    ReportResult, ReportResultSummary, ReportRow, ReportRun, ReportSpecification, ReportWarning,
    ReportWarningType, ReportingJob,
};
pub use reports::{
    ComparisonStarted, NewReportSpecification, ReportSpecificationUpdate, ReportSpecificationsPage,
};

/// Re-export of evo-tables (Arrow and Parquet), so callers build arrays with the same Arrow
/// version.
pub use evo_tables;
