//! A custom transport: a logging middleware over the default one, checked by the transport
//! conformance suite, then carrying a whole session against the embedded emulator.
//!
//! ```text
//! cargo run --example custom_transport
//! ```

use std::sync::Arc;
use std::time::Instant;

use evo_sdk::core::http::{Request, Response};
use evo_sdk::core::test_util::conformance;
use evo_sdk::core::{Body, TransportError, redact_uri};
use evo_sdk::prelude::*;

/// Logs each request (method, URI without secrets, status, duration) and delegates.
#[derive(Debug)]
struct Logging(SharedTransport);

#[async_trait]
impl Transport for Logging {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        let line = format!("{} {}", request.method(), redact_uri(request.uri()));
        let started = Instant::now();
        let result = self.0.send(request).await;
        match &result {
            Ok(response) => println!("{line} -> {} ({:?})", response.status(), started.elapsed()),
            Err(e) => println!("{line} -> failed: {e}"),
        }
        result
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let transport: SharedTransport = Arc::new(Logging(Arc::new(HyperTransport::new())));

    // What every transport must do: streaming, no redirects, typed failures, ...
    let report = conformance::run(transport.clone()).await;
    print!("{report}");
    if !report.passed() {
        return Err("the transport failed the conformance suite".into());
    }

    // Every request of a session goes through it: token, discovery, API calls.
    let emulator = Emulator::builder().start().await?;
    let evo = emulator.client_builder()?.transport(transport);
    let workspaces = evo.connect().await?.workspaces();
    let page = workspaces.list_workspaces(&Default::default()).await?;
    println!("{} workspace(s)", page.items.len());
    emulator.shutdown().await;
    Ok(())
}
