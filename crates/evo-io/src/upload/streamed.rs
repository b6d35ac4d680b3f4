//! Uploading from a reader: blocks cut off in order, staged in parallel, the length checked.

use std::collections::HashMap;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::{FutureExt as _, StreamExt, stream};
use tokio::io::AsyncRead;

use super::report::UploadReport;
use super::resume::Staged;
use super::stager::{ReadBlock, Stager};
use crate::blocks::MAX_BLOCKS;
use crate::error::{BlockRef, Error, ErrorKind, Step};
use crate::feed::read_full;

pub(super) fn check_reader_len(expected: Option<u64>, got: u64) -> Result<(), Error> {
    match expected {
        Some(e) if e != got => Err(Error::new(
            ErrorKind::Local,
            Step::ReadSource,
            format!("the reader gave {got} bytes but its length was given as {e}"),
        )),
        _ => Ok(()),
    }
}

/// A reader being cut into blocks.
struct ReaderBlocks<'r> {
    reader: Pin<Box<dyn AsyncRead + Send + 'r>>,
    first: Option<Bytes>,
    next: BlockRef,
    ended: bool,
}

impl Stager<'_, '_> {
    /// Uploads from a reader: blocks are read in order, uploaded in parallel. `listed`: the
    /// blocks the server holds uncommitted, when resuming and it would say.
    pub(super) async fn streamed(
        &self,
        reader: Pin<Box<dyn AsyncRead + Send + '_>>,
        first: Bytes,
        expected: Option<u64>,
        resume: bool,
        listed: Option<HashMap<u64, u64>>,
    ) -> Result<UploadReport, Error> {
        let staged = Staged {
            sizes: listed.unwrap_or_default(),
            ..Staged::default()
        };
        let start = ReaderBlocks {
            reader,
            first: Some(first),
            next: BlockRef {
                index: 0,
                offset: 0,
                len: 0,
            },
            ended: false,
        };
        let reads =
            stream::try_unfold(start, |blocks| self.next_from_reader(blocks).boxed()).boxed();
        let (count, total) = self
            .stage_all(reads, &staged, None)
            .await
            .map_err(|e| self.failed(e, resume))?;
        check_reader_len(expected, total)?;
        self.commit(count, total).await?;
        self.report(total, count)
    }

    /// Cuts the next block off a reader (taking its place in flight first).
    async fn next_from_reader<'r>(
        &self,
        mut blocks: ReaderBlocks<'r>,
    ) -> Result<Option<(ReadBlock, ReaderBlocks<'r>)>, Error> {
        if blocks.ended {
            return Ok(None);
        }
        let slot = self.slot().await?;
        let data = match blocks.first.take() {
            Some(d) => d,
            None => read_full(&mut blocks.reader, self.block_size).await?,
        };
        if data.is_empty() {
            return Ok(None);
        }
        if blocks.next.index >= MAX_BLOCKS {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                Step::ReadSource,
                format!(
                    "the reader holds more than {MAX_BLOCKS} blocks of {} bytes: give its length or a larger block size",
                    self.block_size
                ),
            ));
        }
        let block = BlockRef {
            len: data.len() as u64,
            ..blocks.next
        };
        blocks.ended = block.len < self.block_size;
        blocks.next = BlockRef {
            index: block.index + 1,
            offset: block.offset + block.len,
            len: 0,
        };
        let read = ReadBlock {
            block,
            data,
            crc: None,
            _slot: slot,
        };
        Ok(Some((read, blocks)))
    }
}
