//! The block list: which blocks the server holds uncommitted (`Get Block List`), and the
//! commit (`Put Block List`) with the whole blob's checksums.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use evo_core::Body;
use http::{Method, Request, header};

use super::requests::{bad_request, commit_attempt, commit_state};
use super::stager::Stager;
use crate::blocks::{block_id, block_list_xml, parse_block_list};
use crate::crc64;
use crate::error::{Error, Step};
use crate::request::Wire;
use crate::url::with_params;

/// The largest `Get Block List` answer read (50,000 blocks of about 100 bytes each, and room).
const BLOCK_LIST_LIMIT: usize = 16 * 1024 * 1024;

/// The blocks the server holds uncommitted (offset → size); `None` when it would not say.
pub(super) async fn listed_blocks(wire: &Wire<'_>) -> Option<HashMap<u64, u64>> {
    let (url, _) = wire.url.get();
    let url = with_params(&url, "comp=blocklist&blocklisttype=uncommitted");
    let request = Request::builder()
        .method(Method::GET)
        .uri(url.as_str())
        .body(Body::empty())
        .ok()?;
    let response = match wire.send(request, Step::GetBlockList).await {
        Ok(r) => r,
        Err(_) => return None,
    };
    if !response.status().is_success() {
        tracing::debug!(status = %response.status(), "Get Block List refused; resuming from the state file if any");
        let _ = wire.read_up_to(response.into_body(), 64 * 1024).await;
        return None;
    }
    let body = wire
        .read_up_to(response.into_body(), BLOCK_LIST_LIMIT)
        .await
        .ok()?;
    match parse_block_list(&body) {
        Ok(blocks) => Some(
            blocks
                .into_iter()
                .filter(|b| !b.committed)
                .filter_map(|b| Some((offset_of_id(&b.name)?, b.size)))
                .collect(),
        ),
        Err(e) => {
            tracing::debug!(error = %e, "unreadable Get Block List answer; not resuming from it");
            None
        }
    }
}

impl Stager<'_, '_> {
    pub(super) async fn commit(&self, count: u64, len: u64) -> Result<(), Error> {
        let ids: Vec<String> = (0..count).map(|i| block_id(i * self.block_size)).collect();
        let xml = Bytes::from(block_list_xml(ids.iter().map(String::as_str)));
        let md5 = self.whole_digest().map(|m| STANDARD.encode(m));
        let crc = self.whole_crc(len)?.map(crc64::to_header);
        let wire = self.wire;
        let content_type = self.content_type.as_deref();
        tracing::debug!(blocks = count, bytes = len, "committing the block list");
        let unanswered = AtomicBool::new(false);
        wire.retrying(Step::PutBlockList, None, |target| {
            let target = target.with_params("comp=blocklist");
            let xml = xml.clone();
            let (md5, crc) = (md5.clone(), crc.clone());
            let unanswered = &unanswered;
            async move {
                let mut request = Request::builder()
                    .method(Method::PUT)
                    .uri(target.url().as_str())
                    .header(header::CONTENT_TYPE, "text/plain; charset=UTF-8")
                    .header(header::CONTENT_LENGTH, xml.len());
                if let Some(md5) = md5 {
                    request = request.header("x-ms-blob-content-md5", md5);
                }
                if let Some(crc) = crc {
                    request = request.header(crc64::METADATA_HEADER, crc);
                }
                if let Some(ct) = content_type {
                    request = request.header("x-ms-blob-content-type", ct);
                }
                let request = request
                    .body(Body::from_bytes(xml))
                    .map_err(|e| bad_request(Step::PutBlockList, e))?;
                commit_attempt(wire, &target, request, Step::PutBlockList, unanswered).await
            }
        })
        .await
        .map_err(|e| commit_state(e, &unanswered).with_resumable(true))
    }
}

/// The byte offset encoded in one of our block ids (`None` for anyone else's ids).
fn offset_of_id(id: &str) -> Option<u64> {
    let raw = STANDARD.decode(id).ok()?;
    if raw.len() != 32 || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(&raw).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_decode_to_offsets() {
        assert_eq!(offset_of_id(&block_id(4_194_304)), Some(4_194_304));
        assert_eq!(offset_of_id("QQ=="), None);
        assert_eq!(offset_of_id("%%%"), None);
    }

    proptest::proptest! {
        /// Our ids name their offset; anyone else's text names none, without a panic.
        #[test]
        fn ids_name_their_offsets_and_other_text_names_none(
            offset in proptest::num::u64::ANY,
            other in "\\PC{0,60}",
        ) {
            proptest::prop_assert_eq!(offset_of_id(&block_id(offset)), Some(offset));
            if let Some(o) = offset_of_id(&other) {
                proptest::prop_assert_eq!(block_id(o), other);
            }
        }
    }
}
