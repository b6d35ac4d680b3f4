//! Parquet files back as a stream of Arrow record batches, checked against their format.

use std::any::Any;
use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::file::reader::ChunkReader;

use crate::error::TableError;
use crate::format::TableFormat;
use crate::info::TableInfo;
use crate::normalize::normalize_schema;
use crate::parallel::{ChunkDecoders, ColumnDecoders, Owner, RowGroupDecoders, threads_for};
use crate::plain::plain_columns;

/// The default number of rows per batch a [`TableReader`] yields.
pub const DEFAULT_BATCH_ROWS: usize = 64 * 1024;

/// What to check and how much to hold when reading a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    batch_rows: usize,
    format: Option<TableFormat>,
    length: Option<u64>,
    parallel: bool,
    row_group_threads: Option<usize>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            batch_rows: DEFAULT_BATCH_ROWS,
            format: None,
            length: None,
            parallel: true,
            row_group_threads: None,
        }
    }
}

impl ReadOptions {
    /// Options with the defaults: batches of [`DEFAULT_BATCH_ROWS`] rows, nothing expected.
    pub fn new() -> Self {
        Self::default()
    }

    /// The most rows per batch (at least 1): what bounds the reader's memory.
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// Whether the table is decoded on several threads (the default; inflating its gzip pages
    /// dominates the cost), or all on the caller's thread by parquet's reader. In parallel:
    /// - a table of fixed-width number columns (float32/64, int32/64, uint32/64) without
    ///   nulls, PLAIN-encoded in gzip or uncompressed pages, as Evo writes positions,
    ///   attributes and indices, has its column chunks spread over threads
    ///   ([`Self::row_group_threads`]), each page inflated straight into its Arrow array;
    /// - any other table of several flat columns is decoded a thread per column;
    /// - any other table with several row groups (one column, or nested columns) has its row
    ///   groups spread over threads ([`Self::row_group_threads`]).
    ///
    /// In the first and last cases no batch spans two row groups. In every case the batches
    /// come in order and each thread stays a bounded amount ahead of the reader.
    pub fn parallel(mut self, parallel: bool) -> Self {
        self.parallel = parallel;
        self
    }

    /// How many threads decode the row groups, or the column chunks, of a table read in
    /// parallel but not a thread per column (default: one per core, four at most; never more
    /// than the row groups or chunks). One decodes them on the caller's thread.
    pub fn row_group_threads(mut self, threads: usize) -> Self {
        self.row_group_threads = Some(threads.max(1));
        self
    }

    /// Refuses, before reading any row, a file whose columns do not have `format`.
    pub fn expect_format(mut self, format: TableFormat) -> Self {
        self.format = Some(format);
        self
    }

    /// Refuses, before reading any row, a file without exactly `rows` rows.
    pub fn expect_length(mut self, rows: u64) -> Self {
        self.length = Some(rows);
        self
    }

    /// Expects what a table info from an object's JSON declares: its format
    /// ([`TableFormat::from_info`]) and its length.
    pub fn expect_info(self, info: &TableInfo) -> Result<Self, TableError> {
        let format = TableFormat::from_info(info)?;
        Ok(self.expect_format(format).expect_length(info.length))
    }
}

/// An iterator over the record batches of a Parquet table, at most
/// [`ReadOptions::batch_rows`] rows each, decoded as they are asked for: the whole table is
/// never in memory (only the batch being decoded and, with [`ReadOptions::parallel`], a
/// bounded number decoded ahead by each thread).
///
/// Malformed input gives [`TableError::Parquet`], never a panic; after an error the iterator
/// ends.
pub struct TableReader {
    // Declared before `_owner`: fields drop in order, so the file is closed before its owner
    // (a temporary file's deletion guard) goes.
    inner: Option<Decoder>,
    schema: SchemaRef,
    rows: u64,
    row_groups: usize,
    _owner: Option<Owner>,
}

impl std::fmt::Debug for TableReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableReader")
            .field("width", &self.schema.fields().len())
            .field("rows", &self.rows)
            .field("row_groups", &self.row_groups)
            .finish_non_exhaustive()
    }
}

impl TableReader {
    /// Opens a Parquet file: reads its footer and checks the expectations of `options`.
    pub fn open(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Self, TableError> {
        let path = path.as_ref();
        // One handle per decoding thread: clones of a `File` would share its position.
        let open = || File::open(path).map_err(|e| TableError::io("opening", path, e));
        Self::new(open, options, None)
    }

    /// Opens a Parquet file like [`Self::open`] and keeps `owner` until the reader and every
    /// thread decoding for it are done with the file: for a temporary file, its deletion guard
    /// (for example a `tempfile::TempPath`), so the file goes once nothing reads it.
    pub fn open_owning(
        path: impl AsRef<Path>,
        options: &ReadOptions,
        owner: impl Any + Send + Sync,
    ) -> Result<Self, TableError> {
        let path = path.as_ref();
        let open = || File::open(path).map_err(|e| TableError::io("opening", path, e));
        Self::new(open, options, Some(Arc::new(owner)))
    }

    /// Reads a Parquet file held in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>, options: &ReadOptions) -> Result<Self, TableError> {
        let bytes = bytes.into();
        Self::new(|| Ok(bytes.clone()), options, None)
    }

    fn new<R: ChunkReader + 'static>(
        open: impl Fn() -> Result<R, TableError>,
        options: &ReadOptions,
        owner: Option<Owner>,
    ) -> Result<Self, TableError> {
        let input = open()?;
        let metadata = guard("reading the Parquet footer", || {
            ArrowReaderMetadata::load(&input, ArrowReaderOptions::new())
        })?;
        // Columns Evo reads as other Arrow types (large strings, UTC spelled "+00:00" by
        // writers without an embedded Arrow schema) are read as the Evo types.
        let metadata = match normalize_schema(metadata.schema()) {
            None => metadata,
            Some(schema) => guard("applying the Evo column types", || {
                let options = ArrowReaderOptions::new().with_schema(SchemaRef::new(schema));
                ArrowReaderMetadata::try_new(metadata.metadata().clone(), options)
            })?,
        };
        let schema = metadata.schema().clone();
        let parquet = metadata.metadata().clone();
        let rows =
            u64::try_from(parquet.file_metadata().num_rows()).map_err(|_| TableError::Parquet {
                message: format!(
                    "negative row count {} in the footer",
                    parquet.file_metadata().num_rows()
                ),
                source: None,
            })?;
        if let Some(format) = &options.format {
            format.validate(&schema)?;
        }
        if let Some(expected) = options.length {
            if expected != rows {
                return Err(TableError::Length {
                    expected,
                    found: rows,
                });
            }
        }
        let width = schema.fields().len();
        let leaves = parquet.file_metadata().schema_descr().num_columns();
        let plain = options.parallel.then(|| plain_columns(&metadata)).flatten();
        let columns_parallel = options.parallel && plain.is_none() && width > 1 && leaves == width;
        // Asked only when it decides: the cores are counted with a system call.
        let row_group_threads = if options.parallel && !columns_parallel {
            let units = parquet.num_row_groups() * plain.as_ref().map_or(1, Vec::len);
            threads_for(units, options.row_group_threads)
        } else {
            1
        };
        let inner = if let Some(types) = plain {
            drop(input);
            Decoder::Chunks(ChunkDecoders::start(
                &open,
                &metadata,
                types,
                row_group_threads,
                options.batch_rows,
                owner.as_ref(),
            )?)
        } else if columns_parallel {
            let columns = (0..width)
                .map(|i| {
                    let input = open()?;
                    let mask = ProjectionMask::leaves(parquet.file_metadata().schema_descr(), [i]);
                    guard("preparing the Parquet reader", || {
                        ParquetRecordBatchReaderBuilder::new_with_metadata(input, metadata.clone())
                            .with_projection(mask)
                            .with_batch_size(options.batch_rows)
                            .build()
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Decoder::Columns(ColumnDecoders::start(columns, owner.as_ref())?)
        } else if row_group_threads > 1 {
            drop(input);
            Decoder::RowGroups(RowGroupDecoders::start(
                &open,
                &metadata,
                row_group_threads,
                options.batch_rows,
                owner.as_ref(),
            )?)
        } else {
            Decoder::Serial(guard("preparing the Parquet reader", || {
                ParquetRecordBatchReaderBuilder::new_with_metadata(input, metadata)
                    .with_batch_size(options.batch_rows)
                    .build()
            })?)
        };
        Ok(Self {
            inner: Some(inner),
            schema,
            rows,
            row_groups: parquet.num_row_groups(),
            _owner: owner,
        })
    }

    /// The Arrow schema of the table.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The number of rows the file's footer declares.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The number of row groups in the file.
    pub fn row_groups(&self) -> usize {
        self.row_groups
    }
}

impl Iterator for TableReader {
    type Item = Result<RecordBatch, TableError>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = match self.inner.as_mut()? {
            Decoder::Serial(reader) => {
                guard("decoding a record batch", || reader.next().transpose())
            }
            Decoder::Columns(columns) => columns.next(&self.schema),
            Decoder::Chunks(chunks) => chunks.next(&self.schema),
            Decoder::RowGroups(groups) => groups.next(),
        };
        match next {
            Ok(Some(batch)) => Some(Ok(batch)),
            Ok(None) => {
                self.inner = None;
                None
            }
            Err(e) => {
                self.inner = None;
                Some(Err(e))
            }
        }
    }
}

/// How a [`TableReader`] decodes: on the caller's thread, column chunks of plain columns
/// spread over threads, a thread per column, or row groups spread over threads
/// ([`ReadOptions::parallel`]).
enum Decoder {
    Serial(ParquetRecordBatchReader),
    Chunks(ChunkDecoders),
    Columns(ColumnDecoders),
    RowGroups(RowGroupDecoders),
}

/// Runs a step of the Parquet/Arrow decoder on untrusted bytes: its error, or a panic inside
/// it, becomes [`TableError::Parquet`].
pub(crate) fn guard<T, E>(
    action: &str,
    step: impl FnOnce() -> Result<T, E>,
) -> Result<T, TableError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match catch_unwind(AssertUnwindSafe(step)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(TableError::parquet(format!("{action}: {e}"), e)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(TableError::Parquet {
                message: format!("{action}: the decoder failed on malformed input: {what}"),
                source: None,
            })
        }
    }
}
