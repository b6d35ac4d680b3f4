//! Entry points for fuzzing the parsers of server input (the `fuzz/` targets, with the
//! `fuzzing` feature) and their short property tests. Not part of the API.

use http::{HeaderMap, HeaderValue, header};

/// Parses `data` as a `Get Block List` answer; every listed block has a name and a size.
pub fn block_list(data: &[u8]) {
    if let Ok(blocks) = crate::blocks::parse_block_list(data) {
        for block in blocks {
            let _ = (block.name.len(), block.size, block.committed);
        }
    }
}

/// Parses `data` as a `Content-Range` value; an accepted range is well-formed.
pub fn content_range(data: &[u8]) {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(data) {
        headers.insert(header::CONTENT_RANGE, value);
    }
    if let Ok((first, last, total)) = crate::download::parse_content_range(&headers) {
        assert!(first <= last, "{first}-{last}");
        if let Some(total) = total {
            assert!(last < total, "{last}/{total}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The default number of cases (256), or PROPTEST_CASES (`cargo xtask fuzz --stable`).
    proptest! {
        #[test]
        fn block_lists_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
            block_list(&data);
        }

        #[test]
        fn block_list_like_documents_never_panic(
            blocks in prop::collection::vec(("[A-Za-z0-9+/=<&]{0,12}", "-?[0-9]{0,22}"), 0..6),
            committed in any::<bool>(),
        ) {
            let list = if committed { "CommittedBlocks" } else { "UncommittedBlocks" };
            let mut xml = format!("<?xml version=\"1.0\"?><BlockList><{list}>");
            for (name, size) in blocks {
                xml.push_str(&format!("<Block><Name>{name}</Name><Size>{size}</Size></Block>"));
            }
            xml.push_str(&format!("</{list}></BlockList>"));
            block_list(xml.as_bytes());
        }

        #[test]
        fn content_ranges_never_panic(data in prop::collection::vec(any::<u8>(), 0..64)) {
            content_range(&data);
        }

        #[test]
        fn content_range_like_values_are_checked(
            first in "[ +-]?[0-9]{0,21}",
            last in "[ +-]?[0-9]{0,21}",
            total in "[0-9]{0,21}|\\*",
        ) {
            content_range(format!("bytes {first}-{last}/{total}").as_bytes());
        }
    }
}
