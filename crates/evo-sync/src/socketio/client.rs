//! The Socket.IO change source.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::session::{SyncEndpoint, SyncSession};
use super::token::TokenProvider;
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

/// The key of an item in a Sync API replica.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SyncKey {
    /// The item's data type, e.g. `records` or `cc.users`.
    pub data_type: String,
    /// The item's key within its type (a gid, or `project/user` for members).
    pub data_key: String,
}

impl SyncKey {
    /// A key from its parts.
    pub fn new(data_type: impl Into<String>, data_key: impl Into<String>) -> Self {
        Self {
            data_type: data_type.into(),
            data_key: data_key.into(),
        }
    }
}

/// One item of a full snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotItem {
    /// The stream the item belongs to ([`CC_STREAM`] or [`PROJECT_STREAM`]).
    pub stream: String,
    /// Its key.
    pub key: SyncKey,
    /// Its data.
    pub data: Value,
}

/// A full state of the server and the cursors it is current at.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncSnapshot {
    /// Every item of the interest set.
    pub items: Vec<SnapshotItem>,
    /// The cursors of each stream the snapshot reflects.
    pub cursors: Cursors,
}

/// Loads a full snapshot (for Unicat: the REST `init` call), used at first start, when the
/// server expired the local cursors, and after a restore.
#[async_trait]
pub trait SnapshotLoader: Send + Sync {
    /// Loads the server's current state.
    async fn load(&self) -> Result<SyncSnapshot, Error>;
}

/// The data types of the Unicat Sync API that are kept in the replica.
pub fn default_data_types() -> BTreeSet<String> {
    [
        "cc.users",
        "cc.projects",
        "cc.projects_members",
        "cc.languages",
        "records",
        "definitions",
        "classes",
        "fields",
        "layouts",
        "assets",
        "queries",
        "modules",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// Builds a [`SocketIoSource`].
pub struct SocketIoSourceBuilder {
    base_url: String,
    project: String,
    path: String,
    namespace: String,
    auth_field: String,
    tokens: Option<Arc<dyn TokenProvider>>,
    loader: Option<Arc<dyn SnapshotLoader>>,
    data_types: BTreeSet<String>,
    connect_timeout: Duration,
    ack_timeout: Duration,
    extra_roots_pem: Vec<String>,
}

impl fmt::Debug for SocketIoSourceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketIoSourceBuilder")
            .field("base_url", &self.base_url)
            .field("project", &self.project)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SocketIoSourceBuilder {
    /// The Socket.IO path (default `/sync/io`, Unicat's; plain Socket.IO servers use `/socket.io`).
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The Socket.IO namespace (default `/`).
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The field of the `CONNECT` auth object that carries the token (default `JWT`).
    #[must_use]
    pub fn auth_field(mut self, field: impl Into<String>) -> Self {
        self.auth_field = field.into();
        self
    }

    /// Where tokens come from (asked on every connection attempt; told about rotations).
    #[must_use]
    pub fn token_provider(mut self, tokens: Arc<dyn TokenProvider>) -> Self {
        self.tokens = Some(tokens);
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

    /// How long opening the connection and the handshakes may take (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long to wait for the `initsync` acknowledgement (default 30 s).
    #[must_use]
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
        self
    }

    /// Also trusts the CA certificates in `pem` for `https`/`wss` URLs (besides the public
    /// web PKI roots), e.g. a private CA or a test certificate.
    #[must_use]
    pub fn trust_root_certificates_pem(mut self, pem: impl Into<String>) -> Self {
        self.extra_roots_pem.push(pem.into());
        self
    }

    /// Checks the configuration and builds the source.
    pub fn build(self) -> Result<SocketIoSource, Error> {
        let mut endpoint = SyncEndpoint::builder(self.base_url)
            .path(self.path)
            .namespace(self.namespace)
            .auth_field(self.auth_field)
            .connect_timeout(self.connect_timeout)
            .ack_timeout(self.ack_timeout);
        for pem in self.extra_roots_pem {
            endpoint = endpoint.trust_root_certificates_pem(pem);
        }
        let endpoint = endpoint.build()?;
        let tokens = self.tokens.ok_or_else(|| Error::InvalidConfig {
            message: "a token provider is required".to_owned(),
        })?;
        Ok(SocketIoSource {
            endpoint,
            project: self.project,
            tokens,
            loader: self.loader,
            data_types: self.data_types,
            server_version: None,
            seen_jobs: HashSet::new(),
            seen_jobs_order: VecDeque::new(),
        })
    }
}

/// A [`ChangeSource`] that follows a Unicat-style Sync API over Socket.IO.
///
/// Keys are [`SyncKey`]s, values the items' `data` JSON, versions the items' cursors.
pub struct SocketIoSource {
    endpoint: SyncEndpoint,
    project: String,
    tokens: Arc<dyn TokenProvider>,
    loader: Option<Arc<dyn SnapshotLoader>>,
    data_types: BTreeSet<String>,
    server_version: Option<String>,
    seen_jobs: HashSet<(String, String)>,
    seen_jobs_order: VecDeque<(String, String)>,
}

impl fmt::Debug for SocketIoSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketIoSource")
            .field("url", &self.endpoint.url().as_str())
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

/// What the `initsync` acknowledgement said.
enum AckOutcome {
    Items(Value),
    Expired,
}

impl SocketIoSource {
    /// Starts building a source for the Sync API at `base_url` (e.g. `http://host:port`) and
    /// the project `project` (its gid).
    pub fn builder(
        base_url: impl Into<String>,
        project: impl Into<String>,
    ) -> SocketIoSourceBuilder {
        SocketIoSourceBuilder {
            base_url: base_url.into(),
            project: project.into(),
            path: "/sync/io".to_owned(),
            namespace: "/".to_owned(),
            auth_field: "JWT".to_owned(),
            tokens: None,
            loader: None,
            data_types: default_data_types(),
            connect_timeout: Duration::from_secs(10),
            ack_timeout: Duration::from_secs(30),
            extra_roots_pem: Vec::new(),
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
        Ok(interpret_ack(first))
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
        let mut arrived = Vec::new();
        let snapshot = loop {
            tokio::select! {
                result = &mut load => break result?,
                payload = session.next_sync() => arrived.push(payload?),
            }
        };
        // Live changes that arrived while loading are applied after the swap.
        session.hold_back(arrived);
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
        let mut session = SyncSession::connect(&self.endpoint, self.tokens.clone()).await?;
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
            resyncs = 0;
            loop {
                let payload = session.next_sync().await?;
                if let Some(reason) = self.apply_items(&payload, sink) {
                    need = Some(reason);
                    continue 'catch_up;
                }
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

/// Reads the `initsync` acknowledgement's first argument: the catch-up list (or an object
/// with a `sync` list), or the extension `{"error": "cursor_expired"}`.
fn interpret_ack(first: Option<Value>) -> AckOutcome {
    match first {
        None => AckOutcome::Items(Value::Array(Vec::new())),
        Some(Value::Object(map)) => {
            if map.get("error").and_then(Value::as_str) == Some("cursor_expired") {
                return AckOutcome::Expired;
            }
            AckOutcome::Items(map.get("sync").cloned().unwrap_or(Value::Array(Vec::new())))
        }
        Some(other) => AckOutcome::Items(other),
    }
}

/// A parsed sync item.
struct SyncItem {
    stream: String,
    cursor: u64,
    action: String,
    data_type: String,
    data_key: String,
    data: Option<Value>,
}

impl SyncItem {
    fn parse(raw: &Value) -> Result<Self, String> {
        let text = |field: &str| -> Result<String, String> {
            match raw.get(field) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                Some(_) => Err(format!("field {field:?} is not a string")),
                None => Err(format!("field {field:?} is missing")),
            }
        };
        let cursor = match raw.get("cursor") {
            Some(Value::Number(n)) => n.as_u64().ok_or("cursor is not a non-negative integer")?,
            Some(Value::String(s)) => s.parse().map_err(|_| "cursor is not an integer")?,
            _ => return Err("cursor is missing".to_owned()),
        };
        Ok(Self {
            stream: text("type")?,
            cursor,
            action: text("action")?.to_ascii_uppercase(),
            data_type: text("data_type")?,
            data_key: text("data_key")?,
            data: raw.get("data").cloned().filter(|d| !d.is_null()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::{Packet, PacketType};
    use super::super::session::event_parts;
    use super::super::token::Token;
    use super::*;
    use serde_json::json;

    #[test]
    fn builder_rejects_bad_configuration() {
        let tokens: Arc<dyn TokenProvider> =
            Arc::new(super::super::RotatingToken::new(Token::new("t")));
        assert!(
            SocketIoSource::builder("ftp://x", "p")
                .token_provider(tokens.clone())
                .build()
                .is_err()
        );
        assert!(
            SocketIoSource::builder("not a url", "p")
                .token_provider(tokens.clone())
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
                .token_provider(tokens.clone())
                .path("/")
                .build()
                .is_err()
        );
        let source = SocketIoSource::builder("http://127.0.0.1:1/ignored?x=1", "p")
            .token_provider(tokens.clone())
            .build()
            .expect("valid");
        assert!(
            SocketIoSource::builder("https://127.0.0.1:1", "p")
                .token_provider(tokens.clone())
                .trust_root_certificates_pem("not a certificate")
                .build()
                .is_err()
        );
        let tls = SocketIoSource::builder("https://127.0.0.1:1", "p")
            .token_provider(tokens.clone())
            .build()
            .expect("wss with the web PKI roots");
        assert!(tls.endpoint.url().as_str().starts_with("wss://"));
        assert_eq!(
            source.endpoint.url().as_str(),
            "ws://127.0.0.1:1/sync/io/?EIO=4&transport=websocket"
        );
    }

    #[test]
    fn parses_items_and_rejects_malformed_ones() {
        let item = SyncItem::parse(&json!({"type": "project", "cursor": 7, "action": "update", "data_type": "records", "data_key": 12, "data": {"a": 1}})).expect("item");
        assert_eq!(
            (item.cursor, item.action.as_str(), item.data_key.as_str()),
            (7, "UPDATE", "12")
        );
        assert!(SyncItem::parse(&json!({"type": "project", "action": "INSERT", "data_type": "records", "data_key": "k"})).is_err());
        assert!(SyncItem::parse(&json!({"type": "project", "cursor": -1, "action": "INSERT", "data_type": "records", "data_key": "k"})).is_err());
        assert!(SyncItem::parse(&json!("nope")).is_err());
    }

    #[test]
    fn interprets_ack_shapes() {
        assert!(matches!(
            interpret_ack(Some(json!({"error": "cursor_expired"}))),
            AckOutcome::Expired
        ));
        assert!(
            matches!(interpret_ack(Some(json!([1, 2]))), AckOutcome::Items(Value::Array(v)) if v.len() == 2)
        );
        assert!(
            matches!(interpret_ack(Some(json!({"sync": [1]}))), AckOutcome::Items(Value::Array(v)) if v.len() == 1)
        );
        assert!(matches!(interpret_ack(None), AckOutcome::Items(Value::Array(v)) if v.is_empty()));
    }

    /// Fuzz-style properties of the decoding of sync items and acknowledgements.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        const SECRET: &str = "SECRETTOKEN42";

        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                ".{0,12}".prop_map(Value::from),
                Just(Value::from(SECRET)),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map(
                        prop_oneof![
                            Just("type".to_owned()),
                            Just("cursor".to_owned()),
                            Just("action".to_owned()),
                            Just("data_type".to_owned()),
                            Just("data_key".to_owned()),
                            Just("data".to_owned()),
                            Just("error".to_owned()),
                            Just("sync".to_owned()),
                            ".{0,6}",
                        ],
                        inner,
                        0..6
                    )
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// How one member of a valid sync item is mutated.
        #[derive(Clone, Debug)]
        enum Mutation {
            Keep,
            Remove,
            Replace(Value),
        }

        fn mutation() -> impl Strategy<Value = Mutation> {
            prop_oneof![
                3 => Just(Mutation::Keep),
                1 => Just(Mutation::Remove),
                2 => json_value().prop_map(Mutation::Replace),
            ]
        }

        proptest! {
            #[test]
            fn arbitrary_json_never_panics_item_ack_or_event_decoding(value in json_value()) {
                if let Err(why) = SyncItem::parse(&value) {
                    prop_assert!(!why.contains(SECRET), "{}", why);
                }
                let _ = interpret_ack(Some(value.clone()));
                let packet = Packet {
                    kind: PacketType::Event,
                    namespace: "/".to_owned(),
                    ack_id: None,
                    data: Some(value),
                };
                let (name, arg) = event_parts(&packet);
                if let Some(Value::Array(args)) = &packet.data {
                    prop_assert_eq!(name.as_deref(), args.first().and_then(Value::as_str));
                    prop_assert_eq!(arg.as_ref(), args.get(1));
                } else {
                    prop_assert_eq!((name, arg), (None, None));
                }
            }

            #[test]
            fn mutated_sync_items_parse_to_the_right_value_or_a_message_without_data(
                cursor in any::<u64>(),
                data_key in ".{0,2000}",
                mutations in prop::collection::vec(mutation(), 6),
            ) {
                let names = ["type", "cursor", "action", "data_type", "data_key", "data"];
                let mut item = json!({
                    "type": "project",
                    "cursor": cursor,
                    "action": "update",
                    "data_type": "records",
                    "data_key": data_key,
                    "data": {"secret": SECRET},
                });
                let object = item.as_object_mut().expect("object");
                for (name, m) in names.iter().zip(&mutations) {
                    match m {
                        Mutation::Keep => {}
                        Mutation::Remove => {
                            object.remove(*name);
                        }
                        Mutation::Replace(v) => {
                            object.insert((*name).to_owned(), v.clone());
                        }
                    }
                }
                let text = |name: &str| match object.get(name) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                let expected_cursor = match object.get("cursor") {
                    Some(Value::Number(n)) => n.as_u64(),
                    Some(Value::String(s)) => s.parse::<u64>().ok(),
                    _ => None,
                };
                let expected = (|| {
                    Some((
                        text("type")?,
                        expected_cursor?,
                        text("action")?.to_ascii_uppercase(),
                        text("data_type")?,
                        text("data_key")?,
                        object.get("data").cloned().filter(|d| !d.is_null()),
                    ))
                })();
                match (SyncItem::parse(&item), expected) {
                    (Ok(parsed), Some(expected)) => prop_assert_eq!(
                        (
                            parsed.stream,
                            parsed.cursor,
                            parsed.action,
                            parsed.data_type,
                            parsed.data_key,
                            parsed.data,
                        ),
                        expected
                    ),
                    (Err(why), None) => prop_assert!(!why.contains(SECRET), "{}", why),
                    (got, expected) => prop_assert!(
                        false,
                        "parse gave {:?}, expected {:?}",
                        got.map(|i| i.cursor),
                        expected
                    ),
                }
            }

            #[test]
            fn string_cursors_parse_exactly_or_are_rejected(cursor in "[0-9+-]{0,30}") {
                let item = json!({"type": "cc", "cursor": cursor, "action": "DELETE",
                    "data_type": "cc.users", "data_key": "k"});
                match (SyncItem::parse(&item), cursor.parse::<u64>()) {
                    (Ok(parsed), Ok(c)) => prop_assert_eq!(parsed.cursor, c),
                    (Err(_), Err(_)) => {}
                    (got, want) => prop_assert!(false, "{:?} vs {:?}", got.map(|i| i.cursor), want),
                }
            }

            #[test]
            fn acks_with_cursor_expired_and_sync_lists_are_told_apart(
                items in prop::collection::vec(json_value(), 0..4),
                expired in any::<bool>(),
                extra in json_value(),
            ) {
                let first = if expired {
                    json!({"error": "cursor_expired", "sync": items.clone(), "x": extra})
                } else {
                    json!({"sync": items.clone(), "x": extra})
                };
                match interpret_ack(Some(first)) {
                    AckOutcome::Expired => prop_assert!(expired),
                    AckOutcome::Items(got) => {
                        prop_assert!(!expired);
                        prop_assert_eq!(got, Value::Array(items));
                    }
                }
            }
        }
    }
}
