//! Test harness: starts the Python Sync API server (python-socketio from the peers' venv) and
//! talks to its control routes over plain HTTP/1.1.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// The peers' Python interpreter; fails the test clearly when it is not installed.
pub fn python() -> PathBuf {
    let dir = std::env::var_os("EVO_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.peers"));
    // Resolve symlinks in the folder (not in the interpreter itself, which must stay in the venv).
    let venv = std::fs::canonicalize(dir.join("venv")).unwrap_or_else(|_| dir.join("venv"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "the Python venv with python-socketio is not installed at {}: run `bash scripts/install-peers.sh`",
        python.display()
    );
    python
}

/// A running sync_server.py, killed on drop.
pub struct SyncServer {
    child: Option<Child>,
    pub port: u16,
    /// The port of the plain-HTTP control routes (differs from `port` with TLS).
    pub control_port: u16,
    pub state_file: Option<PathBuf>,
    extra: Vec<String>,
}

impl SyncServer {
    /// Starts a server on a free port (chosen by the server itself).
    pub async fn start(state_file: Option<PathBuf>, extra: &[&str]) -> Self {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, port, control_port) = spawn(0, state_file.as_ref(), &extra).await;
        Self {
            child: Some(child),
            port,
            control_port,
            state_file,
            extra,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the server and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again on the same port (with the same state file, if any, unless `fresh`).
    pub async fn restart(&mut self, fresh: bool) {
        self.stop().await;
        if fresh {
            if let Some(file) = &self.state_file {
                let _ = std::fs::remove_file(file);
            }
        }
        let mut last = None;
        for _ in 0..50 {
            match try_spawn(self.port, self.state_file.as_ref(), &self.extra).await {
                Ok((child, _, control_port)) => {
                    self.child = Some(child);
                    self.control_port = control_port;
                    return;
                }
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        panic!(
            "could not restart the sync server on port {}: {last:?}",
            self.port
        );
    }

    /// The server's process id (to pause it with SIGSTOP).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().and_then(Child::id).expect("running")
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        http(self.control_port, "POST", path, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> Value {
        http(self.control_port, "GET", path, None).await
    }

    /// Records a change (and emits it unless `emit` is false); returns the item.
    pub async fn change(
        &self,
        stream: &str,
        action: &str,
        data_type: &str,
        key: &str,
        data: Value,
        emit: bool,
    ) -> Value {
        self.post(
            "/control/change",
            serde_json::json!({"type": stream, "action": action, "data_type": data_type, "data_key": key, "data": data, "emit": emit}),
        )
        .await
    }
}

impl Drop for SyncServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.start_kill();
        }
    }
}

async fn spawn(port: u16, state: Option<&PathBuf>, extra: &[String]) -> (Child, u16, u16) {
    try_spawn(port, state, extra)
        .await
        .expect("starting sync_server.py")
}

async fn try_spawn(
    port: u16,
    state: Option<&PathBuf>,
    extra: &[String],
) -> Result<(Child, u16, u16), String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sync_server.py");
    let mut command = Command::new(python());
    command
        .arg(script)
        .arg("--port")
        .arg(port.to_string())
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if let Some(state) = state {
        command.arg("--state").arg(state);
    }
    let mut child = command.spawn().map_err(|e| e.to_string())?;
    let stdout = child.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .map_err(|_| "the sync server did not start within 30 s".to_owned())?
        .map_err(|e| e.to_string())?;
    match line.as_deref().and_then(|l| l.strip_prefix("LISTENING ")) {
        Some(ports) => {
            let mut ports = ports.split_whitespace().map(str::parse::<u16>);
            let (Some(Ok(port)), Some(Ok(control_port))) = (ports.next(), ports.next()) else {
                return Err(format!("bad port line {line:?}"));
            };
            // Keep draining stdout so the child never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            Ok((child, port, control_port))
        }
        None => {
            let _ = child.kill().await;
            Err(format!("the sync server exited or printed {line:?}"))
        }
    }
}

/// A minimal HTTP/1.1 JSON request (Connection: close); fails the test after 30 s.
pub async fn http(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    tokio::time::timeout(
        Duration::from_secs(30),
        http_inner(port, method, path, body),
    )
    .await
    .unwrap_or_else(|_| panic!("{method} {path} on port {port} took more than 30 s"))
}

async fn http_inner(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connecting to the sync server");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("response");
    let text = String::from_utf8(response).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP response");
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "{method} {path}: {head}\n{body}"
    );
    serde_json::from_str(body).expect("JSON body")
}
