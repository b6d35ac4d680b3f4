//! Shared setup of the tests against the in-process emulator.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use evo_blockmodels::{BlockModelsClient, BlockSize, NewBlockModel, Size3, SizeOptions};
use evo_core::{ApiConnector, Environment, RetryPolicy, SharedTransport, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;

pub struct Setup {
    pub emu: Arc<Emulator>,
    pub client: BlockModelsClient,
    pub environment: Environment,
    pub token: String,
    /// When set, every pre-signed URL issued so far is expired just before the next blob
    /// request is sent (once).
    pub expire_before_blob: Arc<AtomicBool>,
}

pub fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(5)
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20))
}

pub async fn start() -> Setup {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Block Org", "workspaces": [{"name": "Mine"}, {"name": "Other"}]}]}"#,
    )
    .unwrap();
    let emu = Arc::new(Emulator::builder().seed(seed).start().await.unwrap());
    let token = emu.issue_token(&["evo.blocksync", "evo.workspace"]);
    let environment = Environment::new(
        emu.hub_url(),
        emu.org_id(),
        emu.organizations()[0].workspaces[0].0,
    );
    let expire_before_blob = Arc::new(AtomicBool::new(false));
    let transport = expiring(
        Arc::new(HyperTransport::new()),
        emu.clone(),
        expire_before_blob.clone(),
    );
    let client = client_for(&environment, transport, token.clone());
    Setup {
        emu,
        client,
        environment,
        token,
        expire_before_blob,
    }
}

pub fn client_for(
    environment: &Environment,
    transport: SharedTransport,
    token: String,
) -> BlockModelsClient {
    let connector = ApiConnector::builder(environment.hub_url.clone())
        .transport(transport.clone())
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
        .retry_policy(quick_retries())
        .build()
        .unwrap();
    let blobs = evo_io::BlobClient::builder(transport)
        .retry(quick_retries())
        .build();
    BlockModelsClient::builder(environment.clone(), connector)
        .blob_client(blobs)
        .job_poll_intervals(Duration::from_millis(5), Duration::from_millis(50))
        .build()
        .unwrap()
}

/// A transport that expires the emulator's blob URLs before the first blob request after
/// `flag` is set.
fn expiring(inner: SharedTransport, emu: Arc<Emulator>, flag: Arc<AtomicBool>) -> SharedTransport {
    Arc::new(evo_core::transport_fn(
        move |request: http::Request<evo_core::Body>| {
            let inner = inner.clone();
            if request.uri().path().starts_with("/blob/") && flag.swap(false, Ordering::SeqCst) {
                emu.expire_blob_urls();
            }
            async move { inner.send(request).await }
        },
    ))
}

/// A regular model of `n` blocks of 10 × 10 × 5 at (1000, 2000, 300).
pub fn regular(name: &str, n: (u32, u32, u32)) -> NewBlockModel {
    NewBlockModel::new(
        name,
        SizeOptions::Regular {
            n_blocks: Size3::new(n.0, n.1, n.2),
            block_size: BlockSize::new(10.0, 10.0, 5.0),
        },
    )
    .origin(1000.0, 2000.0, 300.0)
    .size_unit("m")
    .coordinate_reference_system("EPSG:32750")
}
