//! Parquet files back as a stream of Arrow record batches, checked against their format.

use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::file::reader::ChunkReader;

use crate::error::TableError;
use crate::format::TableFormat;
use crate::info::TableInfo;
use crate::normalize::normalize_schema;

/// The default number of rows per batch a [`TableReader`] yields.
pub const DEFAULT_BATCH_ROWS: usize = 64 * 1024;

/// What to check and how much to hold when reading a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    batch_rows: usize,
    format: Option<TableFormat>,
    length: Option<u64>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            batch_rows: DEFAULT_BATCH_ROWS,
            format: None,
            length: None,
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
/// never in memory (only the pages of the batch being decoded).
///
/// Malformed input gives [`TableError::Parquet`], never a panic; after an error the iterator
/// ends.
pub struct TableReader {
    inner: Option<ParquetRecordBatchReader>,
    schema: SchemaRef,
    rows: u64,
    row_groups: usize,
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
        let file = File::open(path).map_err(|e| TableError::io("opening", path, e))?;
        Self::new(file, options)
    }

    /// Reads a Parquet file held in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>, options: &ReadOptions) -> Result<Self, TableError> {
        Self::new(bytes.into(), options)
    }

    fn new<R: ChunkReader + 'static>(input: R, options: &ReadOptions) -> Result<Self, TableError> {
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
        let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(input, metadata);
        let schema = builder.schema().clone();
        let metadata = builder.metadata().clone();
        let rows = u64::try_from(metadata.file_metadata().num_rows()).map_err(|_| {
            TableError::Parquet {
                message: format!(
                    "negative row count {} in the footer",
                    metadata.file_metadata().num_rows()
                ),
                source: None,
            }
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
        let inner = guard("preparing the Parquet reader", || {
            builder.with_batch_size(options.batch_rows).build()
        })?;
        Ok(Self {
            inner: Some(inner),
            schema,
            rows,
            row_groups: metadata.num_row_groups(),
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
        let inner = self.inner.as_mut()?;
        let next = guard("decoding a record batch", || inner.next().transpose());
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

/// Runs a step of the Parquet/Arrow decoder on untrusted bytes: its error, or a panic inside
/// it, becomes [`TableError::Parquet`].
fn guard<T, E>(action: &str, step: impl FnOnce() -> Result<T, E>) -> Result<T, TableError>
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
