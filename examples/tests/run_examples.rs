//! Runs every example of this package as CI does, against the embedded emulators (the
//! `EVO_*` and `UNICAT_*` variables that would point them at real servers are removed), and
//! checks that each exits successfully and says what it should.
//!
//! The example programs are the ones `cargo test` builds next to this test
//! (`target/<profile>/examples/`): `cargo test -p evo-examples` builds them before running it.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The examples directory of the current target profile, from this test's own path
/// (`target/<profile>/deps/run_examples-HASH`).
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps")
        .join("examples")
}

/// Runs an example with `args` (at most `limit`), returns its standard output; panics with
/// its output when it fails.
fn run(name: &str, args: &[&str], limit: Duration) -> String {
    let program = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        program.exists(),
        "{} is missing: build the examples first (`cargo test -p evo-examples` does)",
        program.display()
    );
    let mut command = Command::new(&program);
    command.args(args).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("EVO_") || key.starts_with("UNICAT_") {
            command.env_remove(&*key);
        }
    }
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
    loop {
        if child.try_wait().expect("waiting for the example").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("the example's output");
            panic!(
                "example {name} ran over {limit:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("the example's output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "example {name} failed ({})\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

const LIMIT: Duration = Duration::from_secs(240);

#[test]
fn quickstart() {
    let out = run("quickstart", &[], LIMIT);
    assert!(out.contains("Created workspace"), "{out}");
    assert!(out.contains("Read it back"), "{out}");
}

#[test]
fn custom_transport() {
    let out = run("custom_transport", &[], LIMIT);
    assert!(!out.contains("FAIL"), "{out}");
    // The middleware saw the token request, discovery and the workspace list.
    assert!(out.contains("/connect/token -> 200"), "{out}");
    assert!(out.contains("/evo/identity/v2/discovery"), "{out}");
    assert!(out.contains("workspace(s)"), "{out}");
}

#[test]
fn login_headless() {
    let out = run("login", &["--headless"], LIMIT);
    assert!(out.contains("Logged in to"), "{out}");
    assert!(out.contains("opened 1 time(s)"), "{out}");
}

#[test]
fn files() {
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("three MiB.bin");
    let mut rng = fastrand::Rng::with_seed(7);
    let bytes: Vec<u8> = (0..3 * 1024 * 1024).map(|_| rng.u8(..)).collect();
    std::fs::write(&path, bytes).unwrap();
    let out = run("files", &[path.to_str().unwrap()], LIMIT);
    assert!(out.contains("identical"), "{out}");
}

#[test]
fn objects() {
    let out = run("objects", &[], LIMIT);
    assert!(out.contains("grade"), "{out}");
}

#[test]
fn live() {
    let out = run("live", &[], LIMIT);
    assert!(out.contains("Replica equals the server"), "{out}");
}

#[test]
fn unicat_live() {
    let out = run("unicat_live", &[], LIMIT);
    assert!(out.contains("deleted"), "{out}");
}

#[test]
fn compute() {
    let out = run("compute", &[], LIMIT);
    assert!(out.contains("of 400 cells estimated"), "{out}");
    assert!(out.contains("attached to grade_idw"), "{out}");
}

#[test]
fn blockmodel() {
    let out = run("blockmodel", &[], LIMIT);
    assert!(out.contains("column added"), "{out}");
    assert!(out.contains("grade over"), "{out}");
}

/// `unicat_live` against a Unicat server that is not the embedded emulator: the Python server
/// of the unicat tests (python-socketio, written from the protocol), configured through the
/// `UNICAT_*` variables as a user would. Its sync items carry no data, so every printed line
/// comes from the connector's fetch rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unicat_live_against_the_python_server() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

    let script = evo_testkit::workspace_root().join("crates/unicat/tests/unicat_server.py");
    let state = tempfile::tempdir().unwrap();
    let port = evo_testkit::free_port();
    let mut command = tokio::process::Command::new(evo_testkit::python());
    command
        .arg(&script)
        .args(["--port", &port.to_string(), "--page-size", "100", "--state"])
        .arg(state.path().join("state.json"))
        .stdout(Stdio::piped());
    let mut server = evo_testkit::ChildGuard::spawn(command);
    let mut server_out = BufReader::new(server.child_mut().stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), server_out.next_line())
        .await
        .expect("unicat_server.py did not start within 30 s")
        .unwrap();
    assert!(
        first.as_deref().is_some_and(|l| l.starts_with("LISTENING")),
        "{first:?}"
    );
    tokio::spawn(async move { while let Ok(Some(_)) = server_out.next_line().await {} });

    let program = examples_dir().join(format!("unicat_live{}", std::env::consts::EXE_SUFFIX));
    let mut example = tokio::process::Command::new(&program)
        .env("UNICAT_URL", format!("http://127.0.0.1:{port}"))
        .env("UNICAT_PROJECT", "p-test")
        .env("UNICAT_API_KEY", "secret-api-key")
        .env("UNICAT_RECORD", "rec-1")
        .env("UNICAT_SECONDS", "6")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));

    // Once the example's Sync API session is up, another client changes, then deletes, the record.
    let connected = async {
        while control(port, "GET", "/control/stats", "").await["synced"] != 1 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), connected)
        .await
        .expect("the example did not connect to the Sync API within 30 s");
    let renamed = r#"{"data_type": "records", "key": "rec-1", "value": {"gid": "rec-1", "definition": "def-1", "fields": {"en": {"name": "Renamed"}}}}"#;
    control(port, "POST", "/control/put", renamed).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    control(
        port,
        "POST",
        "/control/delete",
        r#"{"data_type": "records", "key": "rec-1"}"#,
    )
    .await;

    let mut stdout = String::new();
    let mut pipe = example.stdout.take().unwrap();
    let status = tokio::time::timeout(LIMIT, async {
        pipe.read_to_string(&mut stdout).await.unwrap();
        example.wait().await.unwrap()
    })
    .await
    .expect("unicat_live ran over its limit");
    let mut stderr = String::new();
    let _ = example
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await;
    assert!(
        status.success(),
        "{status}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            r#"changed rec-1 {"en":{"name":"Renamed"}}"#,
            "deleted rec-1"
        ],
        "stderr:\n{stderr}"
    );
}

/// One HTTP/1.1 exchange with the Python server's test controls; the JSON answer.
async fn control(port: u16, method: &str, path: &str, body: &str) -> serde_json::Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}\n{body}");
    serde_json::from_str(body).expect("JSON")
}
