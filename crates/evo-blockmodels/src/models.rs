//! The wire models of the Block Model API (the request and answer bodies), as the service and
//! the official Python SDK (`evo.blockmodels.endpoints.models`) spell them. Answers tolerate
//! members they do not know; optional members may be absent or `null`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

mod size;

pub use size::{BlockSize, Size3, SizeOptions};

/// A point: the model origin (the corner of block 0, 0, 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
    /// z.
    pub z: f64,
}

/// The axis of a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RotationAxis {
    /// About x.
    X,
    /// About y.
    Y,
    /// About z.
    Z,
}

/// One rotation of the model about an axis, in degrees (clockwise looking down the axis, as
/// the service applies them, in order).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rotation {
    /// The axis.
    pub axis: RotationAxis,
    /// The angle in degrees.
    pub angle: f64,
}

/// A range of floats, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FloatRange {
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

/// A range of integers, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntRange {
    /// The smallest value.
    pub min: i64,
    /// The largest value.
    pub max: i64,
}

/// A box in model coordinates (x, y, z).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BBoxXyz {
    /// x range.
    pub x_minmax: FloatRange,
    /// y range.
    pub y_minmax: FloatRange,
    /// z range.
    pub z_minmax: FloatRange,
}

/// A box of block indices (i, j, k; of parent blocks for sub-blocked models).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BBoxIjk {
    /// i range.
    pub i_minmax: IntRange,
    /// j range.
    pub j_minmax: IntRange,
    /// k range.
    pub k_minmax: IntRange,
}

/// A bounding box of a query or a delta request: of indices, or of coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BBox {
    /// Block indices.
    Indices(BBoxIjk),
    /// Coordinates (of block centroids).
    Coordinates(BBoxXyz),
}

impl BBox {
    /// Blocks `i0..=i1`, `j0..=j1`, `k0..=k1`.
    pub fn indices(i: (i64, i64), j: (i64, i64), k: (i64, i64)) -> Self {
        let r = |(min, max)| IntRange { min, max };
        BBox::Indices(BBoxIjk {
            i_minmax: r(i),
            j_minmax: r(j),
            k_minmax: r(k),
        })
    }
    /// Blocks whose centroid is within `x0..=x1`, `y0..=y1`, `z0..=z1`.
    pub fn coordinates(x: (f64, f64), y: (f64, f64), z: (f64, f64)) -> Self {
        let r = |(min, max)| FloatRange { min, max };
        BBox::Coordinates(BBoxXyz {
            x_minmax: r(x),
            y_minmax: r(y),
            z_minmax: r(z),
        })
    }
}

/// A user as the service shows creators and updaters (`UserInfo`): the one user type of the
/// evo-rs service crates.
pub use evo_core::ServiceUser as UserInfo;

/// A block model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockModel {
    /// Its id.
    pub bm_uuid: Uuid,
    /// Its name.
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// The organization.
    pub org_uuid: Uuid,
    /// The workspace.
    pub workspace_id: Uuid,
    /// The coordinate reference system (e.g. `EPSG:32750`).
    #[serde(default)]
    pub coordinate_reference_system: Option<String>,
    /// The length unit of block sizes and coordinates (e.g. `m`).
    #[serde(default)]
    pub size_unit_id: Option<String>,
    /// Whether merge updates with a geometry change fill missing sub-blocks from the parent.
    #[serde(default)]
    pub fill_subblocks: bool,
    /// The geoscience object that references the model, if any.
    #[serde(default)]
    pub geoscience_object_id: Option<Uuid>,
    /// The corner of block 0, 0, 0.
    pub model_origin: Location,
    /// Rotations applied in order.
    #[serde(default)]
    pub block_rotation: Vec<Rotation>,
    /// The geometry.
    pub size_options: SizeOptions,
    /// The extent in coordinates.
    pub bbox: BBoxXyz,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who created it.
    pub created_by: UserInfo,
    /// When it was last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated_at: OffsetDateTime,
    /// Who last changed it.
    pub last_updated_by: UserInfo,
}

/// The answer of a create: the model and the job that makes its first version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CreatedModel {
    #[serde(flatten)]
    pub(crate) model: BlockModel,
    pub(crate) job_url: url::Url,
}

/// The type of a column, as the service names Arrow types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DataType {
    /// Arrow `Boolean`.
    Boolean,
    /// Arrow `Int8`.
    Int8,
    /// Arrow `Int16`.
    Int16,
    /// Arrow `Int32`.
    Int32,
    /// Arrow `Int64`.
    Int64,
    /// Arrow `UInt8`.
    UInt8,
    /// Arrow `UInt16`.
    UInt16,
    /// Arrow `UInt32`.
    UInt32,
    /// Arrow `UInt64`.
    UInt64,
    /// Arrow `Float16`.
    Float16,
    /// Arrow `Float32`.
    Float32,
    /// Arrow `Float64`.
    Float64,
    /// Arrow `Utf8`.
    Utf8,
    /// Arrow `Date32`.
    Date32,
    /// Arrow `Timestamp(Microsecond, "UTC")`.
    Timestamp,
}

impl DataType {
    /// The column type of an Arrow type, if the service has one for it.
    pub fn of_arrow(data_type: &arrow_schema::DataType) -> Option<DataType> {
        use arrow_schema::{DataType as A, TimeUnit};
        Some(match data_type {
            A::Boolean => DataType::Boolean,
            A::Int8 => DataType::Int8,
            A::Int16 => DataType::Int16,
            A::Int32 => DataType::Int32,
            A::Int64 => DataType::Int64,
            A::UInt8 => DataType::UInt8,
            A::UInt16 => DataType::UInt16,
            A::UInt32 => DataType::UInt32,
            A::UInt64 => DataType::UInt64,
            A::Float16 => DataType::Float16,
            A::Float32 => DataType::Float32,
            A::Float64 => DataType::Float64,
            A::Utf8 | A::LargeUtf8 | A::Utf8View => DataType::Utf8,
            A::Date32 => DataType::Date32,
            A::Timestamp(TimeUnit::Microsecond, Some(tz))
                if matches!(tz.as_ref(), "UTC" | "+00:00" | "Z" | "Etc/UTC") =>
            {
                DataType::Timestamp
            }
            _ => return None,
        })
    }

    /// The Arrow type of a column of this type.
    pub fn arrow_type(self) -> arrow_schema::DataType {
        use arrow_schema::{DataType as A, TimeUnit};
        match self {
            DataType::Boolean => A::Boolean,
            DataType::Int8 => A::Int8,
            DataType::Int16 => A::Int16,
            DataType::Int32 => A::Int32,
            DataType::Int64 => A::Int64,
            DataType::UInt8 => A::UInt8,
            DataType::UInt16 => A::UInt16,
            DataType::UInt32 => A::UInt32,
            DataType::UInt64 => A::UInt64,
            DataType::Float16 => A::Float16,
            DataType::Float32 => A::Float32,
            DataType::Float64 => A::Float64,
            DataType::Utf8 => A::Utf8,
            DataType::Date32 => A::Date32,
            DataType::Timestamp => A::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        }
    }
}

/// A column of a block model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Its id: a UUID for user columns, the name for system columns (`i`, `x`, …).
    pub col_id: String,
    /// Its title (the name users see).
    pub title: String,
    /// Its type.
    pub data_type: DataType,
    /// Its unit.
    #[serde(default)]
    pub unit_id: Option<String>,
    /// The column group it belongs to.
    #[serde(default)]
    pub group_uuid: Option<Uuid>,
    /// Its tags (a preview feature; absent in listings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
}

/// The columns (and column groups) of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    /// The columns.
    pub columns: Vec<Column>,
    /// The column groups, as the service gives them.
    #[serde(default)]
    pub groups: Vec<Value>,
}

impl Mapping {
    /// The column titled `title`.
    pub fn column(&self, title: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.title == title)
    }
}

/// A column renamed in a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnRename {
    /// The title before.
    pub old_title: String,
    /// The title after.
    pub new_title: String,
}

/// What changed in the columns of a version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VersionColumnChanges {
    /// Titles of the columns added.
    #[serde(default)]
    pub new: Vec<String>,
    /// Titles of the columns whose values changed.
    #[serde(default)]
    pub updated: Vec<String>,
    /// Titles of the columns deleted.
    #[serde(default)]
    pub deleted: Vec<String>,
    /// Columns renamed.
    #[serde(default)]
    pub renamed: Vec<ColumnRename>,
    /// Metadata changes, as the service gives them.
    #[serde(default)]
    pub metadata_updated: Option<Vec<Value>>,
}

/// What a version changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionChanges {
    /// Blocks in the uploaded file.
    #[serde(default)]
    pub blocks_uploaded: Option<u64>,
    /// The column changes.
    pub columns: VersionColumnChanges,
    /// Blocks of the model after the change.
    pub total_blocks: u64,
    /// `merge` or `replace`.
    #[serde(default)]
    pub update_type: Option<UpdateType>,
}

/// A version of a block model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    /// The block model.
    pub bm_uuid: Uuid,
    /// The version number: 1 for the version made on creation, then increasing.
    pub version_id: u64,
    /// The version's id.
    pub version_uuid: Uuid,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who made it.
    pub created_by: UserInfo,
    /// Its comment.
    #[serde(default)]
    pub comment: String,
    /// The blocks it changed, as indices.
    #[serde(default)]
    pub bbox: Option<BBoxIjk>,
    /// The version it was based on.
    #[serde(default)]
    pub base_version_id: Option<u64>,
    /// The version before it.
    #[serde(default)]
    pub parent_version_id: Option<u64>,
    /// Its columns.
    pub mapping: Mapping,
    /// The version of the referencing geoscience object.
    #[serde(default)]
    pub geoscience_version_id: Option<String>,
    /// What changed (when asked for with `include_changes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<VersionChanges>,
}

/// A unit of measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Its id (`m`, `g/cm3`, `%[mass]`, …).
    pub unit_id: String,
    /// Its symbol.
    pub symbol: String,
    /// What it is.
    pub description: String,
    /// `LENGTH`, `MASS`, `VOLUME`, `VALUE`, `MASS_PER_VOLUME`, `MASS_PER_MASS`,
    /// `VOLUME_PER_VOLUME` or `VALUE_PER_MASS`.
    pub unit_type: String,
    /// The factor to the base unit of its type.
    pub conversion_factor: f64,
}

/// One page of a listing as the Block Model API sends it; the client's `list_*_page` methods
/// give it as an [`evo_core::Page`] (report specifications with their units as a
/// [`ReportSpecificationsPage`](crate::ReportSpecificationsPage)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListPage<T> {
    /// The items of this page.
    pub results: Vec<T>,
    /// How many items this page has.
    pub count: u64,
    /// The offset asked for.
    pub offset: u64,
    /// The limit asked for.
    pub limit: u64,
    /// How many items there are in all.
    pub total: u64,
    /// The units the items refer to (version listings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_units: Option<Vec<Unit>>,
}

impl<T> From<ListPage<T>> for evo_core::Page<T> {
    fn from(page: ListPage<T>) -> Self {
        evo_core::Page::new(
            page.results,
            page.offset,
            Some(page.limit),
            Some(page.total),
            None,
        )
    }
}

/// `merge` (blocks not in the file keep their values) or `replace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateType {
    /// Blocks absent from the file keep their values.
    Merge,
    /// Updated columns take the file's values; blocks absent from it become null.
    Replace,
}

/// The state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    /// Waiting for the upload of its file (`uploaded`).
    PendingUpload,
    /// Waiting for a worker.
    Queued,
    /// Running.
    Processing,
    /// Finished successfully; the payload is the result.
    Complete,
    /// Failed; the payload is a [`JobFailure`].
    Failed,
}

impl JobStatus {
    /// `COMPLETE` or `FAILED`.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobStatus::Complete | JobStatus::Failed)
    }
}

/// A job's status answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobState {
    /// The status.
    pub job_status: JobStatus,
    /// The payload: the result when complete, the failure when failed, a fresh upload URL
    /// when pending upload.
    #[serde(default)]
    pub payload: Option<Value>,
}

/// The payload of a failed job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFailure {
    /// The problem type URI.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary.
    pub title: String,
    /// An HTTP-like status.
    pub status: u16,
    /// What went wrong, for this job.
    pub detail: String,
    /// A file of block-specific errors, when there is one.
    #[serde(default)]
    pub download_url: Option<String>,
}

impl std::fmt::Display for JobFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.title, self.status, self.detail)
    }
}

/// The answer of a column change (`PATCH .../blocks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct UpdateAnswer {
    pub(crate) job_uuid: Uuid,
    pub(crate) job_url: url::Url,
    #[serde(default)]
    pub(crate) upload_url: Option<url::Url>,
    pub(crate) version_uuid: Uuid,
}

/// What to change in a block model's metadata (`PATCH`): only the members set are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateMetadata {
    /// A new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A new coordinate reference system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coordinate_reference_system: Option<String>,
    /// A new size unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_unit_id: Option<String>,
    /// A new `fill_subblocks` default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fill_subblocks: Option<bool>,
}

impl UpdateMetadata {
    /// An update that changes nothing yet: each setter adds a member to change, and only
    /// those are sent.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames the model.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Changes the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Changes the coordinate reference system.
    pub fn coordinate_reference_system(mut self, crs: impl Into<String>) -> Self {
        self.coordinate_reference_system = Some(crs.into());
        self
    }

    /// Changes the size unit (a unit id such as `m` or `ft`).
    pub fn size_unit_id(mut self, unit: impl Into<String>) -> Self {
        self.size_unit_id = Some(unit.into());
        self
    }

    /// Changes the `fill_subblocks` default.
    pub fn fill_subblocks(mut self, fill: bool) -> Self {
        self.fill_subblocks = Some(fill);
        self
    }
}

/// A delta request: which of `columns` changed in `bbox` after a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeltaRequest {
    /// Where to look.
    pub bbox: BBox,
    /// Which columns (titles or ids).
    pub columns: Vec<String>,
    /// The last version to look at (default: the latest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_version_uuid: Option<Uuid>,
    /// Whether to describe each version.
    #[serde(default)]
    pub verbose: bool,
}

/// The changes found by a delta request: the versions after the start version that added,
/// updated or deleted blocks of the columns in the box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deltas {
    /// Versions that added values.
    pub new_deltas: Vec<Uuid>,
    /// Versions that changed values.
    pub update_deltas: Vec<Uuid>,
    /// Versions that deleted values.
    pub delete_deltas: Vec<Uuid>,
    /// The versions, as the service describes them.
    #[serde(default)]
    pub version_data: Vec<Value>,
}
