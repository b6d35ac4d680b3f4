//! The faults of the soak (issue 16): 503 with `Retry-After`, an upload reset in the middle of
//! its body, the blob byte counters that measure a resumed transfer.

use crate::common;

use common::*;
use evo_emulator::{Fault, FaultKind, FaultPlan, RouteClass};

#[tokio::test]
async fn unavailable_answers_503_with_retry_after_in_the_route_format() {
    let emu = start().await;
    let url = emu.blob_url("f", "blob", "rcw").to_string();
    emu.set_faults(FaultPlan::none().with_first(
        RouteClass::Blob,
        Fault::Unavailable {
            retry_after_secs: 3,
        },
        1,
    ));
    // A request with a body is read to its end first, so the client sees the 503.
    let r = client()
        .put(&url)
        .header("x-ms-blob-type", "BlockBlob")
        .body(vec![7u8; 300_000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "3");
    assert!(r.headers().contains_key("x-ms-error-code"), "{r:?}");
    let body = r.text().await.unwrap();
    assert!(body.contains("<Error>"), "Azure's XML error: {body}");
    // Nothing was stored; the next attempt is served.
    assert_eq!(client().get(&url).send().await.unwrap().status(), 404);

    let token = emu.issue_token(ALL);
    emu.set_faults(FaultPlan::none().with_first(
        RouteClass::Workspaces,
        Fault::Unavailable {
            retry_after_secs: 1,
        },
        1,
    ));
    let (status, body) = json(
        client()
            .get(format!("{}/workspaces", ws_base(&emu)))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["status"].as_u64()), (503, Some(503)));
    let c = emu.fault_counters();
    assert_eq!(c.get(RouteClass::Blob, FaultKind::Unavailable), 1);
    assert_eq!(c.get(RouteClass::Workspaces, FaultKind::Unavailable), 1);
}

#[tokio::test]
async fn reset_mid_request_cuts_an_upload_off_and_stores_nothing() {
    let emu = start().await;
    let url = emu.blob_url("f", "cut", "rcw").to_string();
    emu.set_faults(FaultPlan::none().with_first(RouteClass::BlobWrite, Fault::ResetMidRequest, 1));
    let data = vec![9u8; 4 << 20];
    let err = client()
        .put(&url)
        .header("x-ms-blob-type", "BlockBlob")
        .body(data.clone())
        .send()
        .await
        .expect_err("the connection is reset under the upload");
    assert!(!err.is_status(), "{err}");
    // The handler never ran: no blob.
    assert_eq!(client().get(&url).send().await.unwrap().status(), 404);
    let r = client()
        .put(&url)
        .header("x-ms-blob-type", "BlockBlob")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let back = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(back.len(), data.len());
    assert_eq!(
        emu.fault_counters()
            .get(RouteClass::BlobWrite, FaultKind::ResetMidRequest),
        1
    );
}

#[tokio::test]
async fn blob_bytes_sent_counts_answers_as_far_as_they_went() {
    let emu = start().await;
    let url = emu.blob_url("f", "counted", "rcw").to_string();
    let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let r = client()
        .put(&url)
        .header("x-ms-blob-type", "BlockBlob")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(emu.blob_bytes_sent(), 0, "uploads are not counted");
    let whole = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(whole.len(), 100_000);
    assert_eq!(emu.blob_bytes_sent(), 100_000);
    let part = client()
        .get(&url)
        .header("range", "bytes=10-1009")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&part[..], &data[10..1010]);
    assert_eq!(emu.blob_bytes_sent(), 101_000);
    // A truncated answer counts what it sent: about half, never the whole.
    emu.set_faults(FaultPlan::none().with_first(RouteClass::BlobRead, Fault::TruncatedBody, 1));
    let resp = client().get(&url).send().await.unwrap();
    assert!(resp.bytes().await.is_err());
    let cut = emu.blob_bytes_sent() - 101_000;
    assert!((1..100_000).contains(&cut), "{cut}");
}
