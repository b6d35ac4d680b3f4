//! The Socket.IO source's connection against a real Socket.IO server: rotated and rejected
//! tokens (shared with HTTP requests), a server version change, a half-open connection, and
//! TLS.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::SyncServer;
use evo_core::{ApiConnector, Authorizer, RotatingTokenAuthorizer, Secret};
use evo_sync::socketio::SocketIoSource;
use evo_sync::{Live, Notice, Status, Update};
use serde_json::{Value, json};

use crate::socketio_harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rotated_by_an_authorization_event_is_used_on_the_next_reconnect_and_request() {
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
    // One token abstraction: an HTTP request through a connector sharing the authorizer
    // sends the token the Socket.IO server rotated.
    let connector = ApiConnector::builder(
        format!("http://127.0.0.1:{}", h.server.control_port)
            .parse()
            .expect("url"),
    )
    .transport(Arc::new(evo_hyper::HyperTransport::new()))
    .authorizer(Arc::new(h.tokens.clone()))
    .build()
    .expect("connector");
    let seen: Value = connector
        .request(http::Method::GET, "/control/whoami")
        .send_json()
        .await
        .expect("whoami");
    assert_eq!(seen["authorization"], "Bearer token-2");
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
    h.tokens.rotate_token(Secret::new("token-1"));
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
        .authorizer(Arc::new(RotatingTokenAuthorizer::new("token-1")))
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
