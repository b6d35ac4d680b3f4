//! An upload whose commit went through but whose answer was lost (found by the soak, issue 16).

use crate::common;

use evo_emulator::{Fault, FaultKind, FaultPlan, RouteClass};
use evo_files::GetOptions;

use common::{data, start};

/// The `Put Blob` is stored but its connection closes before the answer; the retry finds its
/// URL expired, and renewing it answers 400 `no-file-upload-in-progress` because the version
/// is already complete. The upload succeeds with that version (before the fix it failed with
/// "renewing the URL failed ... nothing was committed").
#[tokio::test]
async fn a_commit_whose_answer_was_lost_is_not_a_failure() {
    let s = start(|b| b).await;
    let bytes = data(10 * 1024, 7);
    s.emu.set_faults(
        FaultPlan::none()
            .with_first(RouteClass::BlobWrite, Fault::TruncatedBody, 1)
            .with_nth(RouteClass::BlobWrite, Fault::ExpireUrl, 2),
    );
    let meta = s
        .files
        .upload_bytes("lost/answer.bin", bytes.clone())
        .await
        .unwrap();
    assert_eq!(meta.size, bytes.len() as u64);
    let c = s.emu.fault_counters();
    assert_eq!(c.get(RouteClass::BlobWrite, FaultKind::TruncatedBody), 1);
    assert_eq!(c.get(RouteClass::BlobWrite, FaultKind::ExpireUrl), 1);
    s.emu.set_faults(FaultPlan::none());
    let got = s
        .files
        .get_by_path("lost/answer.bin", &GetOptions::new())
        .await
        .unwrap();
    assert_eq!(got.version_id, meta.version_id);
    let back = s
        .files
        .download(meta.file_id, None, evo_files::Destination::memory())
        .await
        .unwrap();
    assert_eq!(&back.report.into_bytes()[..], &bytes[..]);
}
