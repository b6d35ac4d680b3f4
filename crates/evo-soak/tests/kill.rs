//! A real kill: the `evo-soak` program uploading (then downloading) 64 MiB is killed with
//! SIGKILL half-way; the rerun resumes, sends again at most concurrency × block size, and the
//! result is identical.

#![cfg(unix)]

use std::path::Path;

use evo_soak::kill::{KillConfig, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_transfer_resumes_and_sends_little_again() {
    let config = KillConfig::quick();
    let dir = tempfile::tempdir().unwrap();
    let program = Path::new(env!("CARGO_BIN_EXE_evo-soak"));
    let reports = run(program, &config, dir.path()).await.unwrap();
    assert_eq!(reports.len(), 2);
    for report in &reports {
        eprintln!("{report}");
        assert!(report.identical, "{report}");
        assert!(
            report.at_kill < report.size,
            "killed before the end: {report}"
        );
        assert!(report.resent <= report.bound, "{report}");
        assert!(report.total >= report.size, "{report}");
    }
}
