//! Shared setup of the tests that run on a scripted transport.

#![allow(dead_code)]

use std::io::Write as _;
use std::sync::Arc;

use evo_core::test_util::MockTransport;
use evo_core::{ApiConnector, Environment, RetryPolicy};
use evo_objects::ObjectsClient;

pub const ORG: &str = "00000000-0000-0000-0000-0000000004d2";
pub const WORKSPACE: &str = "00000000-0000-0000-0000-00000000162e";

/// A client on a scripted transport (no retries), and the script.
pub fn mock_client() -> (MockTransport, ObjectsClient) {
    mock_client_with(|b| b)
}

pub fn mock_client_with(
    configure: impl FnOnce(evo_objects::ObjectsClientBuilder) -> evo_objects::ObjectsClientBuilder,
) -> (MockTransport, ObjectsClient) {
    let mock = MockTransport::new();
    let hub: url::Url = "https://hub.test/".parse().unwrap();
    let connector = ApiConnector::builder(hub.clone())
        .transport(Arc::new(mock.clone()))
        .retry_policy(RetryPolicy::default().with_max_attempts(1))
        .build()
        .unwrap();
    let environment = Environment::new(hub, ORG.parse().unwrap(), WORKSPACE.parse().unwrap());
    let client = configure(ObjectsClient::builder(environment, connector))
        .build()
        .unwrap();
    (mock, client)
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read as _;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}
