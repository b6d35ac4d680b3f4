//! The harness of the Socket.IO tests: a live view on a python-socketio server, its snapshot
//! loader, and waiting for it to converge, update or reach a status.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use common::SyncServer;
use evo_core::RotatingTokenAuthorizer;
use evo_sync::socketio::{
    SnapshotItem, SnapshotLoader, SocketIoSource, SocketIoSourceBuilder, SyncKey, SyncSnapshot,
};
use evo_sync::{
    BackoffPolicy, Cursors, Error, Live, LiveOptions, Snapshot, Status, Subscription, Update,
};
use serde_json::{Value, json};

pub type SyncLive = Live<SyncKey, Value>;

/// Loads the server's full state from GET /sync/snapshot and counts the loads.
pub struct HttpLoader {
    pub port: Arc<std::sync::Mutex<u16>>,
    pub loads: Arc<AtomicUsize>,
}

#[async_trait]
impl SnapshotLoader for HttpLoader {
    async fn load(&self) -> Result<SyncSnapshot, Error> {
        let port = *self.port.lock().expect("port");
        let body = common::http(port, "GET", "/sync/snapshot", None).await;
        self.loads.fetch_add(1, Ordering::SeqCst);
        let mut cursors = Cursors::new();
        for (stream, cursor) in body["cursors"].as_object().expect("cursors") {
            cursors.advance(stream.clone(), cursor.as_u64().expect("cursor"));
        }
        let items = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| SnapshotItem {
                stream: i["stream"].as_str().expect("stream").to_owned(),
                key: SyncKey::new(
                    i["data_type"].as_str().expect("type"),
                    i["data_key"].as_str().expect("key"),
                ),
                data: i["data"].clone(),
            })
            .collect();
        Ok(SyncSnapshot { items, cursors })
    }
}

pub struct Harness {
    pub server: SyncServer,
    pub live: SyncLive,
    pub tokens: RotatingTokenAuthorizer,
    pub loads: Arc<AtomicUsize>,
}

pub fn fast_backoff() -> LiveOptions {
    LiveOptions {
        backoff: BackoffPolicy {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(400),
            reset_after: Duration::from_secs(60),
        },
        ..LiveOptions::default()
    }
}

pub async fn start_with(server: SyncServer, token: &str) -> Harness {
    let base = server.base_url();
    start_configured(server, token, &base, |b| b).await
}

pub async fn start_configured(
    server: SyncServer,
    token: &str,
    base_url: &str,
    configure: impl FnOnce(SocketIoSourceBuilder) -> SocketIoSourceBuilder,
) -> Harness {
    let tokens = RotatingTokenAuthorizer::new(token);
    let loads = Arc::new(AtomicUsize::new(0));
    let loader = HttpLoader {
        port: Arc::new(std::sync::Mutex::new(server.control_port)),
        loads: loads.clone(),
    };
    let builder = SocketIoSource::builder(base_url, "p1")
        .authorizer(Arc::new(tokens.clone()))
        .snapshot_loader(Arc::new(loader))
        .ack_timeout(Duration::from_secs(10));
    let source = configure(builder).build().expect("source");
    let live = Live::start(source, fast_backoff());
    Harness {
        server,
        live,
        tokens,
        loads,
    }
}

pub async fn start(extra: &[&str]) -> Harness {
    start_with(SyncServer::start(None, extra).await, "token-1").await
}

pub fn contents(snapshot: &Snapshot<SyncKey, Value>) -> BTreeMap<SyncKey, Value> {
    snapshot
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub async fn server_state(server: &SyncServer) -> (BTreeMap<SyncKey, Value>, Cursors) {
    let body = server.get("/sync/snapshot").await;
    let items = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                SyncKey::new(
                    i["data_type"].as_str().expect("type"),
                    i["data_key"].as_str().expect("key"),
                ),
                i["data"].clone(),
            )
        })
        .collect();
    let cursors = Cursors::new()
        .with("cc", body["cursors"]["cc"].as_u64().expect("cc"))
        .with(
            "project",
            body["cursors"]["project"].as_u64().expect("project"),
        );
    (items, cursors)
}

/// Waits until the replica equals the server's state (items and cursors), or fails with both.
pub async fn converge(h: &Harness) {
    let (expected, cursors) = server_state(&h.server).await;
    let reached = tokio::time::timeout(
        Duration::from_secs(30),
        h.live
            .wait_for(|s| contents(s) == expected && s.cursors() == &cursors && s.is_ready()),
    )
    .await;
    if reached.is_err() {
        let snapshot = h.live.snapshot();
        panic!(
            "replica did not converge:\n replica {:?} at {:?}\n server  {:?} at {:?}\n status {:?}",
            contents(&snapshot),
            snapshot.cursors(),
            expected,
            cursors,
            h.live.status()
        );
    }
}

/// Receives updates until one satisfies `last` and returns all of them, `last` included.
///
/// Waiting (rather than draining what is queued) matters: the replica publishes a new state
/// before it broadcasts the update, so a test that saw the state may not see the update yet.
pub async fn updates_until(
    updates: &mut Subscription<SyncKey, Value>,
    last: impl Fn(&Update<SyncKey, Value>) -> bool,
) -> Vec<Update<SyncKey, Value>> {
    let mut out = Vec::new();
    loop {
        let update = tokio::time::timeout(Duration::from_secs(30), updates.recv())
            .await
            .unwrap_or_else(|_| panic!("the expected update never came; got {out:?}"))
            .expect("the replica's writer is gone");
        let done = last(&update);
        out.push(update);
        if done {
            return out;
        }
    }
}

pub async fn wait_status(h: &Harness, wanted: impl Fn(&Status) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !wanted(&h.live.status()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "status stayed {:?}",
            h.live.status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn record(name: &str, n: u64) -> Value {
    json!({"name": name, "n": n})
}
