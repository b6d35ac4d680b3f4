//! Object data: content-addressed files (named by the SHA-256 of their bytes) uploaded
//! through `PUT .../data` and downloaded through the object's `links.data`, with evo-io.
//!
//! Upload asks for URLs in batches of [`DATA_BATCH`] and sends only the files the server does
//! not hold. Download checks every file against the SHA-256 it is named by, so a corrupted
//! transfer is an error, never data.
//!
//! What lives where: this file holds the data files ([`DataFile`]) and their names; `upload`
//! uploads them and `download` downloads them.

mod download;
mod upload;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use sha2::Digest as _;

use evo_io::Source;

use crate::error::Error;

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

/// What [`ObjectsClient::upload_data`](crate::ObjectsClient::upload_data) did.
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
