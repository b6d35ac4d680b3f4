//! `ParquetWriter`: tables of any Arrow schema (block model column files: `Float32`, `Int8`,
//! `Date32`, ... beside the object table types), written as `TableWriter` writes and read back
//! unchanged, in bounded row groups, with the SHA-256 of the bytes.

use std::sync::Arc;

use evo_tables::arrow_array::{
    Array, Date32Array, Float32Array, Int8Array, RecordBatch, StringArray, UInt32Array,
};
use evo_tables::arrow_schema::{DataType, Field, Schema};
use evo_tables::{ParquetWriter, ReadOptions, TableReader, WriteOptions, sha256_of_bytes};

fn batch(start: u32, rows: u32) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("i", DataType::UInt32, false),
        Field::new("grade", DataType::Float32, true),
        Field::new("code", DataType::Int8, true),
        Field::new("day", DataType::Date32, true),
        Field::new("rock", DataType::Utf8, true),
    ]));
    let range = start..start + rows;
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(UInt32Array::from_iter_values(range.clone())),
            Arc::new(Float32Array::from_iter(
                range
                    .clone()
                    .map(|i| (i % 7 != 0).then_some(i as f32 * 0.5)),
            )),
            Arc::new(Int8Array::from_iter_values(
                range.clone().map(|i| (i % 100) as i8),
            )),
            Arc::new(Date32Array::from_iter_values(
                range.clone().map(|i| i as i32),
            )),
            Arc::new(StringArray::from_iter_values(
                range.map(|i| format!("r{}", i % 3)),
            )),
        ],
    )
    .unwrap()
}

#[test]
fn any_schema_round_trips_in_bounded_row_groups() {
    let options = WriteOptions::new().max_row_group_rows(1000);
    let first = batch(0, 1500);
    let mut writer = ParquetWriter::new(Vec::new(), first.schema(), &options).unwrap();
    writer.write(&first).unwrap();
    writer.write(&batch(1500, 1000)).unwrap();
    let (bytes, written) = writer.finish().unwrap();
    assert_eq!(written.rows, 2500);
    assert_eq!(written.width, 5);
    assert_eq!(written.size, bytes.len() as u64);
    assert_eq!(written.data_id, sha256_of_bytes(&bytes));

    let reader = TableReader::from_bytes(bytes, &ReadOptions::new().batch_rows(700)).unwrap();
    assert_eq!(reader.row_groups(), 3);
    assert_eq!(reader.schema().fields().len(), 5);
    assert_eq!(reader.schema().field(1).data_type(), &DataType::Float32);
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    assert!(batches.iter().all(|b| b.num_rows() <= 700));
    let grades: Vec<Option<f32>> = batches
        .iter()
        .flat_map(|b| {
            let a = b.column(1).as_any().downcast_ref::<Float32Array>().unwrap();
            (0..a.len())
                .map(|i| a.is_valid(i).then(|| a.value(i)))
                .collect::<Vec<_>>()
        })
        .collect();
    let expected: Vec<Option<f32>> = (0..2500u32)
        .map(|i| (i % 7 != 0).then_some(i as f32 * 0.5))
        .collect();
    assert_eq!(grades, expected);
}

#[test]
fn a_batch_of_other_types_is_refused() {
    let first = batch(0, 10);
    let mut writer = ParquetWriter::new(Vec::new(), first.schema(), &WriteOptions::new()).unwrap();
    let other = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("x", DataType::Float32, true)])),
        vec![Arc::new(Float32Array::from(vec![1.0]))],
    )
    .unwrap();
    assert!(writer.write(&other).is_err());
}
