//! Local servers for the integration tests: a hyper server driven by a handler closure, raw
//! TCP servers that misbehave on purpose, and helpers to build connectors.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use evo_core::{ApiConnector, Body, RetryPolicy};
use evo_hyper::HyperTransport;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A hyper server on 127.0.0.1 (ephemeral port) answering with `handler`; stops on drop.
pub struct TestServer {
    pub addr: SocketAddr,
    /// How many connections were accepted.
    pub accepted: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start<F, Fut>(handler: F) -> TestServer
    where
        F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener, handler)
    }

    pub fn serve<F, Fut>(listener: TcpListener, handler: F) -> TestServer
    where
        F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        let addr = listener.local_addr().expect("addr");
        let handler = Arc::new(handler);
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let handler = handler.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let handler = handler.clone();
                        async move { Ok::<_, std::convert::Infallible>(handler(req).await) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        TestServer {
            addr,
            accepted,
            task,
        }
    }

    pub fn url(&self, path: &str) -> evo_core::url::Url {
        format!("http://{}{path}", self.addr).parse().expect("url")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A raw TCP server: each accepted connection is handed to `handler`.
pub struct RawServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    pub async fn start<F, Fut>(handler: F) -> RawServer
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(handler(stream));
            }
        });
        RawServer { addr, task }
    }

    pub fn url(&self, path: &str) -> evo_core::url::Url {
        format!("http://{}{path}", self.addr).parse().expect("url")
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads a request head (up to the blank line) from a raw connection.
pub async fn read_request_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    head
}

/// Writes raw bytes and closes the connection.
pub async fn write_and_close(mut stream: TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes).await;
    let _ = stream.flush().await;
    let _ = stream.shutdown().await;
}

/// A transport that ignores the environment's proxies (tests talk to 127.0.0.1 only).
pub fn transport() -> HyperTransport {
    HyperTransport::builder()
        .no_proxy()
        .build()
        .expect("transport")
}

/// A connector to `base` over a fresh [`HyperTransport`] with fast retries.
pub fn connector(base: evo_core::url::Url) -> evo_core::ApiConnector {
    connector_builder(base).build().expect("connector")
}

pub fn connector_builder(base: evo_core::url::Url) -> evo_core::ApiConnectorBuilder {
    ApiConnector::builder(base)
        .transport(Arc::new(transport()))
        .retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(10))
                .with_max_backoff(Duration::from_millis(50)),
        )
}

/// A response with a status and a text body.
pub fn text(status: u16, body: impl Into<String>) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::from(body.into()))
        .expect("response")
}

/// A test certificate authority (rcgen) that signs server certificates.
pub struct TestCa {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    /// The CA certificate in PEM, to trust.
    pub pem: String,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate().expect("ca key");
        let cert = params.self_signed(&key).expect("ca cert");
        TestCa {
            issuer: rcgen::Issuer::new(params, key),
            pem: cert.pem(),
        }
    }

    /// A server certificate for `names` (DNS names or IP addresses): (cert PEM, key PEM).
    pub fn server_cert(&self, names: &[&str]) -> (String, String) {
        let params = rcgen::CertificateParams::new(
            names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
        )
        .expect("server params");
        let key = rcgen::KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &self.issuer).expect("server cert");
        (cert.pem(), key.serialize_pem())
    }
}

/// An HTTPS server on 127.0.0.1 (ephemeral port) with a certificate from `ca` for
/// `localhost` and `127.0.0.1`, offering h2 and HTTP/1.1 by ALPN, answering every request
/// with `"{version} {uri}"`; stops on drop.
pub async fn tls_origin(ca: &TestCa) -> RawServer {
    use rustls::pki_types::pem::PemObject;
    let (cert_pem, key_pem) = ca.server_cert(&["localhost", "127.0.0.1"]);
    let cert =
        rustls::pki_types::CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("cert");
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server config");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    RawServer::start(move |stream| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let service = hyper::service::service_fn(|req: Request<Incoming>| async move {
                Ok::<_, std::convert::Infallible>(text(
                    200,
                    format!(
                        "{:?} {}",
                        req.version(),
                        req.uri().path_and_query().map_or("/", |p| p.as_str())
                    ),
                ))
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        }
    })
    .await
}
