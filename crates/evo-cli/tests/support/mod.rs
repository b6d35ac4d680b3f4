//! Runs the real `evo` binary as a child process against an emulator started by the test, with
//! its configuration folder in a temporary directory.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use evo_emulator::{Emulator, EmulatorBuilder, Seed};
use serde_json::Value;
use tokio::process::Command;

/// An emulator, an isolated configuration folder, and ways to run `evo` against them.
pub struct Env {
    pub emu: Emulator,
    pub config: tempfile::TempDir,
    pub work: tempfile::TempDir,
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// Asserts success.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success: {self:?}");
        self
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "expected exit code {code}: {self:?}");
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// The emulator's seed: one organization with a workspace, a service and a public client.
pub const SEED: &str = r#"{
  "organizations": [
    { "display_name": "Acme Mining", "hub_code": "local",
      "workspaces": [ { "name": "Survey North" } ] }
  ],
  "clients": [
    { "client_id": "cli-service", "client_secret": "cli-secret" },
    { "client_id": "cli-public" }
  ]
}"#;

impl Env {
    /// An emulator with [`SEED`].
    pub async fn start() -> Env {
        Self::start_with(Emulator::builder().seed(Seed::from_json(SEED).expect("seed"))).await
    }

    /// An emulator from `builder`.
    pub async fn start_with(builder: EmulatorBuilder) -> Env {
        Env {
            emu: builder.start().await.expect("emulator"),
            config: tempfile::tempdir().expect("tempdir"),
            work: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// `evo` with an environment of its own: the configuration folder, the emulator's URLs,
    /// and no `EVO_*` variable of the machine running the tests.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_evo"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("EVO_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .env("EVO_CONFIG_DIR", self.config.path())
            .env("EVO_DISCOVERY_URL", self.emu.discovery_url().as_str())
            .env("EVO_IMS_URL", self.emu.ims_url().as_str())
            .env("NO_PROXY", "127.0.0.1,localhost")
            .current_dir(self.work.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// Runs `evo ARGS` to the end.
    pub async fn run(&self, args: &[&str]) -> Run {
        let output = tokio::time::timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .expect("evo finished within 60 s")
            .expect("evo started");
        output.into()
    }

    /// Signs the default profile in with the service client.
    pub async fn login_service(&self) {
        self.run(&[
            "login",
            "--client-id",
            "cli-service",
            "--client-secret",
            "cli-secret",
        ])
        .await
        .ok();
    }

    /// A path in the test's work folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// The token file of a profile.
    pub fn token_file(&self, profile: &str) -> PathBuf {
        self.config
            .path()
            .join("tokens")
            .join(format!("{profile}.json"))
    }
}

/// A bare HTTP/1.1 GET (the test plays the browser): the status and the `Location` header.
pub fn http_get(url: &str) -> (u16, Option<String>) {
    let url = url::Url::parse(url).expect("URL");
    let host = url.host_str().expect("host");
    let port = url.port_or_known_default().expect("port");
    let mut stream = TcpStream::connect((host, port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let location = text.lines().take_while(|l| !l.is_empty()).find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("location")
            .then(|| value.trim().to_owned())
    });
    (status, location)
}

/// Writes `len` pseudo-random bytes to `path`.
pub fn write_random(path: &Path, len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let data: Vec<u8> = (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, &data).expect("write");
    data
}

/// A CSV file's header and rows.
pub fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).expect("csv");
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}
