//! The soak in a few seconds: every transfer through the faulted emulator comes back identical.

use evo_soak::soak::{SoakConfig, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_under_faults_keeps_every_byte() {
    let config = SoakConfig::quick();
    let dir = tempfile::tempdir().unwrap();
    let report = run(&config, dir.path()).await.unwrap();
    eprintln!("{report}; faults {:?}", report.faults);
    assert!(report.passed(), "{:#?}", report.failures);
    assert_eq!(report.transfers, config.uploads + config.downloads);
    // The faults really happened: several of them, of each probabilistic kind.
    let kinds: Vec<&str> = report.faults.iter().map(|(k, _)| k.as_str()).collect();
    for kind in [
        "Unavailable",
        "ResetMidBody",
        "ResetMidRequest",
        "TruncatedBody",
    ] {
        assert!(
            kinds.iter().any(|k| k.contains(kind)),
            "no {kind}: {kinds:?}"
        );
    }
    for kind in ["Blob ExpireUrl", "Files ExpireToken"] {
        assert!(kinds.contains(&kind), "no {kind}: {kinds:?}");
    }
    assert!(report.retries >= 10, "{report}");
}
