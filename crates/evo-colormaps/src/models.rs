//! Colormaps, associations and their metadata, with the checks the Colormap API applies.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Error;
use crate::timestamp;

/// An RGB color, each channel `0..=255`.
pub type Rgb = [u8; 3];

/// The most colors of a continuous or discrete colormap.
pub const MAX_COLORS: usize = 1024;
/// The most colors of a category colormap.
pub const MAX_CATEGORY_COLORS: usize = 16_384;
/// The most associations sent in one batch request (larger batches are split).
pub const ASSOCIATION_BATCH: usize = 128;

/// A gradient: `colors` spread evenly along `[0, 1]`, and a curve from attribute values
/// (`attribute_controls`, ascending) to positions on the gradient (`gradient_controls`,
/// ascending, in `[0, 1]`), one position per attribute control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinuousColormap {
    /// 2 to [`MAX_COLORS`] colors.
    pub colors: Vec<Rgb>,
    /// At least 2 attribute values, ascending.
    pub attribute_controls: Vec<f64>,
    /// Gradient positions in `[0, 1]`, ascending, as many as `attribute_controls`.
    pub gradient_controls: Vec<f64>,
}

/// Buckets: `colors[i]` for values between `end_points[i-1]` and `end_points[i]`;
/// `end_inclusive[i]` says whether `end_points[i]` belongs to the bucket below it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscreteColormap {
    /// 1 to [`MAX_COLORS`] colors.
    pub colors: Vec<Rgb>,
    /// One flag per end point.
    pub end_inclusive: Vec<bool>,
    /// One fewer than the colors, ascending.
    pub end_points: Vec<f64>,
}

/// A color per category name: `map[i]` is shown in `colors[i]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryColormap {
    /// 1 to [`MAX_CATEGORY_COLORS`] colors.
    pub colors: Vec<Rgb>,
    /// The category names, as many as the colors.
    pub map: Vec<String>,
}

/// A colormap of one of the three kinds.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Colormap {
    /// A gradient.
    Continuous(ContinuousColormap),
    /// Buckets between end points.
    Discrete(DiscreteColormap),
    /// A color per category.
    Category(CategoryColormap),
}

impl From<ContinuousColormap> for Colormap {
    fn from(c: ContinuousColormap) -> Self {
        Colormap::Continuous(c)
    }
}
impl From<DiscreteColormap> for Colormap {
    fn from(c: DiscreteColormap) -> Self {
        Colormap::Discrete(c)
    }
}
impl From<CategoryColormap> for Colormap {
    fn from(c: CategoryColormap) -> Self {
        Colormap::Category(c)
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::Invalid(reason.into())
}

fn check_count(colors: &[Rgb], min: usize, max: usize) -> Result<(), Error> {
    if colors.len() < min || colors.len() > max {
        return Err(invalid(format!(
            "a colormap of this kind has {min} to {max} colors, not {}",
            colors.len()
        )));
    }
    Ok(())
}

fn check_ascending(what: &str, values: &[f64]) -> Result<(), Error> {
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(invalid(format!("{what} must be finite numbers, not {v}")));
    }
    if let Some(i) = values.windows(2).position(|w| w[1] < w[0]) {
        return Err(invalid(format!(
            "{what} must be in ascending order ({} comes after {})",
            values[i + 1],
            values[i]
        )));
    }
    Ok(())
}

impl Colormap {
    /// The kind's name on the wire: `continuous`, `discrete` or `category`.
    pub fn kind(&self) -> &'static str {
        match self {
            Colormap::Continuous(_) => "continuous",
            Colormap::Discrete(_) => "discrete",
            Colormap::Category(_) => "category",
        }
    }

    /// The colors.
    pub fn colors(&self) -> &[Rgb] {
        match self {
            Colormap::Continuous(c) => &c.colors,
            Colormap::Discrete(c) => &c.colors,
            Colormap::Category(c) => &c.colors,
        }
    }

    /// Checks what the Colormap API checks: the number of colors, the number and order of
    /// the control points, end points and category names.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Colormap::Continuous(c) => {
                check_count(&c.colors, 2, MAX_COLORS)?;
                if c.attribute_controls.len() < 2 {
                    return Err(invalid(
                        "a continuous colormap needs at least 2 attribute controls",
                    ));
                }
                if c.attribute_controls.len() != c.gradient_controls.len() {
                    return Err(invalid(format!(
                        "{} attribute controls but {} gradient controls: they pair up",
                        c.attribute_controls.len(),
                        c.gradient_controls.len()
                    )));
                }
                check_ascending("attribute controls", &c.attribute_controls)?;
                check_ascending("gradient controls", &c.gradient_controls)?;
                if let Some(g) = c
                    .gradient_controls
                    .iter()
                    .find(|g| !(0.0..=1.0).contains(*g))
                {
                    return Err(invalid(format!("gradient controls lie in [0, 1], not {g}")));
                }
            }
            Colormap::Discrete(c) => {
                check_count(&c.colors, 1, MAX_COLORS)?;
                if c.end_points.len() + 1 != c.colors.len() {
                    return Err(invalid(format!(
                        "{} colors need {} end points, not {}",
                        c.colors.len(),
                        c.colors.len() - 1,
                        c.end_points.len()
                    )));
                }
                if c.end_inclusive.len() != c.end_points.len() {
                    return Err(invalid(format!(
                        "{} end points need as many end_inclusive flags, not {}",
                        c.end_points.len(),
                        c.end_inclusive.len()
                    )));
                }
                check_ascending("end points", &c.end_points)?;
            }
            Colormap::Category(c) => {
                check_count(&c.colors, 1, MAX_CATEGORY_COLORS)?;
                if c.map.len() != c.colors.len() {
                    return Err(invalid(format!(
                        "{} colors need as many category names, not {}",
                        c.colors.len(),
                        c.map.len()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The request body creating this colormap under `name`.
    pub(crate) fn to_request(&self, name: &str) -> Value {
        let mut body = match self {
            Colormap::Continuous(c) => serde_json::to_value(c),
            Colormap::Discrete(c) => serde_json::to_value(c),
            Colormap::Category(c) => serde_json::to_value(c),
        }
        .unwrap_or_default();
        body["name"] = Value::String(name.to_owned());
        body["dtype"] = Value::String(self.kind().to_owned());
        body
    }
}

/// A stored colormap: the colormap and its metadata.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawColormap")]
#[non_exhaustive]
pub struct ColormapMetadata {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The colormap.
    pub colormap: Colormap,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// Who created it.
    pub created_by: Uuid,
    /// When it was last changed.
    pub modified_at: OffsetDateTime,
    /// Who last changed it.
    pub modified_by: Uuid,
    /// Its URL.
    pub self_link: String,
}

/// A colormap answer as sent: the kind's fields are optional until `schema` says which apply.
#[derive(Deserialize)]
struct RawColormap {
    id: Uuid,
    name: String,
    schema: String,
    #[serde(with = "timestamp")]
    created_at: OffsetDateTime,
    created_by: Uuid,
    #[serde(with = "timestamp")]
    modified_at: OffsetDateTime,
    modified_by: Uuid,
    self_link: String,
    colors: Vec<Rgb>,
    attribute_controls: Option<Vec<f64>>,
    gradient_controls: Option<Vec<f64>>,
    end_inclusive: Option<Vec<bool>>,
    end_points: Option<Vec<f64>>,
    map: Option<Vec<String>>,
}

impl TryFrom<RawColormap> for ColormapMetadata {
    type Error = String;

    fn try_from(raw: RawColormap) -> Result<Self, String> {
        fn need<T>(value: Option<T>, field: &str, kind: &str) -> Result<T, String> {
            value.ok_or_else(|| format!("a {kind} colormap without {field}"))
        }
        let kind = raw.schema.as_str();
        let colormap = match kind {
            "continuous" => Colormap::Continuous(ContinuousColormap {
                colors: raw.colors,
                attribute_controls: need(raw.attribute_controls, "attribute_controls", kind)?,
                gradient_controls: need(raw.gradient_controls, "gradient_controls", kind)?,
            }),
            "discrete" => Colormap::Discrete(DiscreteColormap {
                colors: raw.colors,
                end_inclusive: need(raw.end_inclusive, "end_inclusive", kind)?,
                end_points: need(raw.end_points, "end_points", kind)?,
            }),
            "category" => Colormap::Category(CategoryColormap {
                colors: raw.colors,
                map: need(raw.map, "map", kind)?,
            }),
            other => return Err(format!("unknown colormap schema {other:?}")),
        };
        Ok(ColormapMetadata {
            id: raw.id,
            name: raw.name,
            colormap,
            created_at: raw.created_at,
            created_by: raw.created_by,
            modified_at: raw.modified_at,
            modified_by: raw.modified_by,
            self_link: raw.self_link,
        })
    }
}

/// The colormaps of a workspace.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ColormapList {
    pub(crate) colormaps: Vec<ColormapMetadata>,
}

/// A colormap to attach to an attribute of an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Association {
    /// The attribute's id (its `key` in the object JSON, or its name).
    pub attribute_id: String,
    /// The colormap.
    pub colormap_id: Uuid,
}

impl Association {
    /// An association of `colormap_id` with `attribute_id`.
    pub fn new(attribute_id: impl Into<String>, colormap_id: Uuid) -> Self {
        Association {
            attribute_id: attribute_id.into(),
            colormap_id,
        }
    }
}

/// A stored association of a colormap with an object attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AssociationMetadata {
    /// Its id.
    pub id: Uuid,
    /// The attribute.
    pub attribute_id: String,
    /// The colormap.
    pub colormap_id: Uuid,
    /// The colormap's URL.
    pub colormap_uri: String,
    /// The workspace.
    pub workspace_id: Uuid,
    /// When it was created.
    #[serde(with = "timestamp")]
    pub created_at: OffsetDateTime,
    /// Who created it.
    pub created_by: Uuid,
    /// When it was last changed.
    #[serde(with = "timestamp")]
    pub modified_at: OffsetDateTime,
    /// Who last changed it.
    pub modified_by: Uuid,
    /// Its URL (`.../objects/{object_id}/associations/{id}`).
    pub self_link: String,
}

/// The associations of an object.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AssociationList {
    pub(crate) associations: Vec<AssociationMetadata>,
}

/// What the Colormap API knows of a workspace: per object, its colormap metadata.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct WorkspaceMetadata {
    /// The workspace.
    pub workspace_id: Uuid,
    /// Per object id, what the service holds for it.
    pub objects_metadata: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn continuous(a: Vec<f64>, g: Vec<f64>, n: usize) -> Colormap {
        Colormap::Continuous(ContinuousColormap {
            colors: vec![[0, 0, 0]; n],
            attribute_controls: a,
            gradient_controls: g,
        })
    }

    #[test]
    fn continuous_rules() {
        assert!(
            continuous(vec![0.0, 1.0], vec![0.0, 1.0], 2)
                .validate()
                .is_ok()
        );
        assert!(
            continuous(vec![0.0, 1.0], vec![0.0, 1.0], 1)
                .validate()
                .is_err()
        );
        assert!(
            continuous(vec![0.0, 1.0], vec![0.0, 1.0], 1025)
                .validate()
                .is_err()
        );
        assert!(
            continuous(vec![1.0, 0.0], vec![0.0, 1.0], 2)
                .validate()
                .is_err()
        );
        assert!(
            continuous(vec![0.0, 1.0], vec![0.5, 0.4], 2)
                .validate()
                .is_err()
        );
        assert!(
            continuous(vec![0.0, 1.0], vec![0.0, 1.5], 2)
                .validate()
                .is_err()
        );
        assert!(
            continuous(vec![0.0, 1.0, 2.0], vec![0.0, 1.0], 2)
                .validate()
                .is_err()
        );
        assert!(continuous(vec![0.0], vec![0.0], 2).validate().is_err());
        assert!(
            continuous(vec![0.0, f64::NAN], vec![0.0, 1.0], 2)
                .validate()
                .is_err()
        );
    }

    #[test]
    fn discrete_and_category_rules() {
        let d = |n: usize, e: Vec<f64>, inc: Vec<bool>| {
            Colormap::Discrete(DiscreteColormap {
                colors: vec![[1, 2, 3]; n],
                end_inclusive: inc,
                end_points: e,
            })
        };
        assert!(d(3, vec![0.1, 0.2], vec![true, false]).validate().is_ok());
        assert!(d(1, vec![], vec![]).validate().is_ok());
        assert!(d(3, vec![0.1], vec![true]).validate().is_err());
        assert!(d(3, vec![0.2, 0.1], vec![true, false]).validate().is_err());
        assert!(d(3, vec![0.1, 0.2], vec![true]).validate().is_err());
        let c = |n: usize, m: usize| {
            Colormap::Category(CategoryColormap {
                colors: vec![[0, 0, 0]; n],
                map: (0..m).map(|i| i.to_string()).collect(),
            })
        };
        assert!(c(16_384, 16_384).validate().is_ok());
        assert!(c(16_385, 16_385).validate().is_err());
        assert!(c(0, 0).validate().is_err());
        assert!(c(3, 2).validate().is_err());
    }

    #[test]
    fn request_bodies_carry_the_kind_and_name() {
        let body = continuous(vec![0.0, 1.0], vec![0.0, 1.0], 2).to_request("heat");
        assert_eq!(body["dtype"], "continuous");
        assert_eq!(body["name"], "heat");
        assert_eq!(body["colors"][1], serde_json::json!([0, 0, 0]));
    }
}
