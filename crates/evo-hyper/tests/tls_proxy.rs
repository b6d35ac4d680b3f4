//! TLS (a self-signed local server, h2 by ALPN) and proxies (plain-HTTP forwarding, HTTPS
//! CONNECT tunnels, NO_PROXY).

use crate::common;

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use common::{RawServer, TestServer, read_request_head, text, write_and_close};
use evo_core::{Body, Transport, TransportErrorKind};
use evo_hyper::HyperTransport;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

/// An HTTPS server for `localhost` and `emulator.test` with a fresh self-signed certificate, answering with the
/// HTTP version it saw. Returns its port and the certificate's PEM.
async fn tls_server() -> (u16, String, tokio::task::JoinHandle<()>) {
    let certified = rcgen::generate_simple_self_signed(vec![
        "localhost".to_owned(),
        "emulator.test".to_owned(),
    ])
    .unwrap();
    let pem = certified.cert.pem();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(
                    |req: http::Request<hyper::body::Incoming>| async move {
                        Ok::<_, std::convert::Infallible>(text(200, format!("{:?}", req.version())))
                    },
                );
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (port, pem, task)
}

async fn get_text(
    transport: &HyperTransport,
    url: &str,
) -> Result<String, evo_core::TransportError> {
    let response = transport
        .send(http::Request::get(url).body(Body::empty()).unwrap())
        .await?;
    let bytes = response.into_body().collect(1 << 20).await.unwrap();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn a_trusted_self_signed_server_speaks_h2_an_untrusted_one_is_a_tls_error() {
    let (port, pem, _server) = tls_server().await;
    let url = format!("https://localhost:{port}/version");

    let trusting = HyperTransport::builder()
        .no_proxy()
        .add_root_certificate(&pem)
        .build()
        .unwrap();
    assert_eq!(get_text(&trusting, &url).await.unwrap(), "HTTP/2.0");

    let http1 = HyperTransport::builder()
        .no_proxy()
        .http2(false)
        .add_root_certificate(&pem)
        .build()
        .unwrap();
    assert_eq!(get_text(&http1, &url).await.unwrap(), "HTTP/1.1");

    let default = HyperTransport::builder().no_proxy().build().unwrap();
    let err = get_text(&default, &url).await.unwrap_err();
    assert_eq!(
        err.kind(),
        TransportErrorKind::Tls,
        "{err} {:?}",
        std::error::Error::source(&err)
    );
    assert!(!err.request_sent());
}

#[tokio::test]
async fn plain_http_goes_through_a_forward_proxy_with_its_credentials() {
    let seen = Arc::new(Mutex::new(Vec::<(String, Option<String>)>::new()));
    let s = seen.clone();
    let proxy = TestServer::start(move |req| {
        let auth = req
            .headers()
            .get("proxy-authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        s.lock().unwrap().push((req.uri().to_string(), auth));
        async { text(200, "via proxy") }
    })
    .await;
    let transport = HyperTransport::builder()
        .proxy(
            Some(&format!("http://alice:s3cret@{}", proxy.addr)),
            None,
            Some("direct.test"),
        )
        .build()
        .unwrap();
    let body = get_text(&transport, "http://api.example.test/items?a=1")
        .await
        .unwrap();
    assert_eq!(body, "via proxy");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].0, "http://api.example.test/items?a=1",
        "not absolute-form"
    );
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
    );
    assert_eq!(seen[0].1.as_deref(), Some(expected.as_str()));

    // NO_PROXY hosts are reached directly (here: not at all, as the name does not resolve).
    let err = get_text(&transport, "http://direct.test/")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
}

#[tokio::test]
async fn https_is_tunnelled_through_the_proxy_with_connect() {
    let (port, pem, _server) = tls_server().await;
    let connects = Arc::new(Mutex::new(Vec::<String>::new()));
    let c = connects.clone();
    // A minimal CONNECT proxy: checks the target, answers 200 and relays bytes both ways.
    let proxy = RawServer::start(move |mut client| {
        let c = c.clone();
        async move {
            let head = read_request_head(&mut client).await;
            let line = String::from_utf8_lossy(&head)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            c.lock().unwrap().push(line.clone());
            let target = line.split(' ').nth(1).unwrap_or("").to_owned();
            if !line.starts_with("CONNECT ") || !target.starts_with("emulator.test:") {
                write_and_close(
                    client,
                    b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n",
                )
                .await;
                return;
            }
            let port = target.trim_start_matches("emulator.test:");
            let Ok(mut upstream) =
                tokio::net::TcpStream::connect(format!("127.0.0.1:{port}")).await
            else {
                return;
            };
            use tokio::io::AsyncWriteExt;
            let _ = client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await;
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        }
    })
    .await;
    let transport = HyperTransport::builder()
        .proxy(None, Some(&format!("http://{}", proxy.addr)), None)
        .add_root_certificate(&pem)
        .build()
        .unwrap();
    let body = get_text(&transport, &format!("https://emulator.test:{port}/v"))
        .await
        .unwrap();
    assert_eq!(body, "HTTP/2.0");
    assert_eq!(
        connects.lock().unwrap().first().map(String::as_str),
        Some(format!("CONNECT emulator.test:{port} HTTP/1.1").as_str())
    );

    // A proxy that refuses the tunnel is a Connect error: nothing was sent to the server.
    let err = get_text(&transport, "https://refused.test/")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(!err.request_sent());
    assert!(err.to_string().contains("403"), "{err}");
}

#[tokio::test]
async fn loopback_destinations_bypass_the_proxy() {
    let server = TestServer::start(|_req| async { text(200, "direct") }).await;
    // The proxy's port has nothing listening: using it would fail.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let proxy = format!("http://127.0.0.1:{dead_port}");
    let transport = HyperTransport::builder()
        .proxy(Some(&proxy), Some(&proxy), None)
        .build()
        .unwrap();
    let port = server.addr.port();
    for host in ["127.0.0.1", "localhost"] {
        let body = get_text(&transport, &format!("http://{host}:{port}/"))
            .await
            .unwrap();
        assert_eq!(body, "direct");
    }
    let err = get_text(&transport, "http://elsewhere.test/")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(err.to_string().contains("proxy"), "{err}");
}

#[tokio::test]
async fn a_proxy_that_sends_bytes_after_its_connect_answer_is_a_protocol_error() {
    let proxy = RawServer::start(|mut client| async move {
        let _ = read_request_head(&mut client).await;
        write_and_close(
            client,
            b"HTTP/1.1 200 Connection established\r\n\r\nnot from the origin",
        )
        .await;
    })
    .await;
    let transport = HyperTransport::builder()
        .proxy(None, Some(&format!("http://{}", proxy.addr)), None)
        .build()
        .unwrap();
    let err = get_text(&transport, "https://origin.test/")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Protocol, "{err}");
    assert!(!err.request_sent());
    assert!(
        err.to_string().contains("after its answer to CONNECT"),
        "{err}"
    );
}
