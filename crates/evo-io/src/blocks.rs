//! Block layout, block ids and the block-list XML documents of Azure block blobs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quick_xml::events::Event;

use crate::error::BlockRef;

/// The most blocks one block blob can commit (Azure).
pub const MAX_BLOCKS: u64 = 50_000;
/// The largest block Azure accepts (service version 2019-12-12 and later): 4000 MiB.
pub const MAX_BLOCK_SIZE: u64 = 4000 * MIB;
/// The default block size: 8 MiB.
pub const DEFAULT_BLOCK_SIZE: u64 = 8 * MIB;
/// The largest block blob: [`MAX_BLOCKS`] blocks of [`MAX_BLOCK_SIZE`] (about 190.7 TiB). A
/// server that claims a larger blob is not believed.
pub const MAX_BLOB_SIZE: u64 = MAX_BLOCKS * MAX_BLOCK_SIZE;
const MIB: u64 = 1024 * 1024;

/// The upload block size for a blob of `total` bytes: `preferred`, grown (in whole MiB) when
/// the blob would otherwise need more than [`MAX_BLOCKS`] blocks, and never over
/// [`MAX_BLOCK_SIZE`] (a blob over [`MAX_BLOB_SIZE`] cannot be uploaded at all).
pub fn block_size_for(total: u64, preferred: u64) -> u64 {
    let preferred = preferred.clamp(1, MAX_BLOCK_SIZE);
    let needed = total.div_ceil(MAX_BLOCKS);
    if needed <= preferred {
        preferred
    } else {
        (needed.div_ceil(MIB) * MIB).min(MAX_BLOCK_SIZE)
    }
}

/// The blocks of a blob of `total` bytes cut into `block_size` pieces (the last may be shorter).
pub(crate) fn layout(total: u64, block_size: u64) -> impl Iterator<Item = BlockRef> + Clone {
    let count = total.div_ceil(block_size);
    (0..count).map(move |index| {
        let offset = index * block_size;
        BlockRef {
            index,
            offset,
            len: block_size.min(total - offset),
        }
    })
}

/// The block id of the block at `offset`: base64 of the offset as 32 zero-padded decimal digits,
/// always 44 characters (the same ids as the official Python SDK, so either can resume the other).
pub fn block_id(offset: u64) -> String {
    STANDARD.encode(format!("{offset:032}"))
}

/// The block id, percent-encoded for the `blockid` query parameter.
pub(crate) fn block_id_param(offset: u64) -> String {
    block_id(offset)
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// The `Put Block List` document committing `ids` in order.
pub(crate) fn block_list_xml<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<BlockList>\n");
    for id in ids {
        xml.push_str("  <Latest>");
        xml.push_str(id);
        xml.push_str("</Latest>\n");
    }
    xml.push_str("</BlockList>");
    xml
}

/// One entry of a `Get Block List` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedBlock {
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) committed: bool,
}

/// Parses a `Get Block List` answer (`<BlockList><CommittedBlocks>|<UncommittedBlocks>
/// <Block><Name/><Size/></Block>…`). Unknown elements are ignored; a malformed document or a
/// block without a numeric size is an error.
pub(crate) fn parse_block_list(xml: &[u8]) -> Result<Vec<ListedBlock>, String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut blocks = Vec::new();
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut name: Option<String> = None;
    let mut size: Option<u64> = None;
    let mut buf = Vec::new();
    let mut saw_root = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let tag = e.name().as_ref().to_vec();
                if tag == b"BlockList" {
                    saw_root = true;
                }
                if tag == b"Block" {
                    name = None;
                    size = None;
                }
                path.push(tag);
            }
            Ok(Event::Empty(e)) => {
                if e.name().as_ref() == b"BlockList" {
                    saw_root = true;
                }
            }
            Ok(Event::End(_)) => {
                let tag = path.pop().unwrap_or_default();
                if tag == b"Block" {
                    let committed = path.iter().any(|t| t == b"CommittedBlocks");
                    match (name.take(), size.take()) {
                        (Some(name), Some(size)) => blocks.push(ListedBlock {
                            name,
                            size,
                            committed,
                        }),
                        _ => return Err("a <Block> without <Name> or <Size>".into()),
                    }
                }
            }
            Ok(Event::Text(t)) => {
                let text = t
                    .decode()
                    .map_err(|e| format!("bad text in the block list: {e}"))?
                    .trim()
                    .to_owned();
                match path.last().map(Vec::as_slice) {
                    Some(b"Name") => name = Some(text),
                    Some(b"Size") => {
                        size = Some(
                            text.parse()
                                .map_err(|_| format!("block size {text:?} is not a number"))?,
                        )
                    }
                    _ => {}
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("malformed block list XML: {e}")),
        }
        buf.clear();
    }
    if !saw_root {
        return Err("no <BlockList> element".into());
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_the_python_sdk_and_have_equal_length() {
        assert_eq!(block_id(0), "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=");
        assert_eq!(
            block_id(4_194_304),
            "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDQxOTQzMDQ="
        );
        assert_eq!(block_id(u64::MAX).len(), 44);
        assert_eq!(
            block_id_param(0),
            "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA%3D"
        );
    }

    #[test]
    fn block_size_grows_to_stay_within_50000_blocks() {
        assert_eq!(
            block_size_for(1 << 30, DEFAULT_BLOCK_SIZE),
            DEFAULT_BLOCK_SIZE
        );
        let huge = 1u64 << 42; // 4 TiB
        let bs = block_size_for(huge, DEFAULT_BLOCK_SIZE);
        assert!(huge.div_ceil(bs) <= MAX_BLOCKS);
        assert_eq!(bs % MIB, 0);
        for total in [
            0,
            1,
            MAX_BLOCKS * 8 * MIB,
            MAX_BLOCKS * 8 * MIB + 1,
            190 << 40,
        ] {
            assert!(total.div_ceil(block_size_for(total, DEFAULT_BLOCK_SIZE)) <= MAX_BLOCKS);
        }
        assert_eq!(block_size_for(1 << 62, DEFAULT_BLOCK_SIZE), MAX_BLOCK_SIZE);
        assert_eq!(block_size_for(u64::MAX, 1), MAX_BLOCK_SIZE);
    }

    #[test]
    fn layout_covers_every_byte_once() {
        let blocks: Vec<_> = layout(10, 4).collect();
        assert_eq!(
            blocks.iter().map(|b| (b.offset, b.len)).collect::<Vec<_>>(),
            vec![(0, 4), (4, 4), (8, 2)]
        );
        assert_eq!(layout(0, 4).count(), 0);
        assert_eq!(layout(8, 4).count(), 2);
    }

    #[test]
    fn block_list_round_trip() {
        let xml = block_list_xml(["a", "b"].into_iter());
        assert!(xml.contains("  <Latest>a</Latest>\n  <Latest>b</Latest>"));
        let answer = br#"<?xml version="1.0" encoding="utf-8"?><BlockList><CommittedBlocks><Block><Name>QQ==</Name><Size>4</Size></Block></CommittedBlocks><UncommittedBlocks><Block><Name>Qg==</Name><Size>2</Size></Block></UncommittedBlocks></BlockList>"#;
        let parsed = parse_block_list(answer).unwrap();
        assert_eq!(
            parsed,
            vec![
                ListedBlock {
                    name: "QQ==".into(),
                    size: 4,
                    committed: true
                },
                ListedBlock {
                    name: "Qg==".into(),
                    size: 2,
                    committed: false
                }
            ]
        );
        assert!(parse_block_list(b"<BlockList><UncommittedBlocks><Block><Name>x</Name><Size>big</Size></Block></UncommittedBlocks></BlockList>").is_err());
        assert!(parse_block_list(b"not xml <<<").is_err());
        assert!(parse_block_list(b"<BlockList/>").is_ok());
    }

    /// A `Get Block List` answer as Azure writes it.
    fn render(committed: &[(String, u64)], uncommitted: &[(String, u64)]) -> String {
        let blocks = |list: &[(String, u64)]| -> String {
            list.iter()
                .map(|(n, s)| format!("<Block><Name>{n}</Name><Size>{s}</Size></Block>"))
                .collect()
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><CommittedBlocks>{}</CommittedBlocks><UncommittedBlocks>{}</UncommittedBlocks></BlockList>",
            blocks(committed),
            blocks(uncommitted)
        )
    }

    /// Committed and uncommitted blocks (name, size).
    type Lists = (Vec<(String, u64)>, Vec<(String, u64)>);

    fn block_lists() -> impl proptest::strategy::Strategy<Value = Lists> {
        let block = ("[A-Za-z0-9+/]{1,20}={0,2}", proptest::num::u64::ANY);
        (
            proptest::collection::vec(block, 0..6),
            proptest::collection::vec(block, 0..6),
        )
    }

    proptest::proptest! {
        /// Any bytes as a block list: a list or a typed error, never a panic.
        #[test]
        fn any_bytes_parse_or_fail_cleanly(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
        ) {
            let _ = parse_block_list(&bytes);
        }

        /// Azure's answers parse back to the blocks they list, committed or not.
        #[test]
        fn rendered_lists_parse_back((committed, uncommitted) in block_lists()) {
            let parsed = parse_block_list(render(&committed, &uncommitted).as_bytes()).unwrap();
            let expected: Vec<ListedBlock> = committed
                .iter()
                .map(|(n, s)| (n, s, true))
                .chain(uncommitted.iter().map(|(n, s)| (n, s, false)))
                .map(|(name, &size, committed)| ListedBlock { name: name.clone(), size, committed })
                .collect();
            proptest::prop_assert_eq!(parsed, expected);
        }

        /// A list cut short or with a byte changed never panics, and a cut list never claims a
        /// block that was not in the whole one.
        #[test]
        fn damaged_lists_fail_cleanly(
            (committed, uncommitted) in block_lists(),
            cut in proptest::num::usize::ANY,
            flip in proptest::num::usize::ANY,
            byte in proptest::num::u8::ANY,
        ) {
            let xml = render(&committed, &uncommitted).into_bytes();
            let cut_at = cut % (xml.len() + 1);
            if let Ok(blocks) = parse_block_list(&xml[..cut_at]) {
                for b in blocks {
                    let source = if b.committed { &committed } else { &uncommitted };
                    proptest::prop_assert!(source.iter().any(|(n, s)| *n == b.name && *s == b.size));
                }
            }
            let mut flipped = xml.clone();
            let at = flip % flipped.len();
            flipped[at] = byte;
            let _ = parse_block_list(&flipped);
        }

        /// Every offset has a 44-character id that names it, and the commit document lists the
        /// ids in order.
        #[test]
        fn block_ids_have_one_length_and_keep_their_order(offsets in proptest::collection::vec(proptest::num::u64::ANY, 1..20)) {
            let ids: Vec<String> = offsets.iter().map(|&o| block_id(o)).collect();
            for id in &ids {
                proptest::prop_assert_eq!(id.len(), 44);
            }
            let xml = block_list_xml(ids.iter().map(String::as_str));
            let mut at = 0;
            for id in &ids {
                let found = xml[at..].find(&format!("<Latest>{id}</Latest>"));
                proptest::prop_assert!(found.is_some());
                at += found.unwrap_or(0) + 1;
            }
        }
    }
}
