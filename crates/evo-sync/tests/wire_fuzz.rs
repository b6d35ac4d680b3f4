//! Fuzz-style properties of the Socket.IO source against a hand-driven WebSocket server on
//! 127.0.0.1: after a valid handshake the server sends arbitrary, truncated or valid frames
//! and closes. The source never panics, ends with a typed error that does not show the token,
//! and the replica holds exactly what the well-formed items said.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use evo_core::RotatingTokenAuthorizer;
use evo_sync::socketio::{SocketIoSource, SyncKey};
use evo_sync::{ChangeSource, Cursors, EngineOptions, Error, replica};
use futures_util::{SinkExt, StreamExt};
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "SECRETJWT-wire-fuzz";
const OPEN: &str = r#"0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#;

/// One frame the server sends after the catch-up.
#[derive(Clone, Debug)]
enum Frame {
    /// Any text at all.
    Arbitrary(String),
    /// A `sync` event with items; `false` items are malformed (skipped by the client).
    Sync(Vec<(u8, bool)>),
    /// A `sync` event cut short at this many characters.
    Truncated(Vec<(u8, bool)>, usize),
    /// An Engine.IO ping or noop.
    Heartbeat(&'static str),
}

fn frame() -> impl Strategy<Value = Frame> {
    let items = || prop::collection::vec((0u8..6, prop::bool::weighted(0.8)), 0..4);
    prop_oneof![
        1 => ".{0,40}".prop_map(Frame::Arbitrary),
        4 => items().prop_map(Frame::Sync),
        1 => (items(), 1usize..120).prop_map(|(i, c)| Frame::Truncated(i, c)),
        1 => prop::sample::select(vec!["2", "6"]).prop_map(Frame::Heartbeat),
    ]
}

/// Renders frames; items get unique, increasing cursors. Returns the frames and, per frame,
/// the well-formed items as (key, cursor).
fn render(frames: &[Frame]) -> (Vec<String>, Vec<Vec<(String, u64)>>) {
    let mut cursor = 0u64;
    let mut sync = |items: &[(u8, bool)], valid: &mut Vec<(String, u64)>| {
        let list: Vec<Value> = items
            .iter()
            .map(|&(key, ok)| {
                cursor += 1;
                let key = format!("k{key}");
                if ok {
                    valid.push((key.clone(), cursor));
                }
                json!({
                    "type": "project",
                    "cursor": if ok { json!(cursor) } else { json!("not a cursor") },
                    "action": "INSERT",
                    "data_type": "records",
                    "data_key": key,
                    "data": {"n": cursor},
                })
            })
            .collect();
        format!("42{}", json!(["sync", list]))
    };
    let mut texts = Vec::new();
    let mut valid_items = Vec::new();
    for f in frames {
        let mut valid = Vec::new();
        let text = match f {
            Frame::Arbitrary(s) => s.clone(),
            Frame::Sync(items) => sync(items, &mut valid),
            Frame::Truncated(items, cut) => {
                let full = sync(items, &mut Vec::new());
                full.chars()
                    .take((*cut).min(full.chars().count() - 1))
                    .collect()
            }
            Frame::Heartbeat(h) => (*h).to_owned(),
        };
        texts.push(text);
        valid_items.push(valid);
    }
    (texts, valid_items)
}

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

async fn serve(listener: TcpListener, frames: Vec<String>) {
    let (tcp, _) = listener.accept().await.expect("accept");
    let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("upgrade");
    ws.send(Message::text(OPEN)).await.expect("open");
    let connect = next_text(&mut ws).await;
    assert!(
        connect.starts_with("40") && connect.contains(TOKEN),
        "{connect}"
    );
    ws.send(Message::text(r#"40{"sid":"x"}"#))
        .await
        .expect("connect");
    let initsync = next_text(&mut ws).await;
    let id: String = initsync
        .trim_start_matches("42")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(initsync.contains("initsync"), "{initsync}");
    ws.send(Message::text(format!("43{id}[[]]")))
        .await
        .expect("ack");
    for f in frames {
        // The client may already have given up on a bad frame.
        if ws.send(Message::text(f)).await.is_err() {
            return;
        }
    }
    let _ = ws.close(None).await;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_frame_sequence_ends_in_a_typed_error_and_keeps_only_well_formed_items(
        frames in prop::collection::vec(frame(), 0..12),
    ) {
        let (texts, valid) = render(&frames);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let (result, contents) = runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let port = listener.local_addr().expect("addr").port();
            let server = tokio::spawn(serve(listener, texts));
            let mut source = SocketIoSource::builder(format!("http://127.0.0.1:{port}"), "p1")
                .authorizer(Arc::new(RotatingTokenAuthorizer::new(TOKEN)))
                .connect_timeout(Duration::from_secs(10))
                .ack_timeout(Duration::from_secs(10))
                .build()
                .expect("source");
            let (mut sink, replica) = replica::<SyncKey, Value>(EngineOptions::default());
            let result = tokio::time::timeout(
                Duration::from_secs(60),
                source.run(&Cursors::new(), &mut sink),
            )
            .await
            .expect("the source ends when the server closes");
            server.await.expect("the server ran its script");
            let contents: BTreeMap<String, Value> = replica
                .snapshot()
                .iter()
                .map(|(k, v)| (k.data_key.clone(), v.clone()))
                .collect();
            (result, contents)
        });
        let error = result.expect_err("a closed connection is an error");
        let shown = format!("{error} {error:?}");
        prop_assert!(!shown.contains("SECRETJWT"), "{}", shown);
        prop_assert!(
            matches!(
                error,
                Error::Disconnected { .. } | Error::Protocol { .. } | Error::Transport { .. }
            ),
            "{:?}",
            error
        );
        // Every value held was sent in a well-formed item for that key.
        let mut possible: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for (key, cursor) in valid.iter().flatten() {
            possible.entry(key.clone()).or_default().push(*cursor);
        }
        for (key, value) in &contents {
            let n = value["n"].as_u64().expect("a sent value");
            prop_assert!(possible.get(key).is_some_and(|c| c.contains(&n)), "{} = {}", key, value);
        }
        // With only well-formed frames, everything arrives and the newest value wins.
        let all_well_formed = frames.iter().all(|f| matches!(f, Frame::Sync(_) | Frame::Heartbeat(_)));
        if all_well_formed {
            prop_assert!(matches!(error, Error::Disconnected { .. }), "{:?}", error);
            let expected: BTreeMap<String, Value> = possible
                .iter()
                .map(|(k, c)| (k.clone(), json!({"n": c.iter().max().expect("one")})))
                .collect();
            prop_assert_eq!(contents, expected);
        }
    }
}
