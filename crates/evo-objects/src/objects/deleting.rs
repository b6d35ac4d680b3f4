//! Deleting an object, and restoring a deleted one.

use http::{Method, StatusCode};
use uuid::Uuid;

use super::RestoreOutcome;
use crate::client::ObjectsClient;
use crate::error::Error;
use crate::models::ObjectResponse;
use crate::reference::ObjectLocator;

impl ObjectsClient {
    /// Deletes an object (soft: it is listed with `deleted` and can be restored).
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
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let data = [evo_objects::DataFile::from_bytes(vec![1u8; 48]), evo_objects::DataFile::from_bytes(vec![2u8; 16])];
    /// # objects.upload_data(&data, None).await?;
    /// # let (xyz, grade) = (data[0].name().to_owned(), data[1].name().to_owned());
    /// # let point_set = |name: &str| serde_json::json!({
    /// #     "schema": "/objects/pointset/1.3.0/pointset.schema.json", "name": name,
    /// #     "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
    /// #     "coordinate_reference_system": {"epsg_code": 32760},
    /// #     "locations": {
    /// #         "coordinates": {"data": xyz, "length": 2, "width": 3, "data_type": "float64"},
    /// #         "attributes": [{"name": "grade", "key": "grade", "attribute_type": "scalar",
    /// #             "nan_description": {"values": []},
    /// #             "values": {"data": grade, "length": 2, "width": 1, "data_type": "float64"}}]}
    /// # });
    /// // `point_set(name)` is the JSON of a point set whose data files are uploaded.
    /// use evo_objects::{GetOptions, RestoreOutcome};
    ///
    /// let created = objects.create("old.json", &point_set("Old")).await?;
    /// let id = created.id().unwrap();
    /// objects.delete(id).await?;
    /// let deleted = objects.get(id, &GetOptions::new().include_deleted(true)).await?;
    /// assert!(deleted.is_deleted());
    ///
    /// assert_eq!(objects.restore(id).await?, RestoreOutcome::Restored);
    /// assert!(!objects.get(id, &GetOptions::new()).await?.is_deleted());
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, locator: impl Into<ObjectLocator>) -> Result<(), Error> {
        let request = self.locate(Method::DELETE, &locator.into());
        self.exchange(request, &[StatusCode::NO_CONTENT, StatusCode::OK])
            .await?;
        Ok(())
    }

    /// Restores a deleted object. When its old path is taken, the service restores it under
    /// another one and answers with that version ([`RestoreOutcome::Moved`]).
    ///
    /// See the example on [`delete`](Self::delete).
    pub async fn restore(&self, object_id: Uuid) -> Result<RestoreOutcome, Error> {
        let request = self
            .locate(Method::POST, &ObjectLocator::Id(object_id))
            .query("deleted", "false");
        let answer = self
            .exchange(
                request,
                &[
                    StatusCode::NO_CONTENT,
                    StatusCode::CREATED,
                    StatusCode::OK,
                    StatusCode::SEE_OTHER,
                ],
            )
            .await?;
        if answer.status == StatusCode::NO_CONTENT || answer.body.is_empty() {
            return Ok(RestoreOutcome::Restored);
        }
        let object: ObjectResponse = answer.json()?;
        if object.id() != Some(object_id) {
            return Err(Error::Unexpected(format!(
                "restoring {object_id} answered for object {:?}",
                object.id()
            )));
        }
        if answer.status == StatusCode::SEE_OTHER {
            Ok(RestoreOutcome::Moved(Box::new(object)))
        } else {
            Ok(RestoreOutcome::Restored)
        }
    }
}
