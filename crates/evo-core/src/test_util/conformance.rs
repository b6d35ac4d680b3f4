//! A conformance suite for [`Transport`] implementations.
//!
//! [`run`] starts a small HTTP/1.1 server on `127.0.0.1` (an ephemeral port, written here on
//! plain tokio sockets so it shares no code with any client) and checks that the transport:
//! returns statuses as they are, does not follow redirects, keeps request and response headers
//! (repeated ones included), sends the query string unchanged, sends in-memory bodies with
//! their length, streams request and response bodies (each side waits for the other's first
//! chunk, so a transport that buffers a whole body fails), returns HEAD responses without a
//! body, and reports a refused connection as
//! [`TransportErrorKind::Connect`](crate::TransportErrorKind::Connect) with
//! `request_sent() == false`.
//!
//! ```no_run
//! // Not run here: evo-core has no transport of its own to check. evo-hyper's tests run
//! // the suite on `HyperTransport`, and examples/custom_transport.rs on a middleware.
//! # async fn demo(transport: std::sync::Arc<dyn evo_core::Transport>) {
//! let report = evo_core::test_util::conformance::run(transport).await;
//! report.assert_passed();
//! # }
//! ```
//!
//! What lives where: this file runs the checks and reports; `checks` holds the checks,
//! `server` the local server they ask, `stream` the streamed bodies both sides agree on.

mod checks;
mod server;
mod stream;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::transport::Transport;
use checks::{
    connect_refused, head_has_no_body, in_memory_body, query_string, redirects, request_headers,
    request_streaming, response_headers, response_streaming, statuses,
};
use server::Server;

/// How long one check may take.
const CHECK_LIMIT: Duration = Duration::from_secs(30);

/// The outcome of one check.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The check's name.
    pub name: &'static str,
    /// `Err` with what went wrong.
    pub outcome: Result<(), String>,
}

/// The outcome of every check of [`run`].
#[derive(Debug, Clone)]
pub struct ConformanceReport {
    /// One entry per check, in the order run.
    pub results: Vec<CheckResult>,
}

impl ConformanceReport {
    /// True when every check passed.
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.outcome.is_ok())
    }
    /// The failed checks.
    pub fn failures(&self) -> Vec<&CheckResult> {
        self.results.iter().filter(|r| r.outcome.is_err()).collect()
    }
    /// Panics with the list of failed checks unless all passed.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "transport conformance failed:\n{self}");
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.results {
            match &r.outcome {
                Ok(()) => writeln!(f, "ok    {}", r.name)?,
                Err(e) => writeln!(f, "FAIL  {}: {e}", r.name)?,
            }
        }
        Ok(())
    }
}

/// Runs every check against `transport` and reports each outcome. Needs a tokio runtime.
pub async fn run(transport: Arc<dyn Transport>) -> ConformanceReport {
    let mut results = Vec::new();
    let server = match Server::start().await {
        Ok(s) => s,
        Err(e) => {
            results.push(CheckResult {
                name: "start the local server",
                outcome: Err(e.to_string()),
            });
            return ConformanceReport { results };
        }
    };
    macro_rules! check {
        ($name:literal, $f:ident) => {{
            let outcome = match tokio::time::timeout(CHECK_LIMIT, $f(&*transport, &server)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("did not finish within {CHECK_LIMIT:?}")),
            };
            results.push(CheckResult {
                name: $name,
                outcome,
            });
        }};
    }
    check!("statuses are returned unchanged", statuses);
    check!("redirects are returned, not followed", redirects);
    check!("request headers are preserved", request_headers);
    check!("response headers are preserved", response_headers);
    check!("the query string is sent unchanged", query_string);
    check!("in-memory request bodies are sent whole", in_memory_body);
    check!("request bodies are streamed", request_streaming);
    check!("response bodies are streamed", response_streaming);
    check!("HEAD responses have no body", head_has_no_body);
    check!(
        "a refused connection is a Connect error, not sent",
        connect_refused
    );
    server.stop();
    ConformanceReport { results }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{MockResponse, MockTransport};
    use http::Method;

    #[tokio::test]
    async fn a_mock_that_ignores_the_server_fails_the_suite() {
        // The suite must be able to fail: a transport that always answers 200 with an empty
        // body fails most checks.
        let mock = MockTransport::new();
        mock.on_always(Method::GET, "/status/404", MockResponse::new(200));
        let report = run(Arc::new(mock)).await;
        assert!(!report.passed(), "{report}");
        assert!(report.failures().len() >= 5, "{report}");
    }
}
