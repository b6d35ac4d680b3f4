//! The Socket.IO source against a real Socket.IO server: python-socketio (PyPI) serving
//! tests/sync_server.py, a small Sync API shaped like the seed's.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use common::SyncServer;
use evo_sync::socketio::{
    RotatingToken, SnapshotItem, SnapshotLoader, SocketIoSource, SocketIoSourceBuilder, SyncKey,
    SyncSnapshot, Token, TokenProvider,
};
use evo_sync::{
    BackoffPolicy, Cursors, Error, Live, LiveOptions, Notice, ResetReason, Snapshot, Status,
    Subscription, Update,
};
use serde_json::{Value, json};

type SyncLive = Live<SyncKey, Value>;

/// Loads the server's full state from GET /sync/snapshot and counts the loads.
struct HttpLoader {
    port: Arc<std::sync::Mutex<u16>>,
    loads: Arc<AtomicUsize>,
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

struct Harness {
    server: SyncServer,
    live: SyncLive,
    tokens: RotatingToken,
    loads: Arc<AtomicUsize>,
}

fn fast_backoff() -> LiveOptions {
    LiveOptions {
        backoff: BackoffPolicy {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(400),
            reset_after: Duration::from_secs(60),
        },
        ..LiveOptions::default()
    }
}

async fn start_with(server: SyncServer, token: &str) -> Harness {
    let base = server.base_url();
    start_configured(server, token, &base, |b| b).await
}

async fn start_configured(
    server: SyncServer,
    token: &str,
    base_url: &str,
    configure: impl FnOnce(SocketIoSourceBuilder) -> SocketIoSourceBuilder,
) -> Harness {
    let tokens = RotatingToken::new(Token::new(token));
    let loads = Arc::new(AtomicUsize::new(0));
    let loader = HttpLoader {
        port: Arc::new(std::sync::Mutex::new(server.control_port)),
        loads: loads.clone(),
    };
    let builder = SocketIoSource::builder(base_url, "p1")
        .token_provider(Arc::new(tokens.clone()))
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

async fn start(extra: &[&str]) -> Harness {
    start_with(SyncServer::start(None, extra).await, "token-1").await
}

fn contents(snapshot: &Snapshot<SyncKey, Value>) -> BTreeMap<SyncKey, Value> {
    snapshot
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

async fn server_state(server: &SyncServer) -> (BTreeMap<SyncKey, Value>, Cursors) {
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
async fn converge(h: &Harness) {
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
async fn updates_until(
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

async fn wait_status(h: &Harness, wanted: impl Fn(&Status) -> bool) {
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

fn record(name: &str, n: u64) -> Value {
    json!({"name": name, "n": n})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_up_then_follows_live_inserts_updates_and_deletes() {
    let server = SyncServer::start(None, &[]).await;
    server
        .change("project", "INSERT", "records", "r1", record("a", 1), false)
        .await;
    server
        .change(
            "cc",
            "INSERT",
            "cc.users",
            "u1",
            json!({"name": "ann"}),
            false,
        )
        .await;
    let h = start_with(server, "token-1").await;
    converge(&h).await;
    assert_eq!(h.live.snapshot().resets(), 1, "exactly the initial load");

    h.server
        .change("project", "UPDATE", "records", "r1", record("a", 2), true)
        .await;
    h.server
        .change("project", "INSERT", "records", "r2", record("b", 1), true)
        .await;
    h.server
        .change("cc", "DELETE", "cc.users", "u1", Value::Null, true)
        .await;
    converge(&h).await;
    let snapshot = h.live.snapshot();
    assert_eq!(
        snapshot.get(&SyncKey::new("records", "r1")),
        Some(&record("a", 2))
    );
    assert!(!snapshot.contains(&SyncKey::new("cc.users", "u1")));
    assert_eq!(h.loads.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_mid_stream_resumes_from_the_applied_cursor() {
    let h = start(&[]).await;
    converge(&h).await;
    // Three items arrive live; three more are written but never delivered on this connection.
    for n in 1..=3 {
        h.server
            .change(
                "project",
                "INSERT",
                "records",
                &format!("r{n}"),
                record("x", n),
                true,
            )
            .await;
    }
    let delivered = h.server.get("/sync/snapshot").await["cursors"]["project"]
        .as_u64()
        .expect("cursor");
    h.live
        .wait_for_cursor("project", delivered)
        .await
        .expect("live items applied");
    for n in 4..=6 {
        h.server
            .change(
                "project",
                "INSERT",
                "records",
                &format!("r{n}"),
                record("x", n),
                false,
            )
            .await;
    }
    h.server
        .change("project", "DELETE", "records", "r1", Value::Null, false)
        .await;
    h.server.post("/control/disconnect_all", json!({})).await;
    converge(&h).await;

    let stats = h.server.get("/control/stats").await;
    let initsyncs = stats["initsyncs"].as_array().expect("initsyncs");
    assert!(
        initsyncs.len() >= 2,
        "the client did not reconnect: {stats}"
    );
    let last = initsyncs.last().expect("one");
    assert_eq!(
        last["cursor"].as_u64(),
        Some(delivered),
        "resume must start at the applied cursor"
    );
    assert_eq!(last["project"], "p1");
    assert_eq!(
        h.live.snapshot().resets(),
        1,
        "a resume must not cause a resync"
    );
    assert_eq!(h.loads.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_with_the_same_log_resumes_without_a_reset() {
    let dir = std::env::temp_dir().join(format!("evo-sync-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let state = dir.join("same-log.json");
    let _ = std::fs::remove_file(&state);
    let server = SyncServer::start(Some(state.clone()), &[]).await;
    server
        .change("project", "INSERT", "records", "r1", record("a", 1), false)
        .await;
    let mut h = start_with(server, "token-1").await;
    converge(&h).await;

    h.server.restart(false).await;
    h.server
        .change("project", "INSERT", "records", "r2", record("b", 1), true)
        .await;
    h.server
        .change("project", "UPDATE", "records", "r1", record("a", 2), true)
        .await;
    converge(&h).await;
    assert!(h.server.get("/control/stats").await["connects"].as_u64() >= Some(1));
    assert_eq!(h.live.snapshot().resets(), 1, "same log: no resync");
    let _ = std::fs::remove_file(&state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_with_a_fresh_log_forces_a_full_resync() {
    let dir = std::env::temp_dir().join(format!("evo-sync-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let state = dir.join("fresh-log.json");
    let _ = std::fs::remove_file(&state);
    let server = SyncServer::start(Some(state.clone()), &[]).await;
    for n in 1..=4 {
        server
            .change(
                "project",
                "INSERT",
                "records",
                &format!("r{n}"),
                record("old", n),
                false,
            )
            .await;
    }
    let mut h = start_with(server, "token-1").await;
    converge(&h).await;
    let (_, mut updates) = h.live.subscribe_with_snapshot();

    h.server.restart(true).await;
    h.server
        .change(
            "project",
            "INSERT",
            "records",
            "new",
            record("fresh", 1),
            false,
        )
        .await;
    converge(&h).await;
    let snapshot = h.live.snapshot();
    assert_eq!(
        snapshot.len(),
        1,
        "items of the old log must be gone: {:?}",
        contents(&snapshot)
    );
    assert_eq!(snapshot.resets(), 2);
    let resets: Vec<_> = updates_until(&mut updates, |u| matches!(u, Update::Reset { .. }))
        .await
        .into_iter()
        .filter_map(|u| match u {
            Update::Reset { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(resets, vec![ResetReason::CursorExpired]);
    let _ = std::fs::remove_file(&state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_out_of_order_unknown_and_malformed_items_are_harmless() {
    let h = start(&[]).await;
    converge(&h).await;
    let (_, mut updates) = h.live.subscribe_with_snapshot();
    let v1 = h
        .server
        .change("project", "INSERT", "records", "a", record("a", 1), false)
        .await;
    let v2 = h
        .server
        .change("project", "UPDATE", "records", "a", record("a", 2), false)
        .await;
    let b = h
        .server
        .change("project", "INSERT", "records", "b", record("b", 1), false)
        .await;
    let unknown = json!({"type": "project", "cursor": 99, "action": "INSERT", "data_type": "holograms", "data_key": "h", "data": {}});
    let malformed = json!({"type": "project", "action": "INSERT"});
    let items = json!([v2, v1, b, v2, unknown, malformed, v1, b]);
    h.server
        .post("/control/emit_raw", json!({"items": items}))
        .await;
    // The unknown type's cursor (99) is past the server's head; the replica still follows it.
    h.live
        .wait_for_cursor("project", 99)
        .await
        .expect("cursor advanced past the unknown item");
    let snapshot = h.live.snapshot();
    assert_eq!(
        snapshot.get(&SyncKey::new("records", "a")),
        Some(&record("a", 2))
    );
    assert_eq!(
        snapshot.get(&SyncKey::new("records", "b")),
        Some(&record("b", 1))
    );
    assert!(!snapshot.contains(&SyncKey::new("holograms", "h")));
    let upserts: Vec<_> = updates_until(
        &mut updates,
        |u| matches!(u, Update::Upserted { key, .. } if key.data_key == "b"),
    )
    .await
    .into_iter()
    .filter_map(|u| match u {
        Update::Upserted { key, value, .. } => Some((key.data_key, (*value).clone())),
        _ => None,
    })
    .collect();
    // Each change is applied once and the stale v1 never after v2. (Under load a reconnect's
    // catch-up may legitimately deliver v1 before v2; it must not come after it.)
    let count = |key: &str, value: Value| {
        upserts
            .iter()
            .filter(|(k, v)| k == key && *v == value)
            .count()
    };
    assert_eq!(count("a", record("a", 2)), 1, "{upserts:?}");
    assert_eq!(count("b", record("b", 1)), 1, "{upserts:?}");
    let newest_a = upserts.iter().rposition(|(k, _)| k == "a");
    assert_eq!(
        newest_a.map(|i| &upserts[i].1),
        Some(&record("a", 2)),
        "the stale v1 never after v2: {upserts:?}"
    );
    assert!(count("a", record("a", 1)) <= 1, "{upserts:?}");
    // The same items again, later: nothing changes.
    h.server
        .post("/control/emit_raw", json!({"items": [v1, v2, b]}))
        .await;
    h.server
        .change("project", "INSERT", "records", "c", record("c", 1), true)
        .await;
    h.live
        .wait_for(|s| s.contains(&SyncKey::new("records", "c")))
        .await
        .expect("c");
    let later: Vec<_> = updates_until(
        &mut updates,
        |u| matches!(u, Update::Upserted { key, .. } if key.data_key == "c"),
    )
    .await
    .into_iter()
    .filter(|u| matches!(u, Update::Upserted { .. } | Update::Removed { .. }))
    .collect();
    assert_eq!(later.len(), 1, "only c is news: {later:?}");
    assert!(
        matches!(h.live.status(), Status::Connected),
        "sync kept running"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_cursor_forces_a_resync_that_drops_deleted_keys() {
    let server = SyncServer::start(None, &[]).await;
    for n in 1..=3 {
        server
            .change(
                "project",
                "INSERT",
                "records",
                &format!("r{n}"),
                record("x", n),
                false,
            )
            .await;
    }
    let h = start_with(server, "token-1").await;
    converge(&h).await;
    let (_, mut updates) = h.live.subscribe_with_snapshot();
    // While the client misses them, changes happen and the log is compacted past its cursor.
    h.server
        .change("project", "DELETE", "records", "r2", Value::Null, false)
        .await;
    h.server
        .change("project", "UPDATE", "records", "r3", record("y", 3), false)
        .await;
    h.server.post("/control/compact", json!({})).await;
    h.server.post("/control/disconnect_all", json!({})).await;
    converge(&h).await;
    assert!(!h.live.snapshot().contains(&SyncKey::new("records", "r2")));
    assert_eq!(h.live.snapshot().resets(), 2);
    assert_eq!(h.loads.load(Ordering::SeqCst), 2);
    let reasons: Vec<_> = updates_until(&mut updates, |u| matches!(u, Update::Reset { .. }))
        .await
        .into_iter()
        .filter_map(|u| match u {
            Update::Reset { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, vec![ResetReason::CursorExpired]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_event_causes_exactly_one_resync_even_when_replayed() {
    let server = SyncServer::start(None, &[]).await;
    server
        .change(
            "project",
            "INSERT",
            "records",
            "kept",
            record("k", 1),
            false,
        )
        .await;
    let h = start_with(server, "token-1").await;
    converge(&h).await;
    h.server.post("/control/backup", json!({})).await;
    h.server
        .change(
            "project",
            "INSERT",
            "records",
            "after-backup",
            record("z", 1),
            true,
        )
        .await;
    h.server
        .change("project", "UPDATE", "records", "kept", record("k", 2), true)
        .await;
    converge(&h).await;
    let (_, mut updates) = h.live.subscribe_with_snapshot();

    let job = h.server.post("/control/restore", json!({})).await;
    converge(&h).await;
    let snapshot = h.live.snapshot();
    assert_eq!(
        snapshot.get(&SyncKey::new("records", "kept")),
        Some(&record("k", 1))
    );
    assert!(!snapshot.contains(&SyncKey::new("records", "after-backup")));
    assert_eq!(h.loads.load(Ordering::SeqCst), 2);

    // The same job event replayed: no second resync.
    h.server
        .post("/control/emit_raw", json!({"items": [job]}))
        .await;
    h.server
        .change(
            "project",
            "INSERT",
            "records",
            "marker",
            record("m", 1),
            true,
        )
        .await;
    h.live
        .wait_for(|s| s.contains(&SyncKey::new("records", "marker")))
        .await
        .expect("marker");
    assert_eq!(
        h.loads.load(Ordering::SeqCst),
        2,
        "a replayed restore must not resync again"
    );
    let updates = updates_until(
        &mut updates,
        |u| matches!(u, Update::Upserted { key, .. } if key.data_key == "marker"),
    )
    .await;
    let jobs: Vec<_> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Notice(Notice::Job { name, status, .. }) => {
                Some((name.clone(), status.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        jobs,
        vec![("restore_project".to_owned(), "done".to_owned())]
    );
    let resets = updates
        .iter()
        .filter(|u| {
            matches!(
                u,
                Update::Reset {
                    reason: ResetReason::Restored,
                    ..
                }
            )
        })
        .count();
    assert_eq!(resets, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rotated_by_an_authorization_event_is_used_on_the_next_reconnect() {
    let h = start(&[]).await;
    converge(&h).await;
    h.server
        .post("/control/rotate", json!({"token": "token-2"}))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while h.tokens.current().expose() != "token-2" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the authorization event was not applied"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The old token is no longer accepted; the reconnect must present the new one.
    h.server.post("/control/disconnect_all", json!({})).await;
    h.server
        .change(
            "project",
            "INSERT",
            "records",
            "after",
            record("a", 1),
            false,
        )
        .await;
    converge(&h).await;
    let stats = h.server.get("/control/stats").await;
    let seen: Vec<&str> = stats["seen_tokens"]
        .as_array()
        .expect("seen")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(seen, vec!["token-1", "token-2"], "{stats}");
    assert_eq!(stats["rejected"], 0);
    // Every WebSocket upgrade named the SDK.
    assert_eq!(
        stats["user_agents"],
        json!([evo_core::DEFAULT_USER_AGENT, evo_core::DEFAULT_USER_AGENT]),
        "{stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_retried_with_whatever_the_provider_returns_next() {
    let server = SyncServer::start(None, &[]).await;
    server
        .change("project", "INSERT", "records", "r", record("r", 1), false)
        .await;
    let h = start_with(server, "wrong").await;
    wait_status(
        &h,
        |s| matches!(s, Status::Disconnected { reason } if reason.contains("invalid token")),
    )
    .await;
    assert!(!h.live.snapshot().is_ready());
    h.tokens.rotate(Token::new("token-1"));
    converge(&h).await;
    let stats = h.server.get("/control/stats").await;
    assert!(stats["rejected"].as_u64() >= Some(1));
    assert_eq!(
        stats["seen_tokens"].as_array().and_then(|s| s.last()),
        Some(&json!("token-1"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_version_change_is_announced_once() {
    let h = start(&[]).await;
    converge(&h).await;
    let (_, mut updates) = h.live.subscribe_with_snapshot();
    h.server
        .change(
            "cc",
            "UPDATE",
            "cc.version",
            "2026.07.001",
            json!(null),
            true,
        )
        .await;
    h.server.post("/control/emit_raw", json!({"items": [{"type": "cc", "cursor": 1, "action": "UPDATE", "data_type": "cc.version", "data_key": "2026.07.001"}]})).await;
    h.server
        .change(
            "cc",
            "UPDATE",
            "cc.version",
            "2026.08.001",
            json!(null),
            true,
        )
        .await;
    converge(&h).await;
    let versions: Vec<_> = updates_until(&mut updates, |u| matches!(u, Update::Notice(Notice::ServerVersion { current, .. }) if current == "2026.08.001")).await
        .into_iter()
        .filter_map(|u| match u {
            Update::Notice(Notice::ServerVersion { previous, current }) => {
                Some((previous, current))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        versions,
        vec![
            (None, "2026.07.001".to_owned()),
            (Some("2026.07.001".to_owned()), "2026.08.001".to_owned())
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_connection_is_detected_by_the_missing_heartbeat() {
    let h = start(&["--ping-interval", "1", "--ping-timeout", "1"]).await;
    converge(&h).await;
    let pid = h.server.pid().to_string();
    // Freeze the server: the TCP connection stays open but no ping arrives any more.
    let stopped = std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .expect("kill");
    assert!(stopped.success());
    wait_status(
        &h,
        |s| matches!(s, Status::Disconnected { reason } if reason.contains("heartbeat")),
    )
    .await;
    let resumed = std::process::Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .expect("kill");
    assert!(resumed.success());
    h.server
        .change(
            "project",
            "INSERT",
            "records",
            "later",
            record("l", 1),
            true,
        )
        .await;
    converge(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_over_tls_only_with_a_trusted_certificate() {
    let dir = std::env::temp_dir().join(format!("evo-sync-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("certificate");
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, cert.pem()).expect("cert");
    std::fs::write(&key_file, signing_key.serialize_pem()).expect("key");
    let server = SyncServer::start(
        None,
        &[
            "--certfile",
            cert_file.to_str().expect("utf-8 path"),
            "--keyfile",
            key_file.to_str().expect("utf-8 path"),
        ],
    )
    .await;
    assert_ne!(server.port, server.control_port);
    server
        .change(
            "project",
            "INSERT",
            "records",
            "r1",
            record("tls", 1),
            false,
        )
        .await;
    let https = format!("https://127.0.0.1:{}", server.port);

    // Without trusting the certificate, the connection is refused by the client.
    let untrusted = SocketIoSource::builder(&https, "p1")
        .token_provider(Arc::new(RotatingToken::new(Token::new("token-1"))))
        .build()
        .expect("source");
    let untrusted = Live::start(untrusted, fast_backoff());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Status::Disconnected { reason } = untrusted.status() {
            assert!(reason.to_lowercase().contains("certificate"), "{reason}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no TLS failure reported"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!untrusted.snapshot().is_ready());
    untrusted.stop().await;

    let pem = cert.pem();
    let h = start_configured(server, "token-1", &https, |b| {
        b.trust_root_certificates_pem(pem)
    })
    .await;
    converge(&h).await;
    h.server
        .change("project", "UPDATE", "records", "r1", record("tls", 2), true)
        .await;
    converge(&h).await;
    let _ = std::fs::remove_dir_all(&dir);
}
