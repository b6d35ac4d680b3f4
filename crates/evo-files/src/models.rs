//! The File API v2 wire models (`specs/files.yaml`, schemas of the same names in brackets).
//!
//! Written by hand rather than taken from the generated layer, because the File API writes
//! timestamps with a space instead of `T` (`2020-01-01 01:30:00+00:00`), which the generated
//! RFC 3339 fields reject, and because pre-signed URLs (secrets) must be redacted in `Debug`.
//! Every model keeps unknown members in `extra`, so a newer server's fields survive a
//! read/serialize round trip.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use evo_core::models::{timestamp, version_order};
use evo_core::redact_url_text;
use evo_core::workspace_path::join_folder;

/// A user as the File API names them (`UserInfo`): the one user type of the evo-rs service
/// crates.
pub use evo_core::ServiceUser as UserInfo;
pub use evo_core::models::Extra;

/// A file's metadata with a pre-signed download URL (`DownloadFileResponse`), as returned by the
/// get calls and by a restore that moved the file.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileMetadata {
    /// The file id (the same for every version).
    pub file_id: Uuid,
    /// The file name.
    pub name: String,
    /// The folder holding the file, as the service sends it (`/A/`: leading and trailing `/`;
    /// `/` at the workspace root). The service calls it `path`; in this SDK a path is always a
    /// file's full path, given by `full_path()`.
    #[serde(rename = "path")]
    pub folder: String,
    /// The id of this version (a decimal integer, as text).
    pub version_id: String,
    /// The size of this version in bytes.
    pub size: u64,
    /// The blob's entity tag (may be empty).
    #[serde(default)]
    pub etag: String,
    /// When the file was created.
    #[serde(with = "timestamp")]
    pub created_at: OffsetDateTime,
    /// Who created the file.
    #[serde(default)]
    pub created_by: Option<UserInfo>,
    /// When the file was last modified (the latest version was added).
    #[serde(with = "timestamp")]
    pub modified_at: OffsetDateTime,
    /// Who last modified the file.
    #[serde(default)]
    pub modified_by: Option<UserInfo>,
    /// When the file was deleted, for a deleted file.
    #[serde(default, with = "timestamp::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// Who deleted the file, for a deleted file.
    #[serde(default)]
    pub deleted_by: Option<UserInfo>,
    /// The pre-signed download URL of this version (valid about 30 minutes; a secret).
    pub download: String,
    /// The file's API URL.
    #[serde(rename = "self")]
    pub self_link: String,
    /// Every version of the file, when asked for (`include_versions`); otherwise `None`.
    #[serde(default)]
    pub versions: Option<Vec<FileVersion>>,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl FileMetadata {
    /// The versions, newest first (by creation time, then by version id), as the Python SDK
    /// presents them; empty when they were not asked for.
    pub fn versions_newest_first(&self) -> Vec<FileVersion> {
        let mut versions = self.versions.clone().unwrap_or_default();
        versions.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| version_order(&b.version_id, &a.version_id))
        });
        versions
    }

    /// True when the file is deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

impl fmt::Debug for FileMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileMetadata")
            .field("file_id", &self.file_id)
            .field("name", &self.name)
            .field("folder", &self.folder)
            .field("version_id", &self.version_id)
            .field("size", &self.size)
            .field("etag", &self.etag)
            .field("created_at", &self.created_at)
            .field("modified_at", &self.modified_at)
            .field("deleted_at", &self.deleted_at)
            .field("download", &redact_url_text(&self.download))
            .field("versions", &self.versions.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

/// One version of a file (`FileVersionResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileVersion {
    /// The file id.
    pub file_id: Uuid,
    /// The file name of this version.
    pub name: String,
    /// The folder holding this version of the file, as the service sends it (`/A/`: leading and trailing `/`;
    /// `/` at the workspace root). The service calls it `path`; in this SDK a path is always a
    /// file's full path, given by `full_path()`.
    #[serde(rename = "path")]
    pub folder: String,
    /// The version id (a decimal integer, as text).
    pub version_id: String,
    /// The size of this version in bytes.
    pub size: u64,
    /// When this version was created.
    #[serde(with = "timestamp")]
    pub created_at: OffsetDateTime,
    /// Who created this version.
    #[serde(default)]
    pub created_by: Option<UserInfo>,
    /// The API URL of this version.
    pub link: String,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Where to upload the bytes of a new file or version (`UploadFileResponse`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UploadTarget {
    /// The file id.
    pub file_id: Uuid,
    /// The pre-signed blob URL to upload to (valid about 30 minutes; a secret).
    pub upload: String,
    /// The id the new version gets once its bytes are committed.
    pub version_id: String,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl fmt::Debug for UploadTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadTarget")
            .field("file_id", &self.file_id)
            .field("upload", &redact_url_text(&self.upload))
            .field("version_id", &self.version_id)
            .finish_non_exhaustive()
    }
}

impl From<crate::generated::models::UploadFileResponse> for UploadTarget {
    fn from(g: crate::generated::models::UploadFileResponse) -> Self {
        UploadTarget {
            file_id: g.file_id,
            upload: g.upload,
            version_id: g.version_id,
            extra: Extra::new(),
        }
    }
}

/// The links of a listed file (`ListFileLinks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileLinks {
    /// The file's API URL.
    #[serde(rename = "self")]
    pub self_link: String,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A file in a listing (`ListFile`): metadata without a download URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileSummary {
    /// The file id.
    pub file_id: Uuid,
    /// The file name.
    pub name: String,
    /// The folder holding the file, as the service sends it (`/A/`: leading and trailing `/`;
    /// `/` at the workspace root). The service calls it `path`; in this SDK a path is always a
    /// file's full path, given by `full_path()`.
    #[serde(rename = "path")]
    pub folder: String,
    /// The id of the latest version.
    pub version_id: String,
    /// The size of the latest version in bytes.
    pub size: u64,
    /// The blob's entity tag (may be empty).
    #[serde(default)]
    pub etag: String,
    /// When the file was created.
    #[serde(with = "timestamp")]
    pub created_at: OffsetDateTime,
    /// Who created the file.
    #[serde(default)]
    pub created_by: Option<UserInfo>,
    /// When the file was last modified.
    #[serde(with = "timestamp")]
    pub modified_at: OffsetDateTime,
    /// Who last modified the file.
    #[serde(default)]
    pub modified_by: Option<UserInfo>,
    /// When the file was deleted, for a deleted file.
    #[serde(default, with = "timestamp::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// Who deleted the file, for a deleted file.
    #[serde(default)]
    pub deleted_by: Option<UserInfo>,
    /// The file's links.
    pub links: FileLinks,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl FileSummary {
    /// The full path of the file in the workspace (`A/x.csv`), joining the folder and the name.
    pub fn full_path(&self) -> String {
        join_folder(&self.folder, &self.name)
    }
}

impl FileMetadata {
    /// The full path of the file in the workspace (`A/x.csv`), joining the folder and the name.
    pub fn full_path(&self) -> String {
        join_folder(&self.folder, &self.name)
    }
}

impl FileVersion {
    /// The full path of this version in the workspace (`A/x.csv`).
    pub fn full_path(&self) -> String {
        join_folder(&self.folder, &self.name)
    }
}

/// The paging links of a listing (`ListFilesResponseLinks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PageLinks {
    /// This page.
    #[serde(rename = "self", default)]
    pub self_link: String,
    /// The next page, when there is one.
    #[serde(default)]
    pub next: Option<String>,
    /// The previous page, when there is one.
    #[serde(default)]
    pub prev: Option<String>,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One page of a listing as the File API sends it (`ListFilesResponse`);
/// [`FilesClient::list_page`](crate::FilesClient::list_page) gives it as an [`evo_core::Page`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FilesPage {
    /// How many files this page holds.
    pub count: u64,
    /// How many files match the query in all.
    pub total: u64,
    /// The page size asked for.
    pub limit: u64,
    /// The offset of this page.
    pub offset: u64,
    /// The paging links.
    pub links: PageLinks,
    /// The files.
    pub files: Vec<FileSummary>,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl From<FilesPage> for evo_core::Page<FileSummary> {
    fn from(page: FilesPage) -> Self {
        evo_core::Page::new(
            page.files,
            page.offset,
            Some(page.limit),
            Some(page.total),
            page.links.next,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_both_forms() {
        let a = timestamp::parse("2020-01-01 01:30:00+00:00").unwrap();
        let b = timestamp::parse("2020-01-01T01:30:00Z").unwrap();
        let c = timestamp::parse("2020-01-01T01:30:00").unwrap();
        let d = timestamp::parse("2020-01-01T03:30:00.000+02:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a, d);
        assert!(timestamp::parse("yesterday").is_none());
        assert!(timestamp::parse("").is_none());
        assert_eq!(timestamp::format(&a), "2020-01-01T01:30:00Z");
    }

    #[test]
    fn version_ids_compare_as_numbers() {
        use std::cmp::Ordering::*;
        assert_eq!(version_order("9", "10"), Less);
        assert_eq!(version_order("1223372036854775807", "2"), Greater);
        assert_eq!(version_order("a", "b"), Less);
    }

    #[test]
    fn debug_hides_signatures() {
        let target: UploadTarget = serde_json::from_value(serde_json::json!({
            "file_id": Uuid::nil(),
            "upload": "https://blob.example/c/b?sv=1&sig=SECRET123",
            "version_id": "1"
        }))
        .unwrap();
        let text = format!("{target:?}");
        assert!(!text.contains("SECRET123"), "{text}");
        assert!(text.contains("sv=1"), "{text}");
    }
}
