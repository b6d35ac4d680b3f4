//! The Geoscience Object API wire models (names of the API's schemas in brackets).
//!
//! Written by hand: the service writes timestamps with a space instead of `T`
//! (`2020-01-01 01:30:00+00:00`) as well as in RFC 3339, and pre-signed data URLs (secrets) must
//! be redacted in `Debug`. Every model keeps unknown members in `extra`, so a newer server's
//! fields survive a read/serialize round trip.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use evo_core::models::{timestamp, version_order};
use evo_core::redact_url_text;
use evo_core::workspace_path::join_folder;

/// A user as the Geoscience Object API names them (`User`): the one user type of the evo-rs
/// service crates.
pub use evo_core::ServiceUser as UserInfo;
pub use evo_core::models::Extra;

/// A publication stage an object version can be in (`StageResponse`, `StageListItem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stage {
    /// The stage id.
    pub stage_id: Uuid,
    /// The stage name (`Approved`, `Experimental`, …).
    pub name: String,
}

/// The list of stages of an organization (`ListStagesResponse`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct StagesAnswer {
    pub(crate) stages: Vec<Stage>,
}

/// Where one data file of an object version can be downloaded (`DataDownloadUrl`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DataLink {
    /// The server's id of the data file.
    pub id: Uuid,
    /// The data file's name, as the object references it (the SHA-256 of its bytes, in hex).
    pub name: String,
    /// A pre-signed URL to read the file (a secret; valid for a limited time). `None` when the
    /// service could not sign one.
    #[serde(default)]
    pub download_url: Option<String>,
}

impl fmt::Debug for DataLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataLink")
            .field("id", &self.id)
            .field("name", &self.name)
            .field(
                "download_url",
                &self.download_url.as_deref().map(redact_url_text),
            )
            .finish()
    }
}

/// The links of an object answer (`ObjectResponseLinks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ObjectLinks {
    /// The object's API URL.
    pub download: String,
    /// Download URLs for the data files the object references.
    #[serde(default)]
    pub data: Vec<DataLink>,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The links of a listed object or a version (`ListedObjectLinks`,
/// `ObjectVersionResponseLinks`; versions may also carry `data`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListedLinks {
    /// The object's API URL.
    pub download: String,
    /// Download URLs of the version's data files, when the service includes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<DataLink>>,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An object's footprint as a GeoJSON polygon (`BoundingBox`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GeoJsonBoundingBox {
    /// Always `Polygon`.
    #[serde(rename = "type")]
    pub kind: String,
    /// One exterior ring of five `[longitude, latitude]` points (closed).
    pub coordinates: Vec<Vec<[f64; 2]>>,
}

/// One object version, with its metadata, the object JSON and its data links
/// (`GetObjectResponse`, and `PostObjectResponse`, the answer of a write).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ObjectResponse {
    /// The object id (the same for every version). Absent only in some write answers, where
    /// the object's `uuid` member has it.
    #[serde(default)]
    pub object_id: Option<Uuid>,
    /// The object's path in the workspace (`A/m.json`), when the service gives it.
    #[serde(default)]
    pub object_path: Option<String>,
    /// The object JSON (with its `schema` and `uuid`), as stored.
    pub object: serde_json::Value,
    /// The id of this version.
    pub version_id: String,
    /// The entity tag (may be empty).
    #[serde(default)]
    pub etag: String,
    /// When the object was created.
    #[serde(with = "timestamp")]
    pub created_at: OffsetDateTime,
    /// Who created the object.
    #[serde(default)]
    pub created_by: Option<UserInfo>,
    /// When the object was last modified.
    #[serde(with = "timestamp")]
    pub modified_at: OffsetDateTime,
    /// Who last modified the object.
    #[serde(default)]
    pub modified_by: Option<UserInfo>,
    /// When the object was deleted, for a deleted object.
    #[serde(default, with = "timestamp::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// Who deleted the object, for a deleted object.
    #[serde(default)]
    pub deleted_by: Option<UserInfo>,
    /// The stage of this version.
    #[serde(default)]
    pub stage: Option<Stage>,
    /// The object's footprint, when the service computed one.
    #[serde(default)]
    pub geojson_bounding_box: Option<GeoJsonBoundingBox>,
    /// The object's URL and the download URLs of its data.
    pub links: ObjectLinks,
    /// Every version of the object, when asked for (`include_versions`).
    #[serde(default)]
    pub versions: Option<Vec<ObjectVersion>>,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ObjectResponse {
    /// The object id: `object_id`, or else the object's `uuid` member.
    pub fn id(&self) -> Option<Uuid> {
        self.object_id.or_else(|| {
            self.object
                .get("uuid")
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse().ok())
        })
    }

    /// The object's schema id (`/objects/pointset/1.3.0/pointset.schema.json`).
    pub fn schema_id(&self) -> Option<&str> {
        self.object.get("schema").and_then(|v| v.as_str())
    }

    /// The object's `name` member.
    pub fn name(&self) -> Option<&str> {
        self.object.get("name").and_then(|v| v.as_str())
    }

    /// True when the object is deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// The versions, newest first (by creation time, then by version id); empty when they
    /// were not asked for.
    pub fn versions_newest_first(&self) -> Vec<ObjectVersion> {
        let mut versions = self.versions.clone().unwrap_or_default();
        sort_newest_first(&mut versions);
        versions
    }

    /// The download link of the data file `name`, if the answer has one.
    pub fn data_link(&self, name: &str) -> Option<&DataLink> {
        self.links.data.iter().find(|d| d.name == name)
    }
}

/// Sorts versions newest first: by creation time, then by version id.
pub(crate) fn sort_newest_first(versions: &mut [ObjectVersion]) {
    versions.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| version_order(&b.version_id, &a.version_id))
    });
}

impl fmt::Debug for ObjectResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectResponse")
            .field("object_id", &self.object_id)
            .field("object_path", &self.object_path)
            .field("schema", &self.schema_id())
            .field("version_id", &self.version_id)
            .field("created_at", &self.created_at)
            .field("modified_at", &self.modified_at)
            .field("deleted_at", &self.deleted_at)
            .field("stage", &self.stage)
            .field("data", &self.links.data)
            .field("versions", &self.versions.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

/// One version of an object (`GeoscienceObjectVersion`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ObjectVersion {
    /// The version id.
    pub version_id: String,
    /// When this version was created.
    #[serde(with = "timestamp")]
    pub created_at: OffsetDateTime,
    /// Who created this version.
    #[serde(default)]
    pub created_by: Option<UserInfo>,
    /// The entity tag (may be empty).
    #[serde(default)]
    pub etag: String,
    /// The stage of this version.
    #[serde(default)]
    pub stage: Option<Stage>,
    /// The version's URL (and data links, when the service includes them).
    pub links: ListedLinks,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer of the chosen-versions call (`ListVersionsResponse`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct VersionsAnswer {
    pub(crate) versions: Vec<ObjectVersion>,
}

/// An object in a workspace listing (`ListedObject`): the latest version's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListedObject {
    /// The object id.
    pub object_id: Uuid,
    /// The object's file name (`m.json`).
    pub name: String,
    /// The folder holding the object, as the service sends it (`/A/`).
    pub path: String,
    /// The schema id.
    pub schema: String,
    /// The id of the latest version.
    pub version_id: String,
    /// The entity tag (may be empty).
    #[serde(default)]
    pub etag: String,
    /// When the object was created.
    #[serde(with = "timestamp")]
    pub created_at: OffsetDateTime,
    /// Who created the object.
    #[serde(default)]
    pub created_by: Option<UserInfo>,
    /// When the object was last modified.
    #[serde(with = "timestamp")]
    pub modified_at: OffsetDateTime,
    /// Who last modified the object.
    #[serde(default)]
    pub modified_by: Option<UserInfo>,
    /// When the object was deleted, in a listing of deleted objects.
    #[serde(default, with = "timestamp::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// Who deleted the object.
    #[serde(default)]
    pub deleted_by: Option<UserInfo>,
    /// The stage of the latest version.
    #[serde(default)]
    pub stage: Option<Stage>,
    /// The object's footprint.
    #[serde(default)]
    pub geojson_bounding_box: Option<GeoJsonBoundingBox>,
    /// The object's URL.
    #[serde(default)]
    pub links: Option<ListedLinks>,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ListedObject {
    /// The object's full path in the workspace (`A/m.json`): folder and name, without a
    /// leading `/`.
    pub fn full_path(&self) -> String {
        join_folder(&self.path, &self.name)
    }
}

/// A workspace role, in an organization listing (`RoleEnum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum WorkspaceAccess {
    /// May do anything, including share the workspace.
    Owner,
    /// May read and write.
    Editor,
    /// May read.
    Viewer,
}

/// An object in an organization listing (`OrgListedObject`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrgListedObject {
    /// The object id.
    pub object_id: Uuid,
    /// The object's file name.
    pub name: String,
    /// The schema id.
    pub schema: String,
    /// The workspace holding the object.
    pub workspace_id: Uuid,
    /// The workspace's name.
    #[serde(default)]
    pub workspace_name: Option<String>,
    /// The caller's role in that workspace.
    #[serde(default)]
    pub workspace_access: Option<WorkspaceAccess>,
    /// The id of the latest version, when the service gives it.
    #[serde(default)]
    pub version_id: Option<String>,
    /// When the object was created.
    #[serde(with = "timestamp")]
    pub created_at: OffsetDateTime,
    /// Who created the object.
    #[serde(default)]
    pub created_by: Option<UserInfo>,
    /// When the object was last modified.
    #[serde(with = "timestamp")]
    pub modified_at: OffsetDateTime,
    /// Who last modified the object.
    #[serde(default)]
    pub modified_by: Option<UserInfo>,
    /// When the object was deleted.
    #[serde(default, with = "timestamp::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// Who deleted the object.
    #[serde(default)]
    pub deleted_by: Option<UserInfo>,
    /// The stage of the latest version.
    #[serde(default)]
    pub stage: Option<Stage>,
    /// The object's footprint.
    #[serde(default)]
    pub geojson_bounding_box: Option<GeoJsonBoundingBox>,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The paging links of a listing (`ListObjectsResponseLinks`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PageLinks {
    /// The next page, `None` on the last.
    #[serde(default)]
    pub next: Option<String>,
    /// The previous page, `None` on the first.
    #[serde(default)]
    pub prev: Option<String>,
}

/// One page of a listing as the Geoscience Object API sends it (`ListObjectsResponse`,
/// `ListOrgObjectsResponse`); the client's `list_page` methods give it as an
/// [`evo_core::Page`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ObjectsPage<T> {
    /// The objects of this page.
    pub objects: Vec<T>,
    /// How many objects this page holds, as the service counts them.
    #[serde(default)]
    pub count: u64,
    /// The page size.
    #[serde(default)]
    pub limit: u64,
    /// How many objects come before this page.
    #[serde(default)]
    pub offset: u64,
    /// How many objects match in all pages.
    #[serde(default)]
    pub total: u64,
    /// The paging links.
    #[serde(default)]
    pub links: PageLinks,
}

impl<T> ObjectsPage<T> {
    /// True when there is no next page.
    pub fn is_last(&self) -> bool {
        self.links.next.is_none() || self.objects.is_empty()
    }

    /// The offset of the next page.
    pub fn next_offset(&self) -> u64 {
        self.offset + self.objects.len() as u64
    }
}

impl<T> From<ObjectsPage<T>> for evo_core::Page<T> {
    fn from(page: ObjectsPage<T>) -> Self {
        evo_core::Page::new(
            page.objects,
            page.offset,
            Some(page.limit),
            Some(page.total),
            page.links.next,
        )
    }
}

/// The latest version of one object, from [`crate::ObjectsClient::latest_versions`]
/// (`LatestObjectVersionIdResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LatestVersion {
    /// The object id.
    pub object_id: Uuid,
    /// The latest version; `None` when the object is deleted or does not exist.
    #[serde(default)]
    pub version_id: Option<String>,
}

/// What `PUT .../data` answers for one name (`DataUploadResponseBody`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DataUploadTarget {
    /// The name asked about.
    pub name: String,
    /// The server's id of the data file.
    pub id: Uuid,
    /// True when the server already holds the file: nothing to upload.
    pub exists: bool,
    /// Where to upload the file (a pre-signed URL; a secret), when it does not exist.
    #[serde(default)]
    pub upload_url: Option<String>,
}

impl fmt::Debug for DataUploadTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataUploadTarget")
            .field("name", &self.name)
            .field("id", &self.id)
            .field("exists", &self.exists)
            .field(
                "upload_url",
                &self.upload_url.as_deref().map(redact_url_text),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_space_or_t_parse() {
        let a = timestamp::parse("2020-01-01 01:30:00+00:00").unwrap();
        let b = timestamp::parse("2020-01-01T01:30:00Z").unwrap();
        assert_eq!(a, b);
        assert!(timestamp::parse("2023-08-03T05:47:18.3402289Z").is_some());
        assert!(timestamp::parse("2023-08-03T05:47:18").is_some());
        assert!(timestamp::parse("yesterday").is_none());
        assert!(timestamp::parse("2020-01-01é01:30").is_none());
    }

    #[test]
    fn data_urls_are_redacted_in_debug() {
        let link = DataLink {
            id: Uuid::nil(),
            name: "ab".into(),
            download_url: Some("https://blob.example/c/ab?sig=SECRET&se=1".into()),
        };
        let text = format!("{link:?}");
        assert!(!text.contains("SECRET"), "{text}");
        let target = DataUploadTarget {
            name: "ab".into(),
            id: Uuid::nil(),
            exists: false,
            upload_url: Some("https://blob.example/c/ab?sig=SECRET".into()),
        };
        assert!(!format!("{target:?}").contains("SECRET"));
    }
}
