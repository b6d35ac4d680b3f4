//! The wire models of report specifications, reporting jobs, report results and comparisons,
//! as the official Python SDK (`evo.blockmodels.endpoints.models`) spells them. Answers
//! tolerate members they do not know; optional members may be absent or `null`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::models::BBox;

/// How a report column is aggregated over the blocks of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ReportAggregation {
    /// `SUM`: the sum of the values (metal content, volume, value).
    Sum,
    /// `MASS_AVERAGE`: the mass-weighted average of the values (grades, qualities).
    MassAverage,
}

/// What a report does with negative values in its cut-off or value columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum NegativeValuesPolicy {
    /// `USE`: negative values are used as they are.
    Use,
    /// `ZERO`: negative values count as 0.
    Zero,
    /// `IGNORE_BLOCK`: a block with a negative value is left out of the report (the
    /// service's default).
    IgnoreBlock,
    /// `IGNORE_VALUE`: the negative value is left out of its column's aggregation only.
    IgnoreValue,
    /// `MARK_AS_INVALID`: the cells the value would go into are [`ReportCellStatus::Invalid`].
    MarkAsInvalid,
}

/// What a report does with null values in its cut-off or value columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum NullValuesPolicy {
    /// `ZERO`: null values count as 0.
    Zero,
    /// `IGNORE_BLOCK`: a block with a null value is left out of the report (the service's
    /// default).
    IgnoreBlock,
    /// `IGNORE_VALUE`: the null value is left out of its column's aggregation only.
    IgnoreValue,
    /// `MARK_AS_INVALID`: the cells the value would go into are [`ReportCellStatus::Invalid`].
    MarkAsInvalid,
}

/// Whether a mesh filter keeps the blocks inside or outside the mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MeshFilterRelation {
    /// Blocks whose centroid is inside the mesh.
    Inside,
    /// Blocks whose centroid is outside the mesh.
    Outside,
}

/// A mesh filter: blocks are kept by where their centroid lies relative to a mesh object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeshFilter {
    /// Inside or outside.
    pub relation: MeshFilterRelation,
    /// The geoscience object id of the mesh.
    pub uuid: Uuid,
}

/// A value column of a report specification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportColumn {
    /// How the column is aggregated.
    pub aggregation: ReportAggregation,
    /// The id of the block model column.
    pub col_id: Uuid,
    /// The label of the column in the report (at most 120 characters).
    pub label: String,
    /// The unit of the values in the report (the column's unit must be convertible to it).
    pub output_unit_id: String,
}

impl ReportColumn {
    /// Column `col_id` aggregated by `aggregation`, labelled `label`, reported in `output_unit_id`.
    pub fn new(
        col_id: Uuid,
        label: impl Into<String>,
        aggregation: ReportAggregation,
        output_unit_id: impl Into<String>,
    ) -> Self {
        ReportColumn {
            aggregation,
            col_id,
            label: label.into(),
            output_unit_id: output_unit_id.into(),
        }
    }
}

/// A category column of a report specification: the report has a row for each of its values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCategory {
    /// The id of the block model column.
    pub col_id: Uuid,
    /// The label of the category in the report (at most 120 characters).
    pub label: String,
    /// The values to report (1 to 100); `None`: a row for every distinct non-empty value.
    #[serde(default)]
    pub values: Option<Vec<String>>,
}

impl ReportCategory {
    /// Category column `col_id`, labelled `label`, with a row for each of its values.
    pub fn new(col_id: Uuid, label: impl Into<String>) -> Self {
        ReportCategory {
            col_id,
            label: label.into(),
            values: None,
        }
    }

    /// Only these values (and the blocks that have them) are reported.
    pub fn values<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.values = Some(values.into_iter().map(Into::into).collect());
        self
    }
}

/// A report specification of a block model, as the service answers it
/// (`ReportSpecificationWithLastRunInfo`, and `ReportSpecificationWithJobUrl` without its URL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSpecification {
    /// Its id.
    pub report_specification_uuid: Uuid,
    /// The block model it reports on.
    pub bm_uuid: Uuid,
    /// Its name.
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// Increases with every change other than of the name, description or autorun; results
    /// of different revisions cannot be compared.
    #[serde(default)]
    pub revision: u64,
    /// Whether it runs by itself on every new version of the block model.
    #[serde(default = "yes")]
    pub autorun: bool,
    /// The value columns.
    pub columns: Vec<ReportColumn>,
    /// The category columns (at most 5); none: a single total row for each cut-off.
    #[serde(default)]
    pub categories: Option<Vec<ReportCategory>>,
    /// The blocks reported on (indices or coordinates); `None`: all.
    #[serde(default)]
    pub bbox: Option<BBox>,
    /// The column whose value is compared with the cut-offs.
    #[serde(default)]
    pub cutoff_col_id: Option<Uuid>,
    /// The cut-offs (1 to 20): a result set of the blocks at or above each.
    #[serde(default)]
    pub cutoff_values: Option<Vec<f64>>,
    /// The column of block densities.
    #[serde(default)]
    pub density_col_id: Option<Uuid>,
    /// The unit of [`Self::density_value`] (of type `MASS_PER_VOLUME`).
    #[serde(default)]
    pub density_unit_id: Option<String>,
    /// One density for every block.
    #[serde(default)]
    pub density_value: Option<f64>,
    /// The unit of the mass column of the report (of type `MASS`).
    pub mass_unit_id: String,
    /// A mesh filter.
    #[serde(default)]
    pub mesh_filter: Option<MeshFilter>,
    /// What is done with negative values.
    #[serde(default)]
    pub negative_values_policy: Option<NegativeValuesPolicy>,
    /// What is done with null values.
    #[serde(default)]
    pub null_values_policy: Option<NullValuesPolicy>,
    /// When the latest result was made (listings and gets only).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_result_created_at: Option<OffsetDateTime>,
    /// The version the latest result was made from (listings and gets only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_result_version_id: Option<u64>,
}

fn yes() -> bool {
    true
}

/// The answer of a create or an update: the specification and, with `run_now`, the URL of
/// the reporting job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SpecificationWithJobUrl {
    #[serde(flatten)]
    pub(crate) specification: ReportSpecification,
    #[serde(default)]
    pub(crate) job_url: Option<url::Url>,
}

/// The answer of starting a reporting job (`ReportingJobResult`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportingJob {
    /// The block model.
    pub bm_uuid: Uuid,
    /// The job's status URL.
    pub job_url: url::Url,
    /// The job's id.
    pub job_uuid: Uuid,
    /// The specification run.
    pub report_specification_uuid: Uuid,
    /// The number of the version reported on.
    pub version_id: u64,
    /// The version reported on.
    pub version_uuid: Uuid,
}

/// The payload of a completed reporting job (`ReportRunResult`): which result it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRun {
    /// The block model.
    pub bm_uuid: Uuid,
    /// The result made.
    pub report_result_uuid: Uuid,
    /// The specification run.
    pub report_specification_uuid: Uuid,
    /// The number of the version reported on.
    pub version_id: u64,
    /// The version reported on.
    pub version_uuid: Uuid,
}

/// How a report cell's value is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ReportCellStatus {
    /// Computed normally.
    Ok,
    /// A percentage change from zero (comparisons only): undefined.
    PercentChangeFromZero,
    /// No data to compute it from.
    NoData,
    /// The data held an invalid value (see the policies).
    Invalid,
}

/// One cell of a report: a value, `None` whenever the status is not [`ReportCellStatus::Ok`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReportCell {
    /// The value.
    pub value: Option<f64>,
    /// How to read it.
    #[serde(default = "cell_ok")]
    pub status: ReportCellStatus,
}

fn cell_ok() -> ReportCellStatus {
    ReportCellStatus::Ok
}

/// A category value in a report row (the category column's type decides which).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CategoryValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number.
    Float(f64),
    /// A string.
    Text(String),
}

impl std::fmt::Display for CategoryValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CategoryValue::Bool(v) => write!(f, "{v}"),
            CategoryValue::Int(v) => write!(f, "{v}"),
            CategoryValue::Float(v) => write!(f, "{v}"),
            CategoryValue::Text(v) => f.write_str(v),
        }
    }
}

/// A row of a report: its category values and a cell per value column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// One value per category column; `None` marks a total over that category.
    pub categories: Vec<Option<CategoryValue>>,
    /// One cell per value column ([`ReportResult::value_columns`]).
    pub values: Vec<ReportCell>,
}

/// The rows of one cut-off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportResultSet {
    /// The cut-off (`None` when the specification has none).
    #[serde(default)]
    pub cutoff_value: Option<f64>,
    /// The rows.
    pub rows: Vec<ReportRow>,
}

/// A category column of a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportResultCategory {
    /// The block model column.
    pub col_id: Uuid,
    /// Its label.
    pub label: String,
}

/// A value column of a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportResultColumn {
    /// The block model column; `None` for columns the service computes (such as the mass).
    #[serde(default)]
    pub col_id: Option<Uuid>,
    /// Its label.
    pub label: String,
    /// The unit of its values.
    pub unit_id: String,
}

/// A block model column a result used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportResultReferencedColumn {
    /// The column.
    pub col_id: Uuid,
    /// Its type, as the service names Arrow types.
    pub data_type: String,
    /// Its title.
    pub title: String,
    /// Its unit.
    #[serde(default)]
    pub unit_id: Option<String>,
    /// The version the unit was taken from.
    #[serde(default)]
    pub unit_id_from_version: Option<Uuid>,
}

/// The kind of a report warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ReportWarningType {
    /// A density was null or not above 0.
    InvalidDensityValue,
    /// A cut-off value was null.
    NullCutoffValue,
    /// A cut-off value was negative.
    NegativeCutoffValue,
    /// A value was null.
    NullColumnValue,
    /// A value was negative.
    NegativeColumnValue,
    /// A category value was invalid (null or empty).
    InvalidCategoryValue,
    /// A category column had too many values.
    TooManyCategoryValues,
    /// A category value was too long.
    LongCategoryValue,
    /// A unit was taken from the latest version.
    UnitFromLatestVersion,
    /// A sub-block was missing.
    MissingSubBlock,
    /// A kind this SDK does not know.
    #[serde(other)]
    Other,
}

/// A warning about the data a result was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportWarning {
    /// What happened.
    pub message: String,
    /// How many times.
    pub occurrences: u64,
    /// Its kind.
    pub warning_type: ReportWarningType,
}

/// A result of running a report specification on a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportResult {
    /// Its id.
    pub report_result_uuid: Uuid,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub report_result_created_at: OffsetDateTime,
    /// The block model.
    pub bm_uuid: Uuid,
    /// The specification run.
    pub report_specification_uuid: Uuid,
    /// Its name when run.
    pub report_specification_name: String,
    /// Its description when run.
    #[serde(default)]
    pub report_specification_description: Option<String>,
    /// Its revision when run.
    pub report_specification_revision: u64,
    /// The category columns, in the order of [`ReportRow::categories`].
    pub categories: Vec<ReportResultCategory>,
    /// The value columns, in the order of [`ReportRow::values`].
    pub value_columns: Vec<ReportResultColumn>,
    /// The cut-off column.
    #[serde(default)]
    pub cutoff_col_id: Option<Uuid>,
    /// The mesh filter applied.
    #[serde(default)]
    pub mesh_filter_used: Option<MeshFilter>,
    /// The block model columns used.
    pub referenced_columns: Vec<ReportResultReferencedColumn>,
    /// One set of rows per cut-off.
    pub result_sets: Vec<ReportResultSet>,
    /// The number of the version reported on.
    pub version_id: u64,
    /// The version reported on.
    #[serde(default)]
    pub version_uuid: Option<Uuid>,
    /// The comment of that version.
    #[serde(default)]
    pub version_comment: Option<String>,
    /// When that version was made.
    #[serde(with = "time::serde::rfc3339")]
    pub version_created_at: OffsetDateTime,
    /// Who made it, as the service describes users.
    pub version_created_by: Value,
    /// Warnings about the data.
    pub warnings: Vec<ReportWarning>,
}

impl ReportResult {
    /// The result set of cut-off `cutoff` (`None`: of a specification without cut-offs).
    pub fn result_set(&self, cutoff: Option<f64>) -> Option<&ReportResultSet> {
        self.result_sets.iter().find(|s| s.cutoff_value == cutoff)
    }

    /// The index of the value column labelled `label`.
    pub fn value_column(&self, label: &str) -> Option<usize> {
        self.value_columns.iter().position(|c| c.label == label)
    }
}

/// A result in a listing (`ReportResultSummary`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportResultSummary {
    /// Its id.
    pub report_result_uuid: Uuid,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub report_result_created_at: OffsetDateTime,
    /// The specification run.
    pub report_specification_uuid: Uuid,
    /// The mesh filter applied.
    #[serde(default)]
    pub mesh_filter_used: Option<MeshFilter>,
    /// The number of the version reported on.
    pub version_id: u64,
    /// The version reported on.
    #[serde(default)]
    pub version_uuid: Option<Uuid>,
    /// When that version was made.
    #[serde(with = "time::serde::rfc3339")]
    pub version_created_at: OffsetDateTime,
    /// Who made it, as the service describes users.
    pub version_created_by: Value,
}

/// Which versions to compare (`ReportComparisonSpec`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportComparisonRequest {
    /// The baseline version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_version_uuid: Option<Uuid>,
    /// The version compared with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_version_uuid: Option<Uuid>,
}

/// The answer of a comparison request (`ReportComparisonRequestResult`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ComparisonRequestAnswer {
    #[serde(default)]
    pub(crate) from_result_uuid: Option<Uuid>,
    #[serde(default)]
    pub(crate) to_result_uuid: Option<Uuid>,
    #[serde(default)]
    pub(crate) job_url: Option<url::Url>,
}

/// The payload of a completed comparison job (`ReportComparisonJobResult`): the two results to
/// compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportComparisonRun {
    /// The specification.
    pub report_specification_uuid: Uuid,
    /// The result of the baseline version.
    #[serde(default)]
    pub from_result_uuid: Option<Uuid>,
    /// The baseline version.
    #[serde(default)]
    pub from_version_uuid: Option<Uuid>,
    /// The result of the version compared.
    #[serde(default)]
    pub to_result_uuid: Option<Uuid>,
    /// The version compared.
    #[serde(default)]
    pub to_version_uuid: Option<Uuid>,
}

/// One compared value: both values, the difference (`to - from`) and the percentage change.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReportComparisonValue {
    /// The baseline value.
    pub from_value: ReportCell,
    /// The value compared.
    pub to_value: ReportCell,
    /// `to - from`.
    pub difference: ReportCell,
    /// `(to - from) / from × 100`.
    pub percent: ReportCell,
}

/// A compared row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportComparisonRow {
    /// One value per category column; `None` marks a total.
    pub categories: Vec<Option<CategoryValue>>,
    /// One compared value per value column.
    pub values: Vec<ReportComparisonValue>,
}

/// The compared rows of one cut-off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportComparisonResultSet {
    /// The cut-off.
    #[serde(default)]
    pub cutoff_value: Option<f64>,
    /// The rows.
    pub rows: Vec<ReportComparisonRow>,
}

/// One side of a comparison (`ReportComparisonResultInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportComparisonResultInfo {
    /// The result.
    pub report_result_uuid: Uuid,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub report_result_created_at: OffsetDateTime,
    /// The block model columns it used.
    pub referenced_columns: Vec<ReportResultReferencedColumn>,
    /// The number of its version.
    pub version_id: u64,
    /// Its version.
    #[serde(default)]
    pub version_uuid: Option<Uuid>,
    /// The version's comment.
    #[serde(default)]
    pub version_comment: Option<String>,
    /// When the version was made.
    #[serde(with = "time::serde::rfc3339")]
    pub version_created_at: OffsetDateTime,
    /// Who made it.
    pub version_created_by: Value,
}

/// The warnings of a comparison and of its two results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportComparisonWarnings {
    /// About the comparison itself.
    pub comparison: Vec<ReportWarning>,
    /// Of the baseline result.
    pub from_result: Vec<ReportWarning>,
    /// Of the result compared.
    pub to_result: Vec<ReportWarning>,
}

/// A comparison of two results of the same specification revision (`ReportComparison`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportComparison {
    /// The block model.
    pub bm_uuid: Uuid,
    /// The specification.
    pub report_specification_uuid: Uuid,
    /// Its name.
    pub report_specification_name: String,
    /// Its description.
    #[serde(default)]
    pub report_specification_description: Option<String>,
    /// The revision both results were made with.
    pub report_specification_revision: u64,
    /// The category columns.
    pub categories: Vec<ReportResultCategory>,
    /// The value columns.
    pub value_columns: Vec<ReportResultColumn>,
    /// The cut-off column.
    #[serde(default)]
    pub cutoff_col_id: Option<Uuid>,
    /// The baseline.
    pub from_result: ReportComparisonResultInfo,
    /// The result compared.
    pub to_result: ReportComparisonResultInfo,
    /// One set of compared rows per cut-off.
    pub result_sets: Vec<ReportComparisonResultSet>,
    /// Warnings.
    pub warnings: ReportComparisonWarnings,
}
