//! Object data: content-addressed files (named by the SHA-256 of their bytes) uploaded
//! through `PUT .../data` and downloaded through the object's `links.data`, with evo-io.
//!
//! Upload asks for URLs in batches of [`DATA_BATCH`] and sends only the files the server does
//! not hold. Download checks every file against the SHA-256 it is named by, so a corrupted
//! transfer is an error, never data.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt as _;
use http::{Method, StatusCode};
use sha2::Digest as _;
use uuid::Uuid;

use evo_core::{Feedback, Progress};
use evo_io::{BlobDigest, Destination, DownloadReport, RenewUrl, Source};

use crate::client::{DATA, ObjectsClient};
use crate::error::Error;
use crate::models::{DataUploadTarget, ObjectResponse};

/// The most names one `PUT .../data` call takes.
pub const DATA_BATCH: usize = 32;

/// The cache scope of object data (the Python SDK's name):
/// `<cache root>/<org>/<workspace>/geoscience-object/<sha256>`.
pub const CACHE_SCOPE: &str = "geoscience-object";

/// A data file to upload: its bytes (in memory or in a file) and its name, the lowercase hex
/// SHA-256 of those bytes.
#[derive(Clone)]
pub struct DataFile {
    name: String,
    len: u64,
    content: Content,
    /// Keeps a temporary folder holding the file alive as long as the file is.
    _keep: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

#[derive(Clone)]
enum Content {
    Bytes(Bytes),
    File(PathBuf),
}

impl std::fmt::Debug for DataFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let content = match &self.content {
            Content::Bytes(_) => "memory".to_owned(),
            Content::File(p) => p.display().to_string(),
        };
        f.debug_struct("DataFile")
            .field("name", &self.name)
            .field("len", &self.len)
            .field("content", &content)
            .finish()
    }
}

impl DataFile {
    /// A data file held in memory, named by its SHA-256.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        DataFile {
            name: sha256_hex(&bytes),
            len: bytes.len() as u64,
            content: Content::Bytes(bytes),
            _keep: None,
        }
    }

    /// A data file on disk, named by its SHA-256 (read once here, on the blocking pool).
    pub async fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let for_hash = path.clone();
        let (name, len) = tokio::task::spawn_blocking(move || -> std::io::Result<(String, u64)> {
            let mut file = std::fs::File::open(&for_hash)?;
            let mut hasher = sha2::Sha256::new();
            let len = std::io::copy(&mut file, &mut hasher)?;
            Ok((hex::encode(hasher.finalize()), len))
        })
        .await
        .map_err(|e| Error::Unexpected(format!("hashing task failed: {e}")))?
        .map_err(|e| evo_core::Error::io(format!("hashing {}", path.display()), e))?;
        Ok(DataFile {
            name,
            len,
            content: Content::File(path),
            _keep: None,
        })
    }

    /// A file already hashed (by the table writer): `name` is the SHA-256 of its bytes.
    #[cfg(feature = "arrow")]
    pub(crate) fn named_file(name: String, len: u64, path: PathBuf) -> Self {
        DataFile {
            name,
            len,
            content: Content::File(path),
            _keep: None,
        }
    }

    /// Keeps `owner` (a temporary folder holding the file) alive as long as this file.
    #[cfg(feature = "arrow")]
    pub(crate) fn keep_alive(&mut self, owner: Arc<dyn std::any::Any + Send + Sync>) {
        self._keep = Some(owner);
    }

    /// The file's name: the lowercase hex SHA-256 of its bytes.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn source(&self) -> Source<'static> {
        match &self.content {
            Content::Bytes(b) => Source::bytes(b.clone()),
            Content::File(p) => Source::file(p.clone()),
        }
    }
}

/// What [`ObjectsClient::upload_data`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataUploadReport {
    /// The files sent.
    pub uploaded: Vec<String>,
    /// The files the server already held (not sent).
    pub skipped: Vec<String>,
    /// The bytes sent.
    pub bytes_uploaded: u64,
}

/// The lowercase hex SHA-256 of `bytes`: the name of a data file.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// True when `name` is a SHA-256 data name (64 lowercase hex digits).
pub fn is_sha256_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Every data file an object JSON references: the string values of members named `data`,
/// at any depth, without repeats.
pub fn referenced_data(object: &serde_json::Value) -> Vec<String> {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    if key == "data"
                        && let serde_json::Value::String(name) = v
                    {
                        if !out.contains(name) {
                            out.push(name.clone());
                        }
                    } else {
                        walk(v, out);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(object, &mut out);
    out
}

/// Adds up the progress of several transfers into one [`Progress`] for the caller.
struct Combined<'a> {
    outer: &'a dyn Feedback,
    total: u64,
    done: Mutex<Vec<u64>>,
}

struct Part<'a> {
    combined: &'a Combined<'a>,
    index: usize,
}

impl Feedback for Part<'_> {
    fn progress(&self, progress: &Progress) {
        let sum = {
            let mut done = self.combined.done.lock().unwrap_or_else(|e| e.into_inner());
            done[self.index] = progress.bytes_done;
            done.iter().sum::<u64>()
        };
        self.combined.outer.progress(&Progress::new(
            sum,
            Some(self.combined.total),
            progress.retries,
        ));
    }
}

/// Renews a data upload URL by asking `PUT .../data` again for the same name.
struct RenewUpload {
    client: ObjectsClient,
    name: String,
}

#[async_trait::async_trait]
impl RenewUrl for RenewUpload {
    async fn renew(&self) -> Result<url::Url, evo_core::Error> {
        let answer = self
            .client
            .put_data(&[self.name.as_str()])
            .await
            .map_err(into_core)?;
        match answer.into_iter().next() {
            Some(DataUploadTarget {
                upload_url: Some(url),
                ..
            }) => parse_url(&url),
            _ => Err(evo_core::Error::invalid_request(format!(
                "renewing the upload URL of data {} gave no URL",
                self.name
            ))),
        }
    }
}

/// Renews a data download URL by reading the same object version again.
struct RenewDownload {
    client: ObjectsClient,
    object_id: Uuid,
    version_id: String,
    name: String,
}

#[async_trait::async_trait]
impl RenewUrl for RenewDownload {
    async fn renew(&self) -> Result<url::Url, evo_core::Error> {
        let options = crate::GetOptions::new()
            .version(self.version_id.clone())
            .include_deleted(true);
        let object = self
            .client
            .get_by_id(self.object_id, &options)
            .await
            .map_err(into_core)?;
        download_url(&object, &self.name).map_err(into_core)
    }
}

fn into_core(e: Error) -> evo_core::Error {
    match e {
        Error::Service(core) => core,
        Error::AlreadyExists { source, .. } | Error::Modified { source } => source,
        other => evo_core::Error::invalid_request(other.to_string()),
    }
}

fn parse_url(text: &str) -> Result<url::Url, evo_core::Error> {
    url::Url::parse(text).map_err(|e| {
        evo_core::Error::invalid_request(format!(
            "the Geoscience Object API returned an unusable data URL: {e}"
        ))
    })
}

/// The download URL of data `name` in an object answer.
fn download_url(object: &ObjectResponse, name: &str) -> Result<url::Url, Error> {
    let link = object.data_link(name).ok_or_else(|| {
        Error::Unexpected(format!(
            "object {:?} version {} has no data named {name}",
            object.id(),
            object.version_id
        ))
    })?;
    let url = link.download_url.as_deref().ok_or_else(|| {
        Error::Unexpected(format!("the service gave no download URL for data {name}"))
    })?;
    Ok(parse_url(url)?)
}

impl ObjectsClient {
    /// Asks `PUT .../data` about `names` (in batches of [`DATA_BATCH`]): which the server
    /// already holds, and where to upload the others. Answers come in the order asked.
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
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let data = [evo_objects::DataFile::from_bytes(vec![1u8; 48]), evo_objects::DataFile::from_bytes(vec![2u8; 16])];
    /// # objects.upload_data(&data, None).await?;
    /// # let (xyz, grade) = (data[0].name().to_owned(), data[1].name().to_owned());
    /// # let point_set = |name: &str| serde_json::json!({
    /// #     "schema": "/objects/pointset/1.3.0/pointset.schema.json", "name": name,
    /// #     "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
    /// #     "coordinate_reference_system": {"epsg_code": 32760},
    /// #     "locations": {
    /// #         "coordinates": {"data": xyz, "length": 2, "width": 3, "data_type": "float64"},
    /// #         "attributes": [{"name": "grade", "key": "grade", "attribute_type": "scalar",
    /// #             "nan_description": {"values": []},
    /// #             "values": {"data": grade, "length": 2, "width": 1, "data_type": "float64"}}]}
    /// # });
    /// // `point_set(name)` is the JSON of a point set whose data files are uploaded.
    /// use evo_objects::DataFile;
    ///
    /// let held = data[0].name();
    /// let new = DataFile::from_bytes(vec![9u8; 10]);
    /// let targets = objects.put_data(&[held, new.name()]).await?;
    /// assert!(targets[0].exists && targets[0].upload_url.is_none());
    /// assert!(!targets[1].exists && targets[1].upload_url.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn put_data(&self, names: &[&str]) -> Result<Vec<DataUploadTarget>, Error> {
        let mut all = Vec::with_capacity(names.len());
        for batch in names.chunks(DATA_BATCH) {
            let body: Vec<serde_json::Value> = batch
                .iter()
                .map(|name| serde_json::json!({ "name": name }))
                .collect();
            let request = self.request(Method::PUT, DATA);
            let request = self.with_json(request, &body).await?;
            let answer: Vec<DataUploadTarget> = self
                .exchange_json(request, &[StatusCode::OK, StatusCode::CREATED])
                .await?;
            for name in batch {
                let target = answer.iter().find(|t| t.name == *name).ok_or_else(|| {
                    Error::Unexpected(format!("PUT data did not answer for {name}"))
                })?;
                if !target.exists && target.upload_url.is_none() {
                    return Err(Error::Unexpected(format!(
                        "PUT data says {name} is missing but gives no upload URL"
                    )));
                }
                all.push(target.clone());
            }
        }
        Ok(all)
    }

    /// Uploads the data files the server does not hold yet (at most the client's data
    /// concurrency at a time), each through evo-io (blocks, retries, URL renewal by asking
    /// `PUT .../data` again). Files the server holds are not sent: saving an object whose
    /// data did not change sends no data bytes.
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
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let data = [evo_objects::DataFile::from_bytes(vec![1u8; 48]), evo_objects::DataFile::from_bytes(vec![2u8; 16])];
    /// # objects.upload_data(&data, None).await?;
    /// # let (xyz, grade) = (data[0].name().to_owned(), data[1].name().to_owned());
    /// # let point_set = |name: &str| serde_json::json!({
    /// #     "schema": "/objects/pointset/1.3.0/pointset.schema.json", "name": name,
    /// #     "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
    /// #     "coordinate_reference_system": {"epsg_code": 32760},
    /// #     "locations": {
    /// #         "coordinates": {"data": xyz, "length": 2, "width": 3, "data_type": "float64"},
    /// #         "attributes": [{"name": "grade", "key": "grade", "attribute_type": "scalar",
    /// #             "nan_description": {"values": []},
    /// #             "values": {"data": grade, "length": 2, "width": 1, "data_type": "float64"}}]}
    /// # });
    /// // `point_set(name)` is the JSON of a point set whose data files are uploaded.
    /// use evo_objects::DataFile;
    ///
    /// let table = DataFile::from_bytes(b"any bytes: Parquet in practice".to_vec());
    /// let report = objects.upload_data(&[table.clone()], None).await?;
    /// assert_eq!(report.uploaded, [table.name()]);
    /// // The server holds it now: nothing is sent again.
    /// let again = objects.upload_data(&[table.clone()], None).await?;
    /// assert_eq!((again.skipped.len(), again.bytes_uploaded), (1, 0));
    /// # Ok(()) }
    /// ```
    pub async fn upload_data(
        &self,
        files: &[DataFile],
        feedback: Option<&dyn Feedback>,
    ) -> Result<DataUploadReport, Error> {
        let mut unique: Vec<&DataFile> = Vec::new();
        for f in files {
            if !unique.iter().any(|u| u.name == f.name) {
                unique.push(f);
            }
        }
        let names: Vec<&str> = unique.iter().map(|f| f.name.as_str()).collect();
        let targets = self.put_data(&names).await?;
        let mut report = DataUploadReport::default();
        let mut work = Vec::new();
        for (file, target) in unique.iter().zip(targets) {
            if target.exists {
                report.skipped.push(file.name.clone());
            } else {
                let url = parse_url(target.upload_url.as_deref().unwrap_or_default())?;
                work.push((*file, url));
            }
        }
        let combined = feedback.map(|outer| Combined {
            outer,
            total: work.iter().map(|(f, _)| f.len).sum(),
            done: Mutex::new(vec![0; work.len()]),
        });
        let parts: Vec<Option<Part<'_>>> = (0..work.len())
            .map(|index| combined.as_ref().map(|combined| Part { combined, index }))
            .collect();
        let uploads = work
            .iter()
            .zip(&parts)
            .map(|((file, url), part)| async move {
                let mut upload = self
                    .settings
                    .blobs
                    .upload(url.clone(), file.source())
                    .renew_with(RenewUpload {
                        client: self.clone(),
                        name: file.name.clone(),
                    });
                if let Some(part) = part {
                    upload = upload.feedback(part);
                }
                upload.await.map_err(|source| Error::Transfer {
                    context: format!("uploading data {}", file.name),
                    source: Box::new(source),
                })?;
                Ok::<_, Error>((file.name.clone(), file.len))
            });
        let mut results =
            futures_util::stream::iter(uploads).buffer_unordered(self.settings.data_concurrency);
        while let Some(result) = results.next().await {
            let (name, len) = result?;
            report.uploaded.push(name);
            report.bytes_uploaded += len;
        }
        Ok(report)
    }

    /// Downloads data `name` of the object version `object` into `destination`, checking
    /// its bytes against the SHA-256 it is named by (a file destination that fails the check
    /// is not left behind). The URL comes from the answer's `links.data` and is renewed by
    /// reading the same version again.
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
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let data = [evo_objects::DataFile::from_bytes(vec![1u8; 48]), evo_objects::DataFile::from_bytes(vec![2u8; 16])];
    /// # objects.upload_data(&data, None).await?;
    /// # let (xyz, grade) = (data[0].name().to_owned(), data[1].name().to_owned());
    /// # let point_set = |name: &str| serde_json::json!({
    /// #     "schema": "/objects/pointset/1.3.0/pointset.schema.json", "name": name,
    /// #     "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
    /// #     "coordinate_reference_system": {"epsg_code": 32760},
    /// #     "locations": {
    /// #         "coordinates": {"data": xyz, "length": 2, "width": 3, "data_type": "float64"},
    /// #         "attributes": [{"name": "grade", "key": "grade", "attribute_type": "scalar",
    /// #             "nan_description": {"values": []},
    /// #             "values": {"data": grade, "length": 2, "width": 1, "data_type": "float64"}}]}
    /// # });
    /// // `point_set(name)` is the JSON of a point set whose data files are uploaded.
    /// use evo_objects::Destination;
    ///
    /// let object = objects.create("points.json", &point_set("Points")).await?;
    /// let report = objects.download_data(&object, &xyz, Destination::memory(), None).await?;
    /// assert_eq!(report.into_bytes().len(), 48);
    /// # Ok(()) }
    /// ```
    pub async fn download_data(
        &self,
        object: &ObjectResponse,
        name: &str,
        destination: Destination<'_>,
        feedback: Option<&dyn Feedback>,
    ) -> Result<DownloadReport, Error> {
        let (url, renew, digest) = self.download_plan(object, name)?;
        let mut download = self
            .settings
            .blobs
            .download(url, destination)
            .renew_with(renew);
        if let Some(d) = digest {
            download = download.expect_digest(d);
        }
        if let Some(f) = feedback {
            download = download.feedback(f);
        }
        download.await.map_err(|source| Error::Transfer {
            context: format!("downloading data {name} of version {}", object.version_id),
            source: Box::new(source),
        })
    }

    /// Downloads data `name` of `object` into memory (checked against its SHA-256).
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
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let data = [evo_objects::DataFile::from_bytes(vec![1u8; 48]), evo_objects::DataFile::from_bytes(vec![2u8; 16])];
    /// # objects.upload_data(&data, None).await?;
    /// # let (xyz, grade) = (data[0].name().to_owned(), data[1].name().to_owned());
    /// # let point_set = |name: &str| serde_json::json!({
    /// #     "schema": "/objects/pointset/1.3.0/pointset.schema.json", "name": name,
    /// #     "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
    /// #     "coordinate_reference_system": {"epsg_code": 32760},
    /// #     "locations": {
    /// #         "coordinates": {"data": xyz, "length": 2, "width": 3, "data_type": "float64"},
    /// #         "attributes": [{"name": "grade", "key": "grade", "attribute_type": "scalar",
    /// #             "nan_description": {"values": []},
    /// #             "values": {"data": grade, "length": 2, "width": 1, "data_type": "float64"}}]}
    /// # });
    /// // `point_set(name)` is the JSON of a point set whose data files are uploaded.
    /// let object = objects.create("points.json", &point_set("Points")).await?;
    /// let bytes = objects.download_data_bytes(&object, &grade).await?;
    /// assert_eq!(&bytes[..], &[2u8; 16][..]);
    /// # Ok(()) }
    /// ```
    pub async fn download_data_bytes(
        &self,
        object: &ObjectResponse,
        name: &str,
    ) -> Result<Bytes, Error> {
        let report = self
            .download_data(object, name, Destination::memory(), None)
            .await?;
        Ok(report.into_bytes())
    }

    /// Downloads data `name` of `object` into the client's cache, unless it is there already
    /// (a cached copy is checked against its SHA-256 and fetched again when it does not
    /// match), and returns its path. However many tasks ask for the same file at once, it
    /// is downloaded once. Fails when the client has no cache.
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
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let data = [evo_objects::DataFile::from_bytes(vec![1u8; 48]), evo_objects::DataFile::from_bytes(vec![2u8; 16])];
    /// # objects.upload_data(&data, None).await?;
    /// # let (xyz, grade) = (data[0].name().to_owned(), data[1].name().to_owned());
    /// # let point_set = |name: &str| serde_json::json!({
    /// #     "schema": "/objects/pointset/1.3.0/pointset.schema.json", "name": name,
    /// #     "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
    /// #     "coordinate_reference_system": {"epsg_code": 32760},
    /// #     "locations": {
    /// #         "coordinates": {"data": xyz, "length": 2, "width": 3, "data_type": "float64"},
    /// #         "attributes": [{"name": "grade", "key": "grade", "attribute_type": "scalar",
    /// #             "nan_description": {"values": []},
    /// #             "values": {"data": grade, "length": 2, "width": 1, "data_type": "float64"}}]}
    /// # });
    /// // `point_set(name)` is the JSON of a point set whose data files are uploaded.
    /// use evo_objects::ObjectsClient;
    ///
    /// let root = std::env::temp_dir().join(format!("evo-objects-doc-cache-{}", std::process::id()));
    /// let cached = ObjectsClient::builder(environment, connector)
    ///     .cache(evo_core::Cache::new(&root)?)
    ///     .build()?;
    /// let object = cached.create("points.json", &point_set("Points")).await?;
    /// let path = cached.download_data_to_cache(&object, &grade).await?;
    /// assert!(path.starts_with(&root));
    /// assert_eq!(std::fs::read(&path)?, [2u8; 16]);
    /// # std::fs::remove_dir_all(&root)?;
    /// # Ok(()) }
    /// ```
    pub async fn download_data_to_cache(
        &self,
        object: &ObjectResponse,
        name: &str,
    ) -> Result<PathBuf, Error> {
        let cache = self.settings.cache.as_ref().ok_or_else(|| {
            Error::Service(evo_core::Error::invalid_request(
                "this client has no cache (ObjectsClientBuilder::cache)",
            ))
        })?;
        let (url, renew, digest) = self.download_plan(object, name)?;
        let mut download = self
            .settings
            .blobs
            .download_to_cache(cache, &self.environment, CACHE_SCOPE, name, url)
            .renew_with(renew);
        if let Some(d) = digest {
            download = download.expect_digest(d);
        }
        download.await.map_err(|source| Error::Transfer {
            context: format!(
                "downloading data {name} of version {} to the cache",
                object.version_id
            ),
            source: Box::new(source),
        })
    }

    fn download_plan(
        &self,
        object: &ObjectResponse,
        name: &str,
    ) -> Result<(url::Url, RenewDownload, Option<BlobDigest>), Error> {
        let object_id = object
            .id()
            .ok_or_else(|| Error::Unexpected("the object answer has no object id".into()))?;
        let url = download_url(object, name)?;
        // Names that are not SHA-256 digests (the schema also allows UUIDs) cannot be checked.
        let digest = if is_sha256_name(name) {
            Some(BlobDigest::sha256_hex(name).map_err(|e| Error::Transfer {
                context: format!("data name {name}"),
                source: Box::new(e),
            })?)
        } else {
            tracing::debug!(
                name,
                "data name is not a SHA-256; its bytes cannot be checked"
            );
            None
        };
        let renew = RenewDownload {
            client: self.clone(),
            object_id,
            version_id: object.version_id.clone(),
            name: name.to_owned(),
        };
        Ok((url, renew, digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_references_are_found_at_any_depth() {
        let object = serde_json::json!({
            "schema": "/objects/pointset/1.3.0/pointset.schema.json",
            "locations": {
                "coordinates": {"data": "a", "width": 3},
                "attributes": [
                    {"values": {"data": "b"}, "table": {"data": "c"}},
                    {"values": {"data": "a"}}
                ]
            },
            "data": {"not": "a name"}
        });
        let mut found = referenced_data(&object);
        found.sort();
        assert_eq!(found, ["a", "b", "c"]);
    }

    #[test]
    fn names_are_sha256() {
        let f = DataFile::from_bytes(&b"abc"[..]);
        assert_eq!(
            f.name(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_sha256_name(f.name()));
        assert!(!is_sha256_name("00000000-0000-0000-0000-000000000003"));
        assert!(!is_sha256_name(&f.name().to_uppercase()));
    }
}
