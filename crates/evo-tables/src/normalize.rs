//! Lossless conversions of Arrow types Evo does not name into the ones it does: large and view
//! strings become plain `Utf8` (as the Python SDK casts `large_string` to `string` before
//! writing), and microsecond timestamps labelled with another name of UTC become `"UTC"`.

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, LargeStringArray, RecordBatch, StringArray, StringViewArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::TableError;

/// Other names of UTC that readers and writers use for timestamps adjusted to UTC.
const UTC_ALIASES: [&str; 4] = ["+00:00", "Z", "Etc/UTC", "+0000"];

/// The Evo type `data_type` converts to without loss, when it is not an Evo type already.
fn equivalent(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::LargeUtf8 | DataType::Utf8View => Some(DataType::Utf8),
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz))
            if UTC_ALIASES.contains(&tz.as_ref()) =>
        {
            Some(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some(Arc::from("UTC")),
            ))
        }
        _ => None,
    }
}

/// `schema` with the Evo equivalent of every column that has one (large or view strings,
/// timestamps with another name of UTC); `None` when nothing changes.
pub fn normalize_schema(schema: &Schema) -> Option<Schema> {
    if !schema
        .fields()
        .iter()
        .any(|f| equivalent(f.data_type()).is_some())
    {
        return None;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match equivalent(f.data_type()) {
            Some(t) => f.as_ref().clone().with_data_type(t),
            None => f.as_ref().clone(),
        })
        .collect();
    Some(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` with the columns [`normalize_schema`] changes converted (strings copied into one
/// `Utf8` array, timestamps relabelled); the same batch when nothing changes.
pub fn normalize_batch(batch: &RecordBatch) -> Result<RecordBatch, TableError> {
    let Some(schema) = normalize_schema(&batch.schema()) else {
        return Ok(batch.clone());
    };
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| convert(column, field.name()))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(SchemaRef::new(schema), columns)
        .map_err(|e| TableError::write("assembling the normalized batch", e))
}

fn convert(column: &ArrayRef, name: &str) -> Result<ArrayRef, TableError> {
    let too_large = || TableError::Write {
        message: format!(
            "column {name}: more than 2 GiB of string data in one batch does not fit a plain \
             string column; write smaller batches"
        ),
        source: None,
    };
    Ok(match column.data_type() {
        DataType::LargeUtf8 => {
            let large = column
                .as_any()
                .downcast_ref::<LargeStringArray>()
                .expect("LargeUtf8 is a LargeStringArray");
            let offsets = large.value_offsets();
            let bytes = offsets[offsets.len() - 1] - offsets[0];
            if i32::try_from(bytes).is_err() {
                return Err(too_large());
            }
            Arc::new(large.iter().collect::<StringArray>())
        }
        DataType::Utf8View => {
            let view = column
                .as_any()
                .downcast_ref::<StringViewArray>()
                .expect("Utf8View is a StringViewArray");
            let bytes: usize = view.iter().flatten().map(str::len).sum();
            if i32::try_from(bytes).is_err() {
                return Err(too_large());
            }
            Arc::new(view.iter().collect::<StringArray>())
        }
        DataType::Timestamp(TimeUnit::Microsecond, Some(_))
            if equivalent(column.data_type()).is_some() =>
        {
            let stamps = column
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .expect("Timestamp(µs) is a TimestampMicrosecondArray");
            Arc::new(stamps.clone().with_timezone("UTC"))
        }
        _ => column.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TableFormat;

    #[test]
    fn large_and_view_strings_and_utc_aliases_become_evo_types_with_the_same_values() {
        let large: ArrayRef = Arc::new(LargeStringArray::from(vec![Some("a"), None, Some("ßc")]));
        let view: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("a long string past the inline twelve bytes"),
            Some("x"),
            None,
        ]));
        let stamps: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![Some(1), None, Some(3)]).with_timezone("+00:00"),
        );
        let batch = RecordBatch::try_from_iter([("l", large), ("v", view), ("t", stamps)]).unwrap();
        assert!(TableFormat::STRING_ARRAY.validate(&batch.schema()).is_err());

        let normal = normalize_batch(&batch).unwrap();
        let types: Vec<String> = normal
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().to_string())
            .collect();
        assert_eq!(types, ["Utf8", "Utf8", "Timestamp(µs, \"UTC\")"]);
        let l = normal
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(l.iter().collect::<Vec<_>>(), [Some("a"), None, Some("ßc")]);
        let v = normal
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(
            v.iter().collect::<Vec<_>>(),
            [
                Some("a long string past the inline twelve bytes"),
                Some("x"),
                None
            ]
        );
        let t = normal
            .column(2)
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(t.iter().collect::<Vec<_>>(), [Some(1), None, Some(3)]);

        // Evo types already, and types with no lossless equivalent, are left alone.
        assert!(normalize_schema(&normal.schema()).is_none());
        let naive = Schema::new(vec![Field::new(
            "t",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        )]);
        assert!(normalize_schema(&naive).is_none());
    }
}
