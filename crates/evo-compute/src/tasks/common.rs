//! What the geostatistics tasks share: where values come from ([`Source`]), where results go
//! ([`Target`]), the search neighbourhood, and attribute filters.

use evo_objects::ObjectReference;
use serde::Serialize;

use crate::error::Error;

/// A JMESPath expression selecting an attribute of an object by name:
/// `{list}[?name=='{name}']`, e.g. `locations.attributes[?name=='grade']` for a point set or
/// `cell_attributes[?name=='grade']` for a regular grid. Quotes in the name are escaped.
pub fn attribute_by_name(list: &str, name: &str) -> String {
    format!("{list}[?name=='{}']", escape(name))
}

/// A JMESPath expression selecting an attribute by its key: `{list}[?key=='{key}']`.
pub fn attribute_by_key(list: &str, key: &str) -> String {
    format!("{list}[?key=='{}']", escape(key))
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The object and attribute holding the known values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// The object reference URL.
    pub object: String,
    /// The attribute expression (see [`attribute_by_name`]).
    pub attribute: String,
    /// Only the locations passing this filter (the `source_filter` of the Python SDK).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
}

impl Source {
    /// The attribute found by `expression` on `object`.
    pub fn new(object: &ObjectReference, expression: impl Into<String>) -> Self {
        Source {
            object: object.to_url().to_string(),
            attribute: expression.into(),
            filter: None,
        }
    }
    /// The point set attribute `name` of `object` (`locations.attributes[?name=='…']`).
    pub fn point_set_attribute(object: &ObjectReference, name: &str) -> Self {
        Self::new(object, attribute_by_name("locations.attributes", name))
    }
    /// The grid cell attribute `name` of `object` (`cell_attributes[?name=='…']`).
    pub fn grid_attribute(object: &ObjectReference, name: &str) -> Self {
        Self::new(object, attribute_by_name("cell_attributes", name))
    }
    /// Restricts the source to the locations passing `filter`.
    pub fn with_filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }
}

/// What a task does to the target attribute.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "operation", rename_all = "lowercase")]
pub enum TargetAttribute {
    /// Adds a new attribute named `name`.
    Create {
        /// The new attribute's name.
        name: String,
    },
    /// Overwrites the attribute found by `reference` (an attribute expression).
    Update {
        /// The attribute expression.
        reference: String,
    },
}

/// The object (and attribute) results are written to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// The object reference URL.
    pub object: String,
    /// The attribute to create or update.
    pub attribute: TargetAttribute,
    /// Only the locations passing this filter (the `target_filter` of the Python SDK).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
}

impl Target {
    /// Creates the attribute `name` on `object`.
    pub fn new_attribute(object: &ObjectReference, name: impl Into<String>) -> Self {
        Target {
            object: object.to_url().to_string(),
            attribute: TargetAttribute::Create { name: name.into() },
            filter: None,
        }
    }
    /// Overwrites the attribute `expression` of `object`.
    pub fn update_attribute(object: &ObjectReference, expression: impl Into<String>) -> Self {
        Target {
            object: object.to_url().to_string(),
            attribute: TargetAttribute::Update {
                reference: expression.into(),
            },
            filter: None,
        }
    }
    /// Restricts the target to the locations passing `filter`.
    pub fn with_filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }
}

/// An object reference given by itself (`{"object": url}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectOnly {
    /// The object reference URL.
    pub object: String,
}

impl ObjectOnly {
    /// `object`.
    pub fn new(object: &ObjectReference) -> Self {
        ObjectOnly {
            object: object.to_url().to_string(),
        }
    }
}

/// The ranges of a search ellipsoid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EllipsoidRanges {
    /// Along the major axis.
    pub major: f64,
    /// Along the semi-major axis.
    pub semi_major: f64,
    /// Along the minor axis.
    pub minor: f64,
}

/// The orientation of an ellipsoid, in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Rotation {
    /// Clockwise about Z.
    pub dip_azimuth: f64,
    /// About X after that.
    pub dip: f64,
    /// About Z after that.
    pub pitch: f64,
}

/// A search ellipsoid: ranges and orientation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ellipsoid {
    /// The ranges.
    pub ellipsoid_ranges: EllipsoidRanges,
    /// The orientation.
    pub rotation: Rotation,
}

impl Ellipsoid {
    /// An ellipsoid with these ranges, not rotated.
    pub fn new(major: f64, semi_major: f64, minor: f64) -> Self {
        Ellipsoid {
            ellipsoid_ranges: EllipsoidRanges {
                major,
                semi_major,
                minor,
            },
            rotation: Rotation::default(),
        }
    }
    /// A sphere of radius `range`.
    pub fn sphere(range: f64) -> Self {
        Self::new(range, range, range)
    }
    /// This ellipsoid turned by `rotation`.
    pub fn rotated(mut self, rotation: Rotation) -> Self {
        self.rotation = rotation;
        self
    }
}

/// Which samples an estimate uses: those in the ellipsoid, at most `max_samples` (the
/// nearest), at least `min_samples`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SearchNeighborhood {
    /// Where to search.
    pub ellipsoid: Ellipsoid,
    /// The most samples per estimate.
    pub max_samples: u32,
    /// The fewest samples an estimate needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_samples: Option<u32>,
}

impl SearchNeighborhood {
    /// At most `max_samples` samples within `ellipsoid`.
    pub fn new(ellipsoid: Ellipsoid, max_samples: u32) -> Self {
        SearchNeighborhood {
            ellipsoid,
            max_samples,
            min_samples: None,
        }
    }
    /// Needs at least `min` samples.
    pub fn with_min_samples(mut self, min: u32) -> Self {
        self.min_samples = Some(min);
        self
    }
    pub(crate) fn check(&self) -> Result<(), Error> {
        let r = self.ellipsoid.ellipsoid_ranges;
        if ![r.major, r.semi_major, r.minor]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
        {
            return Err(Error::Invalid("ellipsoid ranges must be positive".into()));
        }
        if self.max_samples == 0 || self.min_samples.is_some_and(|m| m > self.max_samples) {
            return Err(Error::Invalid(
                "max_samples must be at least 1 and at least min_samples".into(),
            ));
        }
        Ok(())
    }
}

/// A filter comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOperator {
    /// The value is one of `values`.
    In,
    /// The value is none of `values`.
    NotIn,
    /// `== threshold`.
    Equal,
    /// `!= threshold`.
    NotEqual,
    /// `> threshold`.
    GreaterThan,
    /// `>= threshold`.
    GreaterThanOrEqualTo,
    /// `< threshold`.
    LessThan,
    /// `<= threshold`.
    LessThanOrEqualTo,
}

/// A category value of a membership filter: a name or an integer key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum CategoryValue {
    /// A category name.
    Name(String),
    /// A category key.
    Key(i64),
}

/// A filter expression: a condition on one attribute, or all / any of other expressions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FilterExpression {
    /// A condition on one attribute.
    Condition {
        /// The attribute expression.
        attribute: String,
        /// The comparison.
        operator: FilterOperator,
        /// For `in` / `not_in`.
        #[serde(skip_serializing_if = "Option::is_none")]
        values: Option<Vec<CategoryValue>>,
        /// For the numeric comparisons.
        #[serde(skip_serializing_if = "Option::is_none")]
        threshold: Option<f64>,
    },
    /// Every expression holds.
    AllOf {
        /// The expressions.
        filters: Vec<FilterExpression>,
    },
    /// Some expression holds.
    AnyOf {
        /// The expressions.
        filters: Vec<FilterExpression>,
    },
}

impl FilterExpression {
    /// `attribute` is one of `values` (`in`) or none of them (`not_in`, when `negate`).
    pub fn membership(
        attribute: impl Into<String>,
        values: Vec<CategoryValue>,
        negate: bool,
    ) -> Self {
        FilterExpression::Condition {
            attribute: attribute.into(),
            operator: if negate {
                FilterOperator::NotIn
            } else {
                FilterOperator::In
            },
            values: Some(values),
            threshold: None,
        }
    }
    /// `attribute <operator> threshold` for a numeric operator.
    pub fn compare(
        attribute: impl Into<String>,
        operator: FilterOperator,
        threshold: f64,
    ) -> Result<Self, Error> {
        if matches!(operator, FilterOperator::In | FilterOperator::NotIn) {
            return Err(Error::Invalid(
                "in / not_in take values: use FilterExpression::membership".into(),
            ));
        }
        Ok(FilterExpression::Condition {
            attribute: attribute.into(),
            operator,
            values: None,
            threshold: Some(threshold),
        })
    }
}

/// Which locations a computation includes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Filter {
    /// The root expression.
    #[serde(rename = "where")]
    pub where_: FilterExpression,
}

impl Filter {
    /// A filter of `expression`.
    pub fn new(expression: FilterExpression) -> Self {
        Filter { where_: expression }
    }
}

/// Block discretisation: points per block along x, y and z (each 1 to 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BlockDiscretisation {
    /// Along x.
    pub nx: u8,
    /// Along y.
    pub ny: u8,
    /// Along z.
    pub nz: u8,
}

impl Default for BlockDiscretisation {
    fn default() -> Self {
        BlockDiscretisation {
            nx: 1,
            ny: 1,
            nz: 1,
        }
    }
}

impl BlockDiscretisation {
    pub(crate) fn check(&self) -> Result<(), Error> {
        if [self.nx, self.ny, self.nz]
            .iter()
            .all(|n| (1..=9).contains(n))
        {
            Ok(())
        } else {
            Err(Error::Invalid(
                "block discretisation counts are 1 to 9".into(),
            ))
        }
    }
}

/// `min <= value <= max`, or an [`Error::Invalid`] naming `what`.
pub(crate) fn check_range(what: &str, value: f64, min: f64, max: f64) -> Result<(), Error> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{what} must be in [{min}, {max}], not {value}"
        )))
    }
}
