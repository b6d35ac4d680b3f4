//! `native_roots(true)` loads the platform's roots, which honour `SSL_CERT_FILE`: a child
//! process of this test (the test binary run again, with `SSL_CERT_FILE` naming a test CA)
//! trusts a local TLS server signed by that CA with the webpki roots switched off, and does not
//! trust it when `SSL_CERT_FILE` names another CA.
//!
//! The environment is set on the child's command only: this process never changes its own.

mod common;

use std::process::ExitCode;

use common::{TestCa, tls_origin};
use evo_core::{Body, Transport};
use evo_hyper::HyperTransport;

/// Set on the child: the URL it fetches.
const CHILD_URL: &str = "EVO_HYPER_NATIVE_ROOTS_CHILD_URL";

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        println!("native_roots: test");
        return ExitCode::SUCCESS;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match std::env::var(CHILD_URL) {
        Ok(url) => runtime.block_on(child(&url)),
        Err(_) => {
            runtime.block_on(parent());
            println!("native_roots: ok");
            ExitCode::SUCCESS
        }
    }
}

/// Fetches `url` with only the native roots and prints `OK <body>` or `ERR <kind> <message>`.
async fn child(url: &str) -> ExitCode {
    let transport = match HyperTransport::builder()
        .no_proxy()
        .webpki_roots(false)
        .native_roots(true)
        .build()
    {
        Ok(t) => t,
        Err(e) => {
            println!("BUILD-ERR {e}");
            return ExitCode::FAILURE;
        }
    };
    let request = http::Request::get(url).body(Body::empty()).unwrap();
    match transport.send(request).await {
        Ok(response) => {
            let bytes = response.into_body().collect(1 << 20).await.unwrap();
            println!("OK {}", String::from_utf8_lossy(&bytes));
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("ERR {:?} {e}", e.kind());
            ExitCode::FAILURE
        }
    }
}

/// Runs the child with `SSL_CERT_FILE` naming `ca_file`: (success, stdout).
async fn run_child(url: &str, ca_file: &std::path::Path) -> (bool, String) {
    let output = tokio::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD_URL, url)
        .env("SSL_CERT_FILE", ca_file)
        .env_remove("SSL_CERT_DIR")
        .output()
        .await
        .expect("running the test binary as a child");
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    eprintln!(
        "child with SSL_CERT_FILE={}: {stdout} {}",
        ca_file.display(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    (output.status.success(), stdout)
}

async fn parent() {
    let ca = TestCa::new("evo-hyper native roots test CA");
    let origin = tls_origin(&ca).await;
    let url = format!("https://localhost:{}/native", origin.addr.port());

    let dir = std::env::temp_dir().join(format!("evo-hyper-native-roots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trusted = dir.join("trusted-ca.pem");
    let other = dir.join("other-ca.pem");
    std::fs::write(&trusted, &ca.pem).unwrap();
    std::fs::write(&other, TestCa::new("an unrelated CA").pem).unwrap();

    let (ok, stdout) = run_child(&url, &trusted).await;
    let (other_ok, other_stdout) = run_child(&url, &other).await;
    let _ = std::fs::remove_dir_all(&dir);

    assert!(
        ok,
        "the native roots did not trust the CA in SSL_CERT_FILE: {stdout}"
    );
    assert!(stdout.starts_with("OK HTTP/2.0 /native"), "{stdout}");
    assert!(
        !other_ok,
        "a server signed by a CA not in SSL_CERT_FILE was trusted: {other_stdout}"
    );
    assert!(other_stdout.starts_with("ERR Tls "), "{other_stdout}");
}
