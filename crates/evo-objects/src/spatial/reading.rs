//! Reading a spatial object's tables back as Arrow: any table, its positions, an attribute,
//! an attribute's lookup table.

use evo_tables::{ReadOptions, TableInfo, TableReader};
use serde_json::Value;

use super::invalid;
use crate::ObjectResponse;
use crate::client::ObjectsClient;
use crate::error::Error;

#[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
impl ObjectsClient {
    /// Reads the table `info` of the object version `object` (a data reference of its JSON)
    /// as a stream of record batches, checked against the info (format, length) and, through
    /// the download, against its SHA-256. Through the cache when the client has one,
    /// otherwise through memory; a file larger than the blob client's memory download limit
    /// ([`evo_io::BlobClientBuilder::max_memory_download`]) goes through a temporary file
    /// instead, deleted once the reader is done with it.
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
        match self.download_data_bytes(object, &info.data).await {
            Ok(bytes) => Ok(TableReader::from_bytes(bytes, &options)?),
            Err(Error::Transfer { source, .. }) if source.kind() == evo_io::ErrorKind::TooLarge => {
                self.read_table_through_temporary_file(object, info, options)
                    .await
            }
            Err(e) => Err(e),
        }
    }

    /// Reads a table too large for the blob client's memory download limit from a temporary
    /// file, deleted once the returned reader is done with it.
    async fn read_table_through_temporary_file(
        &self,
        object: &ObjectResponse,
        info: &TableInfo,
        options: ReadOptions,
    ) -> Result<TableReader, Error> {
        let temp = tempfile::Builder::new()
            .prefix("evo-table-")
            .suffix(".parquet")
            .tempfile()
            .map_err(|e| evo_core::Error::io("creating a temporary table file", e))?
            .into_temp_path();
        tracing::debug!(
            data = %info.data,
            path = %temp.display(),
            "the table is larger than the memory download limit: reading it from a temporary file"
        );
        self.download_data_to_temporary_file(object, &info.data, &temp)
            .await?;
        let path = temp.to_path_buf();
        tokio::task::spawn_blocking(move || TableReader::open_owning(&path, &options, temp))
            .await
            .map_err(|e| Error::Unexpected(format!("the table reading task failed: {e}")))?
            .map_err(Error::from)
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
}

pub(super) fn table_info_of(value: &Value, what: &str) -> Result<TableInfo, Error> {
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
pub(super) fn attribute_list(object: &Value) -> Result<(&'static str, u64), Error> {
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
