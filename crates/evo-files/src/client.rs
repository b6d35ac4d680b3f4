//! `FilesClient`: the File API v2 metadata calls (list, get, delete, restore, register uploads).
//! Byte transfers are in `transfer.rs`.
//!
//! What lives where: this file holds the client, its builder and the options and outcomes of
//! the calls; `reading` lists files and gets their metadata, `deleting` deletes and restores,
//! and `registering` registers uploads.

mod deleting;
mod reading;
mod registering;

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use uuid::Uuid;

use evo_core::{ApiConnector, Environment};

use crate::error::Error;
use crate::models::FileMetadata;
use crate::path::FilePath;

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
        let connector = self.connector.for_environment(&self.environment)?;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::ListFilesQuery;

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
