//! Auto-updating against the Unicat emulator: Socket.IO sync (socketioxide) and REST catch-up.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use unicat::{ChangeEvent, DataType, Subscription, SyncHandle, SyncOptions, UnicatClient};
use unicat_emulator::{DEMO_API_KEY, DEMO_RECORD, UnicatEmulator};

fn options() -> SyncOptions {
    SyncOptions {
        backoff: evo_sync::BackoffPolicy {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            reset_after: Duration::from_secs(60),
        },
        ack_timeout: Duration::from_secs(10),
        ..SyncOptions::default()
    }
}

async fn connected(emulator: &UnicatEmulator) -> (UnicatClient, SyncHandle, Subscription) {
    let client = UnicatClient::builder(emulator.base_url().parse().unwrap(), emulator.project())
        .transport(Arc::new(evo_hyper::HyperTransport::new()))
        .build()
        .unwrap();
    client.connect(DEMO_API_KEY).await.unwrap();
    client
        .call("/records/get", json!({"record": DEMO_RECORD}))
        .await
        .unwrap();
    let events = client.subscribe();
    let sync = client.start_sync(options()).unwrap();
    assert!(
        sync.wait_connected(Duration::from_secs(20)).await,
        "{:?}",
        sync.status()
    );
    (client, sync, events)
}

/// Receives events until one matches; fails after 20 s with what came.
async fn until(
    events: &mut Subscription,
    wanted: impl Fn(&ChangeEvent) -> bool,
) -> Vec<ChangeEvent> {
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .unwrap_or_else(|_| panic!("the expected event never came; got {seen:?}"))
            .expect("client gone");
        let done = wanted(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn name_of(record: &Value) -> Value {
    record["fields"]["en"]["name"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_without_data_are_fetched_by_the_rules() {
    let emulator = UnicatEmulator::start().await.unwrap();
    let (client, _sync, mut events) = connected(&emulator).await;
    let gets = |e: &UnicatEmulator| e.stats().count("/records/get");
    let before = gets(&emulator);

    // UPDATE of a record the stores hold: fetched, reported.
    emulator
        .update_record(DEMO_RECORD, json!({"en": {"name": "Changed"}}))
        .await
        .unwrap();
    until(&mut events, |e| matches!(e, ChangeEvent::RecordChanged { gid, record } if gid == DEMO_RECORD && name_of(record) == "Changed")).await;
    assert_eq!(
        client.record(DEMO_RECORD).map(|r| name_of(&r)),
        Some(json!("Changed"))
    );
    assert_eq!(gets(&emulator), before + 1);

    // INSERT and UPDATE of a record the stores do not hold: not fetched.
    emulator
        .put(
            "records",
            "rec-other",
            json!({"gid": "rec-other", "fields": {"en": {"name": "x"}}}),
        )
        .await;
    emulator
        .update_record("rec-other", json!({"en": {"name": "y"}}))
        .await
        .unwrap();
    // INSERT of schema data: fetched.
    emulator
        .put(
            "fields",
            "f-price",
            json!({"gid": "f-price", "name": "price", "type": "number"}),
        )
        .await;
    until(&mut events, |e| matches!(e, ChangeEvent::SchemaChanged { data_type: DataType::Fields, key } if key == "f-price")).await;
    assert_eq!(
        gets(&emulator),
        before + 1,
        "records not held are not fetched"
    );
    assert!(client.record("rec-other").is_none());
    assert_eq!(emulator.stats().count("/fields/get"), 1);

    // A member of another project: not fetched; of ours: fetched through //members/get.
    emulator
        .put(
            "cc.projects_members",
            "p-other/u-x",
            json!({"project_gid": "p-other", "user_gid": "u-x"}),
        )
        .await;
    emulator
        .put(
            "cc.projects_members",
            "p-demo/u-new",
            json!({"project_gid": "p-demo", "user_gid": "u-new", "status": "invited"}),
        )
        .await;
    until(&mut events, |e| matches!(e, ChangeEvent::Changed { data_type: DataType::ProjectMembers, key } if key == "p-demo/u-new")).await;
    assert_eq!(emulator.stats().count("//members/get"), 1);
    assert!(client.with_stores(|s| s.project_member("p-demo", "u-new").is_some()));

    // DELETE: fetched first (race guard), then dropped.
    emulator.delete("records", DEMO_RECORD).await.unwrap();
    until(&mut events, |e| matches!(e, ChangeEvent::Deleted { data_type: DataType::Records, key } if key == DEMO_RECORD)).await;
    assert!(client.record(DEMO_RECORD).is_none());
    assert_eq!(gets(&emulator), before + 2);
    let (cc, project) = emulator.heads();
    wait_for("the cursors to reach the heads", || {
        client.cursors().cc == cc && client.cursors().project == project
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_unknown_and_malformed_items_are_skipped_without_a_fetch() {
    let emulator = UnicatEmulator::start().await.unwrap();
    let (client, _sync, mut events) = connected(&emulator).await;
    let gets = emulator.stats().count("/records/get");
    let applied = client.cursors().project;
    emulator
        .push_raw(json!([
            {"type": "p-demo", "cursor": applied, "action": "UPDATE", "data_type": "records", "data_key": DEMO_RECORD},
            {"type": "p-demo", "cursor": 1, "action": "DELETE", "data_type": "records", "data_key": DEMO_RECORD},
            {"type": "p-demo", "cursor": applied + 1, "action": "UPDATE", "data_type": "holograms", "data_key": "h1"},
            {"type": "p-demo", "action": "UPDATE", "data_type": "records", "data_key": DEMO_RECORD},
            "junk",
            {"type": "p-demo", "cursor": applied + 2, "action": "SHRED", "data_type": "records", "data_key": DEMO_RECORD},
        ]))
        .await;
    emulator.push_raw(json!({"not": "a list"})).await;
    wait_for("the unknown item's cursor", || {
        client.cursors().project == applied + 2
    })
    .await;
    assert_eq!(
        emulator.stats().count("/records/get"),
        gets,
        "lagging and junk items cause no fetch"
    );
    assert!(
        client.record(DEMO_RECORD).is_some(),
        "a lagging DELETE must not drop the record"
    );
    // The sync still works afterwards (the emulator's own cursor is behind the pushed ones,
    // so put the real change past them).
    for _ in 0..3 {
        emulator.put_silently("layouts", "l-pad", json!({"gid": "l-pad"}));
    }
    emulator
        .update_record(DEMO_RECORD, json!({"en": {"name": "after junk"}}))
        .await
        .unwrap();
    until(&mut events, |e| matches!(e, ChangeEvent::RecordChanged { record, .. } if name_of(record) == "after junk")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorization_event_rotates_the_token_for_rest_and_the_next_reconnect() {
    let emulator = UnicatEmulator::start().await.unwrap();
    let (client, _sync, mut events) = connected(&emulator).await;
    let generation = client.authorizer().generation();
    let issued = emulator.rotate_tokens().await;
    let new = issued
        .get("u-demo")
        .expect("a token for the connected user")
        .clone();
    wait_for("the rotation", || {
        client.authorizer().generation() > generation
    })
    .await;
    assert_eq!(client.authorizer().token().unwrap().expose(), new);
    // The old token is revoked: this only succeeds with the rotated one.
    client
        .call("/records/get", json!({"record": DEMO_RECORD}))
        .await
        .unwrap();
    assert_eq!(
        emulator.stats().rest_tokens.last().cloned().flatten(),
        Some(new.clone())
    );
    emulator.disconnect_all().await;
    until(&mut events, |e| matches!(e, ChangeEvent::Reconnected)).await;
    assert_eq!(
        emulator.stats().socket_tokens.last().cloned().flatten(),
        Some(new)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_and_changes_made_meanwhile_are_caught_up_from_the_cursors() {
    let mut emulator = UnicatEmulator::start().await.unwrap();
    let (client, sync, mut events) = connected(&emulator).await;
    emulator.stop().await;
    wait_for("the disconnect", || {
        !matches!(sync.status(), unicat::SyncStatus::Connected)
    })
    .await;
    emulator.put_silently(
        "records",
        DEMO_RECORD,
        json!({"gid": DEMO_RECORD, "fields": {"en": {"name": "while down"}}}),
    );
    emulator.restart().await.unwrap();
    let seen = until(&mut events, |e| matches!(e, ChangeEvent::RecordChanged { record, .. } if name_of(record) == "while down")).await;
    assert!(
        seen.iter().any(|e| matches!(e, ChangeEvent::Reconnected))
            || client.record(DEMO_RECORD).is_some()
    );
    let initsyncs = emulator.stats().initsyncs;
    let last = initsyncs.last().unwrap();
    assert_eq!(last["project"], "p-demo");
    assert!(
        last["cursor"].as_u64().unwrap() > 0,
        "the reconnect resumes from the applied cursor"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_restore_reinitialises_the_stores_once() {
    let emulator = UnicatEmulator::start().await.unwrap();
    let (client, _sync, mut events) = connected(&emulator).await;
    emulator.backup().await;
    emulator
        .put(
            "queries",
            "q-new",
            json!({"gid": "q-new", "name": "new query"}),
        )
        .await;
    until(
        &mut events,
        |e| matches!(e, ChangeEvent::SchemaChanged { key, .. } if key == "q-new"),
    )
    .await;
    assert!(client.with_stores(|s| s.contains(DataType::Queries, "q-new")));
    let inits = emulator.stats().count("/init");
    emulator.restore().await;
    let seen = until(&mut events, |e| matches!(e, ChangeEvent::Reinitialized)).await;
    let statuses: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            ChangeEvent::Job(j) if j.job == "restore_project" => Some(j.status.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, ["queued", "processing", "done"]);
    assert!(
        !client.with_stores(|s| s.contains(DataType::Queries, "q-new")),
        "the restore dropped it"
    );
    assert_eq!(emulator.stats().count("/init"), inits + 1);
    // A replayed "done" does not re-initialise again.
    let done = emulator.stats().initsyncs.len();
    let (cc, _) = emulator.heads();
    emulator
        .push_raw(json!([{"type": "cc", "cursor": cc, "action": "UPDATE", "data_type": "jobs", "data_key": "job-replayed", "data": {"job": "restore_project", "status": "done", "project_gid": "p-demo"}},
                          {"type": "cc", "cursor": cc, "action": "UPDATE", "data_type": "jobs", "data_key": "job-replayed", "data": {"job": "restore_project", "status": "done", "project_gid": "p-demo"}}]))
        .await;
    until(&mut events, |e| matches!(e, ChangeEvent::Reinitialized)).await;
    emulator.set_version("2026.01.001").await;
    let seen = until(&mut events, |e| {
        matches!(e, ChangeEvent::ServerVersionChanged { .. })
    })
    .await;
    assert_eq!(
        seen.iter()
            .filter(|e| matches!(e, ChangeEvent::Reinitialized))
            .count(),
        0
    );
    assert_eq!(emulator.stats().count("/init"), inits + 2);
    assert_eq!(emulator.stats().initsyncs.len(), done);
    assert_eq!(client.server_version().as_deref(), Some("2026.01.001"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rest_catch_up_pages_until_no_warning() {
    let emulator = UnicatEmulator::start().await.unwrap();
    let client = UnicatClient::builder(emulator.base_url().parse().unwrap(), emulator.project())
        .transport(Arc::new(evo_hyper::HyperTransport::new()))
        .build()
        .unwrap();
    client.connect(DEMO_API_KEY).await.unwrap();
    client
        .call("/records/get", json!({"record": DEMO_RECORD}))
        .await
        .unwrap();
    emulator.set_sync_page_size(2);
    for n in 0..5 {
        emulator.put_silently(
            "records",
            DEMO_RECORD,
            json!({"gid": DEMO_RECORD, "fields": {"en": {"name": format!("v{n}")}}}),
        );
    }
    emulator.put_silently(
        "cc.users",
        "u-demo",
        json!({"gid": "u-demo", "name": "Renamed"}),
    );
    client.catch_up().await.unwrap();
    let (cc, project) = emulator.heads();
    assert_eq!(
        (client.cursors().cc, client.cursors().project),
        (cc, project)
    );
    assert_eq!(
        client.record(DEMO_RECORD).map(|r| name_of(&r)),
        Some(json!("v4"))
    );
    assert!(
        emulator.stats().count("/sync/get") >= 3,
        "paged through the warning"
    );

    // The same through the polling mode of start_sync (no WebSocket).
    let mut events = client.subscribe();
    let sync = client
        .start_sync(SyncOptions {
            poll_interval: Some(Duration::from_millis(50)),
            ..options()
        })
        .unwrap();
    emulator
        .update_record(DEMO_RECORD, json!({"en": {"name": "polled"}}))
        .await
        .unwrap();
    until(
        &mut events,
        |e| matches!(e, ChangeEvent::RecordChanged { record, .. } if name_of(record) == "polled"),
    )
    .await;
    sync.stop().await;
}
