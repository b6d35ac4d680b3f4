//! Arrow ⇄ Parquet as Seequent Evo stores tables.
//!
//! The columns of a geoscience object (positions, indices, attribute values, lookup tables)
//! live outside its JSON, each table a Parquet file named by the lowercase hex SHA-256 of its
//! bytes (its *data id*). The JSON keeps a [`TableInfo`] per table: the data id, the number of
//! rows and the column types. This crate is that layer and nothing else: pure data, no HTTP
//! (uploading and downloading belong to `evo-objects` and `evo-io`).
//!
//! # What lives where
//!
//! - [`TableFormat`] (`format.rs`): every table format of the object schemas
//!   ([`TableFormat::ALL`]: `float-array-1/2/3/6/md`, `index-array-1/2/3/4/8`,
//!   `integer-array-1/md` (int32, int64), `bool-array-1/md`, `color-array`, `date-time-array`,
//!   `string-array`, `lookup-table` (int32, int64 keys) and the mixed-type tables of hole chunks,
//!   unstructured-grid cells, 2D line indices and B-rep containers), with
//!   [`validate`](TableFormat::validate) naming the wrong column,
//!   [`infer`](TableFormat::infer) and [`from_info`](TableFormat::from_info);
//!   [`ColumnType`] maps Evo's type names (`float64`, `uint64`, `timestamp`...) to Arrow types.
//! - [`TableInfo`] (`info.rs`): the table metadata of an object's JSON (serde).
//! - [`TableWriter`], [`write_to_dir`], [`write_to_vec`] (`write.rs`): record batches to the
//!   Parquet file Evo expects (what the Python SDK's `pyarrow.parquet.write_table(version="2.4",
//!   compression="gzip")` gives), streamed a row group at a time with each column encoded on
//!   its own thread, hashed as it is written; [`ParquetWriter`] writes tables of any Arrow
//!   schema the same way, unchecked against a format (block model column files).
//! - [`TableReader`] (`read.rs`): a Parquet file (path or bytes) back as an iterator of bounded
//!   record batches, after checking the expected format and length from the footer; decoded
//!   on threads, the number columns Evo writes inflated by libdeflate straight into their
//!   arrays (`plain.rs`).
//! - [`verify_sha256`], [`sha256_file`] (`hash.rs`): the content-addressed name, streamed.
//! - [`positions`], [`attribute`], [`category`], [`TableFormat::batch`] (`build.rs`): building
//!   tables of a format from Arrow arrays.
//! - [`normalize_batch`], [`normalize_schema`] (`normalize.rs`): lossless conversions of Arrow
//!   types Evo does not name (large and view strings, other names of UTC) into the ones it
//!   does; writers, readers and builders apply them, so such tables are accepted.
//! - [`TableError`] (`error.rs`): the crate's one error; [`FormatMismatch`] says which column
//!   was wrong and what was expected.
//!
//! The Arrow crates are re-exported ([`arrow_array`], [`arrow_schema`]) so users build arrays
//! with the same version this crate reads and writes.
//!
//! # Example
//!
//! ```
//! use evo_tables::arrow_array::Float64Array;
//! use evo_tables::{ReadOptions, TableFormat, TableReader, WriteOptions};
//!
//! # fn main() -> Result<(), evo_tables::TableError> {
//! let dir = tempfile::tempdir().unwrap();
//!
//! // Positions of three points as a float-array-3 table (columns x, y, z).
//! let points = evo_tables::positions(
//!     Float64Array::from(vec![0.0, 1.0, 2.0]),
//!     Float64Array::from(vec![10.0, 11.0, 12.0]),
//!     Float64Array::from(vec![-5.0, -5.5, -6.0]),
//! )?;
//!
//! // Write it as Evo stores it: the file is named by its SHA-256, the info goes in the JSON.
//! let stored = evo_tables::write_to_dir(
//!     dir.path(),
//!     &TableFormat::FLOAT_ARRAY_3,
//!     points.schema(),
//!     [&points],
//!     &WriteOptions::default(),
//! )?;
//! let info = &stored.table.info;
//! assert_eq!(info.length, 3);
//! assert_eq!(info.width, Some(3));
//! assert_eq!(info.data_type.as_deref(), Some("float64"));
//! assert_eq!(stored.path, dir.path().join(&info.data));
//! evo_tables::verify_sha256(&stored.path, &info.data)?;
//!
//! // The JSON an object carries for this table.
//! let json = serde_json::to_value(info).unwrap();
//! assert_eq!(json["data_type"], "float64");
//!
//! // Read it back, checking the file against the info, in batches of at most 2 rows.
//! let options = ReadOptions::new().batch_rows(2).expect_info(info)?;
//! let batches = TableReader::open(&stored.path, &options)?.collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(batches.len(), 2);
//! assert_eq!(batches[0].column(2).as_any().downcast_ref::<Float64Array>().unwrap().value(1), -5.5);
//!
//! // A table of the wrong format is refused, naming the column.
//! let err = TableFormat::INDEX_ARRAY_3.validate(&points.schema()).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "table does not match index-array-3: column 0 (x): expected uint64, found float64"
//! );
//! # Ok(())
//! # }
//! ```

mod build;
mod error;
mod format;
mod hash;
mod info;
mod normalize;
mod parallel;
mod plain;
mod read;
mod write;

pub use arrow_array;
pub use arrow_schema;

pub use build::{attribute, category, positions};
pub use error::{BoxedSource, FormatMismatch, FormatProblem, TableError};
pub use format::{ColumnType, InfoShape, MAX_WIDTH, TableFormat};
pub use hash::{sha256_file, sha256_of_bytes, sha256_of_reader, verify_sha256};
pub use info::{TableInfo, is_sha256_name};
pub use normalize::{normalize_batch, normalize_schema};
pub use read::{DEFAULT_BATCH_ROWS, ReadOptions, TableReader};
pub use write::{
    Codec, ParquetWriter, StoredTable, TableWriter, WriteOptions, WrittenFile, WrittenTable,
    write_batch_to_vec, write_to_dir, write_to_vec,
};
