//! Shared setup of the integration tests: the in-process emulator, a `FilesClient` on it, and
//! a transport that records every request it sends.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use evo_core::{
    ApiConnector, Environment, RetryPolicy, SharedTransport, StaticTokenAuthorizer, transport_fn,
};
use evo_emulator::{Emulator, EmulatorBuilder};
use evo_files::{BlobClient, FilesClient};
use evo_hyper::HyperTransport;
use sha2::Digest as _;

/// The requests a [`Recorder`] saw: `METHOD path?query` (queries of blob URLs included).
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    pub fn count(&self, predicate: impl Fn(&str) -> bool) -> usize {
        self.lines().iter().filter(|l| predicate(l)).count()
    }
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

/// The emulator, a client on its first seeded workspace, and the request log.
pub struct Setup {
    pub emu: Emulator,
    pub files: FilesClient,
    pub recorder: Recorder,
    pub transport: SharedTransport,
    pub environment: Environment,
}

/// A transport that records each request, then sends it with `inner`.
pub fn recording(inner: SharedTransport, recorder: Recorder) -> SharedTransport {
    Arc::new(transport_fn(
        move |request: http::Request<evo_core::Body>| {
            let inner = inner.clone();
            let recorder = recorder.clone();
            async move {
                let uri = request.uri();
                let line = format!(
                    "{} {}",
                    request.method(),
                    uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
                );
                recorder.0.lock().unwrap().push(line);
                inner.send(request).await
            }
        },
    ))
}

/// A fast retry policy for tests (many attempts, short waits).
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(10)
        .with_initial_backoff(std::time::Duration::from_millis(5))
        .with_max_backoff(std::time::Duration::from_millis(50))
}

pub async fn start(configure: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder) -> Setup {
    start_with(configure, |b| b).await
}

/// Starts an emulator and a client; `blobs` adjusts the blob client (small blocks, …).
pub async fn start_with(
    configure: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder,
    blobs: impl FnOnce(evo_io::BlobClientBuilder) -> evo_io::BlobClientBuilder,
) -> Setup {
    let seed = evo_emulator::Seed::from_json(
        r#"{"organizations": [{"display_name": "Files Org", "workspaces": [{"name": "Files Test"}]}]}"#,
    )
    .expect("seed parses");
    let emu = configure(Emulator::builder().seed(seed))
        .start()
        .await
        .expect("emulator starts");
    let recorder = Recorder::default();
    let hyper: SharedTransport = Arc::new(HyperTransport::new());
    let transport = recording(hyper, recorder.clone());
    let token = emu.issue_token(&["evo.file", "evo.workspace"]);
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(transport.clone())
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
        .retry_policy(quick_retries())
        .build()
        .unwrap();
    let workspace = emu.organizations()[0].workspaces[0].0;
    let environment = Environment::new(emu.hub_url(), emu.org_id(), workspace);
    let blob_client: BlobClient = blobs(
        BlobClient::builder(transport.clone())
            .retry(quick_retries())
            .renew_debounce(std::time::Duration::from_millis(10)),
    )
    .build();
    let files = FilesClient::builder(environment.clone(), connector)
        .blob_client(blob_client)
        .build()
        .unwrap();
    Setup {
        emu,
        files,
        recorder,
        transport,
        environment,
    }
}

/// Deterministic pseudo-random bytes.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut v = vec![0u8; len];
    rng.fill(&mut v);
    v
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}
