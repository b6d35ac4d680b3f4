//! Uploads and downloads: register with the File API, move the bytes with evo-io (renewing
//! refused URLs through the File API), then confirm with the File API.
//!
//! What lives where: this file holds [`FilesClient`]'s transfer methods; `upload` and
//! `download` hold the transfers they return, `renew` renews a refused URL through the File
//! API, `cache` downloads into the cache (through evo-io's) and `cache_name` names the files
//! there.

mod cache;
mod cache_name;
mod download;
mod renew;
mod upload;

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::AsyncRead;
use uuid::Uuid;

use evo_core::Feedback;
use evo_io::{BlobDigest, Destination, DownloadReport, Source, UploadReport};

use crate::client::{FilesClient, GetOptions};
use crate::error::Error;
use crate::models::{FileMetadata, UploadTarget};
use crate::path::FilePath;
use download::DownloadOf;
pub use download::{Downloaded, FileDownload};
use renew::{RenewDownload, RenewUpload, parse_url};
pub use upload::FileUpload;
use upload::UploadTo;

pub use cache::CACHE_SCOPE;

impl FilesClient {
    /// Uploads `source` to `path`: a new file, or a new version of the file at that path.
    /// Set options on the returned [`FileUpload`], then await it.
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
    /// use evo_files::Source;
    ///
    /// let uploaded = files
    ///     .upload("maps/site.geojson", Source::bytes(r#"{"type":"FeatureCollection"}"#))
    ///     .content_type("application/geo+json")
    ///     .await?;
    /// assert_eq!(uploaded.name, "site.geojson");
    /// # Ok(()) }
    /// ```
    pub fn upload<'a>(
        &'a self,
        path: impl TryInto<FilePath, Error = Error>,
        source: Source<'a>,
    ) -> FileUpload<'a> {
        self.file_upload(path.try_into().map(UploadTo::Path), source)
    }

    /// Uploads `source` as a new version of the existing file `file_id`.
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
    /// use evo_files::Source;
    ///
    /// let first = files.upload_bytes("model.csv", "v1").await?;
    /// let second = files.upload_new_version(first.file_id, Source::bytes("version 2")).await?;
    /// assert_eq!((second.file_id, second.size), (first.file_id, 9));
    /// assert_ne!(second.version_id, first.version_id);
    /// # Ok(()) }
    /// ```
    pub fn upload_new_version<'a>(&'a self, file_id: Uuid, source: Source<'a>) -> FileUpload<'a> {
        self.file_upload(Ok(UploadTo::NewVersion(file_id)), source)
    }

    /// Continues the interrupted upload of `version_id` of `file_id` (see
    /// [`Error::resume_point`]) with the same `source`: blocks the blob store already holds are
    /// not sent again.
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
    /// use evo_files::Source;
    ///
    /// let bytes = "hole,x,y\nDH1,1,2\n";
    /// // An upload registered but never finished (here: never started); a failed upload's
    /// // `Error::resume_point` gives the same two ids.
    /// let target = files.register_upload_by_path("collars.csv", None).await?;
    /// let done = files.resume_upload(target.file_id, &target.version_id, Source::bytes(bytes)).await?;
    /// assert_eq!((done.version_id, done.size), (target.version_id, bytes.len() as u64));
    /// # Ok(()) }
    /// ```
    pub fn resume_upload<'a>(
        &'a self,
        file_id: Uuid,
        version_id: impl Into<String>,
        source: Source<'a>,
    ) -> FileUpload<'a> {
        let version_id = version_id.into();
        let to = if version_id.is_empty() || !version_id.bytes().all(|b| b.is_ascii_digit()) {
            Err(Error::Service(evo_core::Error::invalid_request(format!(
                "version id {version_id:?} is not a decimal number"
            ))))
        } else {
            Ok(UploadTo::Resume {
                file_id,
                version_id,
            })
        };
        self.file_upload(to, source)
    }

    fn file_upload<'a>(
        &'a self,
        to: Result<UploadTo, Error>,
        source: Source<'a>,
    ) -> FileUpload<'a> {
        FileUpload {
            client: self,
            to,
            source,
            feedback: None,
            visibility_timeout: self.settings.visibility_timeout,
            content_type: None,
        }
    }

    /// Uploads a local file to `path` and returns the new version's metadata.
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
    /// let local = std::env::temp_dir().join(format!("evo-files-doc-{}.csv", std::process::id()));
    /// std::fs::write(&local, "hole,depth\nDH1,120.5\n")?;
    /// let uploaded = files.upload_file("drillholes/depths.csv", &local).await?;
    /// assert_eq!((uploaded.folder.as_str(), uploaded.size), ("/drillholes/", 21));
    /// # std::fs::remove_file(&local)?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_file(
        &self,
        path: impl TryInto<FilePath, Error = Error>,
        local: impl AsRef<Path>,
    ) -> Result<FileMetadata, Error> {
        self.upload(path, Source::file(local.as_ref())).await
    }

    /// Uploads bytes to `path` and returns the new version's metadata.
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
    /// let uploaded = files.upload_bytes("notes/readme.txt", "Pit survey, May").await?;
    /// assert_eq!(uploaded.full_path(), "notes/readme.txt");
    /// # Ok(()) }
    /// ```
    pub async fn upload_bytes(
        &self,
        path: impl TryInto<FilePath, Error = Error>,
        bytes: impl Into<Bytes>,
    ) -> Result<FileMetadata, Error> {
        self.upload(path, Source::bytes(bytes)).await
    }

    /// Uploads what `reader` yields (`len` bytes when known) to `path` and returns the new
    /// version's metadata.
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
    /// let data: &[u8] = b"streamed bytes";
    /// let uploaded = files.upload_reader("stream.bin", data, Some(data.len() as u64)).await?;
    /// assert_eq!(uploaded.size, 14);
    /// # Ok(()) }
    /// ```
    pub async fn upload_reader(
        &self,
        path: impl TryInto<FilePath, Error = Error>,
        reader: impl AsyncRead + Send,
        len: Option<u64>,
    ) -> Result<FileMetadata, Error> {
        self.upload(path, Source::reader(reader, len)).await
    }

    /// Downloads a file (the latest version, or `version_id`) into `destination`. Set options
    /// on the returned [`FileDownload`], then await it.
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
    /// use evo_files::Destination;
    ///
    /// let uploaded = files.upload_bytes("a.csv", "x,y\n1,2\n").await?;
    /// let done = files.download(uploaded.file_id, None, Destination::memory()).await?;
    /// assert_eq!(done.metadata.version_id, uploaded.version_id);
    /// assert_eq!(&done.report.into_bytes()[..], b"x,y\n1,2\n");
    /// # Ok(()) }
    /// ```
    pub fn download<'a>(
        &'a self,
        file_id: Uuid,
        version_id: Option<&str>,
        destination: Destination<'a>,
    ) -> FileDownload<'a> {
        self.file_download(
            DownloadOf::Id {
                file_id,
                version_id: version_id.map(str::to_owned),
            },
            destination,
        )
    }

    /// Downloads the version described by `metadata` (from a get call) into `destination`,
    /// without fetching the metadata again.
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
    /// use evo_files::{Destination, GetOptions};
    ///
    /// files.upload_bytes("b.csv", "b").await?;
    /// let metadata = files.get_by_path("b.csv", &GetOptions::new()).await?;
    /// let done = files.download_metadata(&metadata, Destination::memory()).await?;
    /// assert_eq!(&done.report.into_bytes()[..], b"b");
    /// # Ok(()) }
    /// ```
    pub fn download_metadata<'a>(
        &'a self,
        metadata: &FileMetadata,
        destination: Destination<'a>,
    ) -> FileDownload<'a> {
        self.file_download(
            DownloadOf::Metadata(Box::new(metadata.clone())),
            destination,
        )
    }

    fn file_download<'a>(
        &'a self,
        of: DownloadOf,
        destination: Destination<'a>,
    ) -> FileDownload<'a> {
        FileDownload {
            client: self,
            of,
            destination,
            feedback: None,
            overwrite: false,
            digest: None,
        }
    }

    /// Downloads a file (the latest version, or `version_id`) to `target`, replacing it when
    /// `overwrite`; returns the metadata of the version downloaded.
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
    /// let uploaded = files.upload_bytes("c.csv", "c,d\n").await?;
    /// let local = std::env::temp_dir().join(format!("evo-files-doc-c-{}.csv", std::process::id()));
    /// files.download_to_path(uploaded.file_id, None, &local, true).await?;
    /// assert_eq!(std::fs::read(&local)?, b"c,d\n");
    /// # std::fs::remove_file(&local)?;
    /// # Ok(()) }
    /// ```
    pub async fn download_to_path(
        &self,
        file_id: Uuid,
        version_id: Option<&str>,
        target: impl AsRef<Path>,
        overwrite: bool,
    ) -> Result<FileMetadata, Error> {
        let done = self
            .download(file_id, version_id, Destination::file(target.as_ref()))
            .overwrite(overwrite)
            .await?;
        Ok(done.metadata)
    }

    /// Downloads a file (the latest version, or `version_id`) into memory.
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
    /// let v1 = files.upload_bytes("d.csv", "first").await?;
    /// files.upload_bytes("d.csv", "second").await?;
    /// assert_eq!(&files.download_to_memory(v1.file_id, None).await?[..], b"second");
    /// assert_eq!(&files.download_to_memory(v1.file_id, Some(&v1.version_id)).await?[..], b"first");
    /// # Ok(()) }
    /// ```
    pub async fn download_to_memory(
        &self,
        file_id: Uuid,
        version_id: Option<&str>,
    ) -> Result<Bytes, Error> {
        let done = self
            .download(file_id, version_id, Destination::memory())
            .await?;
        Ok(done.report.into_bytes())
    }

    async fn transfer_up(
        &self,
        target: &UploadTarget,
        url: url::Url,
        source: Source<'_>,
        feedback: Option<&dyn Feedback>,
        content_type: Option<String>,
        resume: bool,
    ) -> Result<UploadReport, evo_io::Error> {
        let mut upload = self
            .settings
            .blobs
            .upload(url, source)
            .renew_with(RenewUpload {
                client: self.clone(),
                file_id: target.file_id,
                version_id: target.version_id.clone(),
            });
        if let Some(fb) = feedback {
            upload = upload.feedback(fb);
        }
        if let Some(ct) = content_type {
            upload = upload.content_type(ct);
        }
        if resume {
            upload = upload.resume(true);
        }
        upload.await
    }

    async fn transfer_down(
        &self,
        metadata: &FileMetadata,
        destination: Destination<'_>,
        feedback: Option<&dyn Feedback>,
        overwrite: bool,
        digest: Option<BlobDigest>,
    ) -> Result<DownloadReport, Error> {
        let url = parse_url(&metadata.download)?;
        let mut download = self
            .settings
            .blobs
            .download(url, destination)
            .overwrite(overwrite)
            .renew_with(self.download_renewer(metadata));
        if let Some(fb) = feedback {
            download = download.feedback(fb);
        }
        if let Some(d) = digest {
            download = download.expect_digest(d);
        }
        download
            .await
            .map_err(|source| download_error(metadata, source))
    }

    /// Renews the download URL of the version `metadata` describes.
    fn download_renewer(&self, metadata: &FileMetadata) -> RenewDownload {
        RenewDownload {
            client: self.clone(),
            file_id: metadata.file_id,
            version_id: metadata.version_id.clone(),
        }
    }

    /// Polls `GET /files/{id}?version_id=` until the version shows (404 means "not yet").
    pub(crate) async fn wait_until_visible(
        &self,
        file_id: Uuid,
        version_id: &str,
        timeout: Duration,
    ) -> Result<FileMetadata, Error> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(20);
        let options = GetOptions::new().version(version_id);
        loop {
            match self.get_by_id(file_id, &options).await {
                Ok(metadata) => return Ok(metadata),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(Error::NotVisible {
                    file_id,
                    version_id: version_id.to_owned(),
                    waited,
                });
            }
            tokio::time::sleep(delay.min(timeout - waited)).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }
}

/// A failed blob download of the version `metadata` describes.
fn download_error(metadata: &FileMetadata, source: evo_io::Error) -> Error {
    Error::Transfer {
        context: format!(
            "downloading file {} version {}",
            metadata.file_id, metadata.version_id
        ),
        resume: None,
        source: Box::new(source),
    }
}
