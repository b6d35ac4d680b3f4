//! The create and update bodies of report specifications, as builders, and the checks made
//! before they are sent.

use serde::Serialize;
use uuid::Uuid;

use super::models::{
    MeshFilter, NegativeValuesPolicy, NullValuesPolicy, ReportAggregation, ReportCategory,
    ReportColumn, ReportSpecification,
};
use crate::error::Error;
use crate::models::{BBox, Column};

/// The longest name or label the service accepts.
pub const MAX_LABEL_CHARS: usize = 120;
/// The longest description the service accepts.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// The most category columns a specification can have.
pub const MAX_CATEGORIES: usize = 5;
/// The most values a category filter can list.
pub const MAX_CATEGORY_VALUES: usize = 100;
/// The most cut-offs a specification can have.
pub const MAX_CUTOFFS: usize = 20;

/// The body of a create or an update (`CreateReportSpecification`,
/// `UpdateReportSpecification`): the same members.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SpecBody {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    autorun: bool,
    columns: Vec<ReportColumn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    categories: Option<Vec<ReportCategory>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bbox: Option<BBox>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cutoff_col_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cutoff_values: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    density_col_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    density_unit_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    density_value: Option<f64>,
    mass_unit_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    mesh_filter: Option<MeshFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    negative_values_policy: Option<NegativeValuesPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    null_values_policy: Option<NullValuesPolicy>,
}

/// A new report specification (`CreateReportSpecification`), checked before it is sent.
///
/// ```
/// use evo_blockmodels::{NewReportSpecification, ReportAggregation, ReportCategory, ReportColumn};
/// # let (au, rock, density) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
/// let spec = NewReportSpecification::new("Resource", "t")
///     .column(ReportColumn::new(au, "Au grade", ReportAggregation::MassAverage, "g/t"))
///     .category(ReportCategory::new(rock, "Rock type"))
///     .density_column(density)
///     .cutoffs(au, [0.5, 1.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct NewReportSpecification(pub(crate) SpecBody);

/// A change of a report specification (`UpdateReportSpecification`): the whole specification
/// is sent again, so an update starts from the current one
/// ([`ReportSpecificationUpdate::from_current`]) and changes what its setters say. Changes of
/// anything but the name, description and autorun increase the revision.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ReportSpecificationUpdate(pub(crate) SpecBody);

/// The setters the create and update builders share.
macro_rules! spec_setters {
    ($t:ty) => {
        impl $t {
            /// The name (1 to 120 characters).
            pub fn name(mut self, name: impl Into<String>) -> Self {
                self.0.name = name.into();
                self
            }
            /// The description (at most 1,000 characters; `None` removes it).
            pub fn description(mut self, description: Option<String>) -> Self {
                self.0.description = description;
                self
            }
            /// Whether it runs by itself on every new version (default on).
            pub fn autorun(mut self, autorun: bool) -> Self {
                self.0.autorun = autorun;
                self
            }
            /// Adds a value column.
            pub fn column(mut self, column: ReportColumn) -> Self {
                self.0.columns.push(column);
                self
            }
            /// Replaces the value columns.
            pub fn columns(mut self, columns: Vec<ReportColumn>) -> Self {
                self.0.columns = columns;
                self
            }
            /// Adds a category column (at most 5).
            pub fn category(mut self, category: ReportCategory) -> Self {
                self.0
                    .categories
                    .get_or_insert_with(Vec::new)
                    .push(category);
                self
            }
            /// Replaces the category columns (`None` or empty: one total row per cut-off).
            pub fn categories(mut self, categories: Option<Vec<ReportCategory>>) -> Self {
                self.0.categories = categories;
                self
            }
            /// Reports on the blocks in `bbox` only (`None`: all blocks).
            pub fn bbox(mut self, bbox: Option<BBox>) -> Self {
                self.0.bbox = bbox;
                self
            }
            /// A result set for the blocks whose `col_id` value is at or above each of
            /// `values` (1 to 20 finite values).
            pub fn cutoffs(mut self, col_id: Uuid, values: impl IntoIterator<Item = f64>) -> Self {
                self.0.cutoff_col_id = Some(col_id);
                self.0.cutoff_values = Some(values.into_iter().collect());
                self
            }
            /// No cut-offs: one result set.
            pub fn no_cutoffs(mut self) -> Self {
                self.0.cutoff_col_id = None;
                self.0.cutoff_values = None;
                self
            }
            /// Block densities from column `col_id` (in the column's unit); replaces a
            /// density value.
            pub fn density_column(mut self, col_id: Uuid) -> Self {
                self.0.density_col_id = Some(col_id);
                self.0.density_value = None;
                self.0.density_unit_id = None;
                self
            }
            /// One density for every block, in `unit_id` (of type `MASS_PER_VOLUME`; the
            /// value must be above 1); replaces a density column.
            pub fn density_value(mut self, value: f64, unit_id: impl Into<String>) -> Self {
                self.0.density_value = Some(value);
                self.0.density_unit_id = Some(unit_id.into());
                self.0.density_col_id = None;
                self
            }
            /// The unit of the mass column (of type `MASS`).
            pub fn mass_unit(mut self, unit_id: impl Into<String>) -> Self {
                self.0.mass_unit_id = unit_id.into();
                self
            }
            /// A mesh filter (`None` removes it).
            pub fn mesh_filter(mut self, filter: Option<MeshFilter>) -> Self {
                self.0.mesh_filter = filter;
                self
            }
            /// What is done with negative values.
            pub fn negative_values(mut self, policy: NegativeValuesPolicy) -> Self {
                self.0.negative_values_policy = Some(policy);
                self
            }
            /// What is done with null values.
            pub fn null_values(mut self, policy: NullValuesPolicy) -> Self {
                self.0.null_values_policy = Some(policy);
                self
            }
        }
    };
}

spec_setters!(NewReportSpecification);
spec_setters!(ReportSpecificationUpdate);

impl NewReportSpecification {
    /// A specification named `name` whose mass column is in `mass_unit_id`; it needs at least
    /// one value column and a density (column or value) before it is sent.
    pub fn new(name: impl Into<String>, mass_unit_id: impl Into<String>) -> Self {
        NewReportSpecification(SpecBody {
            name: name.into(),
            description: None,
            autorun: true,
            columns: Vec::new(),
            categories: None,
            bbox: None,
            cutoff_col_id: None,
            cutoff_values: None,
            density_col_id: None,
            density_unit_id: None,
            density_value: None,
            mass_unit_id: mass_unit_id.into(),
            mesh_filter: None,
            negative_values_policy: None,
            null_values_policy: None,
        })
    }
}

impl ReportSpecificationUpdate {
    /// An update that keeps everything of `current` until a setter changes it.
    pub fn from_current(current: &ReportSpecification) -> Self {
        ReportSpecificationUpdate(SpecBody {
            name: current.name.clone(),
            description: current.description.clone(),
            autorun: current.autorun,
            columns: current.columns.clone(),
            categories: current.categories.clone(),
            bbox: current.bbox,
            cutoff_col_id: current.cutoff_col_id,
            cutoff_values: current.cutoff_values.clone(),
            density_col_id: current.density_col_id,
            density_unit_id: current.density_unit_id.clone(),
            density_value: current.density_value,
            mass_unit_id: current.mass_unit_id.clone(),
            mesh_filter: current.mesh_filter,
            negative_values_policy: current.negative_values_policy,
            null_values_policy: current.null_values_policy,
        })
    }
}

impl ReportColumn {
    /// A value column of block model column `column` (a user column of a version's
    /// [`Mapping`](crate::Mapping)), labelled with its title.
    pub fn of(
        column: &Column,
        aggregation: ReportAggregation,
        output_unit_id: impl Into<String>,
    ) -> Result<Self, Error> {
        Ok(ReportColumn::new(
            user_column_id(column)?,
            column.title.clone(),
            aggregation,
            output_unit_id,
        ))
    }
}

impl ReportCategory {
    /// A category of block model column `column` (a user column of a version's
    /// [`Mapping`](crate::Mapping)), labelled with its title.
    pub fn of(column: &Column) -> Result<Self, Error> {
        Ok(ReportCategory::new(
            user_column_id(column)?,
            column.title.clone(),
        ))
    }
}

fn user_column_id(column: &Column) -> Result<Uuid, Error> {
    column.col_id.parse().map_err(|_| {
        Error::InvalidRequest(format!(
            "column {:?} is a system column; reports use user columns",
            column.title
        ))
    })
}

pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidRequest(message.into())
}

fn check_label(what: &str, label: &str) -> Result<(), Error> {
    if label.trim().is_empty() {
        return Err(invalid(format!("{what} must not be empty")));
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(invalid(format!(
            "{what} has more than {MAX_LABEL_CHARS} characters: {label:?}"
        )));
    }
    Ok(())
}

impl SpecBody {
    /// The checks of the Python SDK's models (lengths, counts, ranges) and the combinations
    /// the service needs (a density, cut-off values with their column).
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_label("a report specification name", &self.name)?;
        if let Some(d) = &self.description
            && d.chars().count() > MAX_DESCRIPTION_CHARS
        {
            return Err(invalid(format!(
                "the description has more than {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
        if self.columns.is_empty() {
            return Err(invalid("a report specification needs at least one column"));
        }
        if self.mass_unit_id.trim().is_empty() {
            return Err(invalid("the mass unit must not be empty"));
        }
        let mut labels = std::collections::HashSet::new();
        for c in &self.columns {
            check_label("a column label", &c.label)?;
            if c.output_unit_id.trim().is_empty() {
                return Err(invalid(format!("column {:?} has no output unit", c.label)));
            }
            if c.col_id.is_nil() || !labels.insert(c.label.as_str()) {
                return Err(invalid(format!(
                    "column {:?} has a nil id or repeats a label",
                    c.label
                )));
            }
        }
        let categories = self.categories.as_deref().unwrap_or_default();
        if categories.len() > MAX_CATEGORIES {
            return Err(invalid(format!(
                "at most {MAX_CATEGORIES} categories, got {}",
                categories.len()
            )));
        }
        for c in categories {
            check_label("a category label", &c.label)?;
            if c.col_id.is_nil() {
                return Err(invalid(format!("category {:?} has a nil id", c.label)));
            }
            if let Some(values) = &c.values
                && !(1..=MAX_CATEGORY_VALUES).contains(&values.len())
            {
                return Err(invalid(format!(
                    "category {:?} lists {} values; 1 to {MAX_CATEGORY_VALUES} are allowed",
                    c.label,
                    values.len()
                )));
            }
        }
        match (&self.cutoff_col_id, &self.cutoff_values) {
            (None, None) => {}
            (Some(_), Some(values)) => {
                if !(1..=MAX_CUTOFFS).contains(&values.len())
                    || values.iter().any(|v| !v.is_finite())
                {
                    return Err(invalid(format!(
                        "1 to {MAX_CUTOFFS} finite cut-off values are allowed, got {values:?}"
                    )));
                }
            }
            _ => {
                return Err(invalid("cut-off values and the cut-off column go together"));
            }
        }
        match (
            self.density_col_id,
            self.density_value,
            &self.density_unit_id,
        ) {
            (Some(_), None, None) => {}
            (None, Some(v), Some(unit)) if v.is_finite() && v > 1.0 && !unit.is_empty() => {}
            (None, Some(v), _) => {
                return Err(invalid(format!(
                    "a density value must be above 1 and have a unit, got {v}"
                )));
            }
            _ => {
                return Err(invalid(
                    "a report needs either a density column or a density value with its unit",
                ));
            }
        }
        Ok(())
    }
}
