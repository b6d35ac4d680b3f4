//! Test harness helpers of evo-rs (not published).
//!
//! The third-party peers the tests run against are installed by `scripts/install-peers.sh` into
//! `<workspace>/.peers` (or `$EVO_PEERS_DIR`); `cargo xtask test` runs it first. A test that needs
//! a peer that is not installed fails with a message saying how to install it.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// The folder holding the installed peers.
pub fn peers_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("EVO_PEERS_DIR") {
        return PathBuf::from(dir);
    }
    workspace_root().join(".peers")
}

/// The workspace root (the folder of the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/evo-testkit sits two levels below the workspace root")
        .to_path_buf()
}

fn require(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is not installed at {}: run `bash scripts/install-peers.sh` (or `cargo xtask test`, which does)",
        path.display()
    );
    path
}

/// The Python interpreter of the peers' venv (has evo-sdk-common, evo-files, python-socketio).
pub fn python() -> PathBuf {
    require(peers_dir().join("venv/bin/python"), "the Python venv")
}

/// An executable of the peers' npm packages, e.g. `azurite-blob`.
pub fn node_bin(name: &str) -> PathBuf {
    require(
        peers_dir().join("node/node_modules/.bin").join(name),
        &format!("the npm executable {name}"),
    )
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral port on 127.0.0.1")
}

/// Waits until something accepts TCP connections on `addr`, or panics after `limit`.
pub async fn wait_for_port(addr: SocketAddr, limit: Duration) {
    let start = Instant::now();
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "nothing listened on {addr} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A child process killed when dropped.
#[derive(Debug)]
pub struct ChildGuard {
    child: Child,
    /// The address it listens on, when it is a server.
    pub addr: Option<SocketAddr>,
}

impl ChildGuard {
    /// Starts `command` (stdout/stderr inherited so failures show in test output).
    pub fn spawn(mut command: Command) -> Self {
        command.kill_on_drop(true).stdin(Stdio::null());
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        ChildGuard { child, addr: None }
    }

    /// The process id.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the process and waits for it to end.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Access to the child, e.g. to wait for its exit status.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The well-known Azurite account name.
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
/// The well-known Azurite account key (base64).
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite blob service on 127.0.0.1 with its data in a temporary folder.
#[derive(Debug)]
pub struct Azurite {
    /// The process.
    pub process: ChildGuard,
    /// `http://127.0.0.1:PORT/devstoreaccount1`.
    pub account_url: String,
    /// The port.
    pub port: u16,
    /// The data folder (removed by the caller's temp-dir guard).
    pub location: PathBuf,
}

impl Azurite {
    /// Starts `azurite-blob` on a free port, storing data under `location`.
    pub async fn start(location: &Path) -> Azurite {
        let port = free_port();
        let mut cmd = Command::new(node_bin("azurite-blob"));
        cmd.args(["--location"])
            .arg(location)
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args([
                "--skipApiVersionCheck",
                "--loose",
                "--disableTelemetry",
                "--silent",
            ])
            .stdout(Stdio::null());
        let mut process = ChildGuard::spawn(cmd);
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        process.addr = Some(addr);
        wait_for_port(addr, Duration::from_secs(30)).await;
        Azurite {
            process,
            account_url: format!("http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"),
            port,
            location: location.to_path_buf(),
        }
    }
}

/// A running oauth2-mock-server on 127.0.0.1.
#[derive(Debug)]
pub struct OAuthMockServer {
    /// The process.
    pub process: ChildGuard,
    /// `http://127.0.0.1:PORT` (issuer base; `/authorize`, `/token` below it).
    pub base_url: String,
}

impl OAuthMockServer {
    /// Starts `oauth2-mock-server` on a free port of 127.0.0.1.
    pub async fn start() -> OAuthMockServer {
        let port = free_port();
        let mut cmd = Command::new(node_bin("oauth2-mock-server"));
        cmd.args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null());
        let mut process = ChildGuard::spawn(cmd);
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        process.addr = Some(addr);
        wait_for_port(addr, Duration::from_secs(30)).await;
        OAuthMockServer {
            process,
            base_url: format!("http://127.0.0.1:{port}"),
        }
    }
}
