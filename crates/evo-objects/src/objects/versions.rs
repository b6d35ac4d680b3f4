//! Versions and stages: an object's versions, chosen versions, the latest versions of many
//! objects, and the stages a version can be set to.

use std::collections::HashSet;

use http::{Method, StatusCode};
use uuid::Uuid;

use super::{GetOptions, LATEST_VERSIONS_BATCH, VERSIONS_BATCH};
use crate::client::{OBJECT_METADATA, OBJECT_VERSIONS, OBJECTS, ObjectsClient, STAGES};
use crate::error::Error;
use crate::models::{
    LatestVersion, ObjectVersion, Stage, StagesAnswer, VersionsAnswer, sort_newest_first,
};
use crate::reference::ObjectLocator;

impl ObjectsClient {
    /// Every version of an object, newest first.
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
    /// let first = objects.create("history.json", &point_set("v1")).await?;
    /// let id = first.id().unwrap();
    /// let second = objects.update_by_id(id, &point_set("v2"), None).await?;
    ///
    /// let versions = objects.list_versions(id).await?;
    /// let ids: Vec<&str> = versions.iter().map(|v| v.version_id.as_str()).collect();
    /// assert_eq!(ids, [second.version_id.as_str(), first.version_id.as_str()]);
    ///
    /// let chosen = objects.get_versions(id, &[&first.version_id]).await?;
    /// assert_eq!(chosen[0].version_id, first.version_id);
    /// # Ok(()) }
    /// ```
    pub async fn list_versions(
        &self,
        locator: impl Into<ObjectLocator>,
    ) -> Result<Vec<ObjectVersion>, Error> {
        let object = self
            .get(locator, &GetOptions::new().include_versions(true))
            .await?;
        let mut versions = object.versions.ok_or_else(|| {
            Error::Unexpected("the answer has no versions although they were asked for".into())
        })?;
        sort_newest_first(&mut versions);
        Ok(versions)
    }

    /// The chosen versions of an object (any number; asked for in batches of
    /// [`VERSIONS_BATCH`]), in the order asked. A version that does not exist fails with 404.
    ///
    /// See the example on [`list_versions`](Self::list_versions).
    pub async fn get_versions(
        &self,
        object_id: Uuid,
        version_ids: &[&str],
    ) -> Result<Vec<ObjectVersion>, Error> {
        let mut found = Vec::with_capacity(version_ids.len());
        for batch in version_ids.chunks(VERSIONS_BATCH) {
            let request = self
                .request(Method::POST, OBJECT_VERSIONS)
                .path_param("object_id", object_id)
                .idempotent(true);
            let request = self
                .with_json(request, &serde_json::json!({ "version_ids": batch }))
                .await?;
            let answer: VersionsAnswer = self.exchange_json(request, &[StatusCode::OK]).await?;
            for wanted in batch {
                let version = answer
                    .versions
                    .iter()
                    .find(|v| v.version_id == *wanted)
                    .ok_or_else(|| {
                        Error::Unexpected(format!(
                            "version {wanted} of object {object_id} is missing from the answer"
                        ))
                    })?;
                found.push(version.clone());
            }
        }
        Ok(found)
    }

    /// The latest version of each object (`None`: deleted or missing), asked for in batches
    /// of [`LATEST_VERSIONS_BATCH`]: the cheapest way to see which of many objects changed.
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
    /// let a = objects.create("a.json", &point_set("A")).await?;
    /// let b = objects.create("b.json", &point_set("B")).await?;
    /// objects.delete(b.id().unwrap()).await?;
    ///
    /// let latest = objects.latest_versions(&[a.id().unwrap(), b.id().unwrap()]).await?;
    /// let a_latest = latest.iter().find(|l| Some(l.object_id) == a.id()).unwrap();
    /// assert_eq!(a_latest.version_id.as_deref(), Some(a.version_id.as_str()));
    /// # Ok(()) }
    /// ```
    pub async fn latest_versions(&self, object_ids: &[Uuid]) -> Result<Vec<LatestVersion>, Error> {
        let mut all = Vec::with_capacity(object_ids.len());
        for batch in object_ids.chunks(LATEST_VERSIONS_BATCH) {
            let request = self.request(Method::PATCH, OBJECTS).idempotent(true);
            let request = self.with_json(request, batch).await?;
            let answer: Vec<LatestVersion> = self.exchange_json(request, &[StatusCode::OK]).await?;
            let asked: HashSet<&Uuid> = batch.iter().collect();
            if let Some(extra) = answer.iter().find(|l| !asked.contains(&l.object_id)) {
                return Err(Error::Unexpected(format!(
                    "the latest versions answer has object {} which was not asked for",
                    extra.object_id
                )));
            }
            all.extend(answer);
        }
        Ok(all)
    }

    /// The stages objects of this organization can be set to.
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
    /// let stages = objects.list_stages().await?;
    /// let created = objects.create("staged.json", &point_set("Staged")).await?;
    /// let id = created.id().unwrap();
    ///
    /// objects.set_stage(id, None, Some(stages[0].stage_id)).await?;
    /// let read = objects.get_by_id(id, &Default::default()).await?;
    /// assert_eq!(read.stage.map(|s| s.stage_id), Some(stages[0].stage_id));
    /// # Ok(()) }
    /// ```
    pub async fn list_stages(&self) -> Result<Vec<Stage>, Error> {
        let request = self.org_request(Method::GET, STAGES);
        let answer: StagesAnswer = self.exchange_json(request, &[StatusCode::OK]).await?;
        Ok(answer.stages)
    }

    /// Sets the stage of a version of an object (the latest when `version_id` is `None`);
    /// `None` as the stage removes it.
    ///
    /// See the example on [`list_stages`](Self::list_stages).
    pub async fn set_stage(
        &self,
        object_id: Uuid,
        version_id: Option<&str>,
        stage_id: Option<Uuid>,
    ) -> Result<(), Error> {
        let request = self
            .request(Method::PATCH, OBJECT_METADATA)
            .path_param("object_id", object_id)
            .query_opt("version_id", version_id)
            .idempotent(true);
        let request = self
            .with_json(request, &serde_json::json!({ "stage_id": stage_id }))
            .await?;
        self.exchange(request, &[StatusCode::NO_CONTENT, StatusCode::OK])
            .await?;
        Ok(())
    }
}
