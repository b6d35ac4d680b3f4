//! End to end: `evo files` against the emulator: copies both ways for files and folders,
//! versions, delete and restore, and copies interrupted by killing `evo`, then resumed.

use crate::support;

use std::time::Duration;

use evo_emulator::{Fault, FaultKind, FaultPlan, RouteClass};
use serde_json::Value;
use support::{Env, write_random};

async fn signed_in() -> Env {
    let env = Env::start().await;
    env.login_service().await;
    env.run(&["workspaces", "use", "Survey North"]).await.ok();
    env
}

fn paths(listing: &Value) -> Vec<String> {
    listing
        .as_array()
        .expect("array")
        .iter()
        .map(|f| {
            let folder = f["path"].as_str().unwrap().trim_matches('/');
            let name = f["name"].as_str().unwrap();
            if folder.is_empty() {
                name.to_owned()
            } else {
                format!("{folder}/{name}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_both_ways_versions_delete_and_restore() {
    let env = signed_in().await;
    let a = write_random(&env.path("data/a.csv"), 1000, 1);
    let b = write_random(&env.path("data/sub/b.bin"), 300_000, 2);
    write_random(&env.path("data/sub/c.txt"), 10, 3);

    // A folder needs -r; then it goes under the destination folder.
    env.run(&["files", "cp", "data", "evo:"]).await.code(2);
    let up = env
        .run(&[
            "--json",
            "files",
            "cp",
            "-r",
            "data",
            "evo:",
            "--parallel",
            "2",
        ])
        .await
        .ok()
        .json();
    assert_eq!(up["copied"].as_array().unwrap().len(), 3, "{up}");
    let all = env.run(&["--json", "files", "ls"]).await.ok().json();
    assert_eq!(
        paths(&all),
        ["data/a.csv", "data/sub/b.bin", "data/sub/c.txt"]
    );
    let sub = env
        .run(&["--json", "files", "ls", "evo:data/sub"])
        .await
        .ok()
        .json();
    assert_eq!(paths(&sub), ["data/sub/b.bin", "data/sub/c.txt"]);
    let table = env.run(&["files", "ls"]).await.ok();
    assert!(table.stdout.contains("data/sub/b.bin"), "{table:?}");

    // One file into a folder, and a whole folder back.
    env.run(&["files", "cp", "evo:data/a.csv", "out/"])
        .await
        .ok();
    assert_eq!(std::fs::read(env.path("out/a.csv")).unwrap(), a);
    env.run(&["files", "cp", "-r", "evo:data", "back"])
        .await
        .ok();
    assert_eq!(std::fs::read(env.path("back/sub/b.bin")).unwrap(), b);
    env.run(&["files", "cp", "-r", "evo:data/sub", "into/"])
        .await
        .ok();
    assert_eq!(std::fs::read(env.path("into/sub/b.bin")).unwrap(), b);
    // Again: what is there with the same size is kept; a different local file is a conflict.
    let again = env
        .run(&["--json", "files", "cp", "-r", "evo:data", "back"])
        .await
        .ok()
        .json();
    assert!(
        again["copied"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["skipped"] == true),
        "{again}"
    );
    std::fs::write(env.path("back/a.csv"), b"changed").unwrap();
    let conflict = env
        .run(&["files", "cp", "-r", "evo:data", "back"])
        .await
        .code(5);
    assert!(conflict.stderr.contains("--force"), "{conflict:?}");
    env.run(&["files", "cp", "-r", "--force", "evo:data", "back"])
        .await
        .ok();
    assert_eq!(std::fs::read(env.path("back/a.csv")).unwrap(), a);

    // A new version; the old one is still there.
    let a2 = write_random(&env.path("a2.csv"), 2000, 4);
    env.run(&["files", "cp", "a2.csv", "evo:data/a.csv"])
        .await
        .ok();
    let versions = env
        .run(&["--json", "files", "versions", "data/a.csv"])
        .await
        .ok()
        .json();
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["size"], 2000, "newest first");
    let first = versions[1]["version_id"].as_str().unwrap();
    env.run(&[
        "files",
        "cp",
        "evo:data/a.csv",
        "old.csv",
        "--file-version",
        first,
    ])
    .await
    .ok();
    assert_eq!(std::fs::read(env.path("old.csv")).unwrap(), a);
    env.run(&["files", "cp", "evo:data/a.csv", "new.csv"])
        .await
        .ok();
    assert_eq!(std::fs::read(env.path("new.csv")).unwrap(), a2);

    // Delete and restore.
    env.run(&["files", "rm", "data/a.csv"]).await.ok();
    let live = env.run(&["--json", "files", "ls"]).await.ok().json();
    assert!(!paths(&live).contains(&"data/a.csv".to_owned()));
    let deleted = env
        .run(&["--json", "files", "ls", "--deleted"])
        .await
        .ok()
        .json();
    assert_eq!(paths(&deleted), ["data/a.csv"]);
    env.run(&["files", "restore", "evo:data/a.csv"]).await.ok();
    env.run(&["files", "rm", "-r", "data/sub"]).await.ok();
    let live = env.run(&["--json", "files", "ls"]).await.ok().json();
    assert_eq!(paths(&live), ["data/a.csv"]);

    // Failures: missing remote and local paths, nothing marked remote.
    env.run(&["files", "rm", "nope.csv"]).await.code(4);
    env.run(&["files", "versions", "nope.csv"]).await.code(4);
    env.run(&["files", "restore", "nope.csv"]).await.code(4);
    let missing = env.run(&["files", "cp", "evo:nope.csv", "x"]).await.code(4);
    assert!(missing.stderr.contains("hint"), "{missing:?}");
    env.run(&["files", "cp", "no-such-local-file", "evo:"])
        .await
        .code(4);
    env.run(&["files", "cp", "a2.csv", "b.csv"]).await.code(2);
    env.run(&["--workspace", "Nowhere", "files", "ls"])
        .await
        .code(4);
}

/// Runs `evo ARGS`, kills it once the emulator has delayed `n` requests of `class`.
async fn kill_after(env: &Env, args: &[&str], class: RouteClass, n: u64) {
    let mut child = env.command(args).spawn().expect("evo");
    let waited = tokio::time::timeout(Duration::from_secs(30), async {
        while env.emu.fault_counters().get(class, FaultKind::Latency) < n {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("evo ended before it was interrupted: {status}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "the copy made {n} slow requests within 30 s"
    );
    child.kill().await.expect("kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_continues_its_version() {
    let env = signed_in().await;
    let data = write_random(&env.path("big.bin"), 2 * 1024 * 1024, 5);
    let slow = Fault::Latency(Duration::from_millis(150));
    env.emu
        .set_faults(FaultPlan::seeded(1).with(RouteClass::BlobWrite, slow, 1.0));
    let args = [
        "--json",
        "files",
        "cp",
        "big.bin",
        "evo:big.bin",
        "--block-size",
        "262144",
        "--block-parallel",
        "1",
    ];
    // 8 blocks of 256 KiB and a block list; killed while the 5th block is on its way.
    kill_after(&env, &args, RouteClass::BlobWrite, 5).await;
    let journal = std::fs::read_to_string(env.config.path().join("state/uploads.json"))
        .expect("the journal names the unfinished upload");
    assert!(journal.contains("version_id"), "{journal}");

    let before = env
        .emu
        .fault_counters()
        .get(RouteClass::BlobWrite, FaultKind::Latency);
    let fast = Fault::Latency(Duration::from_millis(1));
    env.emu
        .set_faults(FaultPlan::seeded(2).with(RouteClass::BlobWrite, fast, 1.0));
    let done = env.run(&args).await.ok().json();
    assert_eq!(done["copied"][0]["resumed"], true, "{done}");
    let puts = env
        .emu
        .fault_counters()
        .get(RouteClass::BlobWrite, FaultKind::Latency)
        - before;
    assert!(
        puts <= 6,
        "at least 4 blocks were not sent again ({puts} PUTs)"
    );
    let journal = std::fs::read_to_string(env.config.path().join("state/uploads.json")).unwrap();
    assert!(
        !journal.contains("version_id"),
        "the finished upload left the journal: {journal}"
    );
    // One version, with the right bytes.
    let versions = env
        .run(&["--json", "files", "versions", "big.bin"])
        .await
        .ok()
        .json();
    assert_eq!(versions.as_array().unwrap().len(), 1, "{versions}");
    env.emu.set_faults(FaultPlan::none());
    env.run(&["files", "cp", "evo:big.bin", "check.bin"])
        .await
        .ok();
    assert_eq!(std::fs::read(env.path("check.bin")).unwrap(), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_download_continues_from_its_partial_file() {
    let env = signed_in().await;
    let data = write_random(&env.path("src.bin"), 2 * 1024 * 1024, 6);
    env.run(&["files", "cp", "src.bin", "evo:dl/src.bin"])
        .await
        .ok();
    let slow = Fault::Latency(Duration::from_millis(150));
    env.emu
        .set_faults(FaultPlan::seeded(3).with(RouteClass::BlobRead, slow, 1.0));
    let args = [
        "--json",
        "files",
        "cp",
        "evo:dl/src.bin",
        "got.bin",
        "--block-size",
        "262144",
        "--block-parallel",
        "1",
    ];
    kill_after(&env, &args, RouteClass::BlobRead, 5).await;
    assert!(
        !env.path("got.bin").exists(),
        "no half file under the target name"
    );
    env.emu.set_faults(FaultPlan::none());
    let done = env.run(&args).await.ok().json();
    let resumed = done["copied"][0]["resumed_bytes"].as_u64().unwrap();
    assert!(resumed >= 262_144, "{done}");
    assert_eq!(std::fs::read(env.path("got.bin")).unwrap(), data);
    let leftovers: Vec<_> = std::fs::read_dir(env.work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("evo-download"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
