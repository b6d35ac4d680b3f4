//! The Parquet tables the compute tasks read and write, with arrow-rs directly: the emulator
//! shares no code with the client's table crate, so a bug there cannot hide behind the same bug
//! here.
//!
//! A table is described in object JSON by `{data, length, width, data_type}`; the tasks read
//! float tables (`float-array-1/2/3`: positions and attribute values) and write one-column
//! `float64` attribute tables, gzip-compressed as the Python SDK writes them.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, GzipLevel};
use parquet::file::properties::{WriterProperties, WriterVersion};
use serde_json::{Value, json};

/// What an object's JSON says about a float table: its data file, rows and columns.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FloatTable {
    /// The data file's name.
    pub(super) data: String,
    /// The number of rows.
    pub(super) length: usize,
    /// The number of columns.
    pub(super) width: usize,
}

impl FloatTable {
    /// Reads `{data, length, width, data_type}`; the type must be `float64`.
    pub(super) fn from_json(info: &Value) -> Result<Self, String> {
        let data = info["data"]
            .as_str()
            .ok_or("the table has no data file name")?
            .to_owned();
        let length = info["length"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or("the table has no row count (length)")?;
        let width = match &info["width"] {
            Value::Null => 1,
            w => w
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n > 0)
                .ok_or("the table's width is not a positive integer")?,
        };
        match info["data_type"].as_str() {
            Some("float64") => Ok(FloatTable {
                data,
                length,
                width,
            }),
            Some(other) => Err(format!("the table holds {other} values, float64 expected")),
            None => Err("the table has no data_type".into()),
        }
    }

    /// The table's columns read from its Parquet file, checked against the row and column
    /// counts the JSON claims; a null reads as NaN.
    pub(super) fn read(&self, file: Bytes) -> Result<Vec<Vec<f64>>, String> {
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| format!("the data file {} is not a Parquet file: {e}", self.data))?
            .build()
            .map_err(|e| format!("the data file {} cannot be read: {e}", self.data))?;
        let mut columns = vec![Vec::with_capacity(self.length); self.width];
        for batch in reader {
            let batch = batch.map_err(|e| format!("the data file {}: {e}", self.data))?;
            if batch.num_columns() != self.width {
                return Err(format!(
                    "the data file {} has {} columns, the object says {}",
                    self.data,
                    batch.num_columns(),
                    self.width
                ));
            }
            for (column, array) in columns.iter_mut().zip(batch.columns()) {
                let floats = array
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .ok_or_else(|| {
                        format!(
                            "the data file {} holds {} values, float64 expected",
                            self.data,
                            array.data_type()
                        )
                    })?;
                column.extend(floats.iter().map(|v| v.unwrap_or(f64::NAN)));
            }
        }
        let rows = columns.first().map_or(0, Vec::len);
        if rows != self.length {
            return Err(format!(
                "the data file {} has {rows} rows, the object says {}",
                self.data, self.length
            ));
        }
        Ok(columns)
    }
}

/// A one-column `float64` table named `name` (nulls kept) as a Parquet file, and its
/// description without the data file's name (`{length, width, data_type}`).
pub(super) fn write_float_column(
    name: &str,
    values: Vec<Option<f64>>,
) -> Result<(Vec<u8>, Value), String> {
    let length = values.len();
    let array: ArrayRef = Arc::new(Float64Array::from(values));
    let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Float64, true)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![array]).map_err(|e| e.to_string())?;
    let gzip = GzipLevel::try_new(6).map_err(|e| e.to_string())?;
    let props = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_2_0)
        .set_compression(Compression::GZIP(gzip))
        .build();
    let mut writer =
        ArrowWriter::try_new(Vec::new(), schema, Some(props)).map_err(|e| e.to_string())?;
    writer.write(&batch).map_err(|e| e.to_string())?;
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    Ok((
        bytes,
        json!({"length": length, "width": 1, "data_type": "float64"}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_column_reads_back_with_its_nulls_as_nan() {
        let (bytes, info) = write_float_column("grade", vec![Some(1.5), None, Some(-2.0)]).unwrap();
        let mut info = info;
        info["data"] = json!("f");
        let table = FloatTable::from_json(&info).unwrap();
        assert_eq!((table.length, table.width), (3, 1));
        let columns = table.read(Bytes::from(bytes)).unwrap();
        assert_eq!(columns.len(), 1);
        assert_eq!(columns[0][0], 1.5);
        assert!(columns[0][1].is_nan());
        assert_eq!(columns[0][2], -2.0);
    }

    #[test]
    fn a_file_that_disagrees_with_its_description_is_refused() {
        let (bytes, _) = write_float_column("v", vec![Some(1.0), Some(2.0)]).unwrap();
        let long = json!({"data": "f", "length": 3, "width": 1, "data_type": "float64"});
        let err = FloatTable::from_json(&long)
            .unwrap()
            .read(Bytes::from(bytes.clone()))
            .unwrap_err();
        assert!(err.contains("2 rows, the object says 3"), "{err}");
        let wide = json!({"data": "f", "length": 2, "width": 3, "data_type": "float64"});
        let err = FloatTable::from_json(&wide)
            .unwrap()
            .read(Bytes::from(bytes.clone()))
            .unwrap_err();
        assert!(err.contains("1 columns, the object says 3"), "{err}");
        let ints = json!({"data": "f", "length": 2, "data_type": "int32"});
        assert!(FloatTable::from_json(&ints).unwrap_err().contains("int32"));
        let err = FloatTable::from_json(&json!({"data": "f", "length": 2, "data_type": "float64"}))
            .unwrap()
            .read(Bytes::from_static(b"not parquet"))
            .unwrap_err();
        assert!(err.contains("not a Parquet file"), "{err}");
    }
}
