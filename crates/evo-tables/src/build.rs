//! Building tables of a format from Arrow arrays: positions, attributes, categories.

use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, DictionaryArray, Float64Array, Int32Array, RecordBatch};
use arrow_schema::{Field, Schema};

use crate::error::{FormatMismatch, TableError};
use crate::format::TableFormat;
use crate::normalize::{normalize_batch, normalize_schema};

impl TableFormat {
    /// A record batch of this format from named columns (checked: width, types, equal lengths;
    /// large and view strings become plain strings, see [`normalize_batch`](crate::normalize_batch)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use evo_tables::TableFormat;
    /// use evo_tables::arrow_array::{ArrayRef, UInt64Array};
    ///
    /// let segments = TableFormat::INDEX_ARRAY_2.batch([
    ///     ("start", Arc::new(UInt64Array::from(vec![0, 1])) as ArrayRef),
    ///     ("end", Arc::new(UInt64Array::from(vec![1, 2])) as ArrayRef),
    /// ])?;
    /// assert_eq!(segments.num_rows(), 2);
    /// # Ok::<(), evo_tables::TableError>(())
    /// ```
    pub fn batch<N: Into<String>>(
        &self,
        columns: impl IntoIterator<Item = (N, ArrayRef)>,
    ) -> Result<RecordBatch, TableError> {
        let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns
            .into_iter()
            .map(|(name, array)| (Field::new(name, array.data_type().clone(), true), array))
            .unzip();
        let schema = Arc::new(Schema::new(fields));
        // The width first: a missing column is reported as such, not as a ragged one.
        if let Some(normal) = normalize_schema(&schema) {
            self.validate(&normal)?;
        } else {
            self.validate(&schema)?;
        }
        if let Some(first) = arrays.first() {
            let expected = first.len();
            if let Some((index, array)) =
                arrays.iter().enumerate().find(|(_, a)| a.len() != expected)
            {
                return Err(TableError::RaggedColumns {
                    index,
                    name: schema.field(index).name().clone(),
                    expected,
                    found: array.len(),
                });
            }
        }
        let batch = RecordBatch::try_new(schema, arrays)
            .map_err(|e| TableError::write("assembling the record batch", e))?;
        normalize_batch(&batch)
    }
}

/// A `float-array-3` table of positions with the columns `x`, `y`, `z`.
pub fn positions(
    x: Float64Array,
    y: Float64Array,
    z: Float64Array,
) -> Result<RecordBatch, TableError> {
    TableFormat::FLOAT_ARRAY_3.batch([
        ("x", Arc::new(x) as ArrayRef),
        ("y", Arc::new(y) as ArrayRef),
        ("z", Arc::new(z) as ArrayRef),
    ])
}

/// A one-column table of attribute values, and the known format it has (e.g. `float-array-1`
/// for `Float64`, `integer-array-1-int32`, `bool-array-1`, `string-array` (also from large or
/// view strings), `color-array`, `date-time-array`).
pub fn attribute(
    name: impl Into<String>,
    values: ArrayRef,
) -> Result<(RecordBatch, &'static TableFormat), TableError> {
    let schema = Schema::new(vec![Field::new(name, values.data_type().clone(), true)]);
    let batch = RecordBatch::try_new(Arc::new(schema), vec![values])
        .map_err(|e| TableError::write("assembling the record batch", e))?;
    let batch = normalize_batch(&batch)?;
    let format = TableFormat::infer(&batch.schema())?;
    Ok((batch, format))
}

/// The two tables of a category attribute, as the Python SDK builds them from a dictionary
/// array of strings: the `values` (`integer-array-1-int32`, the dictionary keys, nulls kept) and
/// the `lookup-table-int32` (`key` = 0..n, `value` = the dictionary's strings).
pub fn category(
    name: impl Into<String>,
    values: &DictionaryArray<Int32Type>,
) -> Result<(RecordBatch, RecordBatch), TableError> {
    let dictionary = values.values().clone();
    let keys: ArrayRef = Arc::new(values.keys().clone());
    let value_batch = TableFormat::INTEGER_ARRAY_1_INT32.batch([(name.into(), keys)])?;
    let n = i32::try_from(dictionary.len()).map_err(|_| {
        TableError::InvalidInfo(format!(
            "{} categories do not fit int32 keys",
            dictionary.len()
        ))
    })?;
    let lookup_keys: ArrayRef = Arc::new(Int32Array::from_iter_values(0..n));
    let lookup = TableFormat::LOOKUP_TABLE_INT32
        .batch([("key", lookup_keys), ("value", dictionary)])
        .map_err(|e| match e {
            TableError::Format(FormatMismatch { problem, .. }) => {
                TableError::Format(FormatMismatch {
                    format: "category (dictionary of strings)".to_owned(),
                    problem,
                })
            }
            other => other,
        })?;
    Ok((value_batch, lookup))
}
