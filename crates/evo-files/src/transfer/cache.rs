//! The download cache of files: a folder per file and version, filled through evo-io's cache
//! download.

use std::path::PathBuf;

use uuid::Uuid;

use evo_core::Cache;

use super::cache_name::{cache_file_name, safe_segment};
use super::download_error;
use super::renew::parse_url;
use crate::client::{FilesClient, GetOptions};
use crate::error::Error;

/// The cache scope of downloaded files (the Python SDK's name, so layouts are recognisable):
/// `<cache root>/<org>/<workspace>/filev2/<file id>/<version id>/<file name>`.
pub const CACHE_SCOPE: &str = "filev2";

impl FilesClient {
    /// Downloads a file version into `cache` (unless it is already there) and returns its
    /// path: `<root>/<org>/<workspace>/filev2/<file id>/<version id>/<file name>` (a name over
    /// 200 bytes is shortened, keeping its extension).
    ///
    /// The bytes move through evo-io's cache download
    /// ([`BlobClient::download_to_cache`](evo_io::BlobClient::download_to_cache)): one download
    /// per file however many tasks ask at once, published only complete and checked (the size
    /// and blob version the metadata gives, and the stored CRC-64); a cached copy whose size
    /// does not match the metadata is downloaded again.
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
    /// let root = std::env::temp_dir().join(format!("evo-files-doc-cache-{}", std::process::id()));
    /// let cache = evo_core::Cache::new(&root)?;
    /// let uploaded = files.upload_bytes("e.csv", "cached").await?;
    /// let path = files.download_to_cache(uploaded.file_id, None, &cache).await?;
    /// assert!(path.starts_with(&root) && path.ends_with("e.csv"));
    /// assert_eq!(std::fs::read(&path)?, b"cached");
    /// # std::fs::remove_dir_all(&root)?;
    /// # Ok(()) }
    /// ```
    pub async fn download_to_cache(
        &self,
        file_id: Uuid,
        version_id: Option<&str>,
        cache: &Cache,
    ) -> Result<PathBuf, Error> {
        let mut options = GetOptions::new();
        if let Some(v) = version_id {
            options = options.version(v);
        }
        let metadata = self.get_by_id(file_id, &options).await?;
        let url = parse_url(&metadata.download)?;
        let mut download = self
            .settings
            .blobs
            .download_to_cache(
                cache,
                &self.environment,
                CACHE_SCOPE,
                &cache_file_name(&metadata.name),
                url,
            )
            .in_folder(&metadata.file_id.to_string())
            .in_folder(safe_segment(&metadata.version_id)?)
            .expect_size(metadata.size)
            .renew_with(self.download_renewer(&metadata));
        if !metadata.etag.is_empty() {
            download = download.expect_etag(metadata.etag.as_str());
        }
        download
            .await
            .map_err(|source| download_error(&metadata, source))
    }
}
