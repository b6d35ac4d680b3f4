//! Untrusted Parquet input: truncated, corrupted or foreign bytes give a typed error or a table
//! of the rows written, never a panic or a hang. (Gzip's CRC-32 guards the values; the levels
//! of version 2 pages are stored uncompressed and unchecked, so a flip there can change which
//! rows are null: the SHA-256 a file is named by is what guards it whole.)

use crate::support;

use evo_tables::arrow_array::RecordBatch;
use evo_tables::{ReadOptions, TableError, TableFormat, TableReader, WriteOptions, write_to_vec};

fn read(bytes: Vec<u8>, options: &ReadOptions) -> Result<usize, TableError> {
    let mut rows = 0;
    for batch in TableReader::from_bytes(bytes, options)? {
        rows += batch?.num_rows();
    }
    Ok(rows)
}

/// Flips the byte at every `step`-th position with each of `masks`: each read gives a typed
/// error or all the rows of `table` (the table written), never a panic or a hang. Returns the
/// number of errors.
fn flips_give_the_table_or_an_error(
    bytes: &[u8],
    options: &ReadOptions,
    step: usize,
    masks: &[u8],
    table: &RecordBatch,
) -> usize {
    let mut errors = 0;
    for pos in (0..bytes.len()).step_by(step) {
        for mask in masks {
            let mut corrupt = bytes.to_vec();
            corrupt[pos] ^= mask;
            let read: Result<Vec<RecordBatch>, _> =
                TableReader::from_bytes(corrupt, options).and_then(|r| r.collect());
            match read {
                Ok(batches) => assert_eq!(
                    batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
                    table.num_rows(),
                    "flip at {pos}"
                ),
                Err(
                    TableError::Parquet { .. } | TableError::Format(_) | TableError::Length { .. },
                ) => errors += 1,
                Err(other) => panic!("flip at {pos}: unexpected error {other:?}"),
            }
        }
    }
    errors
}

fn valid_file() -> (RecordBatch, Vec<u8>, evo_tables::WrittenTable) {
    let table = support::sample_table(&TableFormat::LOOKUP_TABLE_INT32, 2_000, true);
    let (bytes, written) = write_to_vec(
        &TableFormat::LOOKUP_TABLE_INT32,
        table.schema(),
        [&table],
        &WriteOptions::default(),
    )
    .unwrap();
    (table, bytes, written)
}

#[test]
fn garbage_empty_and_magic_only_inputs_are_parquet_errors() {
    for bytes in [
        Vec::new(),
        b"PAR1".to_vec(),
        b"PAR1PAR1".to_vec(),
        b"PAR1\0\0\0\0PAR1".to_vec(),
        b"PAR1\xff\xff\xff\x7fPAR1".to_vec(),
        b"not a parquet file at all, just text".to_vec(),
        vec![0u8; 4096],
    ] {
        let err = read(bytes.clone(), &ReadOptions::new()).unwrap_err();
        assert!(
            matches!(err, TableError::Parquet { .. }),
            "{:?}: {err:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

#[test]
fn every_truncation_of_a_valid_file_is_a_parquet_error() {
    let (_, bytes, _) = valid_file();
    let len = bytes.len();
    // Every cut in the last 300 bytes (the footer), and a spread of cuts through the data.
    let cuts = (len.saturating_sub(300)..len).chain((0..len).step_by(97));
    for cut in cuts {
        let err = read(bytes[..cut].to_vec(), &ReadOptions::new()).unwrap_err();
        assert!(
            matches!(err, TableError::Parquet { .. }),
            "cut at {cut}: {err:?}"
        );
    }
}

#[test]
fn flipped_bytes_give_an_error_or_the_table_never_a_panic() {
    let (table, bytes, written) = valid_file();
    let options = ReadOptions::new().expect_info(&written.info).unwrap();
    let errors =
        flips_give_the_table_or_an_error(&bytes, &options, 13, &[0x01, 0x80, 0xff], &table);
    // The footer and the gzip streams (CRC-32) catch most flips.
    assert!(errors > 0);
}

/// Flips bytes of a table of `format` with `rows` rows in row groups of 1,000, read in batches
/// of 300 on `threads` threads: see [`flips_give_the_table_or_an_error`].
fn flips_in_row_groups(format: &TableFormat, rows: usize, nulls: bool, threads: usize) {
    let table = support::sample_table(format, rows, nulls);
    let (bytes, written) = write_to_vec(
        format,
        table.schema(),
        [&table],
        &WriteOptions::default().max_row_group_rows(1_000),
    )
    .unwrap();
    let options = ReadOptions::new()
        .expect_info(&written.info)
        .unwrap()
        .batch_rows(300)
        .row_group_threads(threads);
    assert_eq!(read(bytes.clone(), &options).unwrap(), rows);
    let errors = flips_give_the_table_or_an_error(&bytes, &options, 7, &[0xff], &table);
    assert!(errors > 0);
}

/// Row groups decoded on threads: a flip anywhere gives all the rows or an error (from the
/// group it hit, after the groups before it), never a panic or a reader that waits forever.
#[test]
fn flipped_bytes_in_row_groups_decoded_on_threads_give_an_error_or_the_table() {
    flips_in_row_groups(&TableFormat::FLOAT_ARRAY_1, 5_000, true, 3);
}

/// Column chunks of number columns decoded on threads (inflated by the fast path, or else by
/// parquet's reader): a flip anywhere gives all the rows or an error, never a panic or a hang.
#[test]
fn flipped_bytes_in_number_columns_decoded_a_chunk_per_thread_give_an_error_or_the_table() {
    flips_in_row_groups(&TableFormat::FLOAT_ARRAY_3, 4_000, false, 2);
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.parquet");
    let err = TableReader::open(&path, &ReadOptions::new()).unwrap_err();
    assert!(
        matches!(
            err,
            TableError::Io {
                action: "opening",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("absent.parquet"), "{err}");
}
