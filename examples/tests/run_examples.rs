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
