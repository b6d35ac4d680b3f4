//! `FilesClient`: the File API v2 metadata calls (list, get, delete, restore, register uploads).
//! Byte transfers are in `transfer.rs`.

use std::sync::Arc;
use std::time::Duration;

use evo_core::Page;
use evo_core::paging::OffsetPage;
use futures_core::Stream;
use http::{Method, StatusCode};
use uuid::Uuid;

use evo_core::{ApiConnector, Environment};

use crate::error::Error;
use crate::generated::endpoints;
use crate::models::{FileMetadata, FileSummary, FilesPage, UploadTarget};
use crate::path::FilePath;
use crate::query::ListFilesQuery;

const FILES: &str = "file/v2/orgs/{org_id}/workspaces/{workspace_id}/files";
const FILE_BY_ID: &str = "file/v2/orgs/{org_id}/workspaces/{workspace_id}/files/{file_id}";
const FILE_BY_PATH: &str = "file/v2/orgs/{org_id}/workspaces/{workspace_id}/files/path/{file_path}";

/// The default time an upload waits for its new version to show in the File API.
pub const DEFAULT_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(60);

/// Which version of a file to get, and what to include.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetOptions {
    pub(crate) version_id: Option<String>,
    pub(crate) include_versions: bool,
    pub(crate) include_deleted: bool,
}

impl GetOptions {
    /// The latest version, without the version list.
    pub fn new() -> Self {
        GetOptions::default()
    }
    /// A specific version instead of the latest.
    pub fn version(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }
    /// Also list every version (`FileMetadata::versions`).
    pub fn include_versions(mut self, include: bool) -> Self {
        self.include_versions = include;
        self
    }
    /// Return a deleted file instead of failing with 410 (by id only; the API has no such
    /// flag for paths).
    pub fn include_deleted(mut self, include: bool) -> Self {
        self.include_deleted = include;
        self
    }
}

/// The result of [`FilesClient::restore`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RestoreOutcome {
    /// Restored at its old path (204).
    Restored,
    /// Restored under another path (303); the metadata of the restored file and the
    /// `Location` the service gave, when it gave one.
    Moved {
        /// The restored file.
        metadata: Box<FileMetadata>,
        /// The `Location` header.
        location: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) visibility_timeout: Duration,
    pub(crate) blobs: evo_io::BlobClient,
}

/// The File API v2 client for one workspace. Cheap to clone.
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
/// #         emulator.issue_token(&["evo.file"]),
/// #     )))
/// #     .build()?;
/// use evo_files::{FilesClient, ListFilesQuery};
/// let files = FilesClient::new(environment, connector)?;
/// let uploaded = files.upload_bytes("notes/hello world.txt", b"hello".to_vec()).await?;
/// let page = files.list_page(&ListFilesQuery::new().file_name("hello")).await?;
/// assert_eq!(page.items[0].file_id, uploaded.file_id);
/// let bytes = files.download_to_memory(uploaded.file_id, None).await?;
/// assert_eq!(&bytes[..], b"hello");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FilesClient {
    pub(crate) connector: ApiConnector,
    pub(crate) environment: Environment,
    pub(crate) settings: Arc<Settings>,
}

/// Builds a [`FilesClient`].
#[derive(Debug)]
pub struct FilesClientBuilder {
    connector: ApiConnector,
    environment: Environment,
    visibility_timeout: Duration,
    blobs: Option<evo_io::BlobClient>,
}

impl FilesClientBuilder {
    /// How long an upload waits for the File API to show the new version (default 60 s).
    pub fn visibility_timeout(mut self, timeout: Duration) -> Self {
        self.visibility_timeout = timeout;
        self
    }
    /// The blob transfer client for uploads and downloads (block size, concurrency, retries,
    /// memory budget). Default:
    /// `evo_io::BlobClient::for_connector` (the connector's transport and `User-Agent`).
    pub fn blob_client(mut self, blobs: evo_io::BlobClient) -> Self {
        self.blobs = Some(blobs);
        self
    }
    /// Builds the client. The connector is re-targeted at the environment's hub URL when its
    /// base URL differs.
    pub fn build(self) -> Result<FilesClient, Error> {
        let connector = if self.connector.base_url() == &self.environment.hub_url {
            self.connector
        } else {
            self.connector
                .with_base_url(self.environment.hub_url.clone())?
        };
        let blobs = self
            .blobs
            .unwrap_or_else(|| evo_io::BlobClient::for_connector(&connector).build());
        Ok(FilesClient {
            connector,
            environment: self.environment,
            settings: Arc::new(Settings {
                visibility_timeout: self.visibility_timeout,
                blobs,
            }),
        })
    }
}

impl FilesClient {
    /// A client with default settings for the workspace of `environment`, sending through
    /// `connector` (its transport and authorizer; its base URL is replaced by the hub URL).
    pub fn new(environment: Environment, connector: ApiConnector) -> Result<Self, Error> {
        FilesClient::builder(environment, connector).build()
    }

    /// Starts building a client.
    pub fn builder(environment: Environment, connector: ApiConnector) -> FilesClientBuilder {
        FilesClientBuilder {
            connector,
            environment,
            visibility_timeout: DEFAULT_VISIBILITY_TIMEOUT,
            blobs: None,
        }
    }

    /// The workspace this client works in.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The connector (hub URL, transport, authorizer).
    pub fn connector(&self) -> &ApiConnector {
        &self.connector
    }

    /// The blob transfer client used for uploads and downloads.
    pub fn blob_client(&self) -> &evo_io::BlobClient {
        &self.settings.blobs
    }

    pub(crate) fn request(&self, method: Method, template: &str) -> evo_core::RequestBuilder {
        self.connector
            .request(method, template)
            .path_param("org_id", self.environment.org_id)
            .path_param("workspace_id", self.environment.workspace_id)
    }

    pub(crate) fn by_id(&self, method: Method, file_id: Uuid) -> evo_core::RequestBuilder {
        self.request(method, FILE_BY_ID)
            .path_param("file_id", file_id)
    }

    pub(crate) fn by_path(&self, method: Method, path: &FilePath) -> evo_core::RequestBuilder {
        self.request(method, FILE_BY_PATH)
            .path_param_with_slashes("file_path", path.as_str())
    }

    /// One page of files matching `query`.
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
    /// #         emulator.issue_token(&["evo.file"]),
    /// #     )))
    /// #     .build()?;
    /// # let files = evo_files::FilesClient::new(environment, connector)?;
    /// use evo_files::ListFilesQuery;
    ///
    /// files.upload_bytes("logs/a.csv", "a").await?;
    /// files.upload_bytes("logs/b.txt", "b").await?;
    /// let page = files.list_page(&ListFilesQuery::new().file_name(".csv").limit(10)).await?;
    /// let names: Vec<&str> = page.items.iter().map(|f| f.name.as_str()).collect();
    /// assert_eq!(names, ["a.csv"]);
    /// # Ok(()) }
    /// ```
    pub async fn list_page(&self, query: &ListFilesQuery) -> Result<Page<FileSummary>, Error> {
        query.validate()?;
        let mut request = self.request(Method::GET, FILES);
        for (key, value) in query.to_pairs() {
            request = request.query(key, value);
        }
        let page: FilesPage = request.send_json().await?;
        Ok(page.into())
    }

    /// Every file matching `query`, page after page, starting at its offset. Stops after the
    /// page that has no `next` link, or an empty page; the offset advances by the files
    /// received, so a server repeating itself cannot make it loop forever.
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
    /// #         emulator.issue_token(&["evo.file"]),
    /// #     )))
    /// #     .build()?;
    /// # let files = evo_files::FilesClient::new(environment, connector)?;
    /// use evo_files::ListFilesQuery;
    /// use futures_util::TryStreamExt as _;
    ///
    /// for name in ["1.csv", "2.csv", "3.csv"] {
    ///     files.upload_bytes(name, "x").await?;
    /// }
    /// // Pages of two, followed to the end.
    /// let all: Vec<_> = files.list_all(ListFilesQuery::new().limit(2)).try_collect().await?;
    /// assert_eq!(all.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn list_all(
        &self,
        query: ListFilesQuery,
    ) -> impl Stream<Item = Result<FileSummary, Error>> + Send + 'static {
        let client = self.clone();
        evo_core::paging::offset_pages(query.offset, move |offset| {
            let client = client.clone();
            let mut at = query.clone();
            at.offset = offset;
            async move {
                let page = client.list_page(&at).await?;
                let end = offset + page.items.len() as u64;
                let more = page.next.is_some() && page.total.is_some_and(|total| end < total);
                Ok::<_, Error>(OffsetPage {
                    items: page.items,
                    more,
                })
            }
        })
    }

    /// A file's metadata (and download URL) by id.
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
    /// #         emulator.issue_token(&["evo.file"]),
    /// #     )))
    /// #     .build()?;
    /// # let files = evo_files::FilesClient::new(environment, connector)?;
    /// use evo_files::GetOptions;
    ///
    /// let first = files.upload_bytes("grades.csv", "v1").await?;
    /// let second = files.upload_bytes("grades.csv", "v2").await?;
    /// assert_eq!(first.file_id, second.file_id);
    ///
    /// let latest = files.get_by_id(first.file_id, &GetOptions::new()).await?;
    /// assert_eq!(latest.version_id, second.version_id);
    /// let older = files.get_by_id(first.file_id, &GetOptions::new().version(&first.version_id)).await?;
    /// assert_eq!(older.size, 2);
    /// let with_history = files.get_by_id(first.file_id, &GetOptions::new().include_versions(true)).await?;
    /// assert_eq!(with_history.versions_newest_first().len(), 2);
    /// # Ok(()) }
    /// ```
    pub async fn get_by_id(
        &self,
        file_id: Uuid,
        options: &GetOptions,
    ) -> Result<FileMetadata, Error> {
        let mut request = self.by_id(Method::GET, file_id);
        request = request.query_opt("version_id", options.version_id.as_deref());
        if options.include_versions {
            request = request.query("include_versions", "true");
        }
        if options.include_deleted {
            request = request.query("deleted", "true");
        }
        let metadata: FileMetadata = request.send_json().await?;
        check_version(&metadata, options.version_id.as_deref())?;
        Ok(metadata)
    }

    /// A file's metadata (and download URL) by path.
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
    /// #         emulator.issue_token(&["evo.file"]),
    /// #     )))
    /// #     .build()?;
    /// # let files = evo_files::FilesClient::new(environment, connector)?;
    /// use evo_files::GetOptions;
    ///
    /// let uploaded = files.upload_bytes("surveys/collars.csv", "hole,x,y\n").await?;
    /// let found = files.get_by_path("surveys/collars.csv", &GetOptions::new()).await?;
    /// assert_eq!((found.file_id, found.size), (uploaded.file_id, 9));
    /// assert!(files.get_by_path("surveys/none.csv", &GetOptions::new()).await.unwrap_err().is_not_found());
    /// # Ok(()) }
    /// ```
    pub async fn get_by_path(
        &self,
        path: impl TryInto<FilePath, Error = Error>,
        options: &GetOptions,
    ) -> Result<FileMetadata, Error> {
        let path = path.try_into()?;
        if options.include_deleted {
            return Err(Error::Service(evo_core::Error::invalid_request(
                "deleted files can only be fetched by id",
            )));
        }
        let mut request = self.by_path(Method::GET, &path);
        request = request.query_opt("version_id", options.version_id.as_deref());
        if options.include_versions {
            request = request.query("include_versions", "true");
        }
        let metadata: FileMetadata = request.send_json().await?;
        check_version(&metadata, options.version_id.as_deref())?;
        Ok(metadata)
    }

    /// Deletes a file and all its versions (soft: it can be restored), by id.
    ///
    /// See the example on [`restore`](Self::restore).
    pub async fn delete_by_id(&self, file_id: Uuid) -> Result<(), Error> {
        let env = &self.environment;
        endpoints::delete_file_by_id(&self.connector, env.org_id, env.workspace_id, file_id)
            .await?;
        Ok(())
    }

    /// Deletes a file and all its versions (soft: it can be restored), by path.
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
    /// #         emulator.issue_token(&["evo.file"]),
    /// #     )))
    /// #     .build()?;
    /// # let files = evo_files::FilesClient::new(environment, connector)?;
    /// use evo_files::GetOptions;
    ///
    /// files.upload_bytes("tmp/scratch.csv", "x").await?;
    /// files.delete_by_path("tmp/scratch.csv").await?;
    /// assert!(files.get_by_path("tmp/scratch.csv", &GetOptions::new()).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn delete_by_path(
        &self,
        path: impl TryInto<FilePath, Error = Error>,
    ) -> Result<(), Error> {
        let path = path.try_into()?;
        let env = &self.environment;
        endpoints::delete_file_by_path(
            &self.connector,
            env.org_id,
            env.workspace_id,
            path.as_str(),
        )
        .await?;
        Ok(())
    }

    /// Restores a deleted file. 409 (`is_conflict`) when another file now has its path.
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
    /// #         emulator.issue_token(&["evo.file"]),
    /// #     )))
    /// #     .build()?;
    /// # let files = evo_files::FilesClient::new(environment, connector)?;
    /// use evo_files::{GetOptions, RestoreOutcome};
    ///
    /// let uploaded = files.upload_bytes("assays.csv", "x").await?;
    /// files.delete_by_id(uploaded.file_id).await?;
    /// let deleted = files.get_by_id(uploaded.file_id, &GetOptions::new().include_deleted(true)).await?;
    /// assert!(deleted.deleted_at.is_some());
    ///
    /// let outcome = files.restore(uploaded.file_id).await?;
    /// assert!(matches!(outcome, RestoreOutcome::Restored));
    /// assert!(files.get_by_path("assays.csv", &GetOptions::new()).await.is_ok());
    /// # Ok(()) }
    /// ```
    pub async fn restore(&self, file_id: Uuid) -> Result<RestoreOutcome, Error> {
        let request = self
            .by_id(Method::PUT, file_id)
            .query("deleted", "false")
            .expect_status(&[StatusCode::NO_CONTENT, StatusCode::SEE_OTHER]);
        let response = request.send().await?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect(evo_core::DEFAULT_MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| {
                evo_core::Error::from(
                    evo_core::TransportError::new(
                        evo_core::TransportErrorKind::Connection,
                        format!("reading the body of a restore answer failed: {e}"),
                    )
                    .with_source(e),
                )
            })?;
        if parts.status == StatusCode::NO_CONTENT {
            if !body.is_empty() {
                return Err(Error::Unexpected(format!(
                    "restore answered {} with a {}-byte body; expected none",
                    parts.status,
                    body.len()
                )));
            }
            return Ok(RestoreOutcome::Restored);
        }
        let location = parts
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let metadata: FileMetadata = serde_json::from_slice(&body).map_err(|e| {
            evo_core::Error::from(evo_core::DecodeError::new(
                "FileMetadata (the body of a 303 restore answer)",
                parts.status,
                e.to_string(),
                &body,
            ))
        })?;
        if metadata.file_id != file_id {
            return Err(Error::Unexpected(format!(
                "restoring {file_id} answered with the metadata of {}",
                metadata.file_id
            )));
        }
        Ok(RestoreOutcome::Moved {
            metadata: Box::new(metadata),
            location,
        })
    }

    /// Registers a new file, or a new version of the file at `path`, and returns where to
    /// upload its bytes. With `version_id`, asks for a new URL for that unfinished version.
    /// The upload methods call this for you.
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
    /// #         emulator.issue_token(&["evo.file"]),
    /// #     )))
    /// #     .build()?;
    /// # let files = evo_files::FilesClient::new(environment, connector)?;
    /// // A new file: its id, its first version and a pre-signed blob URL to PUT the bytes to.
    /// let target = files.register_upload_by_path("raw/log.bin", None).await?;
    /// assert!(target.upload.starts_with("http"));
    /// // A new version of that file, by id.
    /// let next = files.register_upload_by_id(target.file_id, None).await?;
    /// assert_eq!(next.file_id, target.file_id);
    /// assert_ne!(next.version_id, target.version_id);
    /// # Ok(()) }
    /// ```
    pub async fn register_upload_by_path(
        &self,
        path: impl TryInto<FilePath, Error = Error>,
        version_id: Option<&str>,
    ) -> Result<UploadTarget, Error> {
        let path = path.try_into()?;
        let env = &self.environment;
        let params = endpoints::UpsertFileByPathParams {
            version_id: version_id.map(str::to_owned),
        };
        let answer = endpoints::upsert_file_by_path(
            &self.connector,
            env.org_id,
            env.workspace_id,
            path.as_str(),
            &params,
        )
        .await?;
        let target = UploadTarget::from(answer);
        check_target(&target, None, version_id)?;
        Ok(target)
    }

    /// Registers a new version of an existing file and returns where to upload its bytes.
    /// With `version_id`, asks for a new URL for that unfinished version.
    ///
    /// See the example on [`register_upload_by_path`](Self::register_upload_by_path).
    pub async fn register_upload_by_id(
        &self,
        file_id: Uuid,
        version_id: Option<&str>,
    ) -> Result<UploadTarget, Error> {
        let env = &self.environment;
        let params = endpoints::UpdateFileByIdParams {
            version_id: version_id.map(str::to_owned),
            deleted: None,
        };
        let answer = endpoints::update_file_by_id(
            &self.connector,
            env.org_id,
            env.workspace_id,
            file_id,
            &params,
        )
        .await?;
        let target = match answer {
            endpoints::UpdateFileByIdResponse::Ok(answer) => UploadTarget::from(answer),
            _ => {
                return Err(Error::Unexpected(format!(
                    "registering an upload for file {file_id} was answered like a restore"
                )));
            }
        };
        check_target(&target, Some(file_id), version_id)?;
        Ok(target)
    }
}

fn check_version(metadata: &FileMetadata, asked: Option<&str>) -> Result<(), Error> {
    match asked {
        Some(v) if v != metadata.version_id => Err(Error::Unexpected(format!(
            "asked for version {v} of file {} but got version {}",
            metadata.file_id, metadata.version_id
        ))),
        _ => Ok(()),
    }
}

fn check_target(
    target: &UploadTarget,
    file_id: Option<Uuid>,
    version_id: Option<&str>,
) -> Result<(), Error> {
    if let Some(id) = file_id
        && id != target.file_id
    {
        return Err(Error::Unexpected(format!(
            "registering an upload for file {id} answered for file {}",
            target.file_id
        )));
    }
    if let Some(v) = version_id
        && v != target.version_id
    {
        return Err(Error::Unexpected(format!(
            "resuming version {v} answered with version {}",
            target.version_id
        )));
    }
    if url::Url::parse(&target.upload).is_err() {
        return Err(Error::Unexpected(
            "the upload URL the File API returned is not a URL".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: T) {}

    /// Compile-time check: every call's future (and the listing stream) can be spawned.
    #[allow(dead_code, clippy::let_underscore_future)]
    fn futures_are_send(c: &FilesClient, cache: &evo_core::Cache) {
        let id = Uuid::nil();
        assert_send(c.list_page(&ListFilesQuery::new()));
        assert_send(c.list_all(ListFilesQuery::new()));
        assert_send(c.get_by_id(id, &GetOptions::new()));
        assert_send(c.get_by_path("a", &GetOptions::new()));
        assert_send(c.delete_by_id(id));
        assert_send(c.delete_by_path("a"));
        assert_send(c.restore(id));
        assert_send(c.register_upload_by_path("a", None));
        assert_send(c.register_upload_by_id(id, None));
        assert_send(c.upload_bytes("a", vec![1]));
        assert_send(c.upload_file("a", "/tmp/x"));
        assert_send(c.download_to_memory(id, None));
        assert_send(c.download_to_path(id, None, "/tmp/x", false));
        assert_send(c.download_to_cache(id, None, cache));
    }

    #[test]
    fn get_options_build_up() {
        let o = GetOptions::new()
            .version("3")
            .include_versions(true)
            .include_deleted(true);
        assert_eq!(o.version_id.as_deref(), Some("3"));
        assert!(o.include_versions && o.include_deleted);
    }
}
