//! Fault injection over real connections: statuses, resets, truncation, expiry, determinism.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use evo_emulator::{Emulator, Fault, FaultKind, FaultPlan, RouteClass};

#[tokio::test]
async fn first_n_status_faults_then_success_and_counters() {
    let emu = Emulator::builder()
        .faults(FaultPlan::none().with_first(RouteClass::Workspaces, Fault::Status(503), 2))
        .start()
        .await
        .unwrap();
    let token = emu.issue_token(ALL);
    let url = format!("{}/workspaces", ws_base(&emu));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (s, body) = json(client().get(&url).bearer_auth(&token).send().await.unwrap()).await;
        if s == 503 {
            assert_eq!(
                body["type"],
                "https://seequent.com/error-codes/workspace/api-errors"
            );
            assert_eq!(body["status"], 503);
        }
        statuses.push(s);
    }
    assert_eq!(statuses, [503, 503, 200]);
    let counters = emu.fault_counters();
    assert_eq!(counters.get(RouteClass::Workspaces, FaultKind::Status), 2);
    assert_eq!(counters.total(), 2);
    // Discovery is not a Workspaces route.
    let disc = format!("{}evo/identity/v2/discovery", emu.discovery_url());
    emu.set_faults(FaultPlan::none().with_first(RouteClass::Workspaces, Fault::Status(500), 5));
    assert_eq!(
        client()
            .get(&disc)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn too_many_requests_carries_retry_after_and_token_errors_are_oauth_json() {
    let emu = start().await;
    emu.set_faults(FaultPlan::none().with_nth(
        RouteClass::Files,
        Fault::TooManyRequests {
            retry_after_secs: 7,
        },
        1,
    ));
    let token = emu.issue_token(ALL);
    let ws = create_workspace(&emu, &token, "Throttle").await;
    let r = client()
        .get(format!("{}/files", files_base(&emu, &ws)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    emu.set_faults(FaultPlan::none().with_first(RouteClass::Token, Fault::Status(503), 1));
    let sc = emu.service_client();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", sc.client_id.as_str()),
        ("client_secret", sc.client_secret.as_str()),
    ];
    let (s, body) = json(
        client()
            .post(format!("{}connect/token", emu.ims_url()))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, body["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    let (s, _) = json(
        client()
            .post(format!("{}connect/token", emu.ims_url()))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        emu.token_requests(),
        2,
        "the faulted token request counts too"
    );
}

async fn blob_with(emu: &Emulator, data: &[u8]) -> String {
    let url = emu.blob_url("f", "blob", "rcw").to_string();
    let r = client()
        .put(&url)
        .header("x-ms-blob-type", "BlockBlob")
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    url
}

#[tokio::test]
async fn reset_before_body_fails_the_request_then_recovers() {
    let emu = start().await;
    let url = blob_with(&emu, b"payload").await;
    emu.set_faults(FaultPlan::none().with_first(RouteClass::BlobRead, Fault::ResetBeforeBody, 2));
    for _ in 0..2 {
        let err = client()
            .get(&url)
            .send()
            .await
            .expect_err("the connection is reset");
        assert!(!err.is_status(), "{err}");
    }
    assert_eq!(
        client()
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "payload"
    );
    assert_eq!(
        emu.fault_counters()
            .get(RouteClass::BlobRead, FaultKind::ResetBeforeBody),
        2
    );
}

#[tokio::test]
async fn mid_body_reset_and_truncation_cut_the_body_after_the_headers() {
    let emu = start().await;
    let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    let url = blob_with(&emu, &data).await;
    for fault in [Fault::ResetMidBody, Fault::TruncatedBody] {
        emu.set_faults(FaultPlan::none().with_first(RouteClass::Blob, fault.clone(), 1));
        let resp = client().get(&url).send().await.expect("headers arrive");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-length"], "200000");
        let body = resp.bytes().await;
        assert!(
            body.is_err(),
            "{fault:?}: the body must not complete, got {:?}",
            body.map(|b| b.len())
        );
        assert_eq!(
            client()
                .get(&url)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .len(),
            200_000
        );
    }
    let c = emu.fault_counters();
    assert_eq!(c.get(RouteClass::Blob, FaultKind::ResetMidBody), 1);
    assert_eq!(c.get(RouteClass::Blob, FaultKind::TruncatedBody), 1);
}

#[tokio::test]
async fn forced_url_and_token_expiry() {
    let emu = start().await;
    let url = blob_with(&emu, b"x").await;
    emu.set_faults(FaultPlan::none().with_first(RouteClass::BlobRead, Fault::ExpireUrl, 1));
    let r = client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["x-ms-error-code"], "AuthenticationFailed");
    // the URL stays expired; a fresh one works
    assert_eq!(client().get(&url).send().await.unwrap().status(), 403);
    assert_eq!(
        client()
            .get(emu.blob_url("f", "blob", "r"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let token = emu.issue_token(ALL);
    emu.set_faults(FaultPlan::none().with_first(RouteClass::Workspaces, Fault::ExpireToken, 1));
    let ws_url = format!("{}/workspaces", ws_base(&emu));
    let r = client()
        .get(&ws_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    assert_eq!(
        client()
            .get(&ws_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let fresh = emu.issue_token(ALL);
    assert_eq!(
        client()
            .get(&ws_url)
            .bearer_auth(&fresh)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let emu = start().await;
    emu.set_faults(FaultPlan::none().with_nth(
        RouteClass::Workspaces,
        Fault::Latency(Duration::from_millis(300)),
        1,
    ));
    let token = emu.issue_token(ALL);
    let started = Instant::now();
    let r = client()
        .get(format!("{}/workspaces", ws_base(&emu)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(290));
    assert_eq!(
        emu.fault_counters()
            .get(RouteClass::Workspaces, FaultKind::Latency),
        1
    );
}

async fn statuses_for_seed(seed: u64) -> Vec<u16> {
    let emu = Emulator::builder()
        .faults(FaultPlan::seeded(seed).with(RouteClass::Workspaces, Fault::Status(500), 0.5))
        .start()
        .await
        .unwrap();
    let token = emu.issue_token(ALL);
    let url = format!("{}/workspaces", ws_base(&emu));
    let mut out = Vec::new();
    for _ in 0..40 {
        out.push(
            client()
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    let injected = out.iter().filter(|s| **s == 500).count() as u64;
    assert_eq!(
        emu.fault_counters()
            .get(RouteClass::Workspaces, FaultKind::Status),
        injected
    );
    out
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults() {
    let a = statuses_for_seed(42).await;
    let b = statuses_for_seed(42).await;
    let c = statuses_for_seed(43).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.contains(&500) && a.contains(&200));
}
