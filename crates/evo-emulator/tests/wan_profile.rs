//! The blob listener speaks HTTP/1.1 only (as Azure's blob endpoints), the API listener offers
//! h2; the WAN profile delays requests and caps each connection's bandwidth.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use evo_emulator::{Emulator, WanProfile};
use rustls::pki_types::ServerName;

/// The protocol the listener at `addr` picks by ALPN when offered h2 and HTTP/1.1.
async fn negotiated(emu: &Emulator, addr: std::net::SocketAddr) -> Option<Vec<u8>> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = emu.ca_cert_pem().expect("TLS on");
    for cert in rustls_pemfile_certs(pem) {
        roots.add(cert).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
}

/// The DER certificates in a PEM text (the emulator's CA).
fn rustls_pemfile_certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use base64::Engine as _;
    pem.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|rest| {
            let body: String = rest
                .split("-----END CERTIFICATE-----")
                .next()
                .unwrap()
                .split_whitespace()
                .collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap();
            rustls::pki_types::CertificateDer::from(der)
        })
        .collect()
}

#[tokio::test]
async fn the_blob_listener_speaks_http1_only_and_the_api_listener_offers_h2() {
    let emu = Emulator::builder()
        .tls(true)
        .blob_listener("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let blob = emu.blob_listener_addr().expect("a blob listener");
    assert_eq!(
        negotiated(&emu, blob).await.as_deref(),
        Some(&b"http/1.1"[..])
    );
    let api = emu.base_url().socket_addrs(|| None).unwrap()[0];
    assert_eq!(negotiated(&emu, api).await.as_deref(), Some(&b"h2"[..]));
    emu.shutdown().await;
}

#[tokio::test]
async fn the_wan_profile_delays_every_request() {
    let latency = Duration::from_millis(150);
    let emu = Emulator::builder()
        .wan_profile(WanProfile::new().latency(latency))
        .start()
        .await
        .unwrap();
    let url = format!("{}file/health_check", emu.hub_url());
    let c = client();
    for _ in 0..2 {
        let started = Instant::now();
        let r = c.get(&url).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        assert!(started.elapsed() >= latency, "{:?}", started.elapsed());
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn the_wan_profile_caps_each_connections_bandwidth_both_ways() {
    let cap: u64 = 2 << 20;
    let emu = Emulator::builder()
        .wan_profile(WanProfile::new().bandwidth_per_connection(Some(cap)))
        .start()
        .await
        .unwrap();
    let data: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
    let url = emu.blob_url("wan", "capped", "rcw").to_string();
    let c = client();
    // Up: 1 MiB at 2 MiB/s takes at least about half a second.
    let started = Instant::now();
    let r = c
        .put(&url)
        .header("x-ms-blob-type", "BlockBlob")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let up = started.elapsed();
    // Down: the same.
    let started = Instant::now();
    let body = c.get(&url).send().await.unwrap().bytes().await.unwrap();
    let down = started.elapsed();
    assert_eq!(body.as_ref(), &data[..]);
    // The first slice moves at once; the rest waits for the budget.
    let least = Duration::from_millis(400);
    assert!(up >= least, "upload of 1 MiB at 2 MiB/s took {up:?}");
    assert!(down >= least, "download of 1 MiB at 2 MiB/s took {down:?}");
    emu.shutdown().await;
}

#[test]
fn a_zero_cap_is_no_cap_and_the_default_changes_nothing() {
    assert!(!WanProfile::new().is_active());
    let p = WanProfile::new().bandwidth_per_connection(Some(0));
    assert_eq!(p.bandwidth_cap(), None);
    assert!(!p.is_active());
    assert!(
        WanProfile::new()
            .latency(Duration::from_millis(1))
            .is_active()
    );
}
