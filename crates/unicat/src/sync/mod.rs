//! Auto-updating: the Sync API over Socket.IO (or REST polling), applied by one task.

mod apply;

use std::sync::Arc;
use std::time::Duration;

use evo_core::Authorizer;
use evo_sync::socketio::{SyncEndpoint, SyncSession};
use evo_sync::{Backoff, BackoffPolicy};
use tokio::sync::watch;

use crate::client::UnicatClient;
use crate::error::Error;
use crate::events::ChangeEvent;

/// How [`UnicatClient::start_sync`] follows the server.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// `None` (default): push over Socket.IO at [`path`](Self::path). `Some(interval)`: poll
    /// `/sync/get` every `interval` instead (for networks that block WebSockets).
    pub poll_interval: Option<Duration>,
    /// The Socket.IO path (default `/sync/io`).
    pub path: String,
    /// Delays between reconnects.
    pub backoff: BackoffPolicy,
    /// How long opening a connection and its handshakes may take.
    pub connect_timeout: Duration,
    /// How long to wait for the `initsync` acknowledgement.
    pub ack_timeout: Duration,
    /// Extra trusted CA certificates (PEM) for `wss` connections.
    pub trust_root_certificates_pem: Vec<String>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            poll_interval: None,
            path: "/sync/io".to_owned(),
            backoff: BackoffPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            ack_timeout: Duration::from_secs(30),
            trust_root_certificates_pem: Vec::new(),
        }
    }
}

/// The state of the sync task.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncStatus {
    /// Connecting (or re-authenticating).
    Connecting,
    /// Connected and caught up; following live changes.
    Connected,
    /// The last connection failed or ended; a reconnect follows after a delay.
    Disconnected {
        /// Why.
        reason: String,
    },
}

/// The running sync task. Dropping it (or [`stop`](Self::stop)) ends the task.
#[derive(Debug)]
pub struct SyncHandle {
    task: tokio::task::JoinHandle<()>,
    status: watch::Receiver<SyncStatus>,
}

impl SyncHandle {
    /// The current state.
    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// Waits until the task is connected and caught up (or `limit` passes); returns whether it
    /// is.
    ///
    /// See the example on [`UnicatClient::start_sync`](crate::UnicatClient::start_sync).
    pub async fn wait_connected(&self, limit: Duration) -> bool {
        let mut rx = self.status.clone();
        tokio::time::timeout(limit, rx.wait_for(|s| *s == SyncStatus::Connected))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Stops the task and waits until it has ended.
    ///
    /// See the example on [`UnicatClient::start_sync`](crate::UnicatClient::start_sync).
    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl UnicatClient {
    /// Starts keeping the stores current (call after [`connect`](Self::connect)): one task
    /// connects to the Sync API, presents `{"JWT": <current token>}` on every (re)connect, emits
    /// `initsync` with the cursors and applies the acknowledged catch-up, then applies `sync`
    /// events; `authorization` events rotate the JWT for REST and sync alike. After a failed
    /// connection it catches up over REST (`/sync/get`) and reconnects with backoff; a missing
    /// or rejected JWT is renewed with the API key given to `connect`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
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
    /// use std::time::Duration;
    /// use unicat::{ChangeEvent, SyncOptions};
    ///
    /// client.call("/records/get", serde_json::json!({"record": record})).await?;
    /// let mut events = client.subscribe();
    /// let sync = client.start_sync(SyncOptions::default())?;
    /// assert!(sync.wait_connected(Duration::from_secs(20)).await);
    ///
    /// // Someone renames the record on the server: it is pushed, fetched again and announced.
    /// server.update_record(record, serde_json::json!({"en": {"name": "Renamed"}})).await;
    /// let renamed = tokio::time::timeout(Duration::from_secs(20), async {
    ///     loop {
    ///         if let Some(ChangeEvent::RecordChanged { record: changed, .. }) = events.recv().await {
    ///             break changed;
    ///         }
    ///     }
    /// })
    /// .await?;
    /// assert_eq!(renamed["fields"]["en"]["name"], "Renamed");
    /// sync.stop().await;
    /// # Ok(()) }
    /// ```
    pub fn start_sync(&self, options: SyncOptions) -> Result<SyncHandle, Error> {
        let (status_tx, status) = watch::channel(SyncStatus::Connecting);
        let client = self.clone();
        let task = match options.poll_interval {
            Some(interval) => tokio::spawn(poll_loop(client, interval, options, status_tx)),
            None => {
                let mut base = self.connector().base_url().clone();
                base.set_path("/");
                let mut endpoint = SyncEndpoint::builder(base.as_str())
                    .path(options.path.clone())
                    .user_agent(crate::client::USER_AGENT)
                    .connect_timeout(options.connect_timeout)
                    .ack_timeout(options.ack_timeout);
                for pem in &options.trust_root_certificates_pem {
                    endpoint = endpoint.trust_root_certificates_pem(pem.clone());
                }
                let endpoint = endpoint.build()?;
                tokio::spawn(socket_loop(client, endpoint, options, status_tx))
            }
        };
        Ok(SyncHandle { task, status })
    }
}

async fn poll_loop(
    client: UnicatClient,
    interval: Duration,
    options: SyncOptions,
    status: watch::Sender<SyncStatus>,
) {
    let mut backoff = Backoff::new(options.backoff);
    loop {
        let outcome = match ensure_token(&client).await {
            Ok(()) => client.catch_up().await,
            Err(e) => Err(e),
        };
        let delay = match outcome {
            Ok(()) => {
                status.send_replace(SyncStatus::Connected);
                backoff.reset();
                interval
            }
            Err(e) => {
                tracing::warn!(error = %e, "polling /sync/get failed");
                status.send_replace(SyncStatus::Disconnected {
                    reason: e.to_string(),
                });
                backoff.next_delay()
            }
        };
        tokio::time::sleep(delay).await;
    }
}

async fn socket_loop(
    client: UnicatClient,
    endpoint: SyncEndpoint,
    options: SyncOptions,
    status: watch::Sender<SyncStatus>,
) {
    let mut backoff = Backoff::new(options.backoff);
    let mut connected_before = false;
    loop {
        status.send_replace(SyncStatus::Connecting);
        let mut connected = false;
        let outcome = match ensure_token(&client).await {
            Ok(()) => {
                run_session(
                    &client,
                    &endpoint,
                    &status,
                    &mut connected,
                    &mut connected_before,
                )
                .await
            }
            Err(e) => Err(e),
        };
        let reason = match outcome {
            Ok(()) => "the connection ended".to_owned(),
            Err(e) => e.to_string(),
        };
        tracing::info!(%reason, "the Sync API connection ended; reconnecting after a delay");
        status.send_replace(SyncStatus::Disconnected {
            reason: reason.clone(),
        });
        if connected {
            backoff.reset();
        } else if client.authorizer().has_token() {
            // No push channel: keep the stores current over REST meanwhile (the resync path).
            if let Err(e) = client.catch_up().await {
                tracing::debug!(error = %e, "the REST catch-up failed too");
            }
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// Makes sure a JWT is held, authenticating again with the stored API key when it is not.
async fn ensure_token(client: &UnicatClient) -> Result<(), Error> {
    if client.authorizer().has_token() {
        return Ok(());
    }
    client.reauthenticate_after(None).await
}

async fn run_session(
    client: &UnicatClient,
    endpoint: &SyncEndpoint,
    status: &watch::Sender<SyncStatus>,
    connected: &mut bool,
    connected_before: &mut bool,
) -> Result<(), Error> {
    let authorizer: Arc<dyn Authorizer> = client.authorizer().clone();
    let mut session = match SyncSession::connect(endpoint, authorizer).await {
        Ok(session) => session,
        Err(e @ evo_sync::Error::Rejected { .. }) => {
            // The server refused the JWT: renew it with the API key before the next attempt.
            client.authorizer().set(None);
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    *connected = true;
    let cursors = client.cursors();
    let catch_up = session
        .initsync(cursors.cc, client.project(), cursors.project)
        .await?;
    if let Some(items) = catch_up {
        client.apply_sync_payload(&items).await?;
    }
    for payload in session.take_held_back() {
        client.apply_sync_payload(&payload).await?;
    }
    status.send_replace(SyncStatus::Connected);
    if *connected_before {
        client.emit(ChangeEvent::Reconnected);
    }
    *connected_before = true;
    loop {
        let payload = session.next_sync().await?;
        client.apply_sync_payload(&payload).await?;
    }
}
