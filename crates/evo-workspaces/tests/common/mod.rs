//! Test support: the emulator, and a transport that records what is sent through HyperTransport.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use evo_core::http::Method;
use evo_core::uuid::Uuid;
use evo_core::{ApiConnector, RetryPolicy, StaticTokenAuthorizer, Transport, transport_fn};
use evo_emulator::Emulator;
use evo_hyper::HyperTransport;
use evo_workspaces::WorkspacesClient;

/// One request as it left the client.
#[derive(Debug, Clone)]
pub struct Sent {
    pub method: Method,
    pub uri: String,
    pub content_type: Option<String>,
    pub body: Option<Vec<u8>>,
}

/// Requests seen by a [`recording`] transport.
#[derive(Debug, Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Sent>>>);

impl Log {
    pub fn all(&self) -> Vec<Sent> {
        self.0.lock().unwrap().clone()
    }
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
    /// The last request whose path contains `fragment`.
    pub fn last(&self, fragment: &str) -> Sent {
        self.all()
            .into_iter()
            .rev()
            .find(|s| s.uri.contains(fragment))
            .unwrap_or_else(|| panic!("no request to {fragment}"))
    }
}

/// HyperTransport wrapped so every request (method, URI, content type, replayable body) is logged.
pub fn recording() -> (Arc<dyn Transport>, Log) {
    let inner = HyperTransport::new();
    let log = Log::default();
    let sink = log.clone();
    let transport = transport_fn(move |request: evo_core::http::Request<evo_core::Body>| {
        let inner = inner.clone();
        let sink = sink.clone();
        async move {
            sink.0.lock().unwrap().push(Sent {
                method: request.method().clone(),
                uri: request.uri().to_string(),
                content_type: request
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                body: request.body().as_bytes().map(|b| b.to_vec()),
            });
            inner.send(request).await
        }
    });
    (Arc::new(transport), log)
}

pub async fn emulator() -> Emulator {
    Emulator::builder()
        .start()
        .await
        .expect("starting the emulator")
}

/// A hub connector acting as `user` (the test user when `None`) with the `evo.workspace` scope.
pub fn hub_connector(
    emu: &Emulator,
    transport: Arc<dyn Transport>,
    user: Option<Uuid>,
) -> ApiConnector {
    let token = match user {
        Some(user) => emu.issue_token_for(user, &["evo.workspace"]),
        None => emu.issue_token(&["evo.workspace"]),
    };
    ApiConnector::builder(emu.hub_url())
        .transport(transport)
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A client for the emulator's first organization, as the test user, with its request log.
pub async fn client(emu: &Emulator) -> (WorkspacesClient, Log) {
    let (transport, log) = recording();
    (
        WorkspacesClient::new(emu.org_id(), hub_connector(emu, transport, None)),
        log,
    )
}
