//! Test helpers: an HTTP transport over hyper-util, a counting wrapper, a log capture, and a
//! "browser" that follows the authorize redirect with plain HTTP GETs.
#![allow(dead_code)]

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use evo_core::{Body, SharedTransport, Transport, TransportError};
use http::{Request, Response};

/// The transport of the tests: evo-hyper's, without proxies (no redirects followed).
pub struct TestTransport;

impl TestTransport {
    pub fn shared() -> SharedTransport {
        Arc::new(
            evo_hyper::HyperTransport::builder()
                .no_proxy()
                .build()
                .expect("building the HyperTransport"),
        )
    }
}

/// Counts (and records the grant types of) the token requests passing through. Its `Debug`
/// shows counts only (the recorded forms hold secrets).
pub struct Counting {
    inner: SharedTransport,
    pub token_requests: AtomicU64,
    pub grants: Mutex<Vec<String>>,
    pub forms: Mutex<Vec<String>>,
    pub unauthorized: AtomicU64,
    pub api_requests: AtomicU64,
}

impl std::fmt::Debug for Counting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counting")
            .field("token_requests", &self.count())
            .finish_non_exhaustive()
    }
}

impl Counting {
    pub fn new(inner: SharedTransport) -> Arc<Counting> {
        Arc::new(Counting {
            inner,
            token_requests: AtomicU64::new(0),
            grants: Mutex::new(Vec::new()),
            forms: Mutex::new(Vec::new()),
            unauthorized: AtomicU64::new(0),
            api_requests: AtomicU64::new(0),
        })
    }
    pub fn count(&self) -> u64 {
        self.token_requests.load(Ordering::SeqCst)
    }
    pub fn unauthorized(&self) -> u64 {
        self.unauthorized.load(Ordering::SeqCst)
    }
    pub fn grants(&self) -> Vec<String> {
        self.grants.lock().unwrap().clone()
    }
}

#[async_trait]
impl Transport for Counting {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        if request.uri().path().ends_with("/token") {
            self.token_requests.fetch_add(1, Ordering::SeqCst);
            if let Some(bytes) = request.body().as_bytes() {
                let form: Vec<(String, String)> =
                    url::form_urlencoded::parse(bytes).into_owned().collect();
                if let Some((_, g)) = form.iter().find(|(k, _)| k == "grant_type") {
                    self.grants.lock().unwrap().push(g.clone());
                }
                self.forms
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(bytes).into_owned());
            }
        } else {
            self.api_requests.fetch_add(1, Ordering::SeqCst);
        }
        let response = self.inner.send(request).await?;
        if response.status() == http::StatusCode::UNAUTHORIZED {
            self.unauthorized.fetch_add(1, Ordering::SeqCst);
        }
        Ok(response)
    }
}

/// GET without following redirects; returns status, Location and body text.
pub async fn get(
    transport: &SharedTransport,
    url: &str,
) -> (http::StatusCode, Option<String>, String) {
    let request = Request::get(url).body(Body::empty()).unwrap();
    let response = transport.send(request).await.expect("GET failed");
    let status = response.status();
    let location = response
        .headers()
        .get(http::header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect(1 << 20).await.unwrap();
    (
        status,
        location,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// What the simulated browser saw.
#[derive(Debug, Default, Clone)]
pub struct BrowserVisit {
    pub authorize_url: String,
    pub authorize_status: u16,
    pub redirect: Option<String>,
    pub final_status: u16,
    pub final_page: String,
}

/// A browser that GETs the authorize URL (after `rewrite`), follows its 302 to the loopback
/// listener (after `rewrite_redirect`) and records everything.
pub fn browser(
    transport: SharedTransport,
    rewrite: fn(String) -> String,
    rewrite_redirect: fn(String) -> String,
) -> (
    Arc<dyn evo_auth::BrowserLauncher>,
    Arc<Mutex<Vec<BrowserVisit>>>,
) {
    let visits = Arc::new(Mutex::new(Vec::new()));
    let seen = visits.clone();
    let handle = tokio::runtime::Handle::current();
    let launcher = evo_auth::browser_fn(move |url: &str| {
        let url = rewrite(url.to_owned());
        let transport = transport.clone();
        let seen = seen.clone();
        handle.spawn(async move {
            let mut visit = BrowserVisit {
                authorize_url: url.clone(),
                ..Default::default()
            };
            let (status, location, _) = get(&transport, &url).await;
            visit.authorize_status = status.as_u16();
            if let Some(location) = location {
                let location = rewrite_redirect(location);
                visit.redirect = Some(location.clone());
                let (status, _, page) = get(&transport, &location).await;
                visit.final_status = status.as_u16();
                visit.final_page = page;
            }
            seen.lock().unwrap().push(visit);
        });
        Ok(())
    });
    (Arc::new(launcher), visits)
}

pub fn same(s: String) -> String {
    s
}

/// Captures all tracing output (TRACE level) of the current thread into a buffer.
#[derive(Clone, Default)]
pub struct LogBuffer(pub Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Installs a TRACE-level subscriber writing into the returned buffer, for this thread.
pub fn capture_logs() -> (LogBuffer, tracing::subscriber::DefaultGuard) {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (buffer, guard)
}

/// Waits (up to 30 s) for the simulated browser to finish its first visit.
pub async fn first_visit(visits: &Arc<Mutex<Vec<BrowserVisit>>>) -> BrowserVisit {
    for _ in 0..600 {
        if let Some(v) = visits.lock().unwrap().first() {
            return v.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the simulated browser did not finish within 30 s");
}
