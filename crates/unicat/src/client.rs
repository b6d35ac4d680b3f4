//! The client: connect, call, the envelope, the stores.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use evo_core::{ApiConnector, Body, Secret, Transport};
use http::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::auth::JwtAuthorizer;
use crate::error::Error;
use crate::events::{ChangeEvent, Subscription};
use crate::stores::Stores;

/// The `User-Agent` of every request the client sends (API calls and the Sync API's WebSocket).
pub(crate) const USER_AGENT: &str = concat!("unicat-rs/", env!("CARGO_PKG_VERSION"));

/// The largest response body read (64 MiB).
const MAX_RESPONSE_BYTES: usize = 64 << 20;
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
    pub(crate) seen_jobs: Mutex<crate::sync::SeenJobs>,
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

    /// Authenticates with the project's secret API key (`POST /api/p/<project>/auth`): the JWT
    /// comes in the `Authorization` response header; the stores are replaced by the answer's
    /// data and the cursors by its cursors. Returns the result.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = unicat_emulator::UnicatEmulator::start().await?;
    /// # let (base_url, project) = (server.base_url().parse()?, server.project());
    /// # let (api_key, record) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
    /// # let assets = tempfile::tempdir()?;
    /// # let client = unicat::UnicatClient::builder(base_url, project)
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .asset_folder(assets.path())
    /// #     .build()?;
    /// // `client`: a client of a local Unicat server's demo project; `api_key`, `record`: its
    /// // secret API key and a record's gid.
    /// use unicat::DataType;
    ///
    /// let result = client.connect(api_key).await?;
    /// assert!(result["user"].is_string());
    /// assert!(client.authorizer().has_token());
    /// // The stores hold the project's initial data (definitions, assets, members, ...).
    /// assert!(client.with_stores(|s| s.get(DataType::Definitions, "d-article").is_some()));
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self, api_key: &str) -> Result<Value, Error> {
        let result = self
            .post_envelope_once(
                self.api_path("/auth")?,
                &json!({"api_key": api_key}),
                true,
                Snapshot::Replace,
            )
            .await?;
        *self
            .inner
            .api_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Secret::from(api_key.to_owned()));
        if !self.inner.auth.has_token() {
            return Err(Error::InvalidResponse {
                status: StatusCode::OK,
                reason: "the auth answer carried no JWT in its Authorization header".to_owned(),
                snippet: String::new(),
            });
        }
        Ok(result)
    }

    /// Reloads the initial data (`POST /init`), replacing the stores and cursors.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = unicat_emulator::UnicatEmulator::start().await?;
    /// # let (base_url, project) = (server.base_url().parse()?, server.project());
    /// # let (api_key, record) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
    /// # let assets = tempfile::tempdir()?;
    /// # let client = unicat::UnicatClient::builder(base_url, project)
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .asset_folder(assets.path())
    /// #     .build()?;
    /// // `client`: a client of a local Unicat server's demo project; `api_key`, `record`: its
    /// // secret API key and a record's gid.
    /// # client.connect(api_key).await?;
    /// let result = client.init().await?;
    /// assert!(result.is_object());
    /// assert!(client.with_stores(|s| s.asset_by_pathname("/brand/logo.png").is_some()));
    /// # Ok(()) }
    /// ```
    pub async fn init(&self) -> Result<Value, Error> {
        self.post_envelope(self.api_path("/init")?, &json!({}), true, Snapshot::Replace)
            .await
    }

    /// Authenticates again with the API key given to [`connect`](Self::connect), keeping the
    /// stores (used when the JWT was cleared).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = unicat_emulator::UnicatEmulator::start().await?;
    /// # let (base_url, project) = (server.base_url().parse()?, server.project());
    /// # let (api_key, record) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
    /// # let assets = tempfile::tempdir()?;
    /// # let client = unicat::UnicatClient::builder(base_url, project)
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .asset_folder(assets.path())
    /// #     .build()?;
    /// // `client`: a client of a local Unicat server's demo project; `api_key`, `record`: its
    /// // secret API key and a record's gid.
    /// # client.connect(api_key).await?;
    /// // With the API key given to `connect`, keeping the stores.
    /// client.reauthenticate().await?;
    /// assert!(client.authorizer().has_token());
    /// client.call("/records/get", serde_json::json!({"record": record})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn reauthenticate(&self) -> Result<(), Error> {
        let key = self
            .inner
            .api_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(Error::NotAuthenticated)?;
        self.post_envelope_once(
            self.api_path("/auth")?,
            &json!({"api_key": key.expose()}),
            true,
            Snapshot::Merge,
        )
        .await?;
        if !self.inner.auth.has_token() {
            return Err(Error::NotAuthenticated);
        }
        Ok(())
    }

    /// Authenticates again unless another task did since `before` was the token (single
    /// flight: many requests rejected at once make one `/auth` call).
    pub(crate) async fn reauthenticate_after(&self, before: Option<Secret>) -> Result<(), Error> {
        let _flight = self.inner.reauth.lock().await;
        let current = self.inner.auth.token();
        let renewed = match (&current, &before) {
            (Some(now), Some(then)) => now.expose() != then.expose(),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if renewed {
            return Ok(());
        }
        tracing::info!("the JWT was rejected or cleared; authenticating again with the API key");
        self.reauthenticate().await
    }

    /// Runs `send` (one REST exchange); when Unicat answers 401 (the JWT expired or was
    /// revoked) and [`connect`](Self::connect) stored an API key, authenticates again once and
    /// runs `send` once more. A second 401 is returned as it is.
    pub(crate) async fn with_reauth<F, Fut>(&self, send: F) -> Result<Value, Error>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Value, Error>>,
    {
        let before = self.inner.auth.token();
        match send().await {
            Err(e) if e.is_unauthorized() && self.has_api_key() => {
                tracing::debug!(error = %e, "401 from Unicat");
                self.reauthenticate_after(before).await?;
                send().await
            }
            other => other,
        }
    }

    fn has_api_key(&self) -> bool {
        self.inner
            .api_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Calls an API endpoint: the project API (`/records/get` → `/api/p/<project>/records/get`)
    /// or the global API when it starts with `//` (`//users/get` → `/api/users/get`). Returns
    /// the envelope's `result`; its `data` is merged into the stores. An unsuccessful envelope
    /// is [`Error::Unicat`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = unicat_emulator::UnicatEmulator::start().await?;
    /// # let (base_url, project) = (server.base_url().parse()?, server.project());
    /// # let (api_key, record) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
    /// # let assets = tempfile::tempdir()?;
    /// # let client = unicat::UnicatClient::builder(base_url, project)
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .asset_folder(assets.path())
    /// #     .build()?;
    /// // `client`: a client of a local Unicat server's demo project; `api_key`, `record`: its
    /// // secret API key and a record's gid.
    /// # client.connect(api_key).await?;
    /// use unicat::Error;
    ///
    /// let result = client.call("/records/get", serde_json::json!({"record": record})).await?;
    /// assert_eq!(result["record"], record);
    /// assert_eq!(client.record(record).unwrap()["fields"]["en"]["name"], "First article");
    /// // An unsuccessful envelope is an error with Unicat's code.
    /// let missing = client.call("/records/get", serde_json::json!({"record": "no-such"})).await;
    /// assert!(matches!(missing, Err(Error::Unicat { .. })));
    /// # Ok(()) }
    /// ```
    pub async fn call(&self, endpoint: &str, params: Value) -> Result<Value, Error> {
        let path = self.api_path(endpoint)?;
        let read = is_read_endpoint(endpoint);
        self.post_envelope(path, &params, read, Snapshot::Merge)
            .await
    }

    /// The Sync API's REST call (`POST /sync/<endpoint>`).
    pub(crate) async fn call_sync_api(
        &self,
        endpoint: &str,
        params: Value,
    ) -> Result<Value, Error> {
        self.post_envelope(format!("sync/{endpoint}"), &params, true, Snapshot::Merge)
            .await
    }

    /// The path (relative to the base URL) of an API endpoint.
    pub(crate) fn api_path(&self, endpoint: &str) -> Result<String, Error> {
        let (global, rest) = match endpoint.strip_prefix("//") {
            Some(rest) => (true, rest),
            None => match endpoint.strip_prefix('/') {
                Some(rest) => (false, rest),
                None => {
                    return Err(Error::InvalidInput(format!(
                        "endpoint {endpoint:?} must start with '/' (project API) or '//' (global API)"
                    )));
                }
            },
        };
        check_endpoint(endpoint, rest)?;
        Ok(if global {
            format!("api/{rest}")
        } else {
            format!("api/p/{}/{rest}", encode_segment(&self.inner.project))
        })
    }

    /// Posts `params` to `path` and reads the envelope, authenticating again once after a 401.
    pub(crate) async fn post_envelope(
        &self,
        path: String,
        params: &Value,
        idempotent: bool,
        mode: Snapshot,
    ) -> Result<Value, Error> {
        self.with_reauth(|| self.post_envelope_once(path.clone(), params, idempotent, mode))
            .await
    }

    async fn post_envelope_once(
        &self,
        path: String,
        params: &Value,
        idempotent: bool,
        mode: Snapshot,
    ) -> Result<Value, Error> {
        let response = self
            .inner
            .connector
            .request(Method::POST, &path)
            .json(params)
            .idempotent(idempotent)
            .send_unchecked()
            .await?;
        self.read_envelope(response, mode).await
    }

    pub(crate) async fn read_envelope(
        &self,
        response: Response<Body>,
        mode: Snapshot,
    ) -> Result<Value, Error> {
        let status = response.status();
        let bytes = response
            .into_body()
            .collect(MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| Error::InvalidResponse {
                status,
                reason: format!("reading the body failed: {e}"),
                snippet: String::new(),
            })?;
        let envelope = parse_envelope(status, &bytes)?;
        match envelope {
            Envelope::Success { result, data } => {
                self.absorb(&result, &data, mode);
                Ok(result)
            }
            Envelope::Failure {
                code,
                message,
                info,
            } => Err(Error::Unicat {
                code,
                message,
                info,
                status,
            }),
        }
    }

    /// Takes the cursors, the server version and the data of a successful answer.
    fn absorb(&self, result: &Value, data: &Value, mode: Snapshot) {
        let mut state = self.lock_state();
        let cc = result.get("cc.cursor").and_then(Value::as_u64);
        let project = result.get("cursor").and_then(Value::as_u64);
        if mode == Snapshot::Replace {
            state.stores = Stores::new();
            state.cursors = SyncCursors {
                cc: cc.unwrap_or(0),
                project: project.unwrap_or(0),
            };
        } else {
            state.cursors.cc = state.cursors.cc.max(cc.unwrap_or(0));
            state.cursors.project = state.cursors.project.max(project.unwrap_or(0));
        }
        if let Some(version) = result.get("cc.version").and_then(Value::as_str) {
            state.cc_version = Some(version.to_owned());
        }
        state.stores.merge(data);
    }

    pub(crate) fn lock_state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn lock_seen_jobs(&self) -> MutexGuard<'_, crate::sync::SeenJobs> {
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

/// `…/get`, `…/root`, `…/children` and the like read data: resending them is harmless.
fn is_read_endpoint(endpoint: &str) -> bool {
    let last = endpoint.rsplit('/').next().unwrap_or_default();
    matches!(
        last,
        "get" | "root" | "children" | "list" | "search" | "init" | "cursors"
    )
}

fn check_endpoint(endpoint: &str, rest: &str) -> Result<(), Error> {
    let ok = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'.'))
        && rest
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "endpoint {endpoint:?} must be path segments of letters, digits, '_', '-' and '.'"
        )))
    }
}

pub(crate) fn encode_segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub(crate) enum Envelope {
    Success {
        result: Value,
        data: Value,
    },
    Failure {
        code: i64,
        message: String,
        info: Value,
    },
}

/// Parses `{success, result, data}`. Files listed in `data.files` move to `result["data/files"]`
/// as the official package does.
pub(crate) fn parse_envelope(status: StatusCode, bytes: &Bytes) -> Result<Envelope, Error> {
    let invalid = |reason: &str| Error::InvalidResponse {
        status,
        reason: reason.to_owned(),
        snippet: String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).into_owned(),
    };
    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|_| invalid("the body is not JSON"))?;
    let Some(object) = value.as_object_mut() else {
        return Err(invalid("the body is not a JSON object"));
    };
    let Some(success) = object.get("success").and_then(Value::as_bool) else {
        return Err(invalid("the body has no boolean \"success\""));
    };
    let mut result = object.remove("result").unwrap_or(Value::Null);
    let mut data = object.remove("data").unwrap_or(Value::Null);
    if success {
        if let Some(files) = data.as_object_mut().and_then(|d| d.remove("files"))
            && let Some(r) = result.as_object_mut()
        {
            r.insert("data/files".to_owned(), files);
        }
        return Ok(Envelope::Success { result, data });
    }
    let code = match result.get("code") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .unwrap_or(i64::from(status.as_u16()));
    let message = match result.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let info = result
        .get_mut("info")
        .map(Value::take)
        .unwrap_or(Value::Null);
    Ok(Envelope::Failure {
        code,
        message,
        info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Envelope, Error> {
        parse_envelope(StatusCode::OK, &Bytes::from(body.to_owned()))
    }

    #[test]
    fn envelopes_parse_or_fail_typed() {
        assert!(matches!(
            parse(r#"{"success":false,"result":{"code":1001,"message":"bad","info":{"field":"x"}},"data":{}}"#),
            Ok(Envelope::Failure { code: 1001, ref message, ref info }) if message == "bad" && info["field"] == "x"
        ));
        assert!(matches!(
            parse(r#"{"success":true,"result":{"a":1},"data":{"files":[1]}}"#),
            Ok(Envelope::Success { ref result, .. }) if result["data/files"][0] == 1
        ));
        for junk in ["<html>", "[]", r#"{"result":{}}"#, ""] {
            assert!(
                matches!(parse(junk), Err(Error::InvalidResponse { .. })),
                "{junk}"
            );
        }
    }

    #[test]
    fn endpoints_are_checked() {
        let client = UnicatClient::builder("http://127.0.0.1:1".parse().unwrap(), "p 1")
            .transport(Arc::new(evo_core::transport_fn(|_| async {
                Err(evo_core::TransportError::new(
                    evo_core::TransportErrorKind::Connection,
                    "unused",
                ))
            })))
            .build()
            .unwrap();
        assert_eq!(
            client.api_path("/records/get").unwrap(),
            "api/p/p%201/records/get"
        );
        assert_eq!(client.api_path("//users/get").unwrap(), "api/users/get");
        for bad in ["records/get", "/../x", "/a?b", "//", "/a//b", "/{x}"] {
            assert!(client.api_path(bad).is_err(), "{bad}");
        }
    }
}
