//! Getting an object: by id, path or reference, at a version, or only if it changed.

use http::{Method, StatusCode};
use uuid::Uuid;

use super::{Conditional, GetOptions};
use crate::client::ObjectsClient;
use crate::error::Error;
use crate::models::ObjectResponse;
use crate::path::ObjectPath;
use crate::reference::{ObjectLocator, ObjectReference};

impl ObjectsClient {
    /// An object (latest version, or the one in `options`) by id or path.
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
    /// use evo_objects::{GetOptions, ObjectPath};
    ///
    /// let first = objects.create("samples.json", &point_set("v1")).await?;
    /// let id = first.id().unwrap();
    /// let second = objects.update_by_id(id, &point_set("v2"), None).await?;
    ///
    /// // By id or by path, the latest version or a chosen one.
    /// let latest = objects.get(id, &GetOptions::new()).await?;
    /// assert_eq!(latest.version_id, second.version_id);
    /// let by_path = objects.get(ObjectPath::new("samples.json")?, &GetOptions::new()).await?;
    /// assert_eq!(by_path.name(), Some("v2"));
    /// let old = objects.get(id, &GetOptions::new().version(&first.version_id)).await?;
    /// assert_eq!(old.name(), Some("v1"));
    /// # Ok(()) }
    /// ```
    pub async fn get(
        &self,
        locator: impl Into<ObjectLocator>,
        options: &GetOptions,
    ) -> Result<ObjectResponse, Error> {
        let locator = locator.into();
        let request = self.get_request(&locator, options)?;
        let object: ObjectResponse = self.exchange_json(request, &[StatusCode::OK]).await?;
        check_answer(&locator, options.version_id.as_deref(), &object)?;
        Ok(object)
    }

    /// An object by id.
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
    /// let created = objects.create("by-id.json", &point_set("Samples")).await?;
    /// let read = objects.get_by_id(created.id().unwrap(), &GetOptions::new().include_versions(true)).await?;
    /// assert_eq!(read.versions.map(|v| v.len()), Some(1));
    /// # Ok(()) }
    /// ```
    pub async fn get_by_id(
        &self,
        object_id: Uuid,
        options: &GetOptions,
    ) -> Result<ObjectResponse, Error> {
        self.get(object_id, options).await
    }

    /// An object by path.
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
    /// objects.create("surveys/points.json", &point_set("Points")).await?;
    /// let read = objects.get_by_path("surveys/points.json", &GetOptions::new()).await?;
    /// assert_eq!(read.schema_id(), Some("/objects/pointset/1.3.0/pointset.schema.json"));
    /// # Ok(()) }
    /// ```
    pub async fn get_by_path(
        &self,
        path: impl TryInto<ObjectPath, Error = Error>,
        options: &GetOptions,
    ) -> Result<ObjectResponse, Error> {
        self.get(path.try_into()?, options).await
    }

    /// The object a reference names (its version, when it names one). The reference must be
    /// of this client's hub; its organization and workspace are used.
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
    /// use evo_objects::ObjectReference;
    ///
    /// let created = objects.create("ref.json", &point_set("Referenced")).await?;
    /// let reference = ObjectReference::new(&environment, created.id().unwrap(), Some(&created.version_id));
    /// // References travel as URLs and parse back.
    /// let parsed = ObjectReference::parse(reference.to_url().as_str())?;
    /// let read = objects.get_reference(&parsed).await?;
    /// assert_eq!((read.name(), read.version_id.as_str()), (Some("Referenced"), created.version_id.as_str()));
    /// # Ok(()) }
    /// ```
    pub async fn get_reference(
        &self,
        reference: &ObjectReference,
    ) -> Result<ObjectResponse, Error> {
        if reference.hub_url() != &self.environment.hub_url {
            return Err(Error::InvalidReference {
                reference: reference.to_string(),
                reason: format!(
                    "it is not on this client's hub {}",
                    self.environment.hub_url
                ),
            });
        }
        let client = if reference.org_id() == self.environment.org_id
            && reference.workspace_id() == self.environment.workspace_id
        {
            self.clone()
        } else {
            ObjectsClient {
                connector: self.connector.clone(),
                environment: reference.environment(),
                settings: self.settings.clone(),
            }
        };
        let mut options = GetOptions::new();
        if let Some(v) = reference.version_id() {
            options = options.version(v);
        }
        client.get(reference.locator().clone(), &options).await
    }

    /// The latest version of an object unless it is still `known_version_id`
    /// (`If-None-Match`): [`Conditional::Unchanged`] costs one small answer.
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
    /// use evo_objects::Conditional;
    ///
    /// let created = objects.create("watched.json", &point_set("v1")).await?;
    /// let id = created.id().unwrap();
    /// assert_eq!(objects.get_if_changed(id, &created.version_id).await?, Conditional::Unchanged);
    ///
    /// objects.update_by_id(id, &point_set("v2"), None).await?;
    /// let Conditional::Changed(newer) = objects.get_if_changed(id, &created.version_id).await? else {
    ///     panic!("the object changed");
    /// };
    /// assert_eq!(newer.name(), Some("v2"));
    /// # Ok(()) }
    /// ```
    pub async fn get_if_changed(
        &self,
        locator: impl Into<ObjectLocator>,
        known_version_id: &str,
    ) -> Result<Conditional, Error> {
        let locator = locator.into();
        let request = self
            .get_request(&locator, &GetOptions::new())?
            .header("if-none-match", known_version_id);
        let answer = self
            .exchange(request, &[StatusCode::OK, StatusCode::NOT_MODIFIED])
            .await?;
        if answer.status == StatusCode::NOT_MODIFIED {
            return Ok(Conditional::Unchanged);
        }
        let object: ObjectResponse = answer.json()?;
        check_answer(&locator, None, &object)?;
        Ok(Conditional::Changed(Box::new(object)))
    }

    fn get_request(
        &self,
        locator: &ObjectLocator,
        options: &GetOptions,
    ) -> Result<evo_core::RequestBuilder, Error> {
        let mut request = self
            .locate(Method::GET, locator)
            .query_opt("version", options.version_id.as_deref());
        if options.include_versions {
            request = request.query("include_versions", "true");
        }
        if options.deleted {
            if !matches!(locator, ObjectLocator::Id(_)) {
                return Err(Error::Service(evo_core::Error::invalid_request(
                    "deleted objects can only be fetched by id",
                )));
            }
            request = request.query("deleted", "true");
        }
        Ok(request)
    }
}

/// Checks that an object answer is of the object and version asked for.
fn check_answer(
    locator: &ObjectLocator,
    version: Option<&str>,
    object: &ObjectResponse,
) -> Result<(), Error> {
    if let ObjectLocator::Id(id) = locator
        && object.id() != Some(*id)
    {
        return Err(Error::Unexpected(format!(
            "asked for object {id} but got object {:?}",
            object.id()
        )));
    }
    if let Some(v) = version
        && v != object.version_id
    {
        return Err(Error::Unexpected(format!(
            "asked for version {v} of {locator} but got version {}",
            object.version_id
        )));
    }
    Ok(())
}
