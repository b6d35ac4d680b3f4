//! A small source in one `Put Blob`, with its checksums.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use bytes::Bytes;
use http::{Method, Request, header};

use super::report::UploadReport;
use super::requests::{bad_request, commit_attempt, commit_state, mismatch_is_transient};
use crate::concurrency::ConcurrencyReport;
use crate::crc64;
use crate::digest::{BlobDigest, md5_of};
use crate::error::{Error, Step, join_error};
use crate::integrity::{BlockCheck, Integrity};
use crate::progress::BlockCredit;
use crate::request::Wire;

/// A `Put Blob` of the whole source, with `Content-MD5` ([`Integrity::Md5`],
/// [`Integrity::Both`]) or `x-ms-content-crc64`, and the CRC-64 metadata unless MD5 alone.
pub(super) async fn put_blob(
    wire: &Wire<'_>,
    data: Bytes,
    content_type: Option<&str>,
    integrity: Integrity,
) -> Result<UploadReport, Error> {
    let len = data.len() as u64;
    let (md5, crc) = {
        let data = data.clone();
        tokio::task::spawn_blocking(move || {
            let md5 = integrity.md5().then(|| md5_of(&data));
            (md5, integrity.crc64().then(|| crc64::of(&data)))
        })
        .await
        .map_err(|e| join_error(Step::PutBlob, e))?
    };
    let check = match (md5, crc) {
        (Some(md5), _) => BlockCheck::Md5(md5),
        (None, crc) => BlockCheck::Crc64(crc.unwrap_or_default()),
    };
    let (check_name, check_value) = check.header();
    let unanswered = AtomicBool::new(false);
    let credit = Arc::new(BlockCredit::default());
    wire.retrying(Step::PutBlob, None, |target| {
        let body = wire.meter.counted_body(data.clone(), &credit);
        let check_value = check_value.clone();
        let unanswered = &unanswered;
        async move {
            let mut request = Request::builder()
                .method(Method::PUT)
                .uri(target.url().as_str())
                .header(header::CONTENT_LENGTH, len)
                .header("x-ms-blob-type", "BlockBlob")
                .header(check_name, check_value);
            if let Some(crc) = crc {
                request = request.header(crc64::METADATA_HEADER, crc64::to_header(crc));
            }
            if let Some(ct) = content_type {
                request = request.header("x-ms-blob-content-type", ct);
            }
            let request = request
                .body(body)
                .map_err(|e| bad_request(Step::PutBlob, e))?;
            commit_attempt(wire, &target, request, Step::PutBlob, unanswered)
                .await
                .map_err(mismatch_is_transient)
        }
    })
    .await
    .map_err(|e| commit_state(e, &unanswered))?;
    wire.meter.finish(&credit, len);
    Ok(UploadReport {
        size: len,
        blocks: 0,
        block_size: len,
        reused_blocks: 0,
        retries: wire.meter.retries(),
        md5: md5.map(BlobDigest::Md5),
        crc64: crc,
        concurrency: ConcurrencyReport::one_request(),
        direct_bytes: 0,
    })
}
