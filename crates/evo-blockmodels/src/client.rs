//! `BlockModelsClient`: construction, and the request plumbing every call shares.

use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use evo_core::{ApiConnector, Environment, RequestBuilder};

use crate::error::Error;

pub(crate) const MODELS: &str = "blockmodel/orgs/{org_id}/workspaces/{workspace_id}/block-models";
pub(crate) const MODEL: &str =
    "blockmodel/orgs/{org_id}/workspaces/{workspace_id}/block-models/{bm_id}";
pub(crate) const ORG_MODELS: &str = "blockmodel/orgs/{org_id}/block-models";
pub(crate) const UNITS: &str = "blockmodel/orgs/{org_id}/units";

/// The longest a job is waited for by default: 30 minutes.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) blobs: evo_io::BlobClient,
    pub(crate) preview: bool,
    pub(crate) job_timeout: Option<Duration>,
    pub(crate) poll_min: Duration,
    pub(crate) poll_max: Duration,
    pub(crate) temp_dir: Option<std::path::PathBuf>,
}

/// The Block Model API client for one workspace. Cheap to clone.
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
/// #         emulator.issue_token(&["evo.blocksync"]),
/// #     )))
/// #     .build()?;
/// use evo_blockmodels::{BlockModelsClient, ListQuery};
/// let client = BlockModelsClient::new(environment, connector)?;
/// # client.create(&evo_blockmodels::NewBlockModel::new("Pit", evo_blockmodels::SizeOptions::Regular {
/// #     n_blocks: evo_blockmodels::Size3::new(1, 1, 1), block_size: evo_blockmodels::BlockSize::new(1.0, 1.0, 1.0),
/// # })).await?;
/// let page = client.list_page(&ListQuery::new()).await?;
/// for model in &page.items {
///     println!("{} {}", model.bm_uuid, model.name);
/// }
/// assert_eq!(page.items[0].name, "Pit");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BlockModelsClient {
    pub(crate) connector: ApiConnector,
    pub(crate) environment: Environment,
    pub(crate) settings: Arc<Settings>,
}

/// Builds a [`BlockModelsClient`].
#[derive(Debug)]
pub struct BlockModelsClientBuilder {
    connector: ApiConnector,
    environment: Environment,
    blobs: Option<evo_io::BlobClient>,
    preview: bool,
    job_timeout: Option<Duration>,
    poll_min: Duration,
    poll_max: Duration,
    temp_dir: Option<std::path::PathBuf>,
}

impl BlockModelsClientBuilder {
    /// The blob transfer client for column files and query results (block size,
    /// concurrency, retries, memory budget). Default:
    /// `evo_io::BlobClient::for_connector` (the connector's transport and `User-Agent`).
    pub fn blob_client(mut self, blobs: evo_io::BlobClient) -> Self {
        self.blobs = Some(blobs);
        self
    }
    /// Sends `API-Preview: opt-in` with every request (column tags, groups).
    pub fn preview(mut self, preview: bool) -> Self {
        self.preview = preview;
        self
    }
    /// How long a job is waited for by default (default [`DEFAULT_JOB_TIMEOUT`]; `None`: no
    /// limit). A [`JobHandle`](crate::JobHandle) can set its own.
    pub fn job_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.job_timeout = timeout;
        self
    }
    /// The shortest and longest interval between two reads of a job's status (default
    /// 25 ms and 1 s): the intervals grow exponentially with full jitter between them, and
    /// none is longer than a tenth of the time waited so far, so a job of a fraction of a
    /// second is seen done soon after it ends, and a long job is read about once a second
    /// (the pace of the official Python SDK's fixed one-second loop).
    pub fn job_poll_intervals(mut self, min: Duration, max: Duration) -> Self {
        self.poll_min = min;
        self.poll_max = max.max(min);
        self
    }
    /// Where column files are written before upload and query results downloaded before
    /// they are read (default: the system's temporary folder).
    pub fn temp_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.temp_dir = Some(dir.into());
        self
    }
    /// Builds the client. The connector is re-targeted at the environment's hub URL when its
    /// base URL differs.
    pub fn build(self) -> Result<BlockModelsClient, Error> {
        let connector = self.connector.for_environment(&self.environment)?;
        let blobs = self
            .blobs
            .unwrap_or_else(|| evo_io::BlobClient::for_connector(&connector).build());
        Ok(BlockModelsClient {
            connector,
            environment: self.environment,
            settings: Arc::new(Settings {
                blobs,
                preview: self.preview,
                job_timeout: self.job_timeout,
                poll_min: self.poll_min,
                poll_max: self.poll_max,
                temp_dir: self.temp_dir,
            }),
        })
    }
}

impl BlockModelsClient {
    /// A client with default settings for the workspace of `environment`, sending through
    /// `connector` (its transport and authorizer; its base URL is replaced by the hub URL).
    pub fn new(environment: Environment, connector: ApiConnector) -> Result<Self, Error> {
        BlockModelsClient::builder(environment, connector).build()
    }

    /// Starts building a client.
    pub fn builder(environment: Environment, connector: ApiConnector) -> BlockModelsClientBuilder {
        BlockModelsClientBuilder {
            connector,
            environment,
            blobs: None,
            preview: false,
            job_timeout: Some(DEFAULT_JOB_TIMEOUT),
            poll_min: Duration::from_millis(25),
            poll_max: Duration::from_secs(1),
            temp_dir: None,
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

    /// The blob transfer client used for column files and query results.
    pub fn blob_client(&self) -> &evo_io::BlobClient {
        &self.settings.blobs
    }

    /// A request to a path of this client's organization (`{org_id}` filled).
    pub(crate) fn org_request(&self, method: Method, template: &str) -> RequestBuilder {
        let request = self
            .connector
            .request(method, template)
            .path_param("org_id", self.environment.org_id)
            .header("accept", "application/json");
        if self.settings.preview {
            request.header("api-preview", "opt-in")
        } else {
            request
        }
    }

    /// A request to a path of this client's workspace.
    pub(crate) fn request(&self, method: Method, template: &str) -> RequestBuilder {
        self.org_request(method, template)
            .path_param("workspace_id", self.environment.workspace_id)
    }

    /// A request to a path under one block model (`{bm_id}` filled; `suffix` appended).
    pub(crate) fn model_request(
        &self,
        method: Method,
        bm_id: uuid::Uuid,
        suffix: &str,
    ) -> RequestBuilder {
        self.request(method, &format!("{MODEL}{suffix}"))
            .path_param("bm_id", bm_id)
    }

    /// Sends `request` with `body` as JSON, expects one of `expected` and decodes `T`.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        body: Option<&(impl Serialize + ?Sized)>,
        expected: &[StatusCode],
    ) -> Result<T, Error> {
        let request = match body {
            Some(body) => request.json(body),
            None => request,
        };
        Ok(request.expect_status(expected).send_json().await?)
    }

    pub(crate) fn temp_dir(&self) -> std::path::PathBuf {
        self.settings
            .temp_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir)
    }
}

/// The id at the end of a job URL (`.../jobs/{job_id}`).
pub(crate) fn job_id_of(url: &url::Url) -> Result<uuid::Uuid, Error> {
    url.path_segments()
        .and_then(|mut s| s.next_back())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::Unexpected(format!("a job URL without a job id: {url}")))
}
