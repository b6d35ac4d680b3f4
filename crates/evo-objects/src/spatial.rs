//! Spatial objects from Arrow arrays in one call (point sets, regular 3D grids, triangle
//! meshes, line segments), their positions and attributes read back as Arrow, and attributes
//! added or replaced as a new version. Feature `arrow` (on by default).
//!
//! Every table is checked against its format and length before anything is uploaded; the
//! tables are written as the Parquet files Evo expects (evo-tables), uploaded first (only
//! what the server lacks), and the object is posted after.

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
use crate::models::ObjectResponse;
use crate::path::ObjectPath;

/// The schema ids the constructors write (the latest version of each).
pub mod schema_ids {
    /// Point sets.
    pub const POINTSET: &str = "/objects/pointset/1.3.0/pointset.schema.json";
    /// Regular 3D grids.
    pub const REGULAR_3D_GRID: &str = "/objects/regular-3d-grid/1.3.0/regular-3d-grid.schema.json";
    /// Triangle meshes.
    pub const TRIANGLE_MESH: &str = "/objects/triangle-mesh/2.3.0/triangle-mesh.schema.json";
    /// Line segments.
    pub const LINE_SEGMENTS: &str = "/objects/line-segments/2.2.0/line-segments.schema.json";
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
    crs: Value,
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
            crs: json!("unspecified"),
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
        self.crs = json!({ "epsg_code": code });
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

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidObject(message.into())
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

/// The attribute JSON (without its tables' infos filled) and the tables of one attribute.
async fn encode_attribute(
    dir: &Path,
    attribute: &Attribute,
    expected_len: u64,
) -> Result<(Value, Vec<Encoded>), Error> {
    let values = &attribute.values;
    if values.len() as u64 != expected_len {
        return Err(invalid(format!(
            "attribute {:?} has {} values but the object has {expected_len} elements",
            attribute.name,
            values.len()
        )));
    }
    let name = attribute.name.clone();
    let base = json!({ "name": name, "key": name });
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
        let mut json = base;
        json["attribute_type"] = json!("category");
        json["nan_description"] = json!({ "values": [] });
        json["values"] = serde_json::to_value(&keys.info).unwrap_or_default();
        json["table"] = serde_json::to_value(&lookup.info).unwrap_or_default();
        return Ok((json, vec![keys, lookup]));
    }
    let (batch, format) = evo_tables::attribute(name.clone(), values.clone())?;
    let (kind, nan) = match values.data_type() {
        DataType::Float64 => ("scalar", true),
        DataType::Int32 | DataType::Int64 => ("integer", true),
        DataType::Boolean => ("bool", false),
        DataType::Utf8 => ("string", false),
        other => {
            return Err(invalid(format!(
                "attribute {name:?} has values of type {other}; supported: Float64, Int32, \
                 Int64, Boolean, Utf8 and Int32/Utf8 dictionaries"
            )));
        }
    };
    let encoded = encode(dir, format.clone(), batch).await?;
    let mut json = base;
    json["attribute_type"] = json!(kind);
    if nan {
        json["nan_description"] = json!({ "values": [] });
    }
    json["values"] = serde_json::to_value(&encoded.info).unwrap_or_default();
    Ok((json, vec![encoded]))
}

/// The min/max of the `x`, `y`, `z` columns (NaN ignored; 0 when empty).
fn bounding_box(positions: &RecordBatch) -> Value {
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
    json!({
        "min_x": out[0][0], "max_x": out[0][1],
        "min_y": out[1][0], "max_y": out[1][1],
        "min_z": out[2][0], "max_z": out[2][1],
    })
}

impl ObjectsClient {
    /// Creates `object` at `path` in one call: checks every table (format, width, length)
    /// before anything is sent, writes them as Parquet, uploads the files the server does not
    /// hold, then posts the object JSON that references them.
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
    pub async fn encode_spatial(
        &self,
        object: &SpatialObject,
    ) -> Result<(Value, Vec<DataFile>), Error> {
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
                if size.contains(&0) || !cell_size.iter().all(|c| c.is_finite() && *c > 0.0) {
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
            let (json, encoded) = encode_attribute(dir.path(), a, expected).await?;
            attributes.push(json);
            files.extend(encoded.into_iter().map(|e| e.file));
        }
        let mut json = json!({
            "uuid": null,
            "name": object.name,
            "coordinate_reference_system": object.crs,
        });
        if let Some(d) = &object.description {
            json["description"] = json!(d);
        }
        match &object.geometry {
            Geometry::PointSet { positions } => {
                let p = encode(dir.path(), TableFormat::FLOAT_ARRAY_3, positions.clone()).await?;
                json["schema"] = json!(schema_ids::POINTSET);
                json["bounding_box"] = bounding_box(positions);
                json["locations"] = json!({ "coordinates": p.info, "attributes": attributes });
                files.push(p.file);
            }
            Geometry::TriangleMesh {
                vertices,
                triangles,
            } => {
                let v = encode(dir.path(), TableFormat::FLOAT_ARRAY_3, vertices.clone()).await?;
                let t = encode(dir.path(), TableFormat::INDEX_ARRAY_3, triangles.clone()).await?;
                json["schema"] = json!(schema_ids::TRIANGLE_MESH);
                json["bounding_box"] = bounding_box(vertices);
                let mut vj = serde_json::to_value(&v.info).unwrap_or_default();
                vj["attributes"] = json!(attributes);
                json["triangles"] = json!({ "vertices": vj, "indices": t.info });
                files.extend([v.file, t.file]);
            }
            Geometry::LineSegments { vertices, segments } => {
                let v = encode(dir.path(), TableFormat::FLOAT_ARRAY_3, vertices.clone()).await?;
                let s = encode(dir.path(), TableFormat::INDEX_ARRAY_2, segments.clone()).await?;
                json["schema"] = json!(schema_ids::LINE_SEGMENTS);
                json["bounding_box"] = bounding_box(vertices);
                let mut vj = serde_json::to_value(&v.info).unwrap_or_default();
                vj["attributes"] = json!(attributes);
                json["segments"] = json!({ "vertices": vj, "indices": s.info });
                files.extend([v.file, s.file]);
            }
            Geometry::RegularGrid {
                origin,
                size,
                cell_size,
            } => {
                json["schema"] = json!(schema_ids::REGULAR_3D_GRID);
                json["origin"] = json!(origin);
                json["size"] = json!(size);
                json["cell_size"] = json!(cell_size);
                json["rotation"] = json!({ "dip_azimuth": 0.0, "dip": 0.0, "pitch": 0.0 });
                let far: Vec<f64> = (0..3)
                    .map(|i| origin[i] + size[i] as f64 * cell_size[i])
                    .collect();
                json["bounding_box"] = json!({
                    "min_x": origin[0], "max_x": far[0],
                    "min_y": origin[1], "max_y": far[1],
                    "min_z": origin[2], "max_z": far[2],
                });
                json["cell_attributes"] = json!(attributes);
            }
        }
        // The files live in `dir`: keep it until the upload is done by handing it to the files.
        let dir = Arc::new(dir);
        for f in &mut files {
            f.keep_alive(dir.clone());
        }
        Ok((json, files))
    }

    /// Reads the table `info` of the object version `object` (a data reference of its JSON)
    /// as a stream of record batches, checked against the info (format, length) and, through
    /// the download, against its SHA-256. Through the cache when the client has one,
    /// otherwise through memory.
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
    pub async fn read_positions(&self, object: &ObjectResponse) -> Result<TableReader, Error> {
        let info = positions_info(&object.object)?;
        self.read_table(object, &info).await
    }

    /// The values of the attribute `name` of `object` (for a category, its keys; see
    /// [`Self::read_attribute_lookup`]).
    pub async fn read_attribute(
        &self,
        object: &ObjectResponse,
        name: &str,
    ) -> Result<TableReader, Error> {
        let attribute = find_attribute(&object.object, name)?;
        let info = table_info(&attribute["values"], name)?;
        self.read_table(object, &info).await
    }

    /// The lookup table (keys and names) of the category attribute `name` of `object`.
    pub async fn read_attribute_lookup(
        &self,
        object: &ObjectResponse,
        name: &str,
    ) -> Result<TableReader, Error> {
        let attribute = find_attribute(&object.object, name)?;
        let info = table_info(&attribute["table"], name)?;
        self.read_table(object, &info).await
    }

    /// Adds the attribute `name` to the latest version `object` of an object, or replaces
    /// the attribute of that name, as a new version (guarded by `If-Match`: a concurrent
    /// change fails with [`Error::Modified`]). The values are checked against the number of
    /// elements before anything is uploaded.
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

fn table_info(value: &Value, what: &str) -> Result<TableInfo, Error> {
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
            return table_info(v, "the positions");
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
