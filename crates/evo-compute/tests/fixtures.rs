//! Every Compute Tasks API fixture of the official Python SDK parses into the evo-compute
//! models (see `fixtures/README.md`).

use evo_compute::{JobProgress, JobStatus};

fn parse(name: &str) -> JobProgress {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_fixture_parses() {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let expected = [
        ("job-response-cancelled.json", JobStatus::Cancelled, 100),
        ("job-response-cancelling.json", JobStatus::Cancelling, 20),
        ("job-response-failed.json", JobStatus::Failed, 100),
        ("job-response-in-progress.json", JobStatus::InProgress, 50),
        ("job-response-requested.json", JobStatus::Requested, 0),
        ("job-response-succeeded.json", JobStatus::Succeeded, 100),
    ];
    assert_eq!(names, expected.clone().map(|e| e.0));
    for (name, status, progress) in expected {
        let p = parse(name);
        assert_eq!(p.status, status, "{name}");
        assert_eq!(p.progress, Some(progress), "{name}");
        assert!(p.message.as_deref().unwrap().starts_with("Job "), "{name}");
        assert_eq!(
            p.status.is_terminal(),
            [
                JobStatus::Succeeded,
                JobStatus::Failed,
                JobStatus::Cancelled
            ]
            .contains(&status)
        );
    }
}

#[test]
fn the_failure_and_the_results_are_kept() {
    let failed = parse("job-response-failed.json");
    let e = failed.error.unwrap();
    assert_eq!(e.status, 500);
    assert_eq!(e.type_uri, "http://unittest.localhost/some-error-id");
    assert_eq!(e.title, "Some error title");
    assert_eq!(e.detail.as_deref(), Some("Some error message"));
    let ok = parse("job-response-succeeded.json");
    assert_eq!(
        ok.results.unwrap(),
        serde_json::json!({"foo": "bar", "baz": 42})
    );
    assert!(ok.error.is_none());
}

#[test]
fn the_american_spellings_are_read() {
    let p: JobProgress = serde_json::from_str(r#"{"status": "canceling"}"#).unwrap();
    assert_eq!(p.status, JobStatus::Cancelling);
    let p: JobProgress = serde_json::from_str(r#"{"status": "canceled"}"#).unwrap();
    assert_eq!(p.status, JobStatus::Cancelled);
    assert!(serde_json::from_str::<JobProgress>(r#"{"status": "exploded"}"#).is_err());
}
