//! Property test of the Socket.IO source against the real python-socketio server: random
//! interleavings of live and missed changes, duplicate replays, disconnects, log compactions
//! and server restarts. After every step the applied cursors never moved back; after the last
//! step (quiesced with one more reconnect) the replica equals the server's state.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::SyncServer;
use evo_core::RotatingTokenAuthorizer;
use evo_sync::socketio::{SnapshotItem, SnapshotLoader, SocketIoSource, SyncKey, SyncSnapshot};
use evo_sync::{BackoffPolicy, Cursors, Error, Live, LiveOptions};
use proptest::prelude::*;
use serde_json::{Value, json};

struct Loader(u16);

#[async_trait]
impl SnapshotLoader for Loader {
    async fn load(&self) -> Result<SyncSnapshot, Error> {
        let body = common::http(self.0, "GET", "/sync/snapshot", None).await;
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

#[derive(Clone, Debug)]
enum Step {
    /// Insert or update record `key`, delivered live, or missed: written while the client is
    /// being disconnected. (Socket.IO never drops an event inside a connection, and a client
    /// cannot tell a dropped event from one filtered for another user, so "missed" only ever
    /// happens across a disconnect.)
    Put {
        key: u8,
        value: u16,
        live: bool,
    },
    Delete {
        key: u8,
        live: bool,
    },
    /// Re-send the last `n` log items, reversed, twice.
    Replay(usize),
    Disconnect,
    Compact,
    Restart,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u8..5, any::<u16>(), any::<bool>()).prop_map(|(key, value, live)| Step::Put { key, value, live }),
        3 => (0u8..5, any::<bool>()).prop_map(|(key, live)| Step::Delete { key, live }),
        2 => (1usize..5).prop_map(Step::Replay),
        2 => Just(Step::Disconnect),
        1 => Just(Step::Compact),
        1 => Just(Step::Restart),
    ]
}

async fn server_items(server: &SyncServer) -> BTreeMap<SyncKey, Value> {
    let body = server.get("/sync/snapshot").await;
    body["items"]
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
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn replica_equals_server_after_random_interleavings(steps in prop::collection::vec(step(), 1..14)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        rt.block_on(async {
            let dir = std::env::temp_dir().join(format!("evo-sync-props-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let state = dir.join(format!("{}.json", fastrand_name()));
            let mut server = SyncServer::start(Some(state.clone()), &[]).await;
            let source = SocketIoSource::builder(server.base_url(), "p1")
                .authorizer(Arc::new(RotatingTokenAuthorizer::new("token-1")))
                .snapshot_loader(Arc::new(Loader(server.control_port)))
                .build()
                .expect("source");
            let options = LiveOptions {
                backoff: BackoffPolicy {
                    initial: Duration::from_millis(20),
                    max: Duration::from_millis(200),
                    reset_after: Duration::from_secs(60),
                },
                ..LiveOptions::default()
            };
            let live = Live::start(source, options);
            tokio::time::timeout(Duration::from_secs(30), live.wait_until_ready())
                .await
                .expect("ready within 30 s")
                .expect("writer alive");
            let mut log: Vec<Value> = Vec::new();
            let mut last = Cursors::new();
            for step in &steps {
                match step {
                    Step::Put { key, value, live: emit } => {
                        let item = server.change("project", "UPDATE", "records", &format!("k{key}"), json!({"v": value}), *emit).await;
                        log.push(item);
                        if !*emit {
                            server.post("/control/disconnect_all", json!({})).await;
                        }
                    }
                    Step::Delete { key, live: emit } => {
                        let item = server.change("project", "DELETE", "records", &format!("k{key}"), Value::Null, *emit).await;
                        log.push(item);
                        if !*emit {
                            server.post("/control/disconnect_all", json!({})).await;
                        }
                    }
                    Step::Replay(n) => {
                        let mut items: Vec<Value> = log.iter().rev().take(*n).cloned().collect();
                        items.extend(items.clone());
                        server.post("/control/emit_raw", json!({"items": items})).await;
                    }
                    Step::Disconnect => { server.post("/control/disconnect_all", json!({})).await; }
                    Step::Compact => { server.post("/control/compact", json!({})).await; }
                    Step::Restart => server.restart(false).await,
                }
                // Cursors never move backwards (no step here starts a fresh log).
                tokio::time::sleep(Duration::from_millis(5)).await;
                let now = live.cursors();
                prop_assert!(now.covers(&last), "cursors moved back from {:?} to {:?}", last, now);
                last = now;
            }
            // Quiesce: one more reconnect delivers whatever was missed.
            server.post("/control/disconnect_all", json!({})).await;
            let expected = server_items(&server).await;
            let converged = tokio::time::timeout(
                Duration::from_secs(30),
                live.wait_for(|s| s.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<BTreeMap<_, _>>() == expected),
            )
            .await;
            prop_assert!(converged.is_ok(), "replica {:?} != server {:?}", live.snapshot().iter().collect::<Vec<_>>(), expected);
            let _ = std::fs::remove_file(&state);
            Ok(())
        })?;
    }
}

/// A file name unique within this process.
fn fastrand_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("case-{}", NEXT.fetch_add(1, Ordering::SeqCst))
}
