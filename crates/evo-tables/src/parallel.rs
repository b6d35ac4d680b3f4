//! Decoding a table on several threads, its batches still coming out in order: its column
//! chunks spread over a few threads for a table of plain fixed-width columns (the fast path of
//! [`crate::plain`]), one thread per column for another table of several flat columns, or its
//! row groups spread over a few threads (a table of one column, or of nested columns).
//! Inflating gzip pages dominates the cost of reading an Evo table, and it is done column
//! chunk by column chunk, so each split keeps every core busy.
//!
//! Each thread sends through a bounded queue of its own, so it runs at most that queue ahead
//! of the consumer; dropping the receivers stops the threads at their next send. A thread lets
//! go of its file handle before its share of the reader's owner (a temporary file's deletion
//! guard).

use std::any::Any;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use bytes::Bytes;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use parquet::file::reader::{ChunkReader, Length};

use crate::error::TableError;
use crate::plain::ChunkDecoder;
use crate::read::guard;

/// What a reader keeps alive while it, or any of its decoding threads, reads the file.
pub(crate) type Owner = Arc<dyn Any + Send + Sync>;

/// The most threads decoding the row groups, or the column chunks, of one table.
const MAX_ROW_GROUP_THREADS: usize = 4;

/// The most column chunks waiting in a chunk thread's queue (each at most 16 MiB, most a few
/// MiB): with the one it holds while the queue is full, a thread is at most two chunks ahead
/// of the consumer, enough to decode while the consumer reads.
const MAX_QUEUED_CHUNKS: usize = 1;

/// How many threads decode a table split `units` ways: `asked`, else one per core and at most
/// [`MAX_ROW_GROUP_THREADS`]; never more than the units.
pub(crate) fn threads_for(units: usize, asked: Option<usize>) -> usize {
    let threads = asked.unwrap_or_else(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        cores.min(MAX_ROW_GROUP_THREADS)
    });
    threads.min(units)
}

/// The most batches a row-group thread holds decoded ahead of the consumer. Enough for a
/// row group of a million rows in batches of the default 64 Ki rows, so that a thread decodes
/// its next group while the consumer reads the one before.
const MAX_QUEUED_BATCHES: usize = 32;

fn spawn(work: impl FnOnce() + Send + 'static) -> Result<(), TableError> {
    std::thread::Builder::new()
        .name("evo-tables-decoder".to_owned())
        .spawn(work)
        .map(drop)
        .map_err(|e| TableError::io("starting a decoder thread", "", e))
}

/// Starts a decoding thread with an input of its own from `open` and a queue of `room`
/// messages. It runs `work`, then lets go of the input (its file handle) before its share of
/// `owner` (a temporary file's deletion guard).
fn start_decoder<R: ChunkReader + 'static, M: Send + 'static>(
    open: &impl Fn() -> Result<R, TableError>,
    owner: Option<&Owner>,
    room: usize,
    work: impl FnOnce(&SharedInput<R>, &SyncSender<M>) + Send + 'static,
) -> Result<Receiver<M>, TableError> {
    let input = SharedInput(Arc::new(open()?));
    let owner = owner.cloned();
    let (sender, receiver) = sync_channel(room);
    spawn(move || {
        work(&input, &sender);
        drop(input);
        drop(owner);
    })?;
    Ok(receiver)
}

/// The number of rows of each row group, as the footer declares them (a negative count as 0).
fn group_rows(metadata: &ArrowReaderMetadata) -> impl Iterator<Item = usize> + '_ {
    metadata
        .metadata()
        .row_groups()
        .iter()
        .map(|g| usize::try_from(g.num_rows()).unwrap_or(0))
}

/// One decoding thread per column, each sending its column's batches through a short queue;
/// the batches line up because every column is read with the same row groups and batch size.
pub(crate) struct ColumnDecoders {
    columns: Vec<Receiver<Result<ArrayRef, TableError>>>,
}

impl ColumnDecoders {
    pub(crate) fn start(
        readers: Vec<ParquetRecordBatchReader>,
        owner: Option<&Owner>,
    ) -> Result<Self, TableError> {
        let columns = readers
            .into_iter()
            .map(|mut reader| {
                let owner = owner.cloned();
                let (sender, receiver) = sync_channel(2);
                spawn(move || {
                    loop {
                        let next = guard("decoding a column", || reader.next().transpose());
                        let (message, last) = match next {
                            Ok(Some(batch)) => (Ok(batch.column(0).clone()), false),
                            Ok(None) => break,
                            Err(e) => (Err(e), true),
                        };
                        if sender.send(message).is_err() || last {
                            break;
                        }
                    }
                    // The file handle first, then this thread's share of its owner.
                    drop(reader);
                    drop(owner);
                })
                .map(|()| receiver)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { columns })
    }

    pub(crate) fn next(&mut self, schema: &SchemaRef) -> Result<Option<RecordBatch>, TableError> {
        let mut arrays = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            match column.recv() {
                Ok(Ok(array)) => arrays.push(array),
                Ok(Err(e)) => return Err(e),
                Err(_) => {}
            }
        }
        if arrays.is_empty() {
            return Ok(None);
        }
        let rows = arrays[0].len();
        if arrays.len() != self.columns.len() || arrays.iter().any(|a| a.len() != rows) {
            return Err(TableError::Parquet {
                message: "the columns do not have the same number of rows".to_owned(),
                source: None,
            });
        }
        RecordBatch::try_new(schema.clone(), arrays)
            .map(Some)
            .map_err(|e| TableError::parquet("assembling a record batch", e))
    }
}

/// What a row-group thread sends: a batch, the end of its current row group (`None`), or the
/// error that stopped it.
type RowGroupMessage = Result<Option<RecordBatch>, TableError>;

/// The row groups spread over a few threads: thread `t` of `n` decodes groups `t`, `t + n`,
/// `t + 2n`, ..., sending each group's batches and then its end; the consumer takes the groups
/// in order, each from the queue of the thread that decodes it. A batch never spans two row
/// groups here.
pub(crate) struct RowGroupDecoders {
    queues: Vec<Receiver<RowGroupMessage>>,
    group: usize,
    groups: usize,
}

impl RowGroupDecoders {
    /// Starts `threads` threads (at least one), each with its own input from `open`.
    pub(crate) fn start<R: ChunkReader + 'static>(
        open: impl Fn() -> Result<R, TableError>,
        metadata: &ArrowReaderMetadata,
        threads: usize,
        batch_rows: usize,
        owner: Option<&Owner>,
    ) -> Result<Self, TableError> {
        let groups = metadata.metadata().num_row_groups();
        let threads = threads.max(1);
        let most_rows = group_rows(metadata).max().unwrap_or(0);
        // A group's batches and its end, within the bound.
        let room = (most_rows.div_ceil(batch_rows) + 1).min(MAX_QUEUED_BATCHES);
        let queues = (0..threads)
            .map(|first| {
                let metadata = metadata.clone();
                start_decoder(&open, owner, room, move |input, sender| {
                    for group in (first..groups).step_by(threads) {
                        if !decode_row_group(input, &metadata, group, batch_rows, sender) {
                            break;
                        }
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            queues,
            group: 0,
            groups,
        })
    }

    pub(crate) fn next(&mut self) -> Result<Option<RecordBatch>, TableError> {
        while self.group < self.groups {
            let queue = &self.queues[self.group % self.queues.len()];
            match queue.recv() {
                Ok(Ok(Some(batch))) => return Ok(Some(batch)),
                Ok(Ok(None)) => self.group += 1,
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    return Err(TableError::Parquet {
                        message: format!(
                            "the thread decoding row group {} stopped before its end",
                            self.group
                        ),
                        source: None,
                    });
                }
            }
        }
        Ok(None)
    }
}

/// What a chunk thread sends: a column chunk as one array, or the error that stopped it.
type ChunkMessage = Result<ArrayRef, TableError>;

/// The column chunks of a table of plain columns ([`crate::plain::plain_columns`]) spread over
/// a few threads: chunk `u` (column `u % width` of row group `u / width`) is decoded by thread
/// `u % n`; or, with one thread asked for, each decoded on the caller's thread when it is
/// needed. The consumer takes the chunks in order and cuts each row group into batches, slices
/// of its chunks' arrays (no copy). A batch never spans two row groups here.
pub(crate) struct ChunkDecoders {
    source: ChunkSource,
    group_rows: Vec<usize>,
    width: usize,
    next_chunk: usize,
    batch_rows: usize,
    /// The row group being read: its columns and the first row not yet sent.
    current: Option<(Vec<ArrayRef>, usize)>,
}

/// Where the decoded chunks come from.
enum ChunkSource {
    /// The queues of the decoding threads; chunk `u` from queue `u % n`.
    Threads(Vec<Receiver<ChunkMessage>>),
    /// Decodes chunk `u` on the caller's thread.
    Here(Box<dyn FnMut(usize) -> ChunkMessage + Send>),
}

impl ChunkDecoders {
    /// Starts `threads` threads (none for one thread, or a table without rows), each with its
    /// own input from `open`; `types` are the columns' types from
    /// [`crate::plain::plain_columns`].
    pub(crate) fn start<R: ChunkReader + 'static>(
        open: impl Fn() -> Result<R, TableError>,
        metadata: &ArrowReaderMetadata,
        types: Vec<DataType>,
        threads: usize,
        batch_rows: usize,
        owner: Option<&Owner>,
    ) -> Result<Self, TableError> {
        let width = types.len();
        let group_rows: Vec<usize> = group_rows(metadata).collect();
        let chunks = group_rows.len() * width;
        let types = Arc::new(types);
        let decode = move |decoder: &mut ChunkDecoder,
                           input: &SharedInput<R>,
                           metadata: &ArrowReaderMetadata,
                           chunk: usize| {
            let (group, column) = (chunk / width, chunk % width);
            decoder.decode(input, metadata, group, column, &types[column])
        };
        let source = if threads <= 1 {
            let (input, metadata, mut decoder) = (
                SharedInput(Arc::new(open()?)),
                metadata.clone(),
                ChunkDecoder::new(),
            );
            ChunkSource::Here(Box::new(move |chunk| {
                decode(&mut decoder, &input, &metadata, chunk)
            }))
        } else {
            let threads = threads.min(chunks);
            let decode = Arc::new(decode);
            let queues = (0..threads)
                .map(|first| {
                    let (metadata, decode) = (metadata.clone(), decode.clone());
                    start_decoder(&open, owner, MAX_QUEUED_CHUNKS, move |input, sender| {
                        let mut decoder = ChunkDecoder::new();
                        for chunk in (first..chunks).step_by(threads) {
                            let message = decode(&mut decoder, input, &metadata, chunk);
                            let failed = message.is_err();
                            if sender.send(message).is_err() || failed {
                                break;
                            }
                        }
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            ChunkSource::Threads(queues)
        };
        Ok(Self {
            source,
            group_rows,
            width,
            next_chunk: 0,
            batch_rows,
            current: None,
        })
    }

    /// The next chunk in order.
    fn next_chunk(&mut self, group: usize, column: usize) -> ChunkMessage {
        let chunk = self.next_chunk;
        self.next_chunk += 1;
        match &mut self.source {
            ChunkSource::Here(decode) => decode(chunk),
            ChunkSource::Threads(queues) => {
                queues[chunk % queues.len()]
                    .recv()
                    .unwrap_or_else(|_| {
                        Err(TableError::Parquet {
                            message: format!(
                                "the thread decoding column {column} of row group {group} stopped before it"
                            ),
                            source: None,
                        })
                    })
            }
        }
    }

    pub(crate) fn next(&mut self, schema: &SchemaRef) -> Result<Option<RecordBatch>, TableError> {
        loop {
            if let Some((columns, first)) = &mut self.current {
                let rows = columns[0].len();
                if *first < rows {
                    let length = self.batch_rows.min(rows - *first);
                    let slices = columns.iter().map(|c| c.slice(*first, length)).collect();
                    *first += length;
                    return RecordBatch::try_new(schema.clone(), slices)
                        .map(Some)
                        .map_err(|e| TableError::parquet("assembling a record batch", e));
                }
                self.current = None;
            }
            let group = self.next_chunk / self.width.max(1);
            if group >= self.group_rows.len() {
                return Ok(None);
            }
            let mut columns = Vec::with_capacity(self.width);
            for column in 0..self.width {
                let array = self.next_chunk(group, column)?;
                if array.len() != self.group_rows[group] {
                    return Err(TableError::Parquet {
                        message: format!(
                            "column {column} of row group {group} has {} rows, the footer says {}",
                            array.len(),
                            self.group_rows[group]
                        ),
                        source: None,
                    });
                }
                columns.push(array);
            }
            self.current = Some((columns, 0));
        }
    }
}

/// Decodes one row group into `sender`, then sends its end. False when the thread should stop:
/// the consumer is gone, or decoding failed (the error was sent).
fn decode_row_group<R: ChunkReader + 'static>(
    input: &SharedInput<R>,
    metadata: &ArrowReaderMetadata,
    group: usize,
    batch_rows: usize,
    sender: &SyncSender<RowGroupMessage>,
) -> bool {
    let reader = guard("preparing the Parquet reader", || {
        ParquetRecordBatchReaderBuilder::new_with_metadata(input.clone(), metadata.clone())
            .with_row_groups(vec![group])
            .with_batch_size(batch_rows)
            .build()
    });
    let mut reader = match reader {
        Ok(reader) => reader,
        Err(e) => {
            let _ = sender.send(Err(e));
            return false;
        }
    };
    loop {
        match guard("decoding a record batch", || reader.next().transpose()) {
            Ok(Some(batch)) => {
                if sender.send(Ok(Some(batch))).is_err() {
                    return false;
                }
            }
            Ok(None) => return sender.send(Ok(None)).is_ok(),
            Err(e) => {
                let _ = sender.send(Err(e));
                return false;
            }
        }
    }
}

/// One thread's input, shared by the readers of the row groups it decodes one after another
/// (a file handle opened once per thread; its reads seek first, so sequential readers do not
/// disturb each other).
pub(crate) struct SharedInput<R>(pub(crate) Arc<R>);

impl<R> Clone for SharedInput<R> {
    fn clone(&self) -> Self {
        SharedInput(self.0.clone())
    }
}

impl<R: ChunkReader> Length for SharedInput<R> {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

impl<R: ChunkReader> ChunkReader for SharedInput<R> {
    type T = R::T;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        self.0.get_read(start)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.0.get_bytes(start, length)
    }
}
