//! Writing tables as Evo stores them and reading them back: every format, the Parquet layout,
//! streaming in bounded batches, content-addressed names.

use crate::support;

use std::sync::Arc;

use evo_tables::arrow_array::{Array, Float64Array, RecordBatch};
use evo_tables::arrow_schema::Schema;
use evo_tables::{
    Codec, ReadOptions, TableError, TableFormat, TableReader, TableWriter, WriteOptions,
    write_to_dir, write_to_vec,
};
use parquet::basic::{Compression, Encoding, IntType, LogicalType, TimeUnit, TimestampType};
use parquet::file::reader::{FileReader, SerializedFileReader};
use support::sample_table;

fn read_all(bytes: Vec<u8>, options: &ReadOptions) -> Result<Vec<RecordBatch>, TableError> {
    TableReader::from_bytes(bytes, options)?.collect()
}

fn concat(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    // Column-major debug strings of every value: a precise, type-independent comparison.
    let width = batches[0].num_columns();
    (0..width)
        .map(|c| {
            batches
                .iter()
                .flat_map(|b| {
                    let col = b.column(c);
                    (0..col.len())
                        .map(|i| {
                            if col.is_null(i) {
                                "null".to_owned()
                            } else {
                                format!("{:?}", col.slice(i, 1))
                            }
                        })
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .collect()
}

#[test]
fn every_known_format_round_trips_with_its_types_values_and_info() {
    for format in TableFormat::ALL {
        let table = sample_table(format, 50, true);
        let (bytes, written) =
            write_to_vec(format, table.schema(), [&table], &WriteOptions::default()).unwrap();
        assert_eq!(written.rows(), 50, "{format}");
        assert_eq!(written.size, bytes.len() as u64, "{format}");
        assert_eq!(
            written.data_id(),
            evo_tables::sha256_of_bytes(&bytes),
            "{format}"
        );

        let info = &written.info;
        let options = ReadOptions::new().expect_info(info).unwrap();
        let batches = read_all(bytes, &options).unwrap();
        let back = &batches[0];
        assert_eq!(
            back.schema().fields().len(),
            table.num_columns(),
            "{format}"
        );
        for (a, b) in back.schema().fields().iter().zip(table.schema().fields()) {
            assert_eq!(
                a.data_type(),
                b.data_type(),
                "{format}: column {}",
                a.name()
            );
            assert_eq!(a.name(), b.name(), "{format}");
        }
        assert_eq!(concat(&batches), concat(&[table]), "{format}");
        format.validate(&back.schema()).unwrap();
    }
}

#[test]
fn the_info_has_exactly_the_fields_of_the_formats_schema() {
    let json = |format: &TableFormat| {
        let table = sample_table(format, 4, false);
        let (_, written) =
            write_to_vec(format, table.schema(), [&table], &WriteOptions::default()).unwrap();
        let mut v = serde_json::to_value(&written.info).unwrap();
        v["data"] = "<id>".into();
        v
    };
    assert_eq!(
        json(&TableFormat::FLOAT_ARRAY_3),
        serde_json::json!({"data": "<id>", "length": 4, "width": 3, "data_type": "float64"})
    );
    assert_eq!(
        json(&TableFormat::FLOAT_ARRAY_MD),
        serde_json::json!({"data": "<id>", "length": 4, "width": 3, "data_type": "float64"})
    );
    assert_eq!(
        json(&TableFormat::INDEX_ARRAY_2),
        serde_json::json!({"data": "<id>", "length": 4, "width": 2, "data_type": "uint64"})
    );
    assert_eq!(
        json(&TableFormat::BOOL_ARRAY_1),
        serde_json::json!({"data": "<id>", "length": 4, "data_type": "bool"})
    );
    assert_eq!(
        json(&TableFormat::COLOR_ARRAY),
        serde_json::json!({"data": "<id>", "length": 4, "data_type": "uint32"})
    );
    assert_eq!(
        json(&TableFormat::DATE_TIME_ARRAY),
        serde_json::json!({"data": "<id>", "length": 4, "data_type": "timestamp"})
    );
    assert_eq!(
        json(&TableFormat::STRING_ARRAY),
        serde_json::json!({"data": "<id>", "length": 4, "data_type": "string"})
    );
    assert_eq!(
        json(&TableFormat::LOOKUP_TABLE_INT64),
        serde_json::json!({"data": "<id>", "length": 4, "keys_data_type": "int64", "values_data_type": "string"})
    );
    assert_eq!(
        json(&TableFormat::DOWNHOLE_COLLECTION_LOCATION_HOLES),
        serde_json::json!({"data": "<id>", "length": 4, "width": 3, "data_type": "int32/uint64/uint64"})
    );
}

#[test]
fn files_are_parquet_2_gzip_plain_without_dictionaries_with_2_4_logical_types() {
    let format = TableFormat::by_name("lookup-table-int64").unwrap();
    let lookup = sample_table(format, 300, false);
    let colors = sample_table(&TableFormat::COLOR_ARRAY, 300, false);
    let times = sample_table(&TableFormat::DATE_TIME_ARRAY, 300, false);
    let indices = sample_table(&TableFormat::INDEX_ARRAY_1, 300, false);
    for (format, table) in [
        (format, &lookup),
        (&TableFormat::COLOR_ARRAY, &colors),
        (&TableFormat::DATE_TIME_ARRAY, &times),
        (&TableFormat::INDEX_ARRAY_1, &indices),
    ] {
        let (bytes, _) =
            write_to_vec(format, table.schema(), [table], &WriteOptions::default()).unwrap();
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
        let meta = reader.metadata();
        assert_eq!(
            meta.file_metadata().version(),
            2,
            "{format}: format version"
        );
        let kv = meta.file_metadata().key_value_metadata().unwrap();
        assert!(
            kv.iter().any(|k| k.key == "ARROW:schema"),
            "{format}: the Arrow schema is embedded"
        );
        for rg in meta.row_groups() {
            for chunk in rg.columns() {
                let path = chunk.column_path().string();
                assert!(
                    matches!(chunk.compression(), Compression::GZIP(_)),
                    "{format} {path}: {:?}",
                    chunk.compression()
                );
                assert!(chunk.dictionary_page_offset().is_none(), "{format} {path}");
                let encodings: Vec<Encoding> = chunk.encodings().collect();
                assert!(
                    !encodings.contains(&Encoding::RLE_DICTIONARY)
                        && !encodings.contains(&Encoding::PLAIN_DICTIONARY),
                    "{format} {path}: {encodings:?}"
                );
                assert!(encodings.contains(&Encoding::PLAIN), "{format} {path}");
            }
        }
        let logical: Vec<Option<LogicalType>> = meta
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.logical_type_ref().cloned())
            .collect();
        let expected = match format.name() {
            // Signed 64-bit integers are plain INT64, unannotated (as pyarrow writes them).
            "lookup-table-int64" => vec![None, Some(LogicalType::String)],
            "color-array" => vec![Some(LogicalType::Integer(IntType {
                bit_width: 32,
                is_signed: false,
            }))],
            "date-time-array" => vec![Some(LogicalType::Timestamp(TimestampType {
                is_adjusted_to_u_t_c: true,
                unit: TimeUnit::MICROS,
            }))],
            "index-array-1" => vec![Some(LogicalType::Integer(IntType {
                bit_width: 64,
                is_signed: false,
            }))],
            other => unreachable!("{other}"),
        };
        assert_eq!(logical, expected, "{format}");
    }
}

#[test]
fn large_tables_stream_in_row_groups_and_bounded_batches() {
    let rows_per_batch = 7_000;
    let batches = 43; // 301,000 rows
    let schema = Arc::new(TableFormat::FLOAT_ARRAY_3.schema(&["x", "y", "z"]).unwrap());
    let make = |b: usize| {
        let col = |k: f64| {
            Arc::new(Float64Array::from_iter_values(
                (0..rows_per_batch).map(move |i| (b * rows_per_batch + i) as f64 * k),
            )) as _
        };
        RecordBatch::try_new(schema.clone(), vec![col(1.0), col(2.0), col(-0.5)]).unwrap()
    };
    let options = WriteOptions::new().max_row_group_rows(50_000);
    let mut writer = TableWriter::new(
        Vec::new(),
        &TableFormat::FLOAT_ARRAY_3,
        schema.clone(),
        &options,
    )
    .unwrap();
    for b in 0..batches {
        writer.write(&make(b)).unwrap();
        // Only the row group in progress is held: complete ones are written out.
        assert_eq!(writer.buffered_rows(), (b + 1) * rows_per_batch % 50_000);
    }
    let (bytes, written) = writer.finish().unwrap();
    let total = (rows_per_batch * batches) as u64;
    assert_eq!(written.rows(), total);

    let reader = TableReader::from_bytes(
        bytes,
        &ReadOptions::new()
            .batch_rows(10_000)
            .expect_info(&written.info)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(reader.rows(), total);
    assert_eq!(reader.row_groups(), 7); // ceil(301,000 / 50,000)
    let mut next_row = 0usize;
    let mut count = 0;
    for batch in reader {
        let batch = batch.unwrap();
        assert!(batch.num_rows() <= 10_000);
        let x = batch
            .column(0)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        let z = batch
            .column(2)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        for i in 0..batch.num_rows() {
            assert_eq!(x.value(i), (next_row + i) as f64);
            assert_eq!(z.value(i), (next_row + i) as f64 * -0.5);
        }
        next_row += batch.num_rows();
        count += 1;
    }
    assert_eq!(next_row as u64, total);
    // 10,000-row batches never span row groups: 5 per full group of 50,000, 1 for the last 1,000.
    assert_eq!(count, 31);
}

#[test]
fn the_name_is_the_sha256_of_the_file_and_the_same_table_gives_the_same_name() {
    let dir = tempfile::tempdir().unwrap();
    let table = sample_table(&TableFormat::FLOAT_ARRAY_2, 1000, true);
    let write = || {
        write_to_dir(
            dir.path(),
            &TableFormat::FLOAT_ARRAY_2,
            table.schema(),
            [&table],
            &WriteOptions::default(),
        )
        .unwrap()
    };
    let first = write();
    let bytes = std::fs::read(&first.path).unwrap();
    assert_eq!(first.table.data_id(), evo_tables::sha256_of_bytes(&bytes));
    assert_eq!(first.table.size, bytes.len() as u64);
    assert_eq!(first.path.file_name().unwrap(), first.table.data_id());
    evo_tables::verify_sha256(&first.path, first.table.data_id()).unwrap();
    evo_tables::verify_sha256(&first.path, &first.table.data_id().to_uppercase()).unwrap();

    let second = write();
    assert_eq!(second, first, "deterministic bytes, hence the same data id");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file left behind: {names:?}");

    let other = write_to_vec(
        &TableFormat::FLOAT_ARRAY_2,
        table.schema(),
        [&table],
        &WriteOptions::new().gzip_level(1),
    )
    .unwrap();
    assert_ne!(other.1.data_id(), first.table.data_id());
}

#[test]
fn verify_sha256_reports_a_changed_file_and_refuses_a_bad_name() {
    let dir = tempfile::tempdir().unwrap();
    let table = sample_table(&TableFormat::STRING_ARRAY, 100, false);
    let stored = write_to_dir(
        dir.path(),
        &TableFormat::STRING_ARRAY,
        table.schema(),
        [&table],
        &WriteOptions::default(),
    )
    .unwrap();
    let mut bytes = std::fs::read(&stored.path).unwrap();
    bytes[100] ^= 0x01;
    std::fs::write(&stored.path, &bytes).unwrap();
    match evo_tables::verify_sha256(&stored.path, stored.table.data_id()) {
        Err(TableError::Sha256Mismatch { expected, actual }) => {
            assert_eq!(expected, stored.table.data_id());
            assert_eq!(actual, evo_tables::sha256_of_bytes(&bytes));
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    assert!(matches!(
        evo_tables::verify_sha256(&stored.path, "abc"),
        Err(TableError::InvalidDataId(_))
    ));
    assert!(matches!(
        evo_tables::verify_sha256(dir.path().join("missing"), &"0".repeat(64)),
        Err(TableError::Io {
            action: "opening",
            ..
        })
    ));
}

#[test]
fn reading_checks_format_and_length_before_any_row() {
    let table = sample_table(&TableFormat::FLOAT_ARRAY_3, 10, false);
    let (bytes, written) = write_to_vec(
        &TableFormat::FLOAT_ARRAY_3,
        table.schema(),
        [&table],
        &WriteOptions::default(),
    )
    .unwrap();
    let err = TableReader::from_bytes(
        bytes.clone(),
        &ReadOptions::new().expect_format(TableFormat::INDEX_ARRAY_3),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table does not match index-array-3: column 0 (c0): expected uint64, found float64"
    );
    let err =
        TableReader::from_bytes(bytes.clone(), &ReadOptions::new().expect_length(11)).unwrap_err();
    assert!(
        matches!(
            err,
            TableError::Length {
                expected: 11,
                found: 10
            }
        ),
        "{err}"
    );

    let mut info = written.info.clone();
    info.width = Some(2);
    let err = TableReader::from_bytes(
        bytes.clone(),
        &ReadOptions::new().expect_info(&info).unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table does not match float-array-2: expected 2 columns, found 3"
    );
    info.data_type = Some("float64/float64/float64".into());
    let err = ReadOptions::new().expect_info(&info).unwrap_err();
    assert!(matches!(err, TableError::InvalidInfo(_)), "{err}");
    info.width = Some(3);
    info.data_type = Some("int32".into());
    let err = TableReader::from_bytes(bytes, &ReadOptions::new().expect_info(&info).unwrap())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("column 0 (c0): expected int32, found float64"),
        "{err}"
    );
}

#[test]
fn writing_refuses_a_table_of_the_wrong_format_before_writing_anything() {
    let table = sample_table(&TableFormat::INDEX_ARRAY_2, 5, false);
    let mut sink = Vec::new();
    let err = TableWriter::new(
        &mut sink,
        &TableFormat::INDEX_ARRAY_3,
        table.schema(),
        &WriteOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table does not match index-array-3: expected 3 columns, found 2"
    );
    assert!(sink.is_empty());

    // A later batch of other types is refused too.
    let schema = table.schema();
    let mut writer = TableWriter::new(
        Vec::new(),
        &TableFormat::INDEX_ARRAY_2,
        schema,
        &WriteOptions::default(),
    )
    .unwrap();
    writer.write(&table).unwrap();
    let floats = sample_table(&TableFormat::FLOAT_ARRAY_2, 5, false);
    let err = writer.write(&floats).unwrap_err();
    assert!(
        err.to_string()
            .contains("column 0 (c0): expected uint64, found float64"),
        "{err}"
    );

    // ...and so is an md batch of another width than the file's.
    let md = sample_table(&TableFormat::FLOAT_ARRAY_MD, 5, false);
    let mut writer = TableWriter::new(
        Vec::new(),
        &TableFormat::FLOAT_ARRAY_MD,
        md.schema(),
        &WriteOptions::default(),
    )
    .unwrap();
    let two = sample_table(&TableFormat::FLOAT_ARRAY_2, 5, false);
    let err = writer.write(&two).unwrap_err();
    assert!(
        err.to_string().contains("expected 3 columns, found 2"),
        "{err}"
    );
}

#[test]
fn an_empty_table_is_a_valid_file() {
    let schema = Arc::new(Schema::new(vec![evo_tables::arrow_schema::Field::new(
        "v",
        evo_tables::ColumnType::String.arrow_type(),
        true,
    )]));
    let (bytes, written) = write_to_vec(
        &TableFormat::STRING_ARRAY,
        schema,
        std::iter::empty::<RecordBatch>(),
        &WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(written.rows(), 0);
    let reader = TableReader::from_bytes(
        bytes,
        &ReadOptions::new().expect_info(&written.info).unwrap(),
    )
    .unwrap();
    assert_eq!(reader.rows(), 0);
    assert_eq!(reader.count(), 0);
}

#[test]
fn row_groups_do_not_depend_on_batching_so_neither_does_the_name() {
    let table = sample_table(&TableFormat::FLOAT_ARRAY_3, 10_000, true);
    // 24-byte rows: 24,000 bytes per row group are 1,000 rows.
    let options = WriteOptions::new().max_row_group_bytes(24_000);
    let write = |sizes: &[usize]| {
        let mut writer = TableWriter::new(
            Vec::new(),
            &TableFormat::FLOAT_ARRAY_3,
            table.schema(),
            &options,
        )
        .unwrap();
        assert_eq!(writer.rows_per_group(), 1_000);
        let mut offset = 0;
        for &size in sizes.iter().cycle() {
            let size = size.min(table.num_rows() - offset);
            writer.write(&table.slice(offset, size)).unwrap();
            offset += size;
            if offset == table.num_rows() {
                break;
            }
        }
        writer.finish().unwrap()
    };
    let (one, a) = write(&[10_000]);
    let (many, b) = write(&[1, 333, 2_048, 0, 7]);
    assert_eq!(a, b);
    assert_eq!(one, many);
    let reader = TableReader::from_bytes(one, &ReadOptions::new()).unwrap();
    assert_eq!(reader.row_groups(), 10);
}

#[test]
fn column_parallel_and_serial_decoding_give_the_same_batches() {
    let dir = tempfile::tempdir().unwrap();
    let table = sample_table(&TableFormat::LINES_2D_INDICES, 25_000, true);
    let stored = write_to_dir(
        dir.path(),
        &TableFormat::LINES_2D_INDICES,
        table.schema(),
        [&table],
        &WriteOptions::new().max_row_group_rows(6_000),
    )
    .unwrap();
    let read = |parallel: bool| {
        let options = ReadOptions::new().batch_rows(4_096).parallel(parallel);
        TableReader::open(&stored.path, &options)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    };
    let (parallel, serial) = (read(true), read(false));
    assert_eq!(parallel.len(), serial.len());
    for (p, s) in parallel.iter().zip(&serial) {
        assert_eq!(p, s);
    }
    assert_eq!(
        support::table_json(&parallel),
        support::table_json(&[table])
    );

    // A reader dropped part-way is fine: its decoder threads stop at their next send.
    let mut reader = TableReader::open(&stored.path, &ReadOptions::new().batch_rows(100)).unwrap();
    assert_eq!(reader.next().unwrap().unwrap().num_rows(), 100);
    drop(reader);
}

/// A one-column table of 25,000 rows in row groups of 6,000, written to `dir`.
fn one_column_in_five_row_groups(dir: &std::path::Path) -> (RecordBatch, std::path::PathBuf) {
    let table = sample_table(&TableFormat::FLOAT_ARRAY_1, 25_000, true);
    let stored = write_to_dir(
        dir,
        &TableFormat::FLOAT_ARRAY_1,
        table.schema(),
        [&table],
        &WriteOptions::new().max_row_group_rows(6_000),
    )
    .unwrap();
    (table, stored.path)
}

#[test]
fn row_groups_decoded_on_threads_give_the_table_in_order_a_batch_never_spanning_two_groups() {
    let dir = tempfile::tempdir().unwrap();
    let (table, path) = one_column_in_five_row_groups(dir.path());
    let bytes = std::fs::read(&path).unwrap();
    let serial = TableReader::open(&path, &ReadOptions::new().batch_rows(4_096).parallel(false))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(
        support::table_json(&serial),
        support::table_json(std::slice::from_ref(&table))
    );
    for threads in [2, 3, 5, 8] {
        let options = ReadOptions::new()
            .batch_rows(4_096)
            .row_group_threads(threads);
        let from_file = TableReader::open(&path, &options).unwrap();
        assert_eq!(from_file.row_groups(), 5);
        let from_file = from_file.collect::<Result<Vec<_>, _>>().unwrap();
        let from_bytes = TableReader::from_bytes(bytes.clone(), &options)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(from_file, from_bytes, "{threads} threads");
        let sizes: Vec<usize> = from_file.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(
            sizes,
            [
                4_096, 1_904, 4_096, 1_904, 4_096, 1_904, 4_096, 1_904, 1_000
            ],
            "{threads} threads: each row group's batches, in order"
        );
        assert_eq!(
            support::table_json(&from_file),
            support::table_json(&serial),
            "{threads} threads"
        );
    }
}

#[test]
fn a_reader_keeps_what_owns_its_file_until_it_and_its_threads_are_done() {
    let dir = tempfile::tempdir().unwrap();
    let table = sample_table(&TableFormat::FLOAT_ARRAY_3, 5000, false);
    let stored = write_to_dir(
        dir.path(),
        &TableFormat::FLOAT_ARRAY_3,
        table.schema(),
        [&table],
        &WriteOptions::default(),
    )
    .unwrap();
    for parallel in [true, false] {
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let options = ReadOptions::new().batch_rows(1000).parallel(parallel);
        let mut reader =
            TableReader::open_owning(&stored.path, &options, support::DropFlag(dropped.clone()))
                .unwrap();
        let first = reader.next().unwrap().unwrap();
        assert_eq!(first.num_rows(), 1000);
        assert!(
            !dropped.load(std::sync::atomic::Ordering::SeqCst),
            "dropped while reading"
        );
        let rest: Vec<RecordBatch> = reader.by_ref().collect::<Result<_, _>>().unwrap();
        assert_eq!(rest.iter().map(RecordBatch::num_rows).sum::<usize>(), 4000);
        assert!(
            !dropped.load(std::sync::atomic::Ordering::SeqCst),
            "dropped before the reader"
        );
        drop(reader);
        assert!(
            support::eventually(|| dropped.load(std::sync::atomic::Ordering::SeqCst)),
            "never dropped (parallel columns: {parallel})"
        );
    }
}

#[test]
fn row_group_threads_let_go_of_the_owner_once_a_part_read_reader_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = one_column_in_five_row_groups(dir.path());
    let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let options = ReadOptions::new().batch_rows(1_000).row_group_threads(2);
    let mut reader =
        TableReader::open_owning(&path, &options, support::DropFlag(dropped.clone())).unwrap();
    assert_eq!(reader.next().unwrap().unwrap().num_rows(), 1_000);
    // The threads are blocked on full queues; dropping the reader releases them.
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
    drop(reader);
    assert!(
        support::eventually(|| dropped.load(std::sync::atomic::Ordering::SeqCst)),
        "a row-group thread still holds the owner"
    );
}

#[test]
fn a_temporary_file_given_to_its_reader_goes_once_the_reader_is_dropped_part_read() {
    let dir = tempfile::tempdir().unwrap();
    let table = sample_table(&TableFormat::FLOAT_ARRAY_3, 50_000, false);
    let (bytes, _) = write_to_vec(
        &TableFormat::FLOAT_ARRAY_3,
        table.schema(),
        [&table],
        &WriteOptions::default(),
    )
    .unwrap();
    let temp = tempfile::Builder::new()
        .tempfile_in(dir.path())
        .unwrap()
        .into_temp_path();
    std::fs::write(&temp, &bytes).unwrap();
    let path = temp.to_path_buf();
    let options = ReadOptions::new().batch_rows(100);
    let mut reader = TableReader::open_owning(&path, &options, temp).unwrap();
    assert_eq!(reader.next().unwrap().unwrap().num_rows(), 100);
    assert!(path.exists(), "deleted while the reader reads it");
    // Dropped with its column threads mid-table: they stop, then the file goes.
    drop(reader);
    assert!(
        support::eventually(|| !path.exists()),
        "{} left behind",
        path.display()
    );
}

/// Each codec writes pages of that compression (Snappy and uncompressed as well as gzip), and
/// every one reads back to the same values, in parallel and on one thread; gzip above level 9
/// is taken as 9.
#[test]
fn every_codec_writes_its_compression_and_reads_back_the_same_values() {
    let format = &TableFormat::FLOAT_ARRAY_3;
    let table = sample_table(format, 20_000, false);
    let expected = concat(std::slice::from_ref(&table));
    for (codec, compression) in [
        (Codec::Gzip(6), Compression::GZIP(Default::default())),
        (Codec::Snappy, Compression::SNAPPY),
        (Codec::Uncompressed, Compression::UNCOMPRESSED),
    ] {
        let options = WriteOptions::new().codec(codec);
        let (bytes, written) = write_to_vec(format, table.schema(), [&table], &options).unwrap();
        assert_eq!(written.data_id(), evo_tables::sha256_of_bytes(&bytes));
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes.clone())).unwrap();
        for rg in reader.metadata().row_groups() {
            for chunk in rg.columns() {
                assert_eq!(
                    std::mem::discriminant(&chunk.compression()),
                    std::mem::discriminant(&compression),
                    "{codec:?}"
                );
            }
        }
        for parallel in [true, false] {
            let read = read_all(bytes.clone(), &ReadOptions::new().parallel(parallel)).unwrap();
            assert_eq!(concat(&read), expected, "{codec:?}, parallel {parallel}");
        }
    }
    assert_eq!(
        WriteOptions::new().codec(Codec::Gzip(12)),
        WriteOptions::new().gzip_level(9)
    );
}
