//! What a download reads from an answer's headers (text values, the stored MD5, a strictly
//! parsed `Content-Range`), and the protocol failure for an answer that makes no sense.

use http::{HeaderMap, header};

use crate::digest::BlobDigest;
use crate::error::{ErrorKind, Step};
use crate::request::{Failure, fatal};

pub(super) fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

pub(super) fn protocol(step: Step, message: impl Into<String>) -> Failure {
    fatal(ErrorKind::Protocol, step, message)
}

/// The stored MD5 of a blob from an answer's headers: `Content-MD5` on a HEAD or a whole
/// body, `x-ms-blob-content-md5` on a range.
pub(super) fn stored_md5(headers: &HeaderMap) -> Option<BlobDigest> {
    let text = header_text(
        headers,
        header::HeaderName::from_static("x-ms-blob-content-md5"),
    )
    .or_else(|| header_text(headers, header::HeaderName::from_static("content-md5")))?;
    BlobDigest::md5_base64(&text).ok()
}

/// A parsed `Content-Range: bytes first-last/total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ContentRange {
    pub(super) first: u64,
    pub(super) last: u64,
    pub(super) total: Option<u64>,
}

impl ContentRange {
    pub(super) fn parse(headers: &HeaderMap) -> Result<ContentRange, String> {
        let raw = headers
            .get(header::CONTENT_RANGE)
            .ok_or("206 without Content-Range")?
            .to_str()
            .map_err(|_| "Content-Range is not text")?;
        let bad = || format!("malformed Content-Range {raw:?}");
        let rest = raw.trim().strip_prefix("bytes ").ok_or_else(bad)?;
        let (span, total) = rest.split_once('/').ok_or_else(bad)?;
        let (first, last) = span.split_once('-').ok_or_else(bad)?;
        let first: u64 = first.trim().parse().map_err(|_| bad())?;
        let last: u64 = last.trim().parse().map_err(|_| bad())?;
        let total = match total.trim() {
            "*" => None,
            t => Some(t.parse::<u64>().map_err(|_| bad())?),
        };
        if last < first || total.is_some_and(|t| last >= t) {
            return Err(bad());
        }
        Ok(ContentRange { first, last, total })
    }
}

/// [`ContentRange::parse`] as `(first, last, total)`, for the fuzzing entry points.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn parse_content_range(headers: &HeaderMap) -> Result<(u64, u64, Option<u64>), String> {
    ContentRange::parse(headers).map(|r| (r.first, r.last, r.total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_RANGE, value.parse().unwrap());
        h
    }

    #[test]
    fn content_range_is_parsed_strictly() {
        assert_eq!(
            ContentRange::parse(&headers("bytes 0-9/100")).unwrap(),
            ContentRange {
                first: 0,
                last: 9,
                total: Some(100)
            }
        );
        assert_eq!(
            ContentRange::parse(&headers("bytes 5-9/*")).unwrap().total,
            None
        );
        for bad in [
            "bytes 9-0/100",
            "bytes 0-100/100",
            "items 0-1/2",
            "bytes 0-1",
            "bytes a-b/c",
            "bytes -1-2/3",
        ] {
            assert!(ContentRange::parse(&headers(bad)).is_err(), "{bad}");
        }
        assert!(ContentRange::parse(&HeaderMap::new()).is_err());
    }

    proptest::proptest! {
        /// Any header text: a range that makes sense (first <= last < total) or an error.
        #[test]
        fn any_content_range_text_gives_a_sane_range_or_an_error(text in "\\PC{0,60}") {
            if let Ok(value) = http::HeaderValue::from_str(&text) {
                let mut h = HeaderMap::new();
                h.insert(header::CONTENT_RANGE, value);
                if let Ok(r) = ContentRange::parse(&h) {
                    proptest::prop_assert!(r.first <= r.last);
                    proptest::prop_assert!(r.total.is_none_or(|t| r.last < t));
                }
            }
        }

        /// Well-formed ranges are read exactly, whatever the numbers.
        #[test]
        fn well_formed_ranges_are_read_exactly(
            first in proptest::num::u64::ANY,
            len in proptest::num::u64::ANY,
            extra in proptest::option::of(proptest::num::u64::ANY),
        ) {
            let last = first.saturating_add(len);
            let total = extra.map(|e| last.saturating_add(e).saturating_add(1).max(last));
            let text = match total {
                Some(t) => format!("bytes {first}-{last}/{t}"),
                None => format!("bytes {first}-{last}/*"),
            };
            let parsed = ContentRange::parse(&headers(&text));
            match total {
                Some(t) if t <= last => proptest::prop_assert!(parsed.is_err()),
                _ => proptest::prop_assert_eq!(parsed.unwrap(), ContentRange { first, last, total }),
            }
        }
    }
}
