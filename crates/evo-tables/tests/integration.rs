//! The integration tests of evo-tables, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod support;

mod formats;
mod malformed;
mod parquet_writer;
mod plain_columns;
mod pyarrow_interop;
mod roundtrip;
