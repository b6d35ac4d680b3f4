//! The official Evo Python SDK (evo-sdk-common, evo-files), unchanged, against the emulator.
//!
//! The SDK only accepts `https` blob URLs on the default port, so the emulator also serves over
//! TLS on port 443 of a random `127.x.y.z` address, and the script trusts the emulator's CA through
//! `SSL_CERT_FILE`. The Python venv comes from `scripts/install-peers.sh` (`.peers/venv`, or
//! `$EVO_PEERS_DIR/venv`); the test fails with a message when it is missing.

use std::path::{Path, PathBuf};

use evo_emulator::seed::{SeedCentral, SeedOrganization};
use evo_emulator::{Emulator, Seed};

fn python() -> PathBuf {
    let peers = std::env::var_os("EVO_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .nth(2)
                .expect("workspace root")
                .join(".peers")
        });
    let python = peers.join("venv/bin/python");
    assert!(
        python.exists(),
        "the Python venv with the official Evo SDK is not installed at {}: run `bash scripts/install-peers.sh`",
        python.display()
    );
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_round_trip() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("emulator-ca.pem");
    let central_id = uuid::Uuid::new_v4();
    let central_host = "https://central.emulator.test";
    let emu = Emulator::builder()
        .seed(Seed {
            organizations: vec![SeedOrganization {
                id: None,
                display_name: "Emulator Org".into(),
                hub_code: None,
                hub_display_name: None,
                workspaces: Vec::new(),
                central: Some(SeedCentral {
                    id: Some(central_id),
                    name: "central".into(),
                    display_name: "Emulator Central".into(),
                    host: central_host.into(),
                    organization_name: None,
                    account_id: None,
                    account_name: "Emulator account".into(),
                }),
            }],
            ..Seed::default()
        })
        .blob_listener_on_random_loopback_443()
        .ca_cert_path(&ca)
        .start()
        .await
        .unwrap_or_else(|e| {
            panic!("the emulator could not serve blobs on a loopback port 443: {e}")
        });
    let blob_base = emu.blob_base_url();
    assert_eq!(blob_base.scheme(), "https");
    assert_eq!(blob_base.port(), None, "blob URLs use the default port");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/official_sdk_smoke.py");
    let sc = emu.service_client();
    let out = tokio::process::Command::new(&python)
        .arg(&script)
        .env("EMU_BASE", emu.base_url().as_str())
        .env("EMU_CLIENT_ID", &sc.client_id)
        .env("EMU_CLIENT_SECRET", &sc.client_secret)
        .env("EMU_USER_ID", emu.test_user_id().to_string())
        .env("EMU_CENTRAL_ID", central_id.to_string())
        .env("EMU_CENTRAL_HOST", central_host)
        .env("SSL_CERT_FILE", &ca)
        .kill_on_drop(true)
        .output()
        .await
        .expect("python starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the SDK script failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("official SDK smoke test passed"),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("ok: downloaded bytes equal uploaded bytes"));
    assert!(stdout.contains("ok: the SDK links the organization to its Central instance"));
    assert!(
        emu.token_requests() >= 1,
        "the SDK got its token from the emulator's IMS"
    );
}
