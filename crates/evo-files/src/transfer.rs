//! Uploads and downloads: register with the File API, move the bytes with evo-io (renewing
//! refused URLs through the File API), then confirm with the File API.

use std::future::{Future, IntoFuture};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use tokio::io::AsyncRead;
use uuid::Uuid;

use evo_core::{Cache, Feedback};
use evo_io::{BlobDigest, Destination, DownloadReport, RenewUrl, Source, UploadReport};

use crate::client::{FilesClient, GetOptions};
use crate::error::Error;
use crate::models::{FileMetadata, UploadTarget};
use crate::path::FilePath;

/// The cache scope of downloaded files (the Python SDK's name, so layouts are recognisable):
/// `<cache root>/<org>/<workspace>/filev2/<file id>/<version id>/<file name>`.
pub const CACHE_SCOPE: &str = "filev2";

/// Where an upload goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum UploadTo {
    /// A new file, or a new version of the file at this path.
    Path(FilePath),
    /// A new version of this existing file.
    NewVersion(Uuid),
    /// The unfinished upload of this version.
    Resume { file_id: Uuid, version_id: String },
}

/// An upload to set up and then await; made by [`FilesClient::upload`],
/// [`FilesClient::upload_new_version`] and [`FilesClient::resume_upload`].
///
/// Awaiting it registers the upload with the File API, transfers the bytes (parallel blocks,
/// per-block retries, URL renewal through `PUT /files/{id}?version_id=`), then waits until the
/// File API shows the new version and returns its metadata. When the transfer fails, the
/// error's [`Error::resume_point`] names the version to pass to
/// [`FilesClient::resume_upload`].
#[must_use = "an upload does nothing until it is awaited"]
pub struct FileUpload<'a> {
    client: &'a FilesClient,
    to: Result<UploadTo, Error>,
    source: Source<'a>,
    feedback: Option<&'a dyn Feedback>,
    visibility_timeout: Duration,
    content_type: Option<String>,
}

impl std::fmt::Debug for FileUpload<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileUpload")
            .field("to", &self.to)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl<'a> FileUpload<'a> {
    /// Receives byte-based progress of the transfer.
    pub fn feedback(mut self, feedback: &'a dyn Feedback) -> Self {
        self.feedback = Some(feedback);
        self
    }

    /// How long to wait for the File API to show the new version (default: the client's).
    pub fn visibility_timeout(mut self, timeout: Duration) -> Self {
        self.visibility_timeout = timeout;
        self
    }

    /// The blob's content type.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    async fn run(self) -> Result<FileMetadata, Error> {
        let client = self.client;
        let to = self.to?;
        let target = match &to {
            UploadTo::Path(path) => client.register_upload_by_path(path, None).await?,
            UploadTo::NewVersion(id) => client.register_upload_by_id(*id, None).await?,
            UploadTo::Resume {
                file_id,
                version_id,
            } => {
                client
                    .register_upload_by_id(*file_id, Some(version_id))
                    .await?
            }
        };
        let label = match &to {
            UploadTo::Path(path) => format!("uploading {path}"),
            _ => format!("uploading file {}", target.file_id),
        };
        tracing::debug!(file_id = %target.file_id, version_id = %target.version_id, "{label}");
        let url = parse_url(&target.upload)?;
        let known_len = self.source.known_len();
        let transferred = client
            .transfer_up(
                &target,
                url,
                self.source,
                self.feedback,
                self.content_type,
                // Only an explicit resume reuses blocks staged for bytes or a reader.
                matches!(to, UploadTo::Resume { .. }),
            )
            .await;
        let size = match transferred {
            Ok(report) => report.size,
            // The commit went through but its answer was lost, and the retry needed a new URL,
            // which the File API refuses for a version already complete: the version is ours.
            Err(source) if completed_already(&source) && known_len.is_some() => {
                tracing::debug!(file_id = %target.file_id, version_id = %target.version_id, "the upload's commit answer was lost but the version is complete");
                known_len.unwrap_or_default()
            }
            Err(source) => {
                return Err(Error::Transfer {
                    context: format!("{label} (version {})", target.version_id),
                    resume: Some((target.file_id, target.version_id.clone())),
                    source: Box::new(source),
                });
            }
        };
        let metadata = client
            .wait_until_visible(target.file_id, &target.version_id, self.visibility_timeout)
            .await?;
        if metadata.size != size {
            return Err(Error::Unexpected(format!(
                "uploaded {} bytes but the File API reports {} bytes for file {} version {}",
                size, metadata.size, metadata.file_id, metadata.version_id
            )));
        }
        Ok(metadata)
    }
}

impl<'a> IntoFuture for FileUpload<'a> {
    type Output = Result<FileMetadata, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// What a download is of: a file (latest or a given version), or metadata already fetched.
#[derive(Debug, Clone)]
enum DownloadOf {
    Id {
        file_id: Uuid,
        version_id: Option<String>,
    },
    Metadata(Box<FileMetadata>),
}

/// A download to set up and then await; made by [`FilesClient::download`] and
/// [`FilesClient::download_metadata`].
///
/// Awaiting it fetches the file's metadata (unless given), downloads the blob (parallel
/// ranges pinned to one ETag, every range checked, URL renewal through
/// `GET /files/{id}?version_id=`), checks the size (and ETag, when both sides have one)
/// against the metadata, and returns both.
#[must_use = "a download does nothing until it is awaited"]
pub struct FileDownload<'a> {
    client: &'a FilesClient,
    of: DownloadOf,
    destination: Destination<'a>,
    feedback: Option<&'a dyn Feedback>,
    overwrite: bool,
    digest: Option<BlobDigest>,
}

impl std::fmt::Debug for FileDownload<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDownload")
            .field("of", &self.of)
            .field("destination", &self.destination)
            .finish_non_exhaustive()
    }
}

/// A finished download: the metadata of the version downloaded, and what the transfer did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Downloaded {
    /// The version downloaded.
    pub metadata: FileMetadata,
    /// The transfer's report (size, ETag, retries, resumed bytes; the bytes of a memory
    /// download through [`DownloadReport::into_bytes`]).
    pub report: DownloadReport,
}

impl<'a> FileDownload<'a> {
    /// Receives byte-based progress of the transfer.
    pub fn feedback(mut self, feedback: &'a dyn Feedback) -> Self {
        self.feedback = Some(feedback);
        self
    }

    /// For a file destination: replace an existing file (default off).
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Also check the bytes against this digest before publishing them.
    pub fn expect_digest(mut self, digest: BlobDigest) -> Self {
        self.digest = Some(digest);
        self
    }

    async fn run(self) -> Result<Downloaded, Error> {
        let client = self.client;
        let metadata = match self.of {
            DownloadOf::Metadata(m) => *m,
            DownloadOf::Id {
                file_id,
                version_id,
            } => {
                let mut options = GetOptions::new();
                if let Some(v) = version_id {
                    options = options.version(v);
                }
                client.get_by_id(file_id, &options).await?
            }
        };
        let report = client
            .transfer_down(
                &metadata,
                self.destination,
                self.feedback,
                self.overwrite,
                self.digest,
            )
            .await?;
        verify_download(&metadata, &report)?;
        Ok(Downloaded { metadata, report })
    }
}

impl<'a> IntoFuture for FileDownload<'a> {
    type Output = Result<Downloaded, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// Checks a finished download against the metadata it was made from. A file destination
/// that fails the check is removed, so no wrong file stays under the target name.
fn verify_download(metadata: &FileMetadata, report: &DownloadReport) -> Result<(), Error> {
    let mut problem = None;
    if report.size != metadata.size {
        problem = Some(format!(
            "downloaded {} bytes but the File API reports {} bytes",
            report.size, metadata.size
        ));
    }
    let expected = metadata.etag.trim_matches('"');
    if let Some(got) = report.etag.as_deref().map(|e| e.trim_matches('"'))
        && !expected.is_empty()
        && !got.is_empty()
        && got != expected
    {
        problem = Some(format!(
            "downloaded blob version {got:?} but the File API describes version {expected:?}"
        ));
    }
    match problem {
        None => Ok(()),
        Some(message) => {
            if let Some(path) = &report.path {
                let _ = std::fs::remove_file(path);
            }
            Err(Error::Unexpected(format!(
                "file {} version {}: {message}",
                metadata.file_id, metadata.version_id
            )))
        }
    }
}

/// Whether an upload failed because renewing its URL answered 400
/// `no-file-upload-in-progress` after a commit of this upload lost its answer: the File API
/// holds the version as complete, so that commit went through.
fn completed_already(error: &evo_io::Error) -> bool {
    error.step() == evo_io::Step::RenewUrl
        && error.committed() == evo_io::Committed::Unknown
        && error
            .core()
            .and_then(evo_core::Error::as_api)
            .filter(|api| api.status() == http::StatusCode::BAD_REQUEST)
            .and_then(|api| api.problem())
            .and_then(|p| p.type_uri.as_deref())
            .is_some_and(|t| t.ends_with("/no-file-upload-in-progress"))
}

/// Renews an upload URL: `PUT /files/{id}?version_id=`.
struct RenewUpload {
    client: FilesClient,
    file_id: Uuid,
    version_id: String,
}

#[async_trait::async_trait]
impl RenewUrl for RenewUpload {
    async fn renew(&self) -> Result<url::Url, evo_core::Error> {
        let target: UploadTarget = self
            .client
            .by_id(Method::PUT, self.file_id)
            .query("version_id", &self.version_id)
            .expect_status(&[http::StatusCode::OK])
            .send_json()
            .await?;
        if target.file_id != self.file_id || target.version_id != self.version_id {
            return Err(evo_core::Error::invalid_request(format!(
                "renewing the upload URL of file {} version {} answered for file {} version {}",
                self.file_id, self.version_id, target.file_id, target.version_id
            )));
        }
        parse_url(&target.upload)
    }
}

/// Renews a download URL: `GET /files/{id}?version_id=`.
struct RenewDownload {
    client: FilesClient,
    file_id: Uuid,
    version_id: String,
}

#[async_trait::async_trait]
impl RenewUrl for RenewDownload {
    async fn renew(&self) -> Result<url::Url, evo_core::Error> {
        let metadata: FileMetadata = self
            .client
            .by_id(Method::GET, self.file_id)
            .query("version_id", &self.version_id)
            .query("deleted", "true")
            .send_json()
            .await?;
        if metadata.file_id != self.file_id || metadata.version_id != self.version_id {
            return Err(evo_core::Error::invalid_request(format!(
                "renewing the download URL of file {} version {} answered for file {} version {}",
                self.file_id, self.version_id, metadata.file_id, metadata.version_id
            )));
        }
        parse_url(&metadata.download)
    }
}

fn parse_url(text: &str) -> Result<url::Url, evo_core::Error> {
    url::Url::parse(text).map_err(|e| {
        evo_core::Error::invalid_request(format!("the File API returned an unusable blob URL: {e}"))
    })
}

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

    /// Downloads a file version into `cache` (unless it is already there) and returns its
    /// path: `<root>/<org>/<workspace>/filev2/<file id>/<version id>/<file name>` (a name over
    /// 200 bytes is shortened, keeping its extension). The file is
    /// published only complete and checked; a cached copy whose size does not match the
    /// metadata is downloaded again.
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
        let folder = cache
            .location(&self.environment, CACHE_SCOPE)?
            .join(metadata.file_id.to_string())
            .join(safe_segment(&metadata.version_id)?);
        tokio::fs::create_dir_all(&folder)
            .await
            .map_err(|e| evo_core::Error::io(format!("creating {}", folder.display()), e))?;
        let target = evo_core::cache::safe_join(&folder, &cache_file_name(&metadata.name))?;
        if let Ok(existing) = tokio::fs::metadata(&target).await
            && existing.is_file()
            && existing.len() == metadata.size
        {
            return Ok(target);
        }
        // A cached copy of the wrong size is replaced. Otherwise overwrite stays off: evo-io
        // holds a per-path lock while downloading, so a concurrent request for the same file
        // waits, then finds it complete and refuses to replace it, which we take as success.
        let replace = target.exists();
        match self
            .download_metadata(&metadata, Destination::file(&target))
            .overwrite(replace)
            .await
        {
            Ok(_) => Ok(target),
            Err(e) => match tokio::fs::metadata(&target).await {
                Ok(m) if !replace && m.is_file() && m.len() == metadata.size => Ok(target),
                _ => Err(e),
            },
        }
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
        let context = format!(
            "downloading file {} version {}",
            metadata.file_id, metadata.version_id
        );
        let url = parse_url(&metadata.download)?;
        let mut download = self
            .settings
            .blobs
            .download(url, destination)
            .overwrite(overwrite)
            .renew_with(RenewDownload {
                client: self.clone(),
                file_id: metadata.file_id,
                version_id: metadata.version_id.clone(),
            });
        if let Some(fb) = feedback {
            download = download.feedback(fb);
        }
        if let Some(d) = digest {
            download = download.expect_digest(d);
        }
        download.await.map_err(|source| Error::Transfer {
            context,
            resume: None,
            source: Box::new(source),
        })
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

/// The longest cached file name, in bytes (file systems allow 255; names from the File API can
/// be longer). The folder already identifies the file and version, so a shortened name is safe.
const MAX_CACHE_NAME_BYTES: usize = 200;

/// `name`, shortened to [`MAX_CACHE_NAME_BYTES`] when needed, keeping a short extension.
fn cache_file_name(name: &str) -> String {
    if name.len() <= MAX_CACHE_NAME_BYTES {
        return name.to_owned();
    }
    let ext = match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= 16 => &name[i..],
        _ => "",
    };
    let mut end = MAX_CACHE_NAME_BYTES - ext.len() - 1;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}~{ext}", &name[..end])
}

/// A version id used as a folder name: digits only (it comes from the server).
fn safe_segment(version_id: &str) -> Result<&str, Error> {
    if !version_id.is_empty() && version_id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(version_id)
    } else {
        Err(Error::Unexpected(format!(
            "version id {version_id:?} is not a decimal number"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_cache_names_are_shortened_keeping_the_extension() {
        assert_eq!(cache_file_name("points.csv"), "points.csv");
        let long = format!("{}.csv", "points".repeat(54));
        let short = cache_file_name(&long);
        assert!(short.len() <= MAX_CACHE_NAME_BYTES, "{}", short.len());
        assert!(short.ends_with("~.csv") && short.starts_with("pointspoints"));
        let unicode = "é".repeat(300);
        let short = cache_file_name(&unicode);
        assert!(short.len() <= MAX_CACHE_NAME_BYTES && short.ends_with('~'));
        assert!(safe_segment("12").is_ok());
        assert!(safe_segment("../1").is_err() && safe_segment("").is_err());
    }
}
