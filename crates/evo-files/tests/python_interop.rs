//! Interoperability with the official Python SDK (`evo-files` from PyPI) through the emulator:
//! the Python SDK downloads a file this crate uploaded, and this crate downloads a file the
//! Python SDK uploaded; the bytes are compared.
//!
//! The Python SDK only accepts `https` blob URLs on the default port, so the emulator serves
//! blobs over TLS on port 443 of a random `127.x.y.z` address; both sides trust its CA (Python
//! through `SSL_CERT_FILE`). The venv comes from `scripts/install-peers.sh`; the test fails with
//! a message when it is missing.

use crate::common;

use std::path::Path;
use std::sync::Arc;

use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_files::{FilesClient, GetOptions};
use evo_hyper::HyperTransport;

use common::{data, sha256};

struct Python {
    python: std::path::PathBuf,
    script: std::path::PathBuf,
    ca: std::path::PathBuf,
    token: String,
    hub: String,
    org: String,
    workspace: String,
}

impl Python {
    /// Runs the script; returns its JSON answer.
    async fn run(&self, mode: &str, first: &Path, second: &Path) -> serde_json::Value {
        let out = tokio::process::Command::new(&self.python)
            .arg(&self.script)
            .arg(mode)
            .arg(&self.hub)
            .arg(&self.org)
            .arg(&self.workspace)
            .arg(first)
            .arg(second)
            .env("EVO_TOKEN", &self.token)
            .env("SSL_CERT_FILE", &self.ca)
            .kill_on_drop(true)
            .output()
            .await
            .expect("python starts");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "the Python SDK failed to {mode} ({}):\n{stdout}\n{stderr}",
            out.status
        );
        let line = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_and_this_crate_exchange_files() {
    let python = evo_testkit::python();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("emulator-ca.pem");
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Interop", "workspaces": [{"name": "Interop"}]}]}"#,
    )
    .unwrap();
    let emu = Emulator::builder()
        .seed(seed)
        .blob_listener_on_random_loopback_443()
        .ca_cert_path(&ca)
        .start()
        .await
        .unwrap_or_else(|e| {
            panic!("the emulator could not serve blobs on a loopback port 443: {e}")
        });
    assert_eq!(emu.blob_base_url().scheme(), "https");
    let transport = HyperTransport::builder()
        .add_root_certificate(emu.ca_cert_pem().expect("the emulator has a CA"))
        .build()
        .unwrap();
    let token = emu.issue_token(&["evo.file"]);
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(Arc::new(transport))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token.clone())))
        .build()
        .unwrap();
    let workspace = emu.organizations()[0].workspaces[0].0;
    let environment = Environment::new(emu.hub_url(), emu.org_id(), workspace);
    let files = FilesClient::new(environment, connector).unwrap();
    let py = Python {
        python,
        script: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/interop.py"),
        ca,
        token,
        hub: emu.hub_url().to_string(),
        org: emu.org_id().to_string(),
        workspace: workspace.to_string(),
    };

    // Rust uploads (several of the Python SDK's 4 MiB ranges), Python downloads.
    let from_rust = data(9 * 1024 * 1024 + 321, 70);
    let uploaded = files
        .upload_bytes("interop/from rust ü.bin", from_rust.clone())
        .await
        .unwrap();
    let py_copy = dir.path().join("python copy.bin");
    let answer = py
        .run("download", Path::new("interop/from rust ü.bin"), &py_copy)
        .await;
    assert_eq!(answer["file_id"], uploaded.file_id.to_string());
    assert_eq!(answer["version_id"], uploaded.version_id.as_str());
    assert_eq!(answer["size"], from_rust.len());
    assert_eq!(
        sha256(&std::fs::read(&py_copy).unwrap()),
        sha256(&from_rust),
        "the Python SDK downloaded other bytes than this crate uploaded"
    );

    // Python uploads, Rust downloads.
    let from_python = data(6 * 1024 * 1024 + 77, 71);
    let local = dir.path().join("python source.bin");
    std::fs::write(&local, &from_python).unwrap();
    let answer = py
        .run("upload", &local, Path::new("interop/from python.bin"))
        .await;
    let metadata = files
        .get_by_path("interop/from python.bin", &GetOptions::new())
        .await
        .unwrap();
    assert_eq!(answer["file_id"], metadata.file_id.to_string());
    assert_eq!(answer["version_id"], metadata.version_id.as_str());
    assert_eq!(metadata.size, from_python.len() as u64);
    let back = files
        .download_to_memory(metadata.file_id, None)
        .await
        .unwrap();
    assert_eq!(
        sha256(&back),
        sha256(&from_python),
        "this crate downloaded other bytes than the Python SDK uploaded"
    );
}
