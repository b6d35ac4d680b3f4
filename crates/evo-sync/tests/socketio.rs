//! The Socket.IO source against a real Socket.IO server (python-socketio (PyPI) serving
//! tests/sync_server.py, a small Sync API shaped like the seed's): catching up and following,
//! resuming after disconnects and restarts, harmless bad items, and resyncs.

use crate::common;

use std::sync::atomic::Ordering;

use common::SyncServer;
use evo_sync::socketio::SyncKey;
use evo_sync::{Notice, ResetReason, Status, Update};
use serde_json::{Value, json};

use crate::socketio_harness::*;

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
