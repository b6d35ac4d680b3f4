//! The client: connect, call, the envelope, the stores.
//!
//! What lives where: this file holds the client, its builder, its state and the stores'
//! accessors; `session` authenticates (and again when the JWT is rejected), and `calls`
//! makes the calls and reads the envelope their answers come in.

mod calls;
mod session;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use evo_core::{ApiConnector, Secret, Transport};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::auth::JwtAuthorizer;
use crate::error::Error;
use crate::events::{ChangeEvent, Subscription};
use crate::stores::Stores;

/// The `User-Agent` of every request the client sends (API calls and the Sync API's WebSocket).
pub(crate) const USER_AGENT: &str = concat!("unicat-rs/", env!("CARGO_PKG_VERSION"));

/// How many events a subscriber may fall behind before it gets [`ChangeEvent::Lagged`].
const EVENT_CAPACITY: usize = 1024;

/// The positions in the server's two change streams that the stores reflect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncCursors {
    /// The global (`cc`) stream, sent as `cc.cursor` / `cc_cursor`.
    pub cc: u64,
    /// The project stream, sent as `cursor`.
    pub project: u64,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) stores: Stores,
    pub(crate) cc_version: Option<String>,
    pub(crate) cursors: SyncCursors,
}

pub(crate) struct Inner {
    pub(crate) connector: ApiConnector,
    pub(crate) project: String,
    pub(crate) auth: Arc<JwtAuthorizer>,
    pub(crate) state: Mutex<State>,
    pub(crate) events: broadcast::Sender<ChangeEvent>,
    pub(crate) asset_folder: Option<PathBuf>,
    pub(crate) api_key: Mutex<Option<Secret>>,
    pub(crate) seen_jobs: Mutex<crate::seen_jobs::SeenJobs>,
    /// Held while authenticating again, so a burst of 401s makes one `/auth` call.
    pub(crate) reauth: tokio::sync::Mutex<()>,
}

/// An async client of one Unicat project.
///
/// Every response's `data` is merged into local [`Stores`]; cursors and the server version are
/// taken from results; the JWT rotates through response headers and Sync API events
/// ([`JwtAuthorizer`]). [`UnicatClient::start_sync`](crate::UnicatClient::start_sync) keeps the
/// stores current. Cheap to clone (clones share everything).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = unicat_emulator::UnicatEmulator::start().await?;
/// # let transport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
/// # let (base_url, project) = (server.base_url(), server.project());
/// # let (api_key, record_gid) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
/// // "https://unicat.app", "<project gid>", "<secret api key>" and "<record gid>" in practice;
/// // here a local Unicat server's demo project.
/// let client = unicat::UnicatClient::builder(base_url.parse()?, project)
///     .transport(transport)
///     .build()?;
/// client.connect(api_key).await?;
/// let result = client.call("/records/get", serde_json::json!({"record": record_gid})).await?;
/// let record = client.record(result["record"].as_str().unwrap_or_default());
/// assert_eq!(record.unwrap()["gid"], record_gid);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct UnicatClient {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for UnicatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnicatClient")
            .field("base_url", &self.inner.connector.base_url().as_str())
            .field("project", &self.inner.project)
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

/// Builds a [`UnicatClient`].
pub struct UnicatClientBuilder {
    base_url: url::Url,
    project: String,
    transport: Option<Arc<dyn Transport>>,
    connector: Option<ApiConnector>,
    asset_folder: Option<PathBuf>,
}

impl fmt::Debug for UnicatClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnicatClientBuilder")
            .field("base_url", &self.base_url.as_str())
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

impl UnicatClientBuilder {
    /// The HTTP transport (required unless [`connector`](Self::connector) is given), e.g.
    /// `evo_hyper::HyperTransport`.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Settings (retries, timeouts, user agent) from this connector; its transport is used, its
    /// authorizer replaced by the client's [`JwtAuthorizer`].
    pub fn connector(mut self, connector: ApiConnector) -> Self {
        self.connector = Some(connector);
        self
    }

    /// The folder media downloads are written to.
    pub fn asset_folder(mut self, folder: impl Into<PathBuf>) -> Self {
        self.asset_folder = Some(folder.into());
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<UnicatClient, Error> {
        if self.project.is_empty() || self.project.contains(['/', '?', '#']) {
            return Err(Error::InvalidInput(format!(
                "project gid {:?} is empty or contains '/', '?' or '#'",
                self.project
            )));
        }
        let auth = Arc::new(JwtAuthorizer::new());
        let connector = match (self.connector, self.transport) {
            (Some(c), _) => {
                let base = c.with_base_url(self.base_url)?;
                ApiConnector::builder(base.base_url().clone())
                    .transport(c.transport().clone())
                    .authorizer(auth.clone())
                    .retry_policy(c.retry_policy().clone())
                    .read_timeout(c.read_timeout())
                    .connect_timeout(c.connect_timeout())
                    .user_agent(USER_AGENT)
                    .build()?
            }
            (None, Some(transport)) => ApiConnector::builder(self.base_url)
                .transport(transport)
                .authorizer(auth.clone())
                .user_agent(USER_AGENT)
                .build()?,
            (None, None) => {
                return Err(Error::InvalidInput(
                    "no transport: pass one with UnicatClientBuilder::transport \
                     (evo_hyper::HyperTransport is the default implementation)"
                        .to_owned(),
                ));
            }
        };
        Ok(UnicatClient {
            inner: Arc::new(Inner {
                connector,
                project: self.project,
                auth,
                state: Mutex::new(State::default()),
                events: broadcast::channel(EVENT_CAPACITY).0,
                asset_folder: self.asset_folder,
                api_key: Mutex::new(None),
                seen_jobs: Mutex::new(Default::default()),
                reauth: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

/// How an envelope's cursors update the local ones.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Snapshot {
    /// An ordinary call: cursors only move forward, data is merged.
    Merge,
    /// `auth`/`init`: the stores are replaced by this answer, and so are the cursors.
    Replace,
}

impl UnicatClient {
    /// Starts building a client for the Unicat server at `base_url` (e.g. `https://unicat.app`)
    /// and the project `project_gid`.
    pub fn builder(base_url: url::Url, project_gid: impl Into<String>) -> UnicatClientBuilder {
        UnicatClientBuilder {
            base_url,
            project: project_gid.into(),
            transport: None,
            connector: None,
            asset_folder: None,
        }
    }

    /// The project gid.
    pub fn project(&self) -> &str {
        &self.inner.project
    }

    /// The JWT cell shared by REST calls and the Sync API.
    pub fn authorizer(&self) -> &Arc<JwtAuthorizer> {
        &self.inner.auth
    }

    /// The underlying connector (base URL, transport, settings).
    pub fn connector(&self) -> &ApiConnector {
        &self.inner.connector
    }

    pub(crate) fn lock_state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn lock_seen_jobs(&self) -> MutexGuard<'_, crate::seen_jobs::SeenJobs> {
        self.inner
            .seen_jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the stores (do not block in it: the stores are locked meanwhile).
    pub fn with_stores<R>(&self, f: impl FnOnce(&Stores) -> R) -> R {
        f(&self.lock_state().stores)
    }

    /// A copy of the stores.
    pub fn stores(&self) -> Stores {
        self.lock_state().stores.clone()
    }

    /// The record `gid` as stored.
    pub fn record(&self, gid: &str) -> Option<Value> {
        self.with_stores(|s| s.record(gid).cloned())
    }

    /// The cursors the stores reflect.
    pub fn cursors(&self) -> SyncCursors {
        self.lock_state().cursors
    }

    /// The server version last reported (`cc.version`).
    pub fn server_version(&self) -> Option<String> {
        self.lock_state().cc_version.clone()
    }

    /// A stream of change events from now on.
    ///
    /// See the example on [`start_sync`](Self::start_sync).
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.inner.events.subscribe(),
        }
    }

    pub(crate) fn emit(&self, event: ChangeEvent) {
        // No subscriber is fine.
        let _ = self.inner.events.send(event);
    }
}

pub(crate) fn encode_segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}
