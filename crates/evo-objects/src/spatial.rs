//! Spatial objects from Arrow arrays in one call (point sets, regular 3D grids, triangle
//! meshes, line segments), their positions and attributes read back as Arrow, and attributes
//! added or replaced as a new version. Feature `arrow` (on by default).
//!
//! Every table is checked against its format and length before anything is uploaded; the
//! tables are written as the Parquet files Evo expects (evo-tables), uploaded first (only
//! what the server lacks), and the object is posted after. The objects and their attributes
//! are built as the types generated from the object schemas ([`crate::generated`]), so their
//! shape is the schemas'.
//!
//! What lives where: this file holds what a spatial object is made of ([`SpatialObject`],
//! [`Geometry`], [`Attribute`]) and [`table_info`]; `encoding` checks and writes the tables
//! and builds the object (and creates it), `reading` reads tables back as Arrow, and
//! `attribute` adds or replaces an attribute as a new version.

mod attribute;
mod encoding;
mod reading;

use evo_tables::TableInfo;
use evo_tables::arrow_array::{ArrayRef, RecordBatch};

use crate::error::Error;
use crate::generated as g;
use reading::table_info_of;

/// The schema ids the constructors write (the latest version of each).
pub mod schema_ids {
    use crate::generated::{self as g, TypedObject};

    /// Point sets ([`g::PointSet`]).
    pub const POINTSET: &str = <g::PointSet as TypedObject>::SCHEMA_ID;
    /// Regular 3D grids ([`g::Regular3DGrid`]).
    pub const REGULAR_3D_GRID: &str = <g::Regular3DGrid as TypedObject>::SCHEMA_ID;
    /// Triangle meshes ([`g::TriangleMesh`]).
    pub const TRIANGLE_MESH: &str = <g::TriangleMesh as TypedObject>::SCHEMA_ID;
    /// Line segments ([`g::LineSegments`]).
    pub const LINE_SEGMENTS: &str = <g::LineSegments as TypedObject>::SCHEMA_ID;
}

/// A named column of attribute values. Its type picks the attribute kind: `Float64` → scalar,
/// `Int32`/`Int64` → integer, `Boolean` → bool, `Utf8` → string, a dictionary of `Int32`
/// keys and `Utf8` values → category.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// The attribute's name (also its key).
    pub name: String,
    /// One value per element (point, vertex or cell).
    pub values: ArrayRef,
}

impl Attribute {
    /// An attribute.
    pub fn new(name: impl Into<String>, values: ArrayRef) -> Self {
        Attribute {
            name: name.into(),
            values,
        }
    }
}

/// The shape of a spatial object.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Geometry {
    /// Points: a `float-array-3` table (`x`, `y`, `z`); attributes are per point.
    PointSet {
        /// The positions.
        positions: RecordBatch,
    },
    /// A regular 3D grid (axis-aligned); attributes are per cell, x fastest.
    RegularGrid {
        /// The grid's origin.
        origin: [f64; 3],
        /// Cells along x, y and z (each at least 1).
        size: [u64; 3],
        /// The size of a cell along x, y and z (each positive).
        cell_size: [f64; 3],
    },
    /// Triangles: vertices (`float-array-3`) and triangles (`index-array-3`, `uint64`);
    /// attributes are per vertex.
    TriangleMesh {
        /// The vertices.
        vertices: RecordBatch,
        /// The triangles.
        triangles: RecordBatch,
    },
    /// Line segments: vertices (`float-array-3`) and segments (`index-array-2`, `uint64`);
    /// attributes are per vertex.
    LineSegments {
        /// The vertices.
        vertices: RecordBatch,
        /// The segments.
        segments: RecordBatch,
    },
}

/// A new spatial object: a name, a geometry, attributes and a coordinate reference system.
#[derive(Debug, Clone)]
pub struct SpatialObject {
    name: String,
    geometry: Geometry,
    attributes: Vec<Attribute>,
    crs: g::Crs,
    description: Option<String>,
}

impl SpatialObject {
    /// A point set of `positions` (`x`, `y`, `z`: `Float64`).
    pub fn point_set(name: impl Into<String>, positions: RecordBatch) -> Self {
        Self::new(name, Geometry::PointSet { positions })
    }

    /// A regular grid.
    pub fn regular_grid(
        name: impl Into<String>,
        origin: [f64; 3],
        size: [u64; 3],
        cell_size: [f64; 3],
    ) -> Self {
        Self::new(
            name,
            Geometry::RegularGrid {
                origin,
                size,
                cell_size,
            },
        )
    }

    /// A triangle mesh.
    pub fn triangle_mesh(
        name: impl Into<String>,
        vertices: RecordBatch,
        triangles: RecordBatch,
    ) -> Self {
        Self::new(
            name,
            Geometry::TriangleMesh {
                vertices,
                triangles,
            },
        )
    }

    /// Line segments.
    pub fn line_segments(
        name: impl Into<String>,
        vertices: RecordBatch,
        segments: RecordBatch,
    ) -> Self {
        Self::new(name, Geometry::LineSegments { vertices, segments })
    }

    fn new(name: impl Into<String>, geometry: Geometry) -> Self {
        SpatialObject {
            name: name.into(),
            geometry,
            attributes: Vec::new(),
            crs: g::Crs::Unspecified,
            description: None,
        }
    }

    /// Adds an attribute.
    pub fn attribute(mut self, name: impl Into<String>, values: ArrayRef) -> Self {
        self.attributes.push(Attribute::new(name, values));
        self
    }

    /// The EPSG code of the coordinate reference system (default: unspecified).
    pub fn epsg(mut self, code: u32) -> Self {
        self.crs = g::Crs::EpsgCode(g::CrsEpsgCode::new(i64::from(code)));
        self
    }

    /// A description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// How many elements each attribute must have.
    fn element_count(&self) -> u64 {
        match &self.geometry {
            Geometry::PointSet { positions } => positions.num_rows() as u64,
            Geometry::RegularGrid { size, .. } => size.iter().product(),
            Geometry::TriangleMesh { vertices, .. } | Geometry::LineSegments { vertices, .. } => {
                vertices.num_rows() as u64
            }
        }
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidObject(message.into())
}

/// The table metadata of a data array of a typed object (a [`g::FloatArray3`], the `values`
/// of a [`g::ContinuousAttribute`], a [`g::LookupTable`], …), to read it with
/// [`ObjectsClient::read_table`](crate::ObjectsClient::read_table).
///
/// ```
/// use evo_objects::generated as g;
/// let array = g::FloatArray3::new(Some("ab".repeat(32)), 10);
/// let info = evo_objects::table_info(&array).unwrap();
/// assert_eq!((info.length, info.width, info.data_type.as_deref()), (10, Some(3), Some("float64")));
/// ```
pub fn table_info<T: serde::Serialize>(element: &T) -> Result<TableInfo, Error> {
    let value = serde_json::to_value(element)
        .map_err(|e| invalid(format!("the element is not JSON: {e}")))?;
    table_info_of(&value, "the element")
}
