//! End to end: `evo watch` prints changes made by other `evo` runs as they happen.

use crate::support;

use std::time::Duration;

use serde_json::Value;
use support::Env;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStdout;

/// The next JSON line the watcher prints that satisfies `wanted` (within 20 s).
async fn next_event(
    lines: &mut Lines<BufReader<ChildStdout>>,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let line = lines
                .next_line()
                .await
                .expect("read")
                .expect("the watcher is still running");
            let event: Value = serde_json::from_str(&line).expect("a JSON line");
            if wanted(&event) {
                return event;
            }
            seen.push(event);
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no such event within 20 s; saw {seen:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_workspaces_prints_changes_as_they_happen() {
    let env = Env::start().await;
    env.login_service().await;
    let mut watcher = env
        .command(&[
            "--json",
            "watch",
            "workspaces",
            "--interval-ms",
            "100",
            "--seconds",
            "30",
        ])
        .spawn()
        .expect("evo watch");
    let mut lines = BufReader::new(watcher.stdout.take().unwrap()).lines();
    let first = next_event(&mut lines, |_| true).await;
    assert_eq!(first["event"], "snapshot");
    assert_eq!(first["count"], 1);
    env.run(&["workspaces", "create", "Live One"]).await.ok();
    let added = next_event(&mut lines, |e| e["event"] == "added").await;
    assert_eq!(added["name"], "Live One");
    env.run(&["workspaces", "rename", "Live One", "Live Two"])
        .await
        .ok();
    let changed = next_event(&mut lines, |e| e["event"] == "changed").await;
    assert_eq!(changed["name"], "Live Two");
    env.run(&["workspaces", "rm", "Live Two"]).await.ok();
    let removed = next_event(&mut lines, |e| e["event"] == "removed").await;
    assert_eq!(removed["id"], added["id"]);
    assert_eq!(removed["name"], "Live Two");
    watcher.kill().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_files_prints_changes_and_stops_after_its_seconds() {
    let env = Env::start().await;
    env.login_service().await;
    env.run(&["workspaces", "use", "Survey North"]).await.ok();
    std::fs::write(env.path("a.txt"), b"hello").unwrap();
    let started = std::time::Instant::now();
    let mut watcher = env
        .command(&[
            "--json",
            "watch",
            "files",
            "--interval-ms",
            "100",
            "--seconds",
            "6",
        ])
        .spawn()
        .expect("evo watch");
    let mut lines = BufReader::new(watcher.stdout.take().unwrap()).lines();
    let first = next_event(&mut lines, |_| true).await;
    assert_eq!(first["event"], "snapshot");
    assert_eq!(first["count"], 0);
    env.run(&["files", "cp", "a.txt", "evo:notes/a.txt"])
        .await
        .ok();
    let added = next_event(&mut lines, |e| e["event"] == "added").await;
    assert_eq!(added["name"], "notes/a.txt");
    assert_eq!(added["size"], 5);
    env.run(&["files", "rm", "notes/a.txt"]).await.ok();
    let removed = next_event(&mut lines, |e| e["event"] == "removed").await;
    assert_eq!(removed["name"], "notes/a.txt");
    // --seconds ends the watch by itself, successfully.
    let status = tokio::time::timeout(Duration::from_secs(20), watcher.wait())
        .await
        .expect("the watch ends")
        .unwrap();
    assert!(status.success());
    assert!(started.elapsed() >= Duration::from_secs(6));
}
