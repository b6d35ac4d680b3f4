//! Arrow record batches to the Parquet file Evo expects, hashed as it is written.

use std::borrow::Borrow;
use std::io::Write;
use std::path::{Path, PathBuf};

use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowLeafColumn, ArrowRowGroupWriterFactory,
    compute_leaves,
};
use parquet::basic::{Compression, Encoding, GzipLevel};
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::file::writer::SerializedFileWriter;

use crate::error::{FormatMismatch, FormatProblem, TableError};
use crate::format::{ColumnType, TableFormat};
use crate::hash::HashingWriter;
use crate::info::TableInfo;
use crate::normalize::{normalize_batch, normalize_schema};

/// How tables are encoded. The defaults give what Evo expects; the knobs trade speed, size and
/// memory, never the format.
///
/// Every file is Parquet format version 2 with the 2.4 logical types (as pyarrow's
/// `write_table(version="2.4", compression="gzip")` writes for the Python SDK: unsigned integers
/// stay unsigned, timestamps are microseconds adjusted to UTC), gzip-compressed unless another
/// [`Codec`] is chosen, with PLAIN encoding and no dictionaries, and the Arrow schema embedded
/// (so pyarrow reads back the same Arrow types). The same batches and options always give the
/// same bytes, hence the same data id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    codec: Codec,
    max_row_group_rows: usize,
    max_row_group_bytes: usize,
}

/// How the pages of a table are compressed. Every Parquet reader (pyarrow, Evo's services,
/// [`TableReader`](crate::TableReader)) takes each of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    /// gzip at a level from 0 (store) to 9 (smallest): what the Python SDK writes for objects'
    /// tables, and the default (level 6). It costs about 1 s of CPU per 100-250 MiB on data
    /// that barely compresses (measured floats), at level 1 as well.
    Gzip(u32),
    /// Snappy: what pyarrow writes by default, so what the Python SDK sends for block-model
    /// columns. Compresses less, at a tenth of gzip's CPU or less.
    Snappy,
    /// No compression.
    Uncompressed,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            codec: Codec::Gzip(6),
            max_row_group_rows: 1024 * 1024,
            max_row_group_bytes: 128 * 1024 * 1024,
        }
    }
}

impl WriteOptions {
    /// Options with the defaults: gzip level 6, row groups of at most 1 Mi rows and 128 MiB.
    pub fn new() -> Self {
        Self::default()
    }

    /// Compresses with gzip at `level`, 0 (store) to 9 (smallest); values above 9 are taken
    /// as 9. The same as [`codec`](Self::codec) with [`Codec::Gzip`].
    pub fn gzip_level(self, level: u32) -> Self {
        self.codec(Codec::Gzip(level))
    }

    /// How pages are compressed (default gzip level 6); a gzip level above 9 is taken as 9.
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = match codec {
            Codec::Gzip(level) => Codec::Gzip(level.min(9)),
            other => other,
        };
        self
    }

    /// The most rows in one row group (at least 1). A row group is held, encoded, in memory
    /// until it is complete: this bounds the writer's memory.
    pub fn max_row_group_rows(mut self, rows: usize) -> Self {
        self.max_row_group_rows = rows.max(1);
        self
    }

    /// The most bytes in one row group (at least 1 KiB), estimated from the column types
    /// (strings count 32 bytes): the other bound of the writer's memory.
    pub fn max_row_group_bytes(mut self, bytes: usize) -> Self {
        self.max_row_group_bytes = bytes.max(1024);
        self
    }

    fn properties(&self) -> Result<WriterProperties, TableError> {
        let compression = match self.codec {
            Codec::Gzip(level) => Compression::GZIP(
                GzipLevel::try_new(level)
                    .map_err(|e| TableError::write("invalid gzip level", e))?,
            ),
            Codec::Snappy => Compression::SNAPPY,
            Codec::Uncompressed => Compression::UNCOMPRESSED,
        };
        Ok(WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_2_0)
            .set_compression(compression)
            .set_dictionary_enabled(false)
            .set_encoding(Encoding::PLAIN)
            .build())
    }
}

/// What writing a table produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenTable {
    /// The metadata to put in the object's JSON; `info.data` is the data id (the SHA-256 name).
    pub info: TableInfo,
    /// The format the table was checked against.
    pub format: TableFormat,
    /// The size of the Parquet file in bytes.
    pub size: u64,
    /// The number of columns.
    pub width: usize,
}

impl WrittenTable {
    /// The data id: the lowercase hex SHA-256 of the file's bytes, its name in Evo.
    pub fn data_id(&self) -> &str {
        &self.info.data
    }

    /// The number of rows.
    pub fn rows(&self) -> u64 {
        self.info.length
    }
}

/// Writes record batches sharing one schema as one Parquet file, streaming: each row group is
/// written out when complete, and the SHA-256 of the bytes is computed on the way.
///
/// Each column of a row group is encoded and compressed on its own thread (gzip dominates the
/// cost), fed through a short queue: memory stays bounded by one row group's encoded columns
/// plus two batches per column. Row groups hold a fixed number of rows derived from the options
/// and the column types, so the bytes (hence the data id) do not depend on how the rows were
/// split into batches. After an error, drop the writer.
pub struct TableWriter<W: Write + Send> {
    inner: ParquetWriter<W>,
    format: TableFormat,
}

/// What a [`ParquetWriter`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// The lowercase hex SHA-256 of the file's bytes.
    pub data_id: String,
    /// The number of rows.
    pub rows: u64,
    /// The size of the file in bytes.
    pub size: u64,
    /// The number of columns.
    pub width: usize,
}

/// Writes record batches of any Arrow schema Parquet can hold as one Parquet file, the way
/// [`TableWriter`] does (same encoding, column-parallel row groups, bounded memory, SHA-256 on
/// the way), without checking the columns against an object [`TableFormat`]: for tables whose
/// columns are not object table formats, such as the column files of block models (which also
/// take `Float32`, `Int8`, `Date32`, ... columns).
pub struct ParquetWriter<W: Write + Send> {
    file: SerializedFileWriter<HashingWriter<W>>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    rows: u64,
    rows_per_group: usize,
    group: Option<RowGroupInProgress>,
}

/// The column encoders of the row group being written.
struct RowGroupInProgress {
    encoders: Vec<ColumnEncoder>,
    rows: usize,
}

struct ColumnEncoder {
    leaves: SyncSender<ArrowLeafColumn>,
    done: JoinHandle<parquet::errors::Result<ArrowColumnChunk>>,
}

impl ColumnEncoder {
    fn spawn(mut writer: ArrowColumnWriter) -> Result<Self, TableError> {
        let (leaves, received) = sync_channel::<ArrowLeafColumn>(2);
        let done = std::thread::Builder::new()
            .name("evo-tables-encoder".to_owned())
            .spawn(move || {
                for leaf in received {
                    writer.write(&leaf)?;
                }
                writer.close()
            })
            .map_err(|e| TableError::write("starting a column encoder thread", e))?;
        Ok(Self { leaves, done })
    }

    fn finish(self) -> Result<ArrowColumnChunk, TableError> {
        drop(self.leaves);
        match self.done.join() {
            Ok(chunk) => chunk.map_err(|e| TableError::write("encoding a column", e)),
            Err(_) => Err(TableError::Write {
                message: "a column encoder panicked".to_owned(),
                source: None,
            }),
        }
    }
}

impl<W: Write + Send> std::fmt::Debug for TableWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableWriter")
            .field("format", &self.format.name())
            .field("width", &self.inner.schema.fields().len())
            .field("rows", &self.inner.rows)
            .field("rows_per_group", &self.inner.rows_per_group)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> std::fmt::Debug for ParquetWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetWriter")
            .field("width", &self.schema.fields().len())
            .field("rows", &self.rows)
            .field("rows_per_group", &self.rows_per_group)
            .finish_non_exhaustive()
    }
}

/// An estimate of a row's encoded size, to turn the byte bound of a row group into rows.
fn row_bytes(schema: &Schema) -> usize {
    let bytes: usize = schema
        .fields()
        .iter()
        .map(|f| match ColumnType::of_arrow(f.data_type()) {
            Some(ColumnType::Bool | ColumnType::UInt8) => 1,
            Some(ColumnType::Int32 | ColumnType::UInt32) => 4,
            Some(ColumnType::String) => 32,
            _ => 8,
        })
        .sum();
    bytes.max(1)
}

impl<W: Write + Send> TableWriter<W> {
    /// A writer of tables with `schema`, which must have `format` (checked first: nothing is
    /// written for a table of the wrong format). Large and view strings are written as plain
    /// strings, timestamps in another name of UTC as `"UTC"` ([`normalize_schema`]).
    pub fn new(
        sink: W,
        format: &TableFormat,
        schema: SchemaRef,
        options: &WriteOptions,
    ) -> Result<Self, TableError> {
        let normalized = normalize_schema(&schema).map_or_else(|| schema.clone(), SchemaRef::new);
        format.validate(&normalized)?;
        Ok(Self {
            inner: ParquetWriter::new(sink, schema, options)?,
            format: format.clone(),
        })
    }

    /// Appends a batch. Its column types must be the writer's (after [`normalize_batch`]).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), TableError> {
        let normalized = normalize_batch(batch)?;
        self.format.validate(&normalized.schema())?;
        self.inner.write_normalized(&normalized, self.format.name())
    }

    /// The rows written so far.
    pub fn rows(&self) -> u64 {
        self.inner.rows
    }

    /// The number of rows of each row group (the last may have fewer).
    pub fn rows_per_group(&self) -> usize {
        self.inner.rows_per_group
    }

    /// The rows of the row group in progress, held encoded in memory until it is complete
    /// (at most [`rows_per_group`](Self::rows_per_group)).
    pub fn buffered_rows(&self) -> usize {
        self.inner.buffered_rows()
    }

    /// Writes the last row group and the footer, and gives back the sink (flushed) with what
    /// was written.
    pub fn finish(self) -> Result<(W, WrittenTable), TableError> {
        let (sink, file) = self.inner.finish()?;
        let info = self.format.info(file.data_id, file.rows, file.width);
        Ok((
            sink,
            WrittenTable {
                info,
                format: self.format,
                size: file.size,
                width: file.width,
            },
        ))
    }
}

impl<W: Write + Send> ParquetWriter<W> {
    /// A writer of tables with `schema`. Large and view strings are written as plain strings,
    /// timestamps in another name of UTC as `"UTC"` ([`normalize_schema`]).
    pub fn new(sink: W, schema: SchemaRef, options: &WriteOptions) -> Result<Self, TableError> {
        let schema = normalize_schema(&schema).map_or(schema, SchemaRef::new);
        // ArrowWriter sets up the file (Parquet schema, embedded Arrow schema); the row groups
        // are then written column-parallel through its lower-level parts.
        let (file, factory) = ArrowWriter::try_new(
            HashingWriter::new(sink),
            schema.clone(),
            Some(options.properties()?),
        )
        .and_then(ArrowWriter::into_serialized_writer)
        .map_err(|e| TableError::write("starting the Parquet writer", e))?;
        let rows_per_group =
            (options.max_row_group_bytes / row_bytes(&schema)).clamp(1, options.max_row_group_rows);
        Ok(Self {
            file,
            factory,
            schema,
            rows: 0,
            rows_per_group,
            group: None,
        })
    }

    /// Appends a batch. Its column types must be the writer's (after [`normalize_batch`]).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), TableError> {
        let batch = normalize_batch(batch)?;
        self.write_normalized(&batch, "the writer's schema")
    }

    fn write_normalized(&mut self, batch: &RecordBatch, format: &str) -> Result<(), TableError> {
        let batch_schema = batch.schema();
        let same_types = batch_schema.fields().len() == self.schema.fields().len()
            && batch_schema
                .fields()
                .iter()
                .zip(self.schema.fields())
                .all(|(a, b)| a.data_type() == b.data_type());
        if !same_types {
            return Err(FormatMismatch {
                format: format.to_owned(),
                problem: FormatProblem::Width {
                    expected: self.schema.fields().len(),
                    variable: false,
                    found: batch_schema.fields().len(),
                },
            }
            .into());
        }
        let mut offset = 0;
        while offset < batch.num_rows() {
            if self.group.is_none() {
                self.group = Some(self.start_group()?);
            }
            let group = self.group.as_mut().expect("a row group in progress");
            let take = (self.rows_per_group - group.rows).min(batch.num_rows() - offset);
            if !feed(group, &self.schema, &batch.slice(offset, take))? {
                // An encoder stopped on an error: report it.
                let group = self.group.take().expect("a row group in progress");
                return Err(first_error(group));
            }
            group.rows += take;
            offset += take;
            self.rows += take as u64;
            if group.rows == self.rows_per_group {
                self.flush_group()?;
            }
        }
        Ok(())
    }

    fn start_group(&self) -> Result<RowGroupInProgress, TableError> {
        let writers = self
            .factory
            .create_column_writers(self.file.flushed_row_groups().len())
            .map_err(|e| TableError::write("starting a row group", e))?;
        let encoders = writers
            .into_iter()
            .map(ColumnEncoder::spawn)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RowGroupInProgress { encoders, rows: 0 })
    }

    /// Waits for the encoders of the row group in progress and appends their chunks.
    fn flush_group(&mut self) -> Result<(), TableError> {
        let Some(group) = self.group.take() else {
            return Ok(());
        };
        let chunks = group
            .encoders
            .into_iter()
            .map(ColumnEncoder::finish)
            .collect::<Vec<_>>()
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        let mut row_group = self
            .file
            .next_row_group()
            .map_err(|e| TableError::write("starting a row group", e))?;
        for chunk in chunks {
            chunk
                .append_to_row_group(&mut row_group)
                .map_err(|e| TableError::write("writing a column chunk", e))?;
        }
        row_group
            .close()
            .map_err(|e| TableError::write("closing a row group", e))?;
        Ok(())
    }

    /// The rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The number of rows of each row group (the last may have fewer).
    pub fn rows_per_group(&self) -> usize {
        self.rows_per_group
    }

    /// The rows of the row group in progress, held encoded in memory until it is complete
    /// (at most [`rows_per_group`](Self::rows_per_group)).
    pub fn buffered_rows(&self) -> usize {
        self.group.as_ref().map_or(0, |g| g.rows)
    }

    /// Writes the last row group and the footer, and gives back the sink (flushed) with what
    /// was written.
    pub fn finish(mut self) -> Result<(W, WrittenFile), TableError> {
        self.flush_group()?;
        let hashing = self
            .file
            .into_inner()
            .map_err(|e| TableError::write("writing the Parquet footer", e))?;
        let (mut sink, data_id, size) = hashing.finish();
        sink.flush()
            .map_err(|e| TableError::write("flushing the output", e))?;
        Ok((
            sink,
            WrittenFile {
                data_id,
                rows: self.rows,
                size,
                width: self.schema.fields().len(),
            },
        ))
    }
}

/// Sends the columns of `slice` to the encoders; `false` when one of them has stopped.
fn feed(
    group: &RowGroupInProgress,
    schema: &Schema,
    slice: &RecordBatch,
) -> Result<bool, TableError> {
    let mut encoders = group.encoders.iter();
    for (field, column) in schema.fields().iter().zip(slice.columns()) {
        let leaves = compute_leaves(field, column)
            .map_err(|e| TableError::write("preparing a column", e))?;
        for leaf in leaves {
            let encoder = encoders.next().ok_or_else(|| TableError::Write {
                message: "more leaf columns than encoders".to_owned(),
                source: None,
            })?;
            if encoder.leaves.send(leaf).is_err() {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// The error that stopped a row group's encoders (the first one that failed).
fn first_error(group: RowGroupInProgress) -> TableError {
    let mut first = None;
    for encoder in group.encoders {
        if let Err(e) = encoder.finish() {
            first.get_or_insert(e);
        }
    }
    first.unwrap_or(TableError::Write {
        message: "a column encoder stopped".to_owned(),
        source: None,
    })
}

/// Writes one table (any number of batches sharing `schema`) to memory: the Parquet bytes and
/// what was written.
pub fn write_to_vec<B: Borrow<RecordBatch>>(
    format: &TableFormat,
    schema: SchemaRef,
    batches: impl IntoIterator<Item = B>,
    options: &WriteOptions,
) -> Result<(Vec<u8>, WrittenTable), TableError> {
    let mut writer = TableWriter::new(Vec::new(), format, schema, options)?;
    for batch in batches {
        writer.write(batch.borrow())?;
    }
    writer.finish()
}

/// Writes one batch as a table to memory (see [`write_to_vec`]).
pub fn write_batch_to_vec(
    format: &TableFormat,
    batch: &RecordBatch,
    options: &WriteOptions,
) -> Result<(Vec<u8>, WrittenTable), TableError> {
    write_to_vec(format, batch.schema(), [batch], options)
}

/// A table written to a file named by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTable {
    /// `<dir>/<data id>`.
    pub path: PathBuf,
    /// What was written.
    pub table: WrittenTable,
}

/// Writes one table into `dir` as the file `<data id>` (its SHA-256), streaming. The bytes go
/// to a temporary file in `dir` first, renamed when complete: `<data id>` is either absent or
/// complete, never half-written. An existing file of that name (same content, by its name) is
/// kept.
pub fn write_to_dir<B: Borrow<RecordBatch>>(
    dir: impl AsRef<Path>,
    format: &TableFormat,
    schema: SchemaRef,
    batches: impl IntoIterator<Item = B>,
    options: &WriteOptions,
) -> Result<StoredTable, TableError> {
    let dir = dir.as_ref();
    let temp = tempfile::Builder::new()
        .prefix(".evo-table-")
        .tempfile_in(dir)
        .map_err(|e| TableError::io("creating a temporary file in", dir, e))?;
    let mut writer = TableWriter::new(std::io::BufWriter::new(temp), format, schema, options)?;
    for batch in batches {
        writer.write(batch.borrow())?;
    }
    let (buffered, table) = writer.finish()?;
    let temp = buffered
        .into_inner()
        .map_err(|e| TableError::io("writing", dir, e.into_error()))?;
    let path = dir.join(table.data_id());
    if let Err(e) = temp.persist(&path) {
        // Someone else stored the same content meanwhile (and may hold it open): keep theirs.
        if !path.is_file() {
            return Err(TableError::io(
                "renaming the temporary file to",
                path,
                e.error,
            ));
        }
    }
    Ok(StoredTable { path, table })
}
