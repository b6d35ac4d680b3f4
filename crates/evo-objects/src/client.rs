//! `ObjectsClient`: construction, and the request plumbing every call shares (path
//! parameters, gzip both ways, typed errors, bounded and checked decoding).

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use evo_core::{ApiConnector, Body, Cache, DecodeError, Environment, RequestBuilder};

use crate::error::Error;
use crate::gzip;

/// Object JSON at least this large (in bytes) is sent gzip-compressed by default.
pub const DEFAULT_GZIP_THRESHOLD: usize = 64 * 1024;

/// The largest object answer read into memory by default (once inflated): 256 MiB.
pub const DEFAULT_MAX_OBJECT_BYTES: usize = 256 * 1024 * 1024;

/// How many data files are uploaded or downloaded at the same time by default.
pub const DEFAULT_DATA_CONCURRENCY: usize = 4;

pub(crate) const OBJECTS: &str =
    "geoscience-object/orgs/{org_id}/workspaces/{workspace_id}/objects";
pub(crate) const OBJECT_BY_ID: &str =
    "geoscience-object/orgs/{org_id}/workspaces/{workspace_id}/objects/{object_id}";
pub(crate) const OBJECT_BY_PATH: &str =
    "geoscience-object/orgs/{org_id}/workspaces/{workspace_id}/objects/path/{object_path}";
pub(crate) const OBJECT_VERSIONS: &str =
    "geoscience-object/orgs/{org_id}/workspaces/{workspace_id}/objects/{object_id}/versions";
pub(crate) const OBJECT_METADATA: &str =
    "geoscience-object/orgs/{org_id}/workspaces/{workspace_id}/objects/{object_id}/metadata";
pub(crate) const DATA: &str = "geoscience-object/orgs/{org_id}/workspaces/{workspace_id}/data";
pub(crate) const ORG_OBJECTS: &str = "geoscience-object/orgs/{org_id}/objects";
pub(crate) const STAGES: &str = "geoscience-object/orgs/{org_id}/stages";

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) gzip_threshold: Option<usize>,
    pub(crate) max_object_bytes: usize,
    pub(crate) blobs: evo_io::BlobClient,
    pub(crate) cache: Option<Cache>,
    pub(crate) data_concurrency: usize,
}

/// The Geoscience Object API client for one workspace. Cheap to clone.
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
/// # let data = [evo_objects::DataFile::from_bytes(vec![1u8; 48]), evo_objects::DataFile::from_bytes(vec![2u8; 16])];
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
/// use evo_objects::{GetOptions, ListObjectsQuery, ObjectsClient};
/// let objects = ObjectsClient::new(environment, connector)?;
/// # objects.upload_data(&data, None).await?;
/// # objects.create("surveys/points.json", &point_set("Points")).await?;
/// let page = objects.list_page(&ListObjectsQuery::new().limit(10)).await?;
/// assert_eq!(page.items.len(), 1);
/// for listed in &page.items {
///     let object = objects.get_by_id(listed.object_id, &GetOptions::new()).await?;
///     println!("{} {:?}", listed.full_path(), object.schema_id());
///     assert_eq!(object.name(), Some("Points"));
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ObjectsClient {
    pub(crate) connector: ApiConnector,
    pub(crate) environment: Environment,
    pub(crate) settings: Arc<Settings>,
}

/// Builds an [`ObjectsClient`].
#[derive(Debug)]
pub struct ObjectsClientBuilder {
    connector: ApiConnector,
    environment: Environment,
    gzip_threshold: Option<usize>,
    max_object_bytes: usize,
    blobs: Option<evo_io::BlobClient>,
    cache: Option<Cache>,
    data_concurrency: usize,
}

impl ObjectsClientBuilder {
    /// Object JSON of at least this many bytes is sent gzip-compressed
    /// (default [`DEFAULT_GZIP_THRESHOLD`]); `None` never compresses. Answers are always
    /// asked for with `Accept-Encoding: gzip`.
    pub fn gzip_threshold(mut self, threshold: Option<usize>) -> Self {
        self.gzip_threshold = threshold;
        self
    }
    /// The largest object answer accepted, once inflated (default
    /// [`DEFAULT_MAX_OBJECT_BYTES`]).
    pub fn max_object_bytes(mut self, limit: usize) -> Self {
        self.max_object_bytes = limit;
        self
    }
    /// The blob transfer client for data files (block size, concurrency, retries, memory
    /// budget). Default:
    /// `evo_io::BlobClient::for_connector` (the connector's transport and `User-Agent`).
    pub fn blob_client(mut self, blobs: evo_io::BlobClient) -> Self {
        self.blobs = Some(blobs);
        self
    }
    /// The cache data files are downloaded into (default: none; downloads then go to memory
    /// or to a path you give).
    pub fn cache(mut self, cache: Cache) -> Self {
        self.cache = Some(cache);
        self
    }
    /// How many data files move at the same time (default [`DEFAULT_DATA_CONCURRENCY`];
    /// at least 1).
    pub fn data_concurrency(mut self, files: usize) -> Self {
        self.data_concurrency = files.max(1);
        self
    }
    /// Builds the client. The connector is re-targeted at the environment's hub URL when its
    /// base URL differs.
    pub fn build(self) -> Result<ObjectsClient, Error> {
        let connector = self.connector.for_environment(&self.environment)?;
        let blobs = self
            .blobs
            .unwrap_or_else(|| evo_io::BlobClient::for_connector(&connector).build());
        Ok(ObjectsClient {
            connector,
            environment: self.environment,
            settings: Arc::new(Settings {
                gzip_threshold: self.gzip_threshold,
                max_object_bytes: self.max_object_bytes,
                blobs,
                cache: self.cache,
                data_concurrency: self.data_concurrency,
            }),
        })
    }
}

/// An answer with an expected status, its body read (and inflated).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
}

impl Answer {
    /// Decodes the body as `T`; a typed error naming `T` otherwise.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::Service(
                DecodeError::new(
                    std::any::type_name::<T>(),
                    self.status,
                    e.to_string(),
                    &self.body,
                )
                .into(),
            )
        })
    }
}

impl ObjectsClient {
    /// A client with default settings for the workspace of `environment`, sending through
    /// `connector` (its transport and authorizer; its base URL is replaced by the hub URL).
    pub fn new(environment: Environment, connector: ApiConnector) -> Result<Self, Error> {
        ObjectsClient::builder(environment, connector).build()
    }

    /// Starts building a client.
    pub fn builder(environment: Environment, connector: ApiConnector) -> ObjectsClientBuilder {
        ObjectsClientBuilder {
            connector,
            environment,
            gzip_threshold: Some(DEFAULT_GZIP_THRESHOLD),
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
            blobs: None,
            cache: None,
            data_concurrency: DEFAULT_DATA_CONCURRENCY,
        }
    }

    /// The workspace this client works in.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The connector (hub URL, transport, authorizer).
    pub fn connector(&self) -> &ApiConnector {
        &self.connector
    }

    /// The blob transfer client used for data files.
    pub fn blob_client(&self) -> &evo_io::BlobClient {
        &self.settings.blobs
    }

    /// The cache data files are downloaded into, if one was given.
    pub fn cache(&self) -> Option<&Cache> {
        self.settings.cache.as_ref()
    }

    /// A request to a path of this client's organization (`{org_id}` filled).
    pub(crate) fn org_request(&self, method: Method, template: &str) -> RequestBuilder {
        self.connector
            .request(method, template)
            .path_param("org_id", self.environment.org_id)
    }

    /// A request to a path of this client's workspace (`{org_id}`, `{workspace_id}` filled).
    pub(crate) fn request(&self, method: Method, template: &str) -> RequestBuilder {
        self.org_request(method, template)
            .path_param("workspace_id", self.environment.workspace_id)
    }

    /// Adds `value` as the JSON body, gzip-compressed when it is at least the threshold.
    pub(crate) async fn with_json(
        &self,
        request: RequestBuilder,
        value: &(impl Serialize + ?Sized),
    ) -> Result<RequestBuilder, Error> {
        let bytes = serde_json::to_vec(value).map_err(|e| {
            Error::InvalidObject(format!("the request body cannot be written as JSON: {e}"))
        })?;
        match self.settings.gzip_threshold {
            Some(threshold) if bytes.len() >= threshold => {
                let packed = gzip::compress(bytes).await?;
                Ok(request
                    .body(Body::from_bytes(packed), Some("application/json"))
                    .header("content-encoding", "gzip"))
            }
            _ => Ok(request.body(Body::from_bytes(bytes), Some("application/json"))),
        }
    }

    /// Sends `request` asking for gzip, reads and inflates the answer, and returns it when its
    /// status is one of `expected` (any 2xx when empty). Other statuses become typed errors
    /// ([`Error::AlreadyExists`], [`Error::Modified`], or [`Error::Service`] with the body).
    pub(crate) async fn exchange(
        &self,
        request: RequestBuilder,
        expected: &[StatusCode],
    ) -> Result<Answer, Error> {
        let response = request
            .header("accept-encoding", "gzip")
            .send_unchecked()
            .await
            .map_err(Error::from_service)?;
        let status = response.status();
        let ok = if expected.is_empty() {
            status.is_success()
        } else {
            expected.contains(&status)
        };
        let gzipped = is_gzip(response.headers());
        if !ok {
            if !gzipped {
                let error = evo_core::api_error_from_response(response, None, None).await;
                return Err(Error::from_service(error));
            }
            let (parts, body) = response.into_parts();
            let raw = body.collect(ERROR_BODY_LIMIT).await.unwrap_or_default();
            let body = gzip::decompress(raw.clone(), ERROR_BODY_LIMIT)
                .await
                .unwrap_or(raw);
            let response = http::Response::from_parts(parts, Body::from_bytes(body));
            let error = evo_core::api_error_from_response(response, None, None).await;
            return Err(Error::from_service(error));
        }
        let (parts, body) = response.into_parts();
        let limit = self.settings.max_object_bytes;
        let raw = body
            .collect(limit)
            .await
            .map_err(|e| body_error(e, status))?;
        let body = if gzipped {
            gzip::decompress(raw.clone(), limit)
                .await
                .map_err(|message| {
                    Error::Service(DecodeError::new("a gzip body", status, message, b"").into())
                })?
        } else {
            raw
        };
        drop(parts);
        Ok(Answer { status, body })
    }

    /// [`Self::exchange`], then decodes the body as `T`.
    pub(crate) async fn exchange_json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        expected: &[StatusCode],
    ) -> Result<T, Error> {
        self.exchange(request, expected).await?.json()
    }
}

/// How much of an error body is kept.
const ERROR_BODY_LIMIT: usize = 1024 * 1024;

fn is_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case("gzip"))
}

fn body_error(e: std::io::Error, status: StatusCode) -> Error {
    let core: evo_core::Error = match e.kind() {
        std::io::ErrorKind::InvalidData => {
            DecodeError::new("a body within the size limit", status, e.to_string(), b"").into()
        }
        std::io::ErrorKind::TimedOut => {
            evo_core::TransportError::new(evo_core::TransportErrorKind::Timeout, e.to_string())
                .into()
        }
        _ => evo_core::TransportError::new(
            evo_core::TransportErrorKind::Connection,
            format!("reading the response body failed: {e}"),
        )
        .with_source(e)
        .into(),
    };
    Error::Service(core)
}
