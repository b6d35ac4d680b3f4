//! Sample tables shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use evo_tables::arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, UInt8Array, UInt32Array, UInt64Array,
};
use evo_tables::{ColumnType, TableFormat};

/// A column of `rows` values of `column_type`, varied by `seed`, with a null every 7th row
/// (`with_nulls`).
pub fn sample_column(
    column_type: ColumnType,
    rows: usize,
    seed: u64,
    with_nulls: bool,
) -> ArrayRef {
    let valid = |i: usize| !with_nulls || i % 7 != 3;
    let n = |i: usize| {
        (i as u64)
            .wrapping_mul(2_654_435_761)
            .wrapping_add(seed * 97)
    };
    match column_type {
        ColumnType::Float64 => {
            Arc::new(Float64Array::from_iter((0..rows).map(|i| {
                valid(i).then(|| (n(i) % 100_000) as f64 * 0.125 - 3.5)
            })))
        }
        ColumnType::UInt8 => Arc::new(UInt8Array::from_iter(
            (0..rows).map(|i| valid(i).then(|| n(i) as u8)),
        )),
        ColumnType::UInt32 => Arc::new(UInt32Array::from_iter(
            (0..rows).map(|i| valid(i).then(|| n(i) as u32 | 0xff00_0000)),
        )),
        ColumnType::UInt64 => Arc::new(UInt64Array::from_iter(
            (0..rows).map(|i| valid(i).then(|| n(i) % 1_000_000 + (1 << 63))),
        )),
        ColumnType::Int32 => Arc::new(Int32Array::from_iter(
            (0..rows).map(|i| valid(i).then(|| (n(i) % 2000) as i32 - 1000)),
        )),
        ColumnType::Int64 => Arc::new(Int64Array::from_iter(
            (0..rows).map(|i| valid(i).then(|| (n(i) as i64) >> 3)),
        )),
        ColumnType::Bool => Arc::new(BooleanArray::from_iter(
            (0..rows).map(|i| valid(i).then(|| n(i) % 3 == 0)),
        )),
        ColumnType::String => Arc::new(StringArray::from_iter(
            (0..rows).map(|i| valid(i).then(|| format!("s{}-é", n(i) % 50))),
        )),
        ColumnType::Timestamp => {
            Arc::new(
                TimestampMicrosecondArray::from_iter((0..rows).map(|i| {
                    valid(i).then(|| 1_700_000_000_000_000 + (n(i) % 1_000_000_000) as i64)
                }))
                .with_timezone("UTC"),
            )
        }
        other => panic!("no sample for {other}"),
    }
}

/// A table of `format` (3 columns for a variable width) with `rows` rows.
pub fn sample_table(format: &TableFormat, rows: usize, with_nulls: bool) -> RecordBatch {
    let width = format.width().unwrap_or(3);
    let columns = (0..width).map(|i| {
        let t = format.column_type(i).unwrap();
        (
            format!("c{i}"),
            sample_column(t, rows, i as u64, with_nulls),
        )
    });
    format.batch(columns).unwrap()
}

/// The values of a column as JSON (timestamps as microseconds, nulls as `null`): how the tests
/// compare tables across languages.
pub fn column_json(array: &ArrayRef) -> Vec<serde_json::Value> {
    use evo_tables::arrow_array::Array;
    use serde_json::Value;
    fn collect<A: Array + 'static, T: Into<Value>>(
        array: &ArrayRef,
        value: impl Fn(&A, usize) -> T,
    ) -> Vec<Value> {
        let a = array
            .as_any()
            .downcast_ref::<A>()
            .expect("column of the expected type");
        (0..a.len())
            .map(|i| {
                if a.is_null(i) {
                    Value::Null
                } else {
                    value(a, i).into()
                }
            })
            .collect()
    }
    match ColumnType::of_arrow(array.data_type()).expect("an Evo column type") {
        ColumnType::Float64 => collect(array, |a: &Float64Array, i| a.value(i)),
        ColumnType::UInt8 => collect(array, |a: &UInt8Array, i| a.value(i)),
        ColumnType::UInt32 => collect(array, |a: &UInt32Array, i| a.value(i)),
        ColumnType::UInt64 => collect(array, |a: &UInt64Array, i| a.value(i)),
        ColumnType::Int32 => collect(array, |a: &Int32Array, i| a.value(i)),
        ColumnType::Int64 => collect(array, |a: &Int64Array, i| a.value(i)),
        ColumnType::Bool => collect(array, |a: &BooleanArray, i| a.value(i)),
        ColumnType::String => collect(array, |a: &StringArray, i| a.value(i).to_owned()),
        ColumnType::Timestamp => collect(array, |a: &TimestampMicrosecondArray, i| a.value(i)),
        other => panic!("no JSON for {other}"),
    }
}

/// Every column of a table as JSON values, column-major.
pub fn table_json(batches: &[RecordBatch]) -> Vec<Vec<serde_json::Value>> {
    let width = batches.first().map_or(0, |b| b.num_columns());
    (0..width)
        .map(|c| {
            batches
                .iter()
                .flat_map(|b| column_json(b.column(c)))
                .collect()
        })
        .collect()
}

/// Sets its flag when dropped: shows when a reader lets go of what it was given to keep.
pub struct DropFlag(pub std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Waits up to five seconds for `done`: decoding threads end on their own after the reader.
pub fn eventually(done: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !done() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    true
}
