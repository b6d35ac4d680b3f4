//! A custom transport in a few dozen lines: a middleware that counts and logs every request
//! and delegates to [`HyperTransport`]. Both run the transport conformance suite of
//! `evo_core::test_util::conformance`.
//!
//! ```text
//! cargo run -p evo-hyper --example middleware_transport
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use evo_core::test_util::conformance;
use evo_core::{Body, Transport, TransportError};
use evo_hyper::HyperTransport;
use http::{Request, Response};

/// Counts requests and logs each one's method, path, status and duration, then delegates.
#[derive(Debug)]
struct CountingMiddleware {
    inner: Arc<dyn Transport>,
    requests: AtomicU64,
}

#[async_trait]
impl Transport for CountingMiddleware {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        let number = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        // Log the path only: queries may hold signatures.
        let (method, path) = (request.method().clone(), request.uri().path().to_owned());
        let started = Instant::now();
        let result = self.inner.send(request).await;
        let outcome = match &result {
            Ok(response) => response.status().to_string(),
            Err(e) => format!("failed: {e}"),
        };
        println!(
            "  #{number} {method} {path} -> {outcome} ({:?})",
            started.elapsed()
        );
        result
    }
}

#[tokio::main]
async fn main() {
    let hyper: Arc<dyn Transport> = Arc::new(HyperTransport::builder().no_proxy().build().unwrap());

    println!("HyperTransport:");
    let report = conformance::run(hyper.clone()).await;
    print!("{report}");

    println!("CountingMiddleware over HyperTransport:");
    let middleware = Arc::new(CountingMiddleware {
        inner: hyper,
        requests: AtomicU64::new(0),
    });
    let report_middleware = conformance::run(middleware.clone()).await;
    print!("{report_middleware}");
    println!(
        "the middleware saw {} requests",
        middleware.requests.load(Ordering::Relaxed)
    );

    if !(report.passed() && report_middleware.passed()) {
        std::process::exit(1);
    }
}
