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
