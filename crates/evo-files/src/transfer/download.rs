//! [`FileDownload`]: a download to set up and then await, checked against the File API's
//! metadata, and what it gives back ([`Downloaded`]).

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use uuid::Uuid;

use evo_core::Feedback;
use evo_io::{BlobDigest, Destination, DownloadReport};

use crate::client::{FilesClient, GetOptions};
use crate::error::Error;
use crate::models::FileMetadata;

/// What a download is of: a file (latest or a given version), or metadata already fetched.
#[derive(Debug, Clone)]
pub(super) enum DownloadOf {
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
    pub(super) client: &'a FilesClient,
    pub(super) of: DownloadOf,
    pub(super) destination: Destination<'a>,
    pub(super) feedback: Option<&'a dyn Feedback>,
    pub(super) overwrite: bool,
    pub(super) digest: Option<BlobDigest>,
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
