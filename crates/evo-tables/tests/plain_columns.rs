//! The fast path for tables of fixed-width number columns (positions, attributes, indices):
//! their column chunks decoded on threads give exactly what parquet's reader gives, a batch
//! never spanning two row groups; whatever else a file holds (nulls the footer does not
//! announce, dictionaries, version 1 pages, no compression) reads as parquet's reader reads it.

use std::sync::Arc;

use crate::support;

use evo_tables::arrow_array::{
    Array, ArrayRef, Float32Array, Float64Array, Int32Array, Int64Array, RecordBatch, UInt32Array,
    UInt64Array,
};
use evo_tables::arrow_schema::{DataType, Field, Schema};
use evo_tables::{ParquetWriter, ReadOptions, TableReader, WriteOptions};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, GzipLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};

/// Six number columns, one of each type the fast path reads; `nulls` puts nulls in the
/// float64 column.
fn numbers(rows: usize, nulls: bool) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("f", DataType::Float32, false),
        Field::new("i64", DataType::Int64, true),
        Field::new("i32", DataType::Int32, false),
        Field::new("u64", DataType::UInt64, true),
        Field::new("u32", DataType::UInt32, false),
    ]));
    let range = 0..rows;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from_iter(range.clone().map(|i| {
            (!nulls || i % 11 != 0).then_some((i as f64).sqrt() * 1.5 - 20.0)
        }))),
        Arc::new(Float32Array::from_iter_values(
            range.clone().map(|i| i as f32 * 0.25),
        )),
        Arc::new(Int64Array::from_iter_values(
            range.clone().map(|i| i as i64 * -7_000_000_000),
        )),
        Arc::new(Int32Array::from_iter_values(
            range.clone().map(|i| (i % 1000) as i32 - 500),
        )),
        Arc::new(UInt64Array::from_iter_values(
            range.clone().map(|i| u64::MAX - i as u64),
        )),
        Arc::new(UInt32Array::from_iter_values(
            range.map(|i| u32::MAX - i as u32),
        )),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

fn write_evo(table: &RecordBatch, group_rows: usize) -> Vec<u8> {
    let options = WriteOptions::new().max_row_group_rows(group_rows);
    let mut writer = ParquetWriter::new(Vec::new(), table.schema(), &options).unwrap();
    writer.write(table).unwrap();
    writer.finish().unwrap().0
}

fn read(bytes: &[u8], options: &ReadOptions) -> Vec<RecordBatch> {
    TableReader::from_bytes(bytes.to_vec(), options)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// Asserts that `batches`, one after the other, hold exactly the rows of `table`.
fn assert_table(batches: &[RecordBatch], table: &RecordBatch, what: &str) {
    let mut offset = 0;
    for batch in batches {
        assert_eq!(batch.schema(), table.schema(), "{what}");
        for (column, array) in batch.columns().iter().enumerate() {
            let rows = array.len();
            assert_eq!(
                array.as_ref(),
                table.column(column).slice(offset, rows).as_ref(),
                "{what}: column {column} from row {offset}"
            );
        }
        offset += batch.num_rows();
    }
    assert_eq!(offset, table.num_rows(), "{what}");
}

fn serial(bytes: &[u8]) -> Vec<RecordBatch> {
    read(bytes, &ReadOptions::new().batch_rows(4_096).parallel(false))
}

#[test]
fn number_columns_decoded_a_chunk_per_thread_give_the_table_a_batch_never_spanning_two_groups() {
    let table = numbers(25_000, false);
    let bytes = write_evo(&table, 6_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("numbers.parquet");
    std::fs::write(&path, &bytes).unwrap();
    assert_table(&serial(&bytes), &table, "serial");
    for threads in [1, 2, 3, 5, 8] {
        let options = ReadOptions::new()
            .batch_rows(4_096)
            .row_group_threads(threads);
        let from_bytes = read(&bytes, &options);
        let from_file = TableReader::open(&path, &options)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(from_bytes, from_file, "{threads} threads");
        let sizes: Vec<usize> = from_bytes.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(
            sizes,
            [
                4_096, 1_904, 4_096, 1_904, 4_096, 1_904, 4_096, 1_904, 1_000
            ],
            "{threads} threads: each row group's batches, in order"
        );
        assert_table(&from_bytes, &table, &format!("{threads} threads"));
    }
}

/// Files as other writers make them: each reads in parallel exactly as parquet's reader reads
/// it on the caller's thread, whether or not the fast path takes its chunks.
#[test]
fn files_of_other_writers_read_in_parallel_as_parquet_reads_them() {
    let gzip = Compression::GZIP(GzipLevel::default());
    let base = || {
        WriterProperties::builder()
            .set_max_row_group_row_count(Some(4_000))
            .set_data_page_row_count_limit(1_000)
            .set_write_batch_size(500)
    };
    let variants = [
        // Nulls the footer does not announce: the pages still say so.
        (
            "no statistics, nulls, version 2 pages",
            true,
            base()
                .set_compression(gzip)
                .set_dictionary_enabled(false)
                .set_encoding(Encoding::PLAIN)
                .set_statistics_enabled(EnabledStatistics::None)
                .set_writer_version(WriterVersion::PARQUET_2_0),
        ),
        (
            "no statistics, nulls, version 1 pages",
            true,
            base()
                .set_compression(gzip)
                .set_dictionary_enabled(false)
                .set_encoding(Encoding::PLAIN)
                .set_statistics_enabled(EnabledStatistics::None)
                .set_writer_version(WriterVersion::PARQUET_1_0),
        ),
        (
            "version 1 pages",
            false,
            base()
                .set_compression(gzip)
                .set_dictionary_enabled(false)
                .set_writer_version(WriterVersion::PARQUET_1_0),
        ),
        (
            "uncompressed",
            false,
            base()
                .set_compression(Compression::UNCOMPRESSED)
                .set_dictionary_enabled(false)
                .set_writer_version(WriterVersion::PARQUET_2_0),
        ),
        (
            "dictionaries (pyarrow's default)",
            false,
            base().set_compression(gzip),
        ),
    ];
    for (name, nulls, properties) in variants {
        let table = numbers(10_500, nulls);
        let mut writer =
            ArrowWriter::try_new(Vec::new(), table.schema(), Some(properties.build())).unwrap();
        writer.write(&table).unwrap();
        let bytes = writer.into_inner().unwrap();
        assert_table(&serial(&bytes), &table, name);
        for threads in [1, 2, 3] {
            let options = ReadOptions::new()
                .batch_rows(1_500)
                .row_group_threads(threads);
            let parallel = read(&bytes, &options);
            assert_table(&parallel, &table, &format!("{name}, {threads} threads"));
        }
    }
}

#[test]
fn chunk_threads_let_go_of_the_owner_once_a_part_read_reader_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("numbers.parquet");
    std::fs::write(&path, write_evo(&numbers(40_000, false), 2_000)).unwrap();
    let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let options = ReadOptions::new().batch_rows(500).row_group_threads(2);
    let mut reader =
        TableReader::open_owning(&path, &options, support::DropFlag(dropped.clone())).unwrap();
    assert_eq!(reader.next().unwrap().unwrap().num_rows(), 500);
    // The threads are blocked on full queues; dropping the reader releases them.
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
    drop(reader);
    assert!(
        support::eventually(|| dropped.load(std::sync::atomic::Ordering::SeqCst)),
        "a chunk thread still holds the owner"
    );
}

/// What a property case writes: its shape and how the writer encodes it.
#[derive(Debug, Clone)]
struct Layout {
    rows: usize,
    group_rows: usize,
    page_rows: usize,
    version_2: bool,
    gzip: bool,
    statistics: bool,
    nulls: bool,
    batch_rows: usize,
    threads: usize,
}

fn layouts() -> impl proptest::strategy::Strategy<Value = Layout> {
    use proptest::prelude::*;
    (
        (0usize..3_000, 1usize..800, 1usize..400),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        (1usize..2_000, 1usize..5),
    )
        .prop_map(
            |(
                (rows, group_rows, page_rows),
                (version_2, gzip, statistics, nulls),
                (batch_rows, threads),
            )| Layout {
                rows,
                group_rows,
                page_rows,
                version_2,
                gzip,
                statistics,
                nulls,
                batch_rows,
                threads,
            },
        )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Any row-group and page layout, page version, codec, statistics and nulls: read in
    /// parallel (by the fast path where it applies, else by parquet's reader), the table is the
    /// one written, in batches of at most the size asked for.
    #[test]
    fn any_layout_of_number_columns_reads_back_as_written(layout in layouts()) {
        let table = numbers(layout.rows, layout.nulls);
        let properties = WriterProperties::builder()
            .set_max_row_group_row_count(Some(layout.group_rows))
            .set_data_page_row_count_limit(layout.page_rows)
            .set_write_batch_size(layout.page_rows.min(64))
            .set_dictionary_enabled(false)
            .set_encoding(Encoding::PLAIN)
            .set_compression(if layout.gzip {
                Compression::GZIP(GzipLevel::default())
            } else {
                Compression::UNCOMPRESSED
            })
            .set_statistics_enabled(if layout.statistics {
                EnabledStatistics::Page
            } else {
                EnabledStatistics::None
            })
            .set_writer_version(if layout.version_2 {
                WriterVersion::PARQUET_2_0
            } else {
                WriterVersion::PARQUET_1_0
            })
            .build();
        let mut writer = ArrowWriter::try_new(Vec::new(), table.schema(), Some(properties)).unwrap();
        writer.write(&table).unwrap();
        let bytes = writer.into_inner().unwrap();
        let options = ReadOptions::new()
            .batch_rows(layout.batch_rows)
            .row_group_threads(layout.threads);
        let batches = read(&bytes, &options);
        proptest::prop_assert!(batches.iter().all(|b| b.num_rows() <= layout.batch_rows));
        assert_table(&batches, &table, &format!("{layout:?}"));
    }
}
