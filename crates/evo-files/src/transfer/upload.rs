//! [`FileUpload`]: an upload to set up and then await (register, transfer, confirm).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use uuid::Uuid;

use evo_core::Feedback;
use evo_io::Source;

use super::renew::parse_url;
use crate::client::FilesClient;
use crate::error::Error;
use crate::models::FileMetadata;
use crate::path::FilePath;

/// Where an upload goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum UploadTo {
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
    pub(super) client: &'a FilesClient,
    pub(super) to: Result<UploadTo, Error>,
    pub(super) source: Source<'a>,
    pub(super) feedback: Option<&'a dyn Feedback>,
    pub(super) visibility_timeout: Duration,
    pub(super) content_type: Option<String>,
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
