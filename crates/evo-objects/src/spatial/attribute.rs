//! Adding or replacing an attribute of a spatial object, as a new version.

use evo_tables::arrow_array::ArrayRef;
use serde_json::json;

use super::encoding::encode_attribute;
use super::reading::attribute_list;
use super::{Attribute, invalid};
use crate::ObjectResponse;
use crate::client::ObjectsClient;
use crate::data::DataFile;
use crate::error::Error;

#[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
impl ObjectsClient {
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
