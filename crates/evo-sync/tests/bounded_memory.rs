//! Bounded memory in the Socket.IO source, against a hand-driven WebSocket server on
//! 127.0.0.1: live `sync` events held back while the catch-up is pending are capped in bytes
//! (not only in count), and tombstones are pruned once every reader is past them.

use std::sync::Arc;
use std::time::Duration;

use evo_core::{Authorizer, RotatingTokenAuthorizer};
use evo_sync::socketio::{SocketIoSource, SyncEndpoint, SyncKey, SyncSession};
use evo_sync::{ChangeSource, Cursors, EngineOptions, Error, replica};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const OPEN: &str = r#"0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#;

async fn next_text<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match ws.next().await.expect("a frame").expect("no error") {
            Message::Text(t) => return t.as_str().to_owned(),
            _ => continue,
        }
    }
}

/// Accepts one client: handshake, then `before_ack` frames, the `initsync` acknowledgement
/// with `catch_up`, then `after` frames; keeps the connection open until `hold` passes.
async fn serve(
    listener: TcpListener,
    before_ack: Vec<String>,
    catch_up: Value,
    after: Vec<String>,
    hold: Duration,
) {
    let (tcp, _) = listener.accept().await.expect("accept");
    let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("upgrade");
    ws.send(Message::text(OPEN)).await.expect("open");
    let connect = next_text(&mut ws).await;
    assert!(connect.starts_with("40"), "{connect}");
    ws.send(Message::text(r#"40{"sid":"x"}"#))
        .await
        .expect("connect");
    let initsync = next_text(&mut ws).await;
    assert!(initsync.contains("initsync"), "{initsync}");
    let id: String = initsync
        .trim_start_matches("42")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    for frame in before_ack {
        if ws.send(Message::text(frame)).await.is_err() {
            return;
        }
    }
    if ws
        .send(Message::text(format!("43{id}{}", json!([catch_up]))))
        .await
        .is_err()
    {
        return;
    }
    for frame in after {
        if ws.send(Message::text(frame)).await.is_err() {
            return;
        }
    }
    tokio::time::sleep(hold).await;
    let _ = ws.close(None).await;
}

fn item(cursor: u64, action: &str, key: &str, data: Option<Value>) -> Value {
    let mut item = json!({
        "type": "p1", "cursor": cursor, "action": action, "data_type": "records", "data_key": key,
    });
    if let Some(data) = data {
        item["data"] = data;
    }
    item
}

fn sync_event(items: Vec<Value>) -> String {
    format!("42{}", json!(["sync", items]))
}

fn tokens() -> Arc<dyn Authorizer> {
    Arc::new(RotatingTokenAuthorizer::new("jwt"))
}

/// `n` live events of about `size` bytes each, arriving before the acknowledgement.
fn big_events(n: u64, size: usize) -> Vec<String> {
    (1..=n)
        .map(|c| {
            let data = json!({"blob": "x".repeat(size)});
            sync_event(vec![item(100 + c, "UPDATE", "big", Some(data))])
        })
        .collect()
}

async fn session_with_held_back(events: Vec<String>, limit: usize) -> Result<SyncSession, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(serve(
        listener,
        events,
        json!([]),
        Vec::new(),
        Duration::from_secs(5),
    ));
    let endpoint = SyncEndpoint::builder(format!("http://127.0.0.1:{port}"))
        .max_held_back_bytes(limit)
        .build()
        .expect("endpoint");
    let mut session = SyncSession::connect(&endpoint, tokens()).await?;
    session.initsync(0, "p1", 0).await?;
    Ok(session)
}

#[tokio::test]
async fn held_back_events_are_capped_in_bytes_not_only_in_count() {
    // Three events of ~3 kB fit under 10 kB: held back in order, then handed out.
    let mut session = session_with_held_back(big_events(3, 3_000), 10_000)
        .await
        .expect("under the limit");
    let (count, bytes) = session.held_back();
    assert_eq!(count, 3);
    assert!((9_000..10_000).contains(&bytes), "{bytes}");
    for c in 1..=3u64 {
        let payload = session.next_sync().await.expect("held back");
        assert_eq!(payload[0]["cursor"], json!(100 + c));
    }
    assert_eq!(session.held_back(), (0, 0));

    // Five of them (far fewer than the 10,000 events the count allows) exceed 10 kB: the
    // session fails instead of growing, and the next one resumes from the applied cursors.
    let err = session_with_held_back(big_events(5, 3_000), 10_000)
        .await
        .expect_err("over the byte limit");
    assert!(
        matches!(&err, Error::Protocol { message } if message.contains("10000 bytes")),
        "{err:?}"
    );
}

#[tokio::test]
async fn tombstones_are_pruned_once_every_reader_is_past_them() {
    // The catch-up inserts and deletes 40 keys; live events then insert and delete 40 more.
    let mut catch_up = Vec::new();
    let mut cursor = 0;
    for k in 0..40 {
        cursor += 1;
        catch_up.push(item(
            cursor,
            "INSERT",
            &format!("a{k}"),
            Some(json!({"n": k})),
        ));
        cursor += 1;
        catch_up.push(item(cursor, "DELETE", &format!("a{k}"), None));
    }
    let mut live = Vec::new();
    for k in 0..40 {
        cursor += 1;
        let insert = item(cursor, "INSERT", &format!("b{k}"), Some(json!({"n": k})));
        cursor += 1;
        let delete = item(cursor, "DELETE", &format!("b{k}"), None);
        live.push(sync_event(vec![insert, delete]));
    }
    cursor += 1;
    live.push(sync_event(vec![item(
        cursor,
        "INSERT",
        "last",
        Some(json!({"n": 1})),
    )]));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = tokio::spawn(serve(
        listener,
        Vec::new(),
        Value::Array(catch_up),
        live,
        Duration::from_millis(500),
    ));
    let mut source = SocketIoSource::builder(format!("http://127.0.0.1:{port}"), "p1")
        .authorizer(tokens())
        .build()
        .expect("source");
    let (mut sink, replica) = replica::<SyncKey, Value>(EngineOptions::default());
    let watcher = replica.clone();
    let run = tokio::spawn(async move {
        let _ = source.run(&Cursors::new(), &mut sink).await;
        sink
    });
    let done = tokio::time::timeout(
        Duration::from_secs(20),
        watcher.wait_for(|s| s.contains(&SyncKey::new("records", "last"))),
    )
    .await
    .expect("every item applied")
    .expect("writer alive");
    assert_eq!(done.len(), 1, "only `last` is left");
    // Every deletion is older than the live items that followed it, so none can be undone by a
    // replay any more: at most the newest is remembered, not all 80.
    assert!(
        done.tombstones() <= 1,
        "{} tombstones kept",
        done.tombstones()
    );
    server.await.expect("server");
    let sink = run.await.expect("source task");
    // A late, older upsert of a deleted key arriving now would be at or below the applied
    // cursors; the engine still refuses it through the cursors the source resumes from.
    assert_eq!(sink.cursors().get("project"), Some(cursor));
}
