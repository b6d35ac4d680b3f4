//! Encoding a [`SpatialObject`]: its tables checked and written as the Parquet files Evo
//! expects, the object built as the generated types; and creating it in one call.

use std::path::Path;
use std::sync::Arc;

use evo_tables::arrow_array::types::Int32Type;
use evo_tables::arrow_array::{Array, DictionaryArray, Float64Array, RecordBatch};
use evo_tables::arrow_schema::DataType;
use evo_tables::{TableFormat, TableInfo, WriteOptions};
use serde_json::Value;

use super::{Attribute, Geometry, SpatialObject, invalid};
use crate::client::ObjectsClient;
use crate::data::DataFile;
use crate::error::Error;
use crate::generated as g;
use crate::{ObjectPath, ObjectResponse};

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
}

/// One table ready to upload: its file and its info for the JSON.
pub(super) struct Encoded {
    pub(super) file: DataFile,
    info: TableInfo,
}

impl Encoded {
    /// The data reference and the length, as the generated array types take them.
    fn reference(&self) -> Result<(Option<g::BinaryBlob>, i64), Error> {
        Ok((Some(self.info.data.clone()), length(self.info.length)?))
    }
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
pub(super) async fn encode_attribute(
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
