//! Arrow record batches to the Parquet file Evo expects, hashed as it is written.

use std::borrow::Borrow;
use std::io::Write;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, GzipLevel};
use parquet::file::properties::{WriterProperties, WriterVersion};

use crate::error::{FormatMismatch, FormatProblem, TableError};
use crate::format::TableFormat;
use crate::hash::HashingWriter;
use crate::info::TableInfo;
use crate::normalize::{normalize_batch, normalize_schema};

/// How tables are encoded. The defaults give what Evo expects; the knobs trade speed, size and
/// memory, never the format.
///
/// Every file is Parquet format version 2 with the 2.4 logical types (as pyarrow's
/// `write_table(version="2.4", compression="gzip")` writes for the Python SDK: unsigned integers
/// stay unsigned, timestamps are microseconds adjusted to UTC), gzip-compressed, with PLAIN
/// encoding and no dictionaries, and the Arrow schema embedded (so pyarrow reads back the same
/// Arrow types). The same batches always give the same bytes, hence the same data id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    gzip_level: u32,
    max_row_group_rows: usize,
    max_row_group_bytes: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            gzip_level: 6,
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

    /// The gzip level, 0 (store) to 9 (smallest); values above 9 are taken as 9.
    pub fn gzip_level(mut self, level: u32) -> Self {
        self.gzip_level = level.min(9);
        self
    }

    /// The most rows in one row group (at least 1). A row group is buffered, encoded, in memory
    /// until it is complete: this bounds the writer's memory.
    pub fn max_row_group_rows(mut self, rows: usize) -> Self {
        self.max_row_group_rows = rows.max(1);
        self
    }

    /// The most (estimated, encoded) bytes in one row group (at least 1 KiB): the other bound
    /// of the writer's memory.
    pub fn max_row_group_bytes(mut self, bytes: usize) -> Self {
        self.max_row_group_bytes = bytes.max(1024);
        self
    }

    fn properties(&self) -> Result<WriterProperties, TableError> {
        let level = GzipLevel::try_new(self.gzip_level)
            .map_err(|e| TableError::write("invalid gzip level", e))?;
        Ok(WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_2_0)
            .set_compression(Compression::GZIP(level))
            .set_dictionary_enabled(false)
            .set_encoding(Encoding::PLAIN)
            .set_max_row_group_row_count(Some(self.max_row_group_rows))
            .set_max_row_group_bytes(Some(self.max_row_group_bytes))
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
pub struct TableWriter<W: Write + Send> {
    writer: ArrowWriter<HashingWriter<W>>,
    format: TableFormat,
    schema: SchemaRef,
    rows: u64,
}

impl<W: Write + Send> std::fmt::Debug for TableWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableWriter")
            .field("format", &self.format.name())
            .field("width", &self.schema.fields().len())
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
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
        let schema = normalize_schema(&schema).map_or(schema, SchemaRef::new);
        format.validate(&schema)?;
        let writer = ArrowWriter::try_new(
            HashingWriter::new(sink),
            schema.clone(),
            Some(options.properties()?),
        )
        .map_err(|e| TableError::write("starting the Parquet writer", e))?;
        Ok(Self {
            writer,
            format: format.clone(),
            schema,
            rows: 0,
        })
    }

    /// Appends a batch. Its column types must be the writer's (after [`normalize_batch`]).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), TableError> {
        let batch = &normalize_batch(batch)?;
        let batch_schema = batch.schema();
        self.format.validate(&batch_schema)?;
        let same_types = batch_schema.fields().len() == self.schema.fields().len()
            && batch_schema
                .fields()
                .iter()
                .zip(self.schema.fields())
                .all(|(a, b)| a.data_type() == b.data_type());
        if !same_types {
            return Err(FormatMismatch {
                format: self.format.name().to_owned(),
                problem: FormatProblem::Width {
                    expected: self.schema.fields().len(),
                    variable: false,
                    found: batch_schema.fields().len(),
                },
            }
            .into());
        }
        // The file's schema is the writer's: a batch differing only in names or nullability is
        // written under the writer's names.
        let batch = if batch_schema == self.schema {
            batch.clone()
        } else {
            RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec())
                .map_err(|e| TableError::write("adopting the writer's schema", e))?
        };
        self.writer
            .write(&batch)
            .map_err(|e| TableError::write("encoding a record batch", e))?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// The rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The encoded bytes buffered for the row group in progress (the writer's memory).
    pub fn buffered_bytes(&self) -> usize {
        self.writer.in_progress_size()
    }

    /// Writes the footer and gives back the sink (flushed) with what was written.
    pub fn finish(self) -> Result<(W, WrittenTable), TableError> {
        let hashing = self
            .writer
            .into_inner()
            .map_err(|e| TableError::write("writing the Parquet footer", e))?;
        let (mut sink, data_id, size) = hashing.finish();
        sink.flush()
            .map_err(|e| TableError::write("flushing the output", e))?;
        let width = self.schema.fields().len();
        let info = self.format.info(data_id, self.rows, width);
        Ok((
            sink,
            WrittenTable {
                info,
                format: self.format,
                size,
                width,
            },
        ))
    }
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
