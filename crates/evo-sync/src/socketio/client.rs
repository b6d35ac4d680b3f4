//! The Socket.IO change source.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use evo_core::Authorizer;
use serde_json::Value;

use super::endpoint::{SyncEndpoint, SyncEndpointBuilder, endpoint_setters};
use super::item::{
    AckOutcome, SnapshotLoader, SyncItem, SyncKey, default_data_types, interpret_ack,
};
use super::session::SyncSession;
use crate::change::{Batch, Change, Cursors};
use crate::error::Error;
use crate::replica::{ChangeSink, Notice, ResetReason, Status};
use crate::source::ChangeSource;

/// The stream of global (`cc`) changes; its cursor is sent as `cc.cursor`.
pub const CC_STREAM: &str = "cc";
/// The stream of the project's changes; its cursor is sent as `cursor`.
pub const PROJECT_STREAM: &str = "project";

/// How many (job, status) pairs are remembered to ignore replayed job events.
const SEEN_JOBS: usize = 1024;
/// A server that expires a freshly loaded snapshot's cursors this many times in a row is broken.
const MAX_RESYNCS_PER_CONNECTION: u32 = 3;

/// Builds a [`SocketIoSource`]. Where and how it connects is set as on a
/// [`SyncEndpointBuilder`] (`path`, `namespace`, `auth_field`, the timeouts,
/// `max_held_back_bytes`, `trust_root_certificates_pem`, `user_agent`: the same setters).
pub struct SocketIoSourceBuilder {
    endpoint: SyncEndpointBuilder,
    project: String,
    authorizer: Option<Arc<dyn Authorizer>>,
    loader: Option<Arc<dyn SnapshotLoader>>,
    data_types: BTreeSet<String>,
}

impl fmt::Debug for SocketIoSourceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketIoSourceBuilder")
            .field("base_url", &self.endpoint.base_url)
            .field("project", &self.project)
            .field("path", &self.endpoint.settings.path)
            .finish_non_exhaustive()
    }
}

endpoint_setters!(SocketIoSourceBuilder, endpoint.settings);

impl SocketIoSourceBuilder {
    /// Where the token comes from: the authorizer's
    /// [`bearer_token`](Authorizer::bearer_token), asked on every connection attempt. Tokens
    /// the server rotates (`authorization` events) go to its
    /// [`rotate_token`](Authorizer::rotate_token). Share it with an
    /// [`ApiConnector`](evo_core::ApiConnector) and HTTP requests use the rotated token too.
    #[must_use]
    pub fn authorizer(mut self, authorizer: Arc<dyn Authorizer>) -> Self {
        self.authorizer = Some(authorizer);
        self
    }

    /// Where full snapshots come from. Without one, the first connection catches up from
    /// cursor 0 and an expired cursor is an error.
    #[must_use]
    pub fn snapshot_loader(mut self, loader: Arc<dyn SnapshotLoader>) -> Self {
        self.loader = Some(loader);
        self
    }

    /// The data types kept in the replica (default [`default_data_types`]); others are skipped
    /// with a warning.
    #[must_use]
    pub fn data_types(mut self, types: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.data_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// Checks the configuration and builds the source.
    pub fn build(self) -> Result<SocketIoSource, Error> {
        let endpoint = self.endpoint.build()?;
        let authorizer = self.authorizer.ok_or_else(|| Error::InvalidConfig {
            message: "an authorizer is required".to_owned(),
        })?;
        Ok(SocketIoSource {
            endpoint,
            project: self.project,
            authorizer,
            loader: self.loader,
            data_types: self.data_types,
            server_version: None,
            seen_jobs: HashSet::new(),
            seen_jobs_order: VecDeque::new(),
            sent: Cursors::new(),
            live: Cursors::new(),
            last_applied: Cursors::new(),
        })
    }
}

/// A [`ChangeSource`] that follows a Unicat-style Sync API over Socket.IO.
///
/// Keys are [`SyncKey`]s, values the items' `data` JSON, versions the items' cursors.
pub struct SocketIoSource {
    endpoint: SyncEndpoint,
    project: String,
    authorizer: Arc<dyn Authorizer>,
    loader: Option<Arc<dyn SnapshotLoader>>,
    data_types: BTreeSet<String>,
    server_version: Option<String>,
    seen_jobs: HashSet<(String, String)>,
    seen_jobs_order: VecDeque<(String, String)>,
    /// The cursors sent with this connection's `initsync`.
    sent: Cursors,
    /// The newest cursor per stream of the live items applied since.
    live: Cursors,
    /// The cursors of the last payload applied.
    last_applied: Cursors,
}

impl fmt::Debug for SocketIoSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketIoSource")
            .field("url", &self.endpoint.url().as_str())
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

impl SocketIoSource {
    /// Starts building a source for the Sync API at `base_url` (e.g. `http://host:port`) and
    /// the project `project` (its gid).
    pub fn builder(
        base_url: impl Into<String>,
        project: impl Into<String>,
    ) -> SocketIoSourceBuilder {
        SocketIoSourceBuilder {
            endpoint: SyncEndpoint::builder(base_url),
            project: project.into(),
            authorizer: None,
            loader: None,
            data_types: default_data_types(),
        }
    }

    /// Emits `initsync` with the sink's cursors and interprets the acknowledgement.
    async fn initsync(
        &mut self,
        session: &mut SyncSession,
        sink: &mut ChangeSink<SyncKey, Value>,
    ) -> Result<AckOutcome, Error> {
        let cursors = sink.cursors();
        let first = session
            .initsync(
                cursors.get(CC_STREAM).unwrap_or(0),
                &self.project,
                cursors.get(PROJECT_STREAM).unwrap_or(0),
            )
            .await?;
        self.sent = cursors;
        self.live = Cursors::new();
        Ok(interpret_ack(first))
    }

    /// Forgets tombstones no item of this connection (or of a later one, which resumes from
    /// the applied cursors) can still be older than: per stream, everything after the cursor
    /// sent with `initsync` and after the last live item (Socket.IO delivers in order) is
    /// newer. A key's stream is told by its data type, as Unicat names them: `cc.*` types are
    /// global (the `cc` stream), the others belong to the project.
    fn prune_tombstones(&self, sink: &mut ChangeSink<SyncKey, Value>) {
        let past = |stream: &str| {
            let sent = self.sent.get(stream).unwrap_or(0);
            sent.max(self.live.get(stream).unwrap_or(0))
        };
        let (cc, project) = (past(CC_STREAM), past(PROJECT_STREAM));
        sink.prune_tombstones_where(|key, deleted_at| {
            let through = if key.data_type.starts_with("cc.") {
                cc
            } else {
                project
            };
            deleted_at <= through
        });
    }

    /// Loads a full snapshot while keeping the connection alive, and swaps it in.
    async fn resync(
        &mut self,
        session: &mut SyncSession,
        sink: &mut ChangeSink<SyncKey, Value>,
        reason: ResetReason,
    ) -> Result<(), Error> {
        let loader = self.loader.clone().ok_or(Error::CursorExpired)?;
        tracing::info!(?reason, "loading a full snapshot");
        sink.begin_resync(reason);
        let load = loader.load();
        tokio::pin!(load);
        // Live changes that arrive while loading are held back (within the session's limits)
        // and applied after the swap.
        let snapshot = loop {
            tokio::select! {
                result = &mut load => break result?,
                held = session.hold_next_sync() => held?,
            }
        };
        let floor = snapshot.cursors.iter().map(|(_, c)| c).min().unwrap_or(0);
        let items = snapshot.items.into_iter().filter_map(|item| {
            if !self.data_types.contains(&item.key.data_type) {
                tracing::warn!(data_type = %item.key.data_type, "skipping a snapshot item of an unknown data type");
                return None;
            }
            let Some(version) = snapshot.cursors.get(&item.stream) else {
                tracing::warn!(stream = %item.stream, "skipping a snapshot item of an unknown stream");
                return None;
            };
            Some((item.key, version, item.data))
        });
        let items: Vec<_> = items.collect();
        sink.resync_items(items);
        sink.finish_resync(snapshot.cursors, floor);
        sink.set_status(Status::Connected);
        Ok(())
    }

    /// Applies one `sync` payload (a list of items) as one batch. Returns a reason to resync
    /// when the payload says the data was restored.
    fn apply_items(
        &mut self,
        payload: &Value,
        sink: &mut ChangeSink<SyncKey, Value>,
    ) -> Option<ResetReason> {
        let Some(list) = payload.as_array() else {
            tracing::warn!("ignoring a sync payload that is not a list");
            return None;
        };
        let mut batch = Batch::new();
        let mut reset = None;
        for raw in list {
            let item = match SyncItem::parse(raw) {
                Ok(item) => item,
                Err(why) => {
                    tracing::warn!(%why, "skipping a malformed sync item");
                    continue;
                }
            };
            // Unicat names the project stream by the project; anything but `cc` is it.
            let stream = if item.stream == CC_STREAM {
                CC_STREAM
            } else {
                PROJECT_STREAM
            };
            batch.cursors.advance(stream, item.cursor);
            match item.data_type.as_str() {
                "cc.version" => self.version_item(&item, sink),
                "jobs" => {
                    if let Some(reason) = self.job_item(&item, sink) {
                        reset = Some(reason);
                    }
                }
                known if self.data_types.contains(known) => {
                    let key = SyncKey::new(item.data_type.clone(), item.data_key.clone());
                    match item.action.as_str() {
                        "INSERT" | "UPDATE" => match item.data {
                            Some(data) => batch.push(Change::upsert(key, item.cursor, data)),
                            // Unicat items usually carry no data: the `unicat` crate fetches
                            // them by its rules; this generic source has nothing to store.
                            None => tracing::debug!(
                                data_type = known,
                                "skipping an item without data (nothing to store)"
                            ),
                        },
                        "DELETE" => batch.push(Change::delete(key, item.cursor)),
                        other => {
                            tracing::warn!(
                                action = other,
                                data_type = known,
                                "skipping a sync item with an unknown action"
                            );
                        }
                    }
                }
                unknown => {
                    tracing::warn!(
                        data_type = unknown,
                        "skipping a sync item of an unknown data type"
                    );
                }
            }
        }
        self.last_applied = batch.cursors.clone();
        sink.apply(batch);
        reset
    }

    fn version_item(&mut self, item: &SyncItem, sink: &mut ChangeSink<SyncKey, Value>) {
        let current = match &item.data {
            _ if !item.data_key.is_empty() => item.data_key.clone(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => match o.get("version") {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => Value::Object(o.clone()).to_string(),
            },
            Some(other) => other.to_string(),
            None => item.data_key.clone(),
        };
        if self.server_version.as_deref() == Some(current.as_str()) {
            return;
        }
        let previous = self.server_version.replace(current.clone());
        sink.notify(Notice::ServerVersion { previous, current });
    }

    fn job_item(
        &mut self,
        item: &SyncItem,
        sink: &mut ChangeSink<SyncKey, Value>,
    ) -> Option<ResetReason> {
        let data = item.data.as_ref();
        let field = |name: &str| {
            data.and_then(|d| d.get(name))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (name, status) = (field("job"), field("status"));
        let seen = (item.data_key.clone(), status.clone());
        if !self.seen_jobs.insert(seen.clone()) {
            tracing::debug!(job = %name, %status, "ignoring a replayed job event");
            return None;
        }
        self.seen_jobs_order.push_back(seen);
        if self.seen_jobs_order.len() > SEEN_JOBS {
            if let Some(old) = self.seen_jobs_order.pop_front() {
                self.seen_jobs.remove(&old);
            }
        }
        sink.notify(Notice::Job {
            id: item.data_key.clone(),
            name: name.clone(),
            status: status.clone(),
        });
        let project = field("project_gid");
        let ours = project.is_empty() || project == self.project;
        (name == "restore_project" && status == "done" && ours).then_some(ResetReason::Restored)
    }

    /// Runs one connection until it fails.
    async fn run_connection(&mut self, sink: &mut ChangeSink<SyncKey, Value>) -> Result<(), Error> {
        let mut session = SyncSession::connect(&self.endpoint, self.authorizer.clone()).await?;
        sink.set_status(Status::Connected);
        let first_load = self.loader.is_some()
            && (sink.cursors().get(CC_STREAM).is_none()
                || sink.cursors().get(PROJECT_STREAM).is_none());
        let mut need = first_load.then_some(ResetReason::Initial);
        let mut resyncs = 0u32;
        'catch_up: loop {
            if let Some(reason) = need.take() {
                resyncs += 1;
                if resyncs > MAX_RESYNCS_PER_CONNECTION {
                    return Err(Error::Protocol {
                        message: "the server keeps expiring freshly loaded cursors".to_owned(),
                    });
                }
                self.resync(&mut session, sink, reason).await?;
            }
            match self.initsync(&mut session, sink).await? {
                AckOutcome::Expired => {
                    tracing::info!("the server expired the local cursors");
                    need = Some(ResetReason::CursorExpired);
                    continue 'catch_up;
                }
                AckOutcome::Items(items) => {
                    if let Some(reason) = self.apply_items(&items, sink) {
                        need = Some(reason);
                    }
                }
            }
            for payload in session.take_held_back() {
                if let Some(reason) = self.apply_items(&payload, sink) {
                    need = Some(reason);
                }
            }
            if need.is_some() {
                continue 'catch_up;
            }
            sink.mark_ready();
            self.prune_tombstones(sink);
            resyncs = 0;
            loop {
                let payload = session.next_sync().await?;
                if let Some(reason) = self.apply_items(&payload, sink) {
                    need = Some(reason);
                    continue 'catch_up;
                }
                let applied = std::mem::take(&mut self.last_applied);
                self.live.merge(&applied);
                self.prune_tombstones(sink);
            }
        }
    }
}

#[async_trait]
impl ChangeSource<SyncKey, Value> for SocketIoSource {
    async fn run(
        &mut self,
        from: &Cursors,
        sink: &mut ChangeSink<SyncKey, Value>,
    ) -> Result<(), Error> {
        tracing::debug!(?from, url = %self.endpoint.url(), "connecting to the sync API");
        self.run_connection(sink).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_rejects_bad_configuration() {
        let tokens: Arc<dyn Authorizer> = Arc::new(evo_core::RotatingTokenAuthorizer::new("t"));
        assert!(
            SocketIoSource::builder("ftp://x", "p")
                .authorizer(tokens.clone())
                .build()
                .is_err()
        );
        assert!(
            SocketIoSource::builder("not a url", "p")
                .authorizer(tokens.clone())
                .build()
                .is_err()
        );
        assert!(
            SocketIoSource::builder("http://127.0.0.1:1", "p")
                .build()
                .is_err()
        );
        assert!(
            SocketIoSource::builder("http://127.0.0.1:1", "p")
                .authorizer(tokens.clone())
                .path("/")
                .build()
                .is_err()
        );
        let source = SocketIoSource::builder("http://127.0.0.1:1/ignored?x=1", "p")
            .authorizer(tokens.clone())
            .build()
            .expect("valid");
        assert!(
            SocketIoSource::builder("https://127.0.0.1:1", "p")
                .authorizer(tokens.clone())
                .trust_root_certificates_pem("not a certificate")
                .build()
                .is_err()
        );
        let tls = SocketIoSource::builder("https://127.0.0.1:1", "p")
            .authorizer(tokens.clone())
            .build()
            .expect("wss with the web PKI roots");
        assert!(tls.endpoint.url().as_str().starts_with("wss://"));
        assert_eq!(
            source.endpoint.url().as_str(),
            "ws://127.0.0.1:1/sync/io/?EIO=4&transport=websocket"
        );
    }
}
