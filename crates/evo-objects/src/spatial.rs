//! Spatial objects from Arrow arrays in one call (point sets, regular 3D grids, triangle
//! meshes, line segments), their positions and attributes read back as Arrow, and attributes
//! added or replaced as a new version. Feature `arrow` (on by default).
//!
//! Every table is checked against its format and length before anything is uploaded; the
//! tables are written as the Parquet files Evo expects (evo-tables), uploaded first (only
//! what the server lacks), and the object is posted after. The objects and their attributes
//! are built as the types generated from the object schemas ([`crate::generated`]), so their
//! shape is the schemas'.

use std::path::Path;
use std::sync::Arc;

use evo_tables::arrow_array::types::Int32Type;
use evo_tables::arrow_array::{Array, ArrayRef, DictionaryArray, Float64Array, RecordBatch};
use evo_tables::arrow_schema::DataType;
use evo_tables::{ReadOptions, TableFormat, TableInfo, TableReader, WriteOptions};
use serde_json::{Value, json};

use crate::client::ObjectsClient;
use crate::data::DataFile;
use crate::error::Error;
use crate::generated as g;
use crate::{ObjectPath, ObjectResponse};

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

/// One table ready to upload: its file and its info for the JSON.
struct Encoded {
    file: DataFile,
    info: TableInfo,
}

impl Encoded {
    /// The data reference and the length, as the generated array types take them.
    fn reference(&self) -> Result<(Option<g::BinaryBlob>, i64), Error> {
        Ok((Some(self.info.data.clone()), length(self.info.length)?))
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidObject(message.into())
}

/// A row count as the schemas' integer.
fn length(rows: u64) -> Result<i64, Error> {
    i64::try_from(rows).map_err(|_| invalid(format!("{rows} rows are more than the schemas allow")))
}

fn check_format(what: &str, format: &TableFormat, batch: &RecordBatch) -> Result<(), Error> {
    format
        .validate(&batch.schema())
        .map_err(|e| invalid(format!("{what}: {e}")))
}

/// Writes `batch` as a Parquet file of `format` in `dir`, on the blocking pool.
async fn encode(dir: &Path, format: TableFormat, batch: RecordBatch) -> Result<Encoded, Error> {
    let dir = dir.to_path_buf();
    let stored = tokio::task::spawn_blocking(move || {
        evo_tables::write_to_dir(
            &dir,
            &format,
            batch.schema(),
            [&batch],
            &WriteOptions::default(),
        )
    })
    .await
    .map_err(|e| Error::Unexpected(format!("the table writing task failed: {e}")))??;
    let len = stored.table.size;
    Ok(Encoded {
        file: DataFile::named_file(stored.table.info.data.clone(), len, stored.path),
        info: stored.table.info,
    })
}

/// The typed attribute (generated from the attribute schemas) and the tables of one attribute.
async fn encode_attribute(
    dir: &Path,
    attribute: &Attribute,
    expected_len: u64,
) -> Result<(g::OneOfAttributeItem, Vec<Encoded>), Error> {
    let values = &attribute.values;
    if values.len() as u64 != expected_len {
        return Err(invalid(format!(
            "attribute {:?} has {} values but the object has {expected_len} elements",
            attribute.name,
            values.len()
        )));
    }
    let name = attribute.name.clone();
    if let DataType::Dictionary(key, value) = values.data_type() {
        if **key != DataType::Int32 || **value != DataType::Utf8 {
            return Err(invalid(format!(
                "category attribute {name:?} must be a dictionary of Int32 keys and Utf8 values"
            )));
        }
        let dict = values
            .as_any()
            .downcast_ref::<DictionaryArray<Int32Type>>()
            .ok_or_else(|| invalid(format!("attribute {name:?} is not a dictionary array")))?;
        let (keys, lookup) = evo_tables::category(name.clone(), dict)?;
        let keys = encode(dir, TableFormat::INTEGER_ARRAY_1_INT32, keys).await?;
        let lookup = encode(dir, TableFormat::LOOKUP_TABLE_INT32, lookup).await?;
        let (keys_data, keys_len) = keys.reference()?;
        let (lookup_data, lookup_len) = lookup.reference()?;
        let mut typed = g::CategoryAttribute::new(
            name.clone(),
            g::LookupTable::new(lookup_data, lookup_len, g::LookupTableKeysDataType::Int32),
            g::IntegerArray1::new(keys_data, keys_len, g::IntegerArrayMdDataType::Int32),
            g::NanCategorical::new(Vec::new()),
        );
        typed.key = Some(name);
        return Ok((
            g::OneOfAttributeItem::CategoryAttribute(typed),
            vec![keys, lookup],
        ));
    }
    let (batch, format) = evo_tables::attribute(name.clone(), values.clone())?;
    let kind = values.data_type().clone();
    let encoded = encode(dir, format.clone(), batch).await?;
    let (data, len) = encoded.reference()?;
    let key = Some(name.clone());
    let typed = match kind {
        DataType::Float64 => {
            let mut a = g::ContinuousAttribute::new(
                name,
                g::NanContinuous::new(Vec::new()),
                g::FloatArray1::new(data, len),
            );
            a.key = key;
            g::OneOfAttributeItem::ContinuousAttribute(a)
        }
        DataType::Int32 | DataType::Int64 => {
            let data_type = if kind == DataType::Int32 {
                g::IntegerArrayMdDataType::Int32
            } else {
                g::IntegerArrayMdDataType::Int64
            };
            let mut a = g::IntegerAttribute::new(
                name,
                g::NanCategorical::new(Vec::new()),
                g::IntegerArray1::new(data, len, data_type),
            );
            a.key = key;
            g::OneOfAttributeItem::IntegerAttribute(a)
        }
        DataType::Boolean => {
            let mut a = g::BoolAttribute::new(name, g::BoolArray1::new(data, len));
            a.key = key;
            g::OneOfAttributeItem::BoolAttribute(a)
        }
        DataType::Utf8 => {
            let mut a = g::StringAttribute::new(name, g::StringArray::new(data, len));
            a.key = key;
            g::OneOfAttributeItem::StringAttribute(a)
        }
        other => {
            return Err(invalid(format!(
                "attribute {name:?} has values of type {other}; supported: Float64, Int32, \
                 Int64, Boolean, Utf8 and Int32/Utf8 dictionaries"
            )));
        }
    };
    Ok((typed, vec![encoded]))
}

/// The min/max of the `x`, `y`, `z` columns (NaN ignored; 0 when empty).
fn bounding_box(positions: &RecordBatch) -> g::BoundingBox {
    let mut out = [[f64::INFINITY, f64::NEG_INFINITY]; 3];
    for (axis, range) in out.iter_mut().enumerate() {
        if let Some(col) = positions
            .column(axis)
            .as_any()
            .downcast_ref::<Float64Array>()
        {
            for v in col.iter().flatten().filter(|v| !v.is_nan()) {
                range[0] = range[0].min(v);
                range[1] = range[1].max(v);
            }
        }
        if range[0] > range[1] {
            *range = [0.0, 0.0];
        }
    }
    g::BoundingBox::new(
        out[0][0], out[0][1], out[1][0], out[1][1], out[2][0], out[2][1],
    )
}

/// `Some(list)` unless it is empty (the schemas make attribute lists optional).
fn attribute_list_of(items: Vec<g::OneOfAttributeItem>) -> Option<g::OneOfAttribute> {
    (!items.is_empty()).then_some(items)
}

/// Sets the description of an object the constructors build.
fn set_description(object: &mut g::GeoscienceObject, text: String) {
    match object {
        g::GeoscienceObject::PointSet(o) => o.description = Some(text),
        g::GeoscienceObject::Regular3DGrid(o) => o.description = Some(text),
        g::GeoscienceObject::TriangleMesh(o) => o.description = Some(text),
        g::GeoscienceObject::LineSegments(o) => o.description = Some(text),
        _ => {}
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
impl ObjectsClient {
    /// Creates `object` at `path` in one call: checks every table (format, width, length)
    /// before anything is sent, writes them as Parquet, uploads the files the server does not
    /// hold, then posts the object JSON that references them.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment, connector)?;
    /// use std::sync::Arc;
    /// use evo_objects::SpatialObject;
    /// use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    ///
    /// let xyz = positions(
    ///     Float64Array::from(vec![0.0, 10.0, 20.0]),
    ///     Float64Array::from(vec![0.0, 5.0, 0.0]),
    ///     Float64Array::from(vec![100.0, 98.5, 97.0]),
    /// )?;
    /// let points = SpatialObject::point_set("Samples", xyz)
    ///     .attribute("grade", Arc::new(Float64Array::from(vec![1.5, 2.5, 0.5])));
    /// let created = objects.create_spatial("samples/points.json", &points).await?;
    /// assert_eq!(created.name(), Some("Samples"));
    /// assert_eq!(objects.read_attribute(&created, "grade").await?.rows(), 3);
    /// # Ok(()) }
    /// ```
    pub async fn create_spatial(
        &self,
        path: impl TryInto<ObjectPath, Error = Error>,
        object: &SpatialObject,
    ) -> Result<ObjectResponse, Error> {
        let path = path.try_into()?;
        let (json, files) = self.encode_spatial(object).await?;
        self.upload_data(&files, None).await?;
        self.create(&path, &json).await
    }

    /// Writes the tables of `object` to a temporary folder and returns its JSON and files
    /// (exposed for progress-reporting callers through [`ObjectsClient::upload_data`]).
    /// The JSON is [`Self::encode_spatial_typed`]'s object, serialized.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment, connector)?;
    /// use std::sync::Arc;
    /// use evo_objects::SpatialObject;
    /// use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    ///
    /// let xyz = positions(
    ///     Float64Array::from(vec![0.0, 10.0, 20.0]),
    ///     Float64Array::from(vec![0.0, 5.0, 0.0]),
    ///     Float64Array::from(vec![100.0, 98.5, 97.0]),
    /// )?;
    /// let points = SpatialObject::point_set("Samples", xyz)
    ///     .attribute("grade", Arc::new(Float64Array::from(vec![1.5, 2.5, 0.5])));
    /// // The JSON and the Parquet files, to upload with progress and post yourself.
    /// let (json, files) = objects.encode_spatial(&points).await?;
    /// assert_eq!(files.len(), 2); // positions and grades
    /// objects.upload_data(&files, None).await?;
    /// let created = objects.create("samples/points.json", &json).await?;
    /// assert_eq!(objects.read_positions(&created).await?.rows(), 3);
    /// # Ok(()) }
    /// ```
    pub async fn encode_spatial(
        &self,
        object: &SpatialObject,
    ) -> Result<(Value, Vec<DataFile>), Error> {
        let (typed, files) = self.encode_spatial_typed(object).await?;
        let json = typed
            .to_value()
            .map_err(|e| Error::Unexpected(format!("serializing the object: {e}")))?;
        Ok((json, files))
    }

    /// Like [`Self::encode_spatial`], with the object as its generated type
    /// ([`g::PointSet`], [`g::Regular3DGrid`], [`g::TriangleMesh`] or [`g::LineSegments`],
    /// in a [`g::GeoscienceObject`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment, connector)?;
    /// use std::sync::Arc;
    /// use evo_objects::SpatialObject;
    /// use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    ///
    /// let xyz = positions(
    ///     Float64Array::from(vec![0.0, 10.0, 20.0]),
    ///     Float64Array::from(vec![0.0, 5.0, 0.0]),
    ///     Float64Array::from(vec![100.0, 98.5, 97.0]),
    /// )?;
    /// let points = SpatialObject::point_set("Samples", xyz)
    ///     .attribute("grade", Arc::new(Float64Array::from(vec![1.5, 2.5, 0.5])));
    /// use evo_objects::generated::GeoscienceObject;
    ///
    /// let (typed, _files) = objects.encode_spatial_typed(&points).await?;
    /// let GeoscienceObject::PointSet(point_set) = typed else { panic!("a point set") };
    /// assert_eq!(point_set.name, "Samples");
    /// # Ok(()) }
    /// ```
    pub async fn encode_spatial_typed(
        &self,
        object: &SpatialObject,
    ) -> Result<(g::GeoscienceObject, Vec<DataFile>), Error> {
        let dir = tempfile::tempdir()
            .map_err(|e| evo_core::Error::io("creating a folder for the tables", e))?;
        // Check everything before writing anything.
        let expected = object.element_count();
        match &object.geometry {
            Geometry::PointSet { positions } => {
                check_format("positions", &TableFormat::FLOAT_ARRAY_3, positions)?
            }
            Geometry::TriangleMesh {
                vertices,
                triangles,
            } => {
                check_format("vertices", &TableFormat::FLOAT_ARRAY_3, vertices)?;
                check_format("triangles", &TableFormat::INDEX_ARRAY_3, triangles)?;
            }
            Geometry::LineSegments { vertices, segments } => {
                check_format("vertices", &TableFormat::FLOAT_ARRAY_3, vertices)?;
                check_format("segments", &TableFormat::INDEX_ARRAY_2, segments)?;
            }
            Geometry::RegularGrid {
                size, cell_size, ..
            } => {
                if size.contains(&0)
                    || size.iter().any(|s| i64::try_from(*s).is_err())
                    || !cell_size.iter().all(|c| c.is_finite() && *c > 0.0)
                {
                    return Err(invalid(
                        "grid sizes must be at least 1 and cell sizes positive",
                    ));
                }
            }
        }
        for a in &object.attributes {
            if a.values.len() as u64 != expected {
                return Err(invalid(format!(
                    "attribute {:?} has {} values but the object has {expected} elements",
                    a.name,
                    a.values.len()
                )));
            }
        }
        let mut files = Vec::new();
        let mut attributes = Vec::new();
        for a in &object.attributes {
            let (typed, encoded) = encode_attribute(dir.path(), a, expected).await?;
            attributes.push(typed);
            files.extend(encoded.into_iter().map(|e| e.file));
        }
        let name = object.name.clone();
        let crs = object.crs.clone();
        let description = object.description.clone();
        let mut typed: g::GeoscienceObject = match &object.geometry {
            Geometry::PointSet { positions } => {
                let p = encode(dir.path(), TableFormat::FLOAT_ARRAY_3, positions.clone()).await?;
                let (data, len) = p.reference()?;
                let mut locations = g::PointSetLocations::new(g::FloatArray3::new(data, len));
                locations.attributes = attribute_list_of(attributes);
                files.push(p.file);
                g::PointSet::new(name, None, bounding_box(positions), crs, locations).into()
            }
            Geometry::TriangleMesh {
                vertices,
                triangles,
            } => {
                let v = encode(dir.path(), TableFormat::FLOAT_ARRAY_3, vertices.clone()).await?;
                let t = encode(dir.path(), TableFormat::INDEX_ARRAY_3, triangles.clone()).await?;
                let (v_data, v_len) = v.reference()?;
                let (t_data, t_len) = t.reference()?;
                let mut typed_vertices = g::TrianglesVertices::new(v_data, v_len);
                typed_vertices.attributes = attribute_list_of(attributes);
                let indices = g::TrianglesIndices::new(t_data, t_len);
                files.extend([v.file, t.file]);
                let triangles = g::Triangles::new(typed_vertices, indices);
                g::TriangleMesh::new(name, None, bounding_box(vertices), crs, triangles).into()
            }
            Geometry::LineSegments { vertices, segments } => {
                let v = encode(dir.path(), TableFormat::FLOAT_ARRAY_3, vertices.clone()).await?;
                let s = encode(dir.path(), TableFormat::INDEX_ARRAY_2, segments.clone()).await?;
                let (v_data, v_len) = v.reference()?;
                let (s_data, s_len) = s.reference()?;
                let mut typed_vertices = g::SegmentsVertices::new(v_data, v_len);
                typed_vertices.attributes = attribute_list_of(attributes);
                let indices = g::SegmentsIndices::new(s_data, s_len);
                files.extend([v.file, s.file]);
                let segments = g::Segments::new(typed_vertices, indices);
                g::LineSegments::new(name, None, bounding_box(vertices), crs, segments).into()
            }
            Geometry::RegularGrid {
                origin,
                size,
                cell_size,
            } => {
                let far: Vec<f64> = (0..3)
                    .map(|i| origin[i] + size[i] as f64 * cell_size[i])
                    .collect();
                let bounds =
                    g::BoundingBox::new(origin[0], far[0], origin[1], far[1], origin[2], far[2]);
                // Checked above: every size fits an i64.
                let size = size.map(|s| i64::try_from(s).unwrap_or(i64::MAX));
                let mut grid =
                    g::Regular3DGrid::new(name, None, bounds, crs, *origin, size, *cell_size);
                grid.rotation = Some(g::Rotation::new(0.0, 0.0, 0.0));
                grid.cell_attributes = attribute_list_of(attributes);
                grid.into()
            }
        };
        if let Some(text) = description {
            set_description(&mut typed, text);
        }
        // The files live in `dir`: keep it until the upload is done by handing it to the files.
        let dir = Arc::new(dir);
        for f in &mut files {
            f.keep_alive(dir.clone());
        }
        Ok((typed, files))
    }

    /// Reads the table `info` of the object version `object` (a data reference of its JSON)
    /// as a stream of record batches, checked against the info (format, length) and, through
    /// the download, against its SHA-256. Through the cache when the client has one,
    /// otherwise through memory.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment, connector)?;
    /// use std::sync::Arc;
    /// use evo_objects::SpatialObject;
    /// use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    ///
    /// let xyz = positions(
    ///     Float64Array::from(vec![0.0, 10.0, 20.0]),
    ///     Float64Array::from(vec![0.0, 5.0, 0.0]),
    ///     Float64Array::from(vec![100.0, 98.5, 97.0]),
    /// )?;
    /// let points = SpatialObject::point_set("Samples", xyz)
    ///     .attribute("grade", Arc::new(Float64Array::from(vec![1.5, 2.5, 0.5])));
    /// use evo_objects::evo_tables::TableInfo;
    ///
    /// let created = objects.create_spatial("samples/points.json", &points).await?;
    /// // Any table the object JSON references.
    /// let info: TableInfo = serde_json::from_value(created.object["locations"]["coordinates"].clone())?;
    /// let reader = objects.read_table(&created, &info).await?;
    /// assert_eq!((reader.rows(), reader.schema().fields().len()), (3, 3));
    /// # Ok(()) }
    /// ```
    pub async fn read_table(
        &self,
        object: &ObjectResponse,
        info: &TableInfo,
    ) -> Result<TableReader, Error> {
        let options = ReadOptions::new().expect_info(info)?;
        if self.cache().is_some() {
            let path = self.download_data_to_cache(object, &info.data).await?;
            let reader = tokio::task::spawn_blocking(move || TableReader::open(&path, &options))
                .await
                .map_err(|e| Error::Unexpected(format!("the table reading task failed: {e}")))??;
            return Ok(reader);
        }
        let bytes = self.download_data_bytes(object, &info.data).await?;
        Ok(TableReader::from_bytes(bytes, &options)?)
    }

    /// The positions (point set locations, mesh or segment vertices) of `object`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment, connector)?;
    /// use std::sync::Arc;
    /// use evo_objects::SpatialObject;
    /// use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    ///
    /// let xyz = positions(
    ///     Float64Array::from(vec![0.0, 10.0, 20.0]),
    ///     Float64Array::from(vec![0.0, 5.0, 0.0]),
    ///     Float64Array::from(vec![100.0, 98.5, 97.0]),
    /// )?;
    /// let points = SpatialObject::point_set("Samples", xyz)
    ///     .attribute("grade", Arc::new(Float64Array::from(vec![1.5, 2.5, 0.5])));
    /// use evo_objects::evo_tables::arrow_array::{RecordBatch, cast::AsArray, types::Float64Type};
    ///
    /// let created = objects.create_spatial("samples/points.json", &points).await?;
    /// let batches: Vec<RecordBatch> = objects.read_positions(&created).await?.collect::<Result<_, _>>()?;
    /// let x = batches[0].column(0).as_primitive::<Float64Type>();
    /// assert_eq!(x.values().to_vec(), [0.0, 10.0, 20.0]);
    /// # Ok(()) }
    /// ```
    pub async fn read_positions(&self, object: &ObjectResponse) -> Result<TableReader, Error> {
        let info = positions_info(&object.object)?;
        self.read_table(object, &info).await
    }

    /// The values of the attribute `name` of `object` (for a category, its keys; see
    /// [`Self::read_attribute_lookup`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment, connector)?;
    /// use std::sync::Arc;
    /// use evo_objects::SpatialObject;
    /// use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    ///
    /// let xyz = positions(
    ///     Float64Array::from(vec![0.0, 10.0, 20.0]),
    ///     Float64Array::from(vec![0.0, 5.0, 0.0]),
    ///     Float64Array::from(vec![100.0, 98.5, 97.0]),
    /// )?;
    /// let points = SpatialObject::point_set("Samples", xyz)
    ///     .attribute("grade", Arc::new(Float64Array::from(vec![1.5, 2.5, 0.5])));
    /// let created = objects.create_spatial("samples/points.json", &points).await?;
    /// let grades = objects.read_attribute(&created, "grade").await?;
    /// assert_eq!(grades.rows(), 3);
    /// assert!(objects.read_attribute(&created, "density").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn read_attribute(
        &self,
        object: &ObjectResponse,
        name: &str,
    ) -> Result<TableReader, Error> {
        let attribute = find_attribute(&object.object, name)?;
        let info = table_info_of(&attribute["values"], name)?;
        self.read_table(object, &info).await
    }

    /// The lookup table (keys and names) of the category attribute `name` of `object`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment, connector)?;
    /// use std::sync::Arc;
    /// use evo_objects::SpatialObject;
    /// use evo_objects::evo_tables::arrow_array::{DictionaryArray, Float64Array, types::Int32Type};
    /// use evo_objects::evo_tables::positions;
    ///
    /// let xyz = positions(
    ///     Float64Array::from(vec![0.0, 1.0]),
    ///     Float64Array::from(vec![0.0, 1.0]),
    ///     Float64Array::from(vec![0.0, 1.0]),
    /// )?;
    /// // A category attribute: Arrow dictionary values become keys and a lookup table.
    /// let rock: DictionaryArray<Int32Type> = vec!["granite", "basalt"].into_iter().collect();
    /// let points = SpatialObject::point_set("Rocks", xyz).attribute("rock", Arc::new(rock));
    /// let created = objects.create_spatial("rocks.json", &points).await?;
    ///
    /// let lookup = objects.read_attribute_lookup(&created, "rock").await?;
    /// assert_eq!(lookup.rows(), 2);
    /// # Ok(()) }
    /// ```
    pub async fn read_attribute_lookup(
        &self,
        object: &ObjectResponse,
        name: &str,
    ) -> Result<TableReader, Error> {
        let attribute = find_attribute(&object.object, name)?;
        let info = table_info_of(&attribute["table"], name)?;
        self.read_table(object, &info).await
    }

    /// Adds the attribute `name` to the latest version `object` of an object, or replaces
    /// the attribute of that name, as a new version (guarded by `If-Match`: a concurrent
    /// change fails with [`Error::Modified`]). The values are checked against the number of
    /// elements before anything is uploaded.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment, connector)?;
    /// use std::sync::Arc;
    /// use evo_objects::SpatialObject;
    /// use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    ///
    /// let xyz = positions(
    ///     Float64Array::from(vec![0.0, 10.0, 20.0]),
    ///     Float64Array::from(vec![0.0, 5.0, 0.0]),
    ///     Float64Array::from(vec![100.0, 98.5, 97.0]),
    /// )?;
    /// let points = SpatialObject::point_set("Samples", xyz)
    ///     .attribute("grade", Arc::new(Float64Array::from(vec![1.5, 2.5, 0.5])));
    /// let created = objects.create_spatial("samples/points.json", &points).await?;
    /// let density = Arc::new(Float64Array::from(vec![2.6, 2.7, 2.8]));
    /// let updated = objects.set_attribute(&created, "density", density).await?;
    /// assert_ne!(updated.version_id, created.version_id);
    /// assert_eq!(objects.read_attribute(&updated, "density").await?.rows(), 3);
    /// # Ok(()) }
    /// ```
    pub async fn set_attribute(
        &self,
        object: &ObjectResponse,
        name: &str,
        values: ArrayRef,
    ) -> Result<ObjectResponse, Error> {
        let id = object
            .id()
            .ok_or_else(|| Error::Unexpected("the object answer has no object id".into()))?;
        let mut json = object.object.clone();
        let (list_pointer, count) = attribute_list(&json)?;
        let dir = tempfile::tempdir()
            .map_err(|e| evo_core::Error::io("creating a folder for the tables", e))?;
        let (attribute, encoded) =
            encode_attribute(dir.path(), &Attribute::new(name, values), count).await?;
        let attribute = serde_json::to_value(&attribute)
            .map_err(|e| Error::Unexpected(format!("serializing the attribute: {e}")))?;
        let files: Vec<DataFile> = encoded.into_iter().map(|e| e.file).collect();
        self.upload_data(&files, None).await?;
        let list = json
            .pointer_mut(list_pointer)
            .ok_or_else(|| invalid("the object has no attribute list"))?;
        if !list.is_array() {
            *list = json!([]);
        }
        let items = list.as_array_mut().expect("made an array above");
        match items.iter_mut().find(|a| a["name"] == name) {
            Some(existing) => *existing = attribute,
            None => items.push(attribute),
        }
        self.update_by_id(id, &json, Some(&object.version_id)).await
    }
}

fn table_info_of(value: &Value, what: &str) -> Result<TableInfo, Error> {
    serde_json::from_value(value.clone())
        .map_err(|e| invalid(format!("the table of {what} is not a table reference: {e}")))
}

/// The table info of the positions of a point set, mesh or line segments.
fn positions_info(object: &Value) -> Result<TableInfo, Error> {
    for pointer in [
        "/locations/coordinates",
        "/triangles/vertices",
        "/segments/vertices",
    ] {
        if let Some(v) = object.pointer(pointer) {
            return table_info_of(v, "the positions");
        }
    }
    Err(invalid(
        "the object has no positions (locations, triangles or segments)",
    ))
}

/// Where the element attributes of an object are, and how many elements they describe.
fn attribute_list(object: &Value) -> Result<(&'static str, u64), Error> {
    let length = |p: &str| object.pointer(p).and_then(Value::as_u64);
    if let Some(n) = length("/locations/coordinates/length") {
        return Ok(("/locations/attributes", n));
    }
    if let Some(n) = length("/triangles/vertices/length") {
        return Ok(("/triangles/vertices/attributes", n));
    }
    if let Some(n) = length("/segments/vertices/length") {
        return Ok(("/segments/vertices/attributes", n));
    }
    if let Some(size) = object.get("size").and_then(Value::as_array) {
        let n = size.iter().filter_map(Value::as_u64).product();
        return Ok(("/cell_attributes", n));
    }
    Err(invalid("the object has no attribute list this SDK knows"))
}

fn find_attribute<'a>(object: &'a Value, name: &str) -> Result<&'a Value, Error> {
    let (pointer, _) = attribute_list(object)?;
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .and_then(|list| list.iter().find(|a| a["name"] == name))
        .ok_or_else(|| invalid(format!("the object has no attribute {name:?}")))
}

/// The table metadata of a data array of a typed object (a [`g::FloatArray3`], the `values`
/// of a [`g::ContinuousAttribute`], a [`g::LookupTable`], …), to read it with
/// [`ObjectsClient::read_table`].
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
