//! Untrusted Parquet input: truncated, corrupted or foreign bytes give a typed error, never a
//! panic, and never data that differs from what was written without an error.

use crate::support;

use evo_tables::{ReadOptions, TableError, TableFormat, TableReader, WriteOptions, write_to_vec};

fn read(bytes: Vec<u8>, options: &ReadOptions) -> Result<usize, TableError> {
    let mut rows = 0;
    for batch in TableReader::from_bytes(bytes, options)? {
        rows += batch?.num_rows();
    }
    Ok(rows)
}

fn valid_file() -> (Vec<u8>, evo_tables::WrittenTable) {
    let table = support::sample_table(&TableFormat::LOOKUP_TABLE_INT32, 2_000, true);
    write_to_vec(
        &TableFormat::LOOKUP_TABLE_INT32,
        table.schema(),
        [&table],
        &WriteOptions::default(),
    )
    .unwrap()
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
    let (bytes, _) = valid_file();
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
    let (bytes, written) = valid_file();
    let options = ReadOptions::new().expect_info(&written.info).unwrap();
    let mut errors = 0;
    for pos in (0..bytes.len()).step_by(13) {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut corrupt = bytes.clone();
            corrupt[pos] ^= mask;
            match read(corrupt, &options) {
                Ok(rows) => assert_eq!(rows, 2_000, "flip at {pos}"),
                Err(
                    TableError::Parquet { .. } | TableError::Format(_) | TableError::Length { .. },
                ) => errors += 1,
                Err(other) => panic!("flip at {pos}: unexpected error {other:?}"),
            }
        }
    }
    // The footer and the gzip streams (CRC-32) catch most flips.
    assert!(errors > 0);
}

/// Row groups decoded on threads: a flip anywhere gives the whole table or an error (from the
/// group it hit, after the groups before it), never a panic or a reader that waits forever.
#[test]
fn flipped_bytes_in_row_groups_decoded_on_threads_give_an_error_or_the_table() {
    let table = support::sample_table(&TableFormat::FLOAT_ARRAY_1, 5_000, true);
    let (bytes, written) = write_to_vec(
        &TableFormat::FLOAT_ARRAY_1,
        table.schema(),
        [&table],
        &WriteOptions::default().max_row_group_rows(1_000),
    )
    .unwrap();
    let options = ReadOptions::new()
        .expect_info(&written.info)
        .unwrap()
        .batch_rows(300)
        .row_group_threads(3);
    assert_eq!(read(bytes.clone(), &options).unwrap(), 5_000);
    let mut errors = 0;
    for pos in (0..bytes.len()).step_by(11) {
        let mut corrupt = bytes.clone();
        corrupt[pos] ^= 0xff;
        match read(corrupt, &options) {
            Ok(rows) => assert_eq!(rows, 5_000, "flip at {pos}"),
            Err(TableError::Parquet { .. } | TableError::Format(_) | TableError::Length { .. }) => {
                errors += 1
            }
            Err(other) => panic!("flip at {pos}: unexpected error {other:?}"),
        }
    }
    assert!(errors > 0);
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
