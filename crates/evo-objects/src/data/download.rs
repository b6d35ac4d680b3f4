//! Downloading object data from the object's `links.data`: into memory, a file or the
//! cache, checked against the SHA-256 each file is named by, renewing a refused URL by
//! reading the same version again.

use std::path::PathBuf;

use bytes::Bytes;
use uuid::Uuid;

use evo_core::Feedback;
use evo_io::{BlobDigest, Destination, DownloadReport, RenewUrl};

use super::{CACHE_SCOPE, into_core, is_sha256_name, parse_url};
use crate::client::ObjectsClient;
use crate::error::Error;
use crate::models::ObjectResponse;

impl ObjectsClient {
    /// Downloads data `name` of the object version `object` into `destination`, checking
    /// its bytes against the SHA-256 it is named by (a file destination that fails the check
    /// is not left behind). The URL comes from the answer's `links.data` and is renewed by
    /// reading the same version again.
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
    /// use evo_objects::Destination;
    ///
    /// let object = objects.create("points.json", &point_set("Points")).await?;
    /// let report = objects.download_data(&object, &xyz, Destination::memory(), None).await?;
    /// assert_eq!(report.into_bytes().len(), 48);
    /// # Ok(()) }
    /// ```
    pub async fn download_data(
        &self,
        object: &ObjectResponse,
        name: &str,
        destination: Destination<'_>,
        feedback: Option<&dyn Feedback>,
    ) -> Result<DownloadReport, Error> {
        let (url, renew, digest) = self.download_plan(object, name)?;
        let mut download = self
            .settings
            .blobs
            .download(url, destination)
            .renew_with(renew);
        if let Some(d) = digest {
            download = download.expect_digest(d);
        }
        if let Some(f) = feedback {
            download = download.feedback(f);
        }
        download.await.map_err(|source| Error::Transfer {
            context: format!("downloading data {name} of version {}", object.version_id),
            source: Box::new(source),
        })
    }

    /// Downloads data `name` of `object` into memory (checked against its SHA-256).
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
    /// let object = objects.create("points.json", &point_set("Points")).await?;
    /// let bytes = objects.download_data_bytes(&object, &grade).await?;
    /// assert_eq!(&bytes[..], &[2u8; 16][..]);
    /// # Ok(()) }
    /// ```
    pub async fn download_data_bytes(
        &self,
        object: &ObjectResponse,
        name: &str,
    ) -> Result<Bytes, Error> {
        let report = self
            .download_data(object, name, Destination::memory(), None)
            .await?;
        Ok(report.into_bytes())
    }

    /// Downloads data `name` of `object` into the client's cache, unless it is there already
    /// (a cached copy is checked against its SHA-256 and fetched again when it does not
    /// match), and returns its path. However many tasks ask for the same file at once, it
    /// is downloaded once. Fails when the client has no cache.
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
    /// use evo_objects::ObjectsClient;
    ///
    /// let root = std::env::temp_dir().join(format!("evo-objects-doc-cache-{}", std::process::id()));
    /// let cached = ObjectsClient::builder(environment, connector)
    ///     .cache(evo_core::Cache::new(&root)?)
    ///     .build()?;
    /// let object = cached.create("points.json", &point_set("Points")).await?;
    /// let path = cached.download_data_to_cache(&object, &grade).await?;
    /// assert!(path.starts_with(&root));
    /// assert_eq!(std::fs::read(&path)?, [2u8; 16]);
    /// # std::fs::remove_dir_all(&root)?;
    /// # Ok(()) }
    /// ```
    pub async fn download_data_to_cache(
        &self,
        object: &ObjectResponse,
        name: &str,
    ) -> Result<PathBuf, Error> {
        let cache = self.settings.cache.as_ref().ok_or_else(|| {
            Error::Service(evo_core::Error::invalid_request(
                "this client has no cache (ObjectsClientBuilder::cache)",
            ))
        })?;
        let (url, renew, digest) = self.download_plan(object, name)?;
        let mut download = self
            .settings
            .blobs
            .download_to_cache(cache, &self.environment, CACHE_SCOPE, name, url)
            .renew_with(renew);
        if let Some(d) = digest {
            download = download.expect_digest(d);
        }
        download.await.map_err(|source| Error::Transfer {
            context: format!(
                "downloading data {name} of version {} to the cache",
                object.version_id
            ),
            source: Box::new(source),
        })
    }

    /// Downloads data `name` of `object` over the (temporary) file `path`, kept in the page
    /// cache: the caller reads it back right away.
    #[cfg(feature = "arrow")]
    pub(crate) async fn download_data_to_temporary_file(
        &self,
        object: &ObjectResponse,
        name: &str,
        path: &std::path::Path,
    ) -> Result<(), Error> {
        let (url, renew, digest) = self.download_plan(object, name)?;
        let mut download = self
            .settings
            .blobs
            .download(url, Destination::file(path))
            .overwrite(true)
            .direct_writes(false)
            .renew_with(renew);
        if let Some(d) = digest {
            download = download.expect_digest(d);
        }
        download.await.map_err(|source| Error::Transfer {
            context: format!(
                "downloading data {name} of version {} to a temporary file",
                object.version_id
            ),
            source: Box::new(source),
        })?;
        Ok(())
    }

    fn download_plan(
        &self,
        object: &ObjectResponse,
        name: &str,
    ) -> Result<(url::Url, RenewDownload, Option<BlobDigest>), Error> {
        let object_id = object
            .id()
            .ok_or_else(|| Error::Unexpected("the object answer has no object id".into()))?;
        let url = download_url(object, name)?;
        // Names that are not SHA-256 digests (the schema also allows UUIDs) cannot be checked.
        let digest = if is_sha256_name(name) {
            Some(BlobDigest::sha256_hex(name).map_err(|e| Error::Transfer {
                context: format!("data name {name}"),
                source: Box::new(e),
            })?)
        } else {
            tracing::debug!(
                name,
                "data name is not a SHA-256; its bytes cannot be checked"
            );
            None
        };
        let renew = RenewDownload {
            client: self.clone(),
            object_id,
            version_id: object.version_id.clone(),
            name: name.to_owned(),
        };
        Ok((url, renew, digest))
    }
}

/// Renews a data download URL by reading the same object version again.
struct RenewDownload {
    client: ObjectsClient,
    object_id: Uuid,
    version_id: String,
    name: String,
}

#[async_trait::async_trait]
impl RenewUrl for RenewDownload {
    async fn renew(&self) -> Result<url::Url, evo_core::Error> {
        let options = crate::GetOptions::new()
            .version(self.version_id.clone())
            .include_deleted(true);
        let object = self
            .client
            .get_by_id(self.object_id, &options)
            .await
            .map_err(into_core)?;
        download_url(&object, &self.name).map_err(into_core)
    }
}

/// The download URL of data `name` in an object answer.
fn download_url(object: &ObjectResponse, name: &str) -> Result<url::Url, Error> {
    let link = object.data_link(name).ok_or_else(|| {
        Error::Unexpected(format!(
            "object {:?} version {} has no data named {name}",
            object.id(),
            object.version_id
        ))
    })?;
    let url = link.download_url.as_deref().ok_or_else(|| {
        Error::Unexpected(format!("the service gave no download URL for data {name}"))
    })?;
    Ok(parse_url(url)?)
}
