//! Renewing a refused transfer URL through the File API: `PUT /files/{id}?version_id=` for an
//! upload, `GET /files/{id}?version_id=` for a download.

use http::Method;
use uuid::Uuid;

use evo_io::RenewUrl;

use crate::client::FilesClient;
use crate::models::{FileMetadata, UploadTarget};

/// Renews an upload URL: `PUT /files/{id}?version_id=`.
pub(super) struct RenewUpload {
    pub(super) client: FilesClient,
    pub(super) file_id: Uuid,
    pub(super) version_id: String,
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
pub(super) struct RenewDownload {
    pub(super) client: FilesClient,
    pub(super) file_id: Uuid,
    pub(super) version_id: String,
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

pub(super) fn parse_url(text: &str) -> Result<url::Url, evo_core::Error> {
    url::Url::parse(text).map_err(|e| {
        evo_core::Error::invalid_request(format!("the File API returned an unusable blob URL: {e}"))
    })
}
