//! The object calls: list, get (conditional too), write, move, delete, restore, versions,
//! latest versions and stages.

use std::collections::HashSet;

use evo_core::Page;
use evo_core::paging::OffsetPage;
use futures_core::Stream;
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::client::{
    OBJECT_BY_ID, OBJECT_BY_PATH, OBJECT_METADATA, OBJECT_VERSIONS, OBJECTS, ORG_OBJECTS,
    ObjectsClient, STAGES,
};
use crate::error::Error;
use crate::models::{
    LatestVersion, ListedObject, ObjectResponse, ObjectVersion, ObjectsPage, OrgListedObject,
    Stage, StagesAnswer, VersionsAnswer, sort_newest_first,
};
use crate::path::ObjectPath;
use crate::query::ListObjectsQuery;
use crate::reference::{ObjectLocator, ObjectReference};

/// The most object ids one latest-versions call takes.
pub const LATEST_VERSIONS_BATCH: usize = 500;

/// The most version ids one chosen-versions call takes.
pub const VERSIONS_BATCH: usize = 100;

/// Which version of an object to get, and what to include.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetOptions {
    pub(crate) version_id: Option<String>,
    pub(crate) include_versions: bool,
    pub(crate) deleted: bool,
}

impl GetOptions {
    /// The latest version, without the version list.
    pub fn new() -> Self {
        GetOptions::default()
    }
    /// A given version instead of the latest.
    pub fn version(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }
    /// Also list every version ([`ObjectResponse::versions`]).
    pub fn include_versions(mut self, include: bool) -> Self {
        self.include_versions = include;
        self
    }
    /// Return a deleted object instead of failing (by id only).
    pub fn include_deleted(mut self, include: bool) -> Self {
        self.deleted = include;
        self
    }
}

/// The result of a conditional get ([`ObjectsClient::get_if_changed`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Conditional {
    /// 304: the known version is still the latest.
    Unchanged,
    /// A newer version, with its object JSON.
    Changed(Box<ObjectResponse>),
}

/// The result of [`ObjectsClient::restore`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RestoreOutcome {
    /// Restored at its old path.
    Restored,
    /// Restored under another path (its old one was taken), as this new version.
    Moved(Box<ObjectResponse>),
}

impl ObjectsClient {
    fn locate(&self, method: Method, locator: &ObjectLocator) -> evo_core::RequestBuilder {
        match locator {
            ObjectLocator::Id(id) => self
                .request(method, OBJECT_BY_ID)
                .path_param("object_id", id),
            ObjectLocator::Path(path) => self
                .request(method, OBJECT_BY_PATH)
                .path_param_with_slashes("object_path", path.as_str()),
        }
    }

    /// One page of the workspace's objects matching `query`.
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
    /// use evo_objects::ListObjectsQuery;
    ///
    /// objects.create("pits/north.json", &point_set("North")).await?;
    /// objects.create("pits/south.json", &point_set("South")).await?;
    /// // Objects whose file name starts with "north".
    /// let page = objects.list_page(&ListObjectsQuery::new().object_name("north")).await?;
    /// let paths: Vec<String> = page.items.iter().map(|o| o.full_path()).collect();
    /// assert_eq!(paths, ["pits/north.json"]);
    /// # Ok(()) }
    /// ```
    pub async fn list_page(&self, query: &ListObjectsQuery) -> Result<Page<ListedObject>, Error> {
        query.validate()?;
        let mut request = self.request(Method::GET, OBJECTS);
        for (key, value) in query.to_pairs(false) {
            request = request.query(key, value);
        }
        let page: ObjectsPage<_> = self.exchange_json(request, &[StatusCode::OK]).await?;
        Ok(page.into())
    }

    /// Every object of the workspace matching `query`, page after page from its offset.
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
    /// use evo_objects::ListObjectsQuery;
    /// use futures_util::TryStreamExt as _;
    ///
    /// for name in ["a", "b", "c"] {
    ///     objects.create(format!("{name}.json").as_str(), &point_set(name)).await?;
    /// }
    /// let all: Vec<_> = objects.list_all(ListObjectsQuery::new().limit(2)).try_collect().await?;
    /// assert_eq!(all.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn list_all(
        &self,
        query: ListObjectsQuery,
    ) -> impl Stream<Item = Result<ListedObject, Error>> + Send + 'static {
        let client = self.clone();
        pages(query, move |q| {
            let client = client.clone();
            async move { client.list_page(&q).await }
        })
    }

    /// One page of the objects of every workspace of the organization matching `query`.
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
    /// use evo_objects::ListObjectsQuery;
    /// use futures_util::TryStreamExt as _;
    ///
    /// objects.create("org/one.json", &point_set("One")).await?;
    /// let page = objects.list_org_page(&ListObjectsQuery::new()).await?;
    /// assert_eq!((page.items[0].name.as_str(), page.items[0].workspace_id), ("one.json", workspace_id));
    /// // Every page, as a stream:
    /// let all: Vec<_> = objects.list_org_all(ListObjectsQuery::new().limit(1)).try_collect().await?;
    /// assert_eq!(all.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn list_org_page(
        &self,
        query: &ListObjectsQuery,
    ) -> Result<Page<OrgListedObject>, Error> {
        query.validate()?;
        let mut request = self.org_request(Method::GET, ORG_OBJECTS);
        for (key, value) in query.to_pairs(true) {
            request = request.query(key, value);
        }
        let page: ObjectsPage<_> = self.exchange_json(request, &[StatusCode::OK]).await?;
        Ok(page.into())
    }

    /// Every object of the organization matching `query`, page after page.
    ///
    /// See the example on [`list_org_page`](Self::list_org_page).
    pub fn list_org_all(
        &self,
        query: ListObjectsQuery,
    ) -> impl Stream<Item = Result<OrgListedObject, Error>> + Send + 'static {
        let client = self.clone();
        pages(query, move |q| {
            let client = client.clone();
            async move { client.list_org_page(&q).await }
        })
    }

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

/// Streams the items of every page from the query's offset. Stops after a page with no next
/// link, a short or empty page, or once `total` is reached (see
/// [`offset_pages`](evo_core::paging::offset_pages)).
fn pages<T, F, Fut>(
    query: ListObjectsQuery,
    fetch: F,
) -> impl Stream<Item = Result<T, Error>> + Send + 'static
where
    T: DeserializeOwned + Send + 'static,
    F: Fn(ListObjectsQuery) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Page<T>, Error>> + Send,
{
    evo_core::paging::offset_pages(query.offset, move |offset| {
        let mut at = query.clone();
        at.offset = offset;
        let page = fetch(at);
        async move {
            let page = page.await?;
            let end = offset + page.items.len() as u64;
            let total = page.total.unwrap_or(0);
            let more = page.next.is_some() && !(total > 0 && end >= total);
            Ok::<_, Error>(OffsetPage {
                items: page.items,
                more,
            })
        }
    })
}
