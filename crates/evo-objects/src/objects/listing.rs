//! Listing objects: one page or every page, of the workspace or of the whole organization.

use evo_core::Page;
use evo_core::paging::OffsetPage;
use futures_core::Stream;
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::client::{OBJECTS, ORG_OBJECTS, ObjectsClient};
use crate::error::Error;
use crate::models::{ListedObject, ObjectsPage, OrgListedObject};
use crate::query::ListObjectsQuery;

impl ObjectsClient {
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
