//! Writing objects: create, save by path, update by id, and move to another path.

use http::{Method, StatusCode};
use uuid::Uuid;

use super::GetOptions;
use crate::client::ObjectsClient;
use crate::error::Error;
use crate::models::ObjectResponse;
use crate::path::ObjectPath;
use crate::reference::ObjectLocator;

impl ObjectsClient {
    /// Creates a new object at `path` (its `uuid` must be absent or null: the service
    /// assigns one). Fails with [`Error::AlreadyExists`] (carrying the `existing_id`) when an
    /// object already exists there.
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
    /// let created = objects.create("new/points.json", &point_set("Fresh")).await?;
    /// assert_eq!(created.object_path.as_deref(), Some("/new/points.json"));
    ///
    /// // A second object at the same path is refused, with the id of the one there.
    /// let taken = objects.create("new/points.json", &point_set("Again")).await.unwrap_err();
    /// assert_eq!(taken.existing_id(), created.id());
    /// # Ok(()) }
    /// ```
    pub async fn create(
        &self,
        path: impl TryInto<ObjectPath, Error = Error>,
        object: &serde_json::Value,
    ) -> Result<ObjectResponse, Error> {
        let path = path.try_into()?;
        check_schema(object)?;
        if object_uuid(object)?.is_some() {
            return Err(Error::InvalidObject(
                "a new object must not have a uuid; the service assigns one".into(),
            ));
        }
        let mut body = object.clone();
        body["uuid"] = serde_json::Value::Null;
        self.post_path(&path, &body, None).await
    }

    /// Writes `object` at `path`: a new object (no `uuid`), a new version of the object at
    /// that path, or (an object with the `uuid` of an object elsewhere) a move. With
    /// `if_match`, fails with [`Error::Modified`] unless the object's latest version is
    /// that one.
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
    /// // No uuid: a new object.
    /// let first = objects.save_by_path("saved.json", &point_set("v1"), None).await?;
    /// // Its JSON (with its uuid), changed: a new version, only if nobody wrote one since `first`.
    /// let mut object = first.object.clone();
    /// object["name"] = "v2".into();
    /// let second = objects.save_by_path("saved.json", &object, Some(&first.version_id)).await?;
    /// assert_eq!((second.id(), second.name()), (first.id(), Some("v2")));
    /// // `first` is stale now.
    /// let stale = objects.save_by_path("saved.json", &object, Some(&first.version_id)).await;
    /// assert!(stale.unwrap_err().is_modified());
    /// # Ok(()) }
    /// ```
    pub async fn save_by_path(
        &self,
        path: impl TryInto<ObjectPath, Error = Error>,
        object: &serde_json::Value,
        if_match: Option<&str>,
    ) -> Result<ObjectResponse, Error> {
        let path = path.try_into()?;
        check_schema(object)?;
        object_uuid(object)?;
        self.post_path(&path, object, if_match).await
    }

    async fn post_path(
        &self,
        path: &ObjectPath,
        object: &serde_json::Value,
        if_match: Option<&str>,
    ) -> Result<ObjectResponse, Error> {
        let mut request = self.locate(Method::POST, &ObjectLocator::Path(path.clone()));
        if let Some(v) = if_match {
            request = request.header("if-match", v);
        }
        let request = self.with_json(request, object).await?;
        let answer: ObjectResponse = self
            .exchange_json(request, &[StatusCode::CREATED, StatusCode::OK])
            .await?;
        if let Some(expected) = object_uuid(object)?
            && answer.id() != Some(expected)
        {
            return Err(Error::Unexpected(format!(
                "writing object {expected} answered for object {:?}",
                answer.id()
            )));
        }
        Ok(answer)
    }

    /// Writes a new version of the object `object_id` (the object's `uuid` is set to it; a
    /// different `uuid` is refused). With `if_match`, fails with [`Error::Modified`] unless
    /// the latest version is that one.
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
    /// let created = objects.create("updated.json", &point_set("Before")).await?;
    /// let id = created.id().unwrap();
    /// let updated = objects.update_by_id(id, &point_set("After"), Some(&created.version_id)).await?;
    /// assert_eq!((updated.id(), updated.name()), (Some(id), Some("After")));
    /// # Ok(()) }
    /// ```
    pub async fn update_by_id(
        &self,
        object_id: Uuid,
        object: &serde_json::Value,
        if_match: Option<&str>,
    ) -> Result<ObjectResponse, Error> {
        check_schema(object)?;
        match object_uuid(object)? {
            Some(id) if id != object_id => {
                return Err(Error::InvalidObject(format!(
                    "the object's uuid {id} is not the id {object_id} it is written to"
                )));
            }
            _ => {}
        }
        let mut body = object.clone();
        body["uuid"] = serde_json::Value::String(object_id.to_string());
        let mut request = self.locate(Method::POST, &ObjectLocator::Id(object_id));
        if let Some(v) = if_match {
            request = request.header("if-match", v);
        }
        let request = self.with_json(request, &body).await?;
        let answer: ObjectResponse = self
            .exchange_json(request, &[StatusCode::CREATED, StatusCode::OK])
            .await?;
        if answer.id() != Some(object_id) {
            return Err(Error::Unexpected(format!(
                "updating object {object_id} answered for object {:?}",
                answer.id()
            )));
        }
        Ok(answer)
    }

    /// Moves (or renames) an object to `new_path`: its latest version is written there as a
    /// new version, guarded by `If-Match`, so a concurrent change fails with
    /// [`Error::Modified`] instead of being lost.
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
    /// use evo_objects::GetOptions;
    ///
    /// let created = objects.create("drafts/grid.json", &point_set("Grid")).await?;
    /// let moved = objects.move_to(created.id().unwrap(), "final/grid.json").await?;
    /// assert_eq!(moved.object_path.as_deref(), Some("/final/grid.json"));
    /// assert!(objects.get_by_path("drafts/grid.json", &GetOptions::new()).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn move_to(
        &self,
        object_id: Uuid,
        new_path: impl TryInto<ObjectPath, Error = Error>,
    ) -> Result<ObjectResponse, Error> {
        let new_path = new_path.try_into()?;
        let current = self.get_by_id(object_id, &GetOptions::new()).await?;
        let mut body = current.object.clone();
        body["uuid"] = serde_json::Value::String(object_id.to_string());
        self.post_path(&new_path, &body, Some(&current.version_id))
            .await
    }
}

/// The object's `uuid`: `None` when absent or null; an error when it is not a UUID.
pub(crate) fn object_uuid(object: &serde_json::Value) -> Result<Option<Uuid>, Error> {
    match object.get("uuid") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| Error::InvalidObject(format!("the object's uuid {s:?} is not a UUID"))),
        Some(other) => Err(Error::InvalidObject(format!(
            "the object's uuid is {other}, not a string"
        ))),
    }
}

fn check_schema(object: &serde_json::Value) -> Result<(), Error> {
    if !object.is_object() {
        return Err(Error::InvalidObject(
            "an object must be a JSON object".into(),
        ));
    }
    match object.get("schema").and_then(|s| s.as_str()) {
        Some(s) if !s.is_empty() => Ok(()),
        _ => Err(Error::InvalidObject(
            "the object has no \"schema\" (its schema id, e.g. /objects/pointset/1.3.0/pointset.schema.json)"
                .into(),
        )),
    }
}
