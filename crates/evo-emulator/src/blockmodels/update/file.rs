//! Reading an uploaded update file: a Parquet file whose columns are checked (known, of the
//! right type, geometry as indices or coordinates) and whose rows name their blocks; and the
//! failure a job reports when the file is wrong.

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use axum::body::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use super::request::GEOMETRY;
use crate::blockmodels::jobs::failure;
use crate::blockmodels::state::ModelRec;

/// Whether a file column of Arrow type `found` holds values of service type `expected`.
fn same_type(expected: &DataType, found: &DataType) -> bool {
    match (expected, found) {
        (DataType::Timestamp(u1, _), DataType::Timestamp(u2, Some(tz))) => {
            u1 == u2 && matches!(tz.as_ref(), "UTC" | "+00:00" | "Etc/UTC" | "Z")
        }
        _ => expected == found,
    }
}

pub(super) fn fail(detail: impl Into<String>) -> Value {
    failure(400, "Error in Update", detail)
}

/// The uploaded rows: the block of each row, and the value columns by title.
pub(super) struct Rows {
    pub(super) blocks: Option<Vec<u32>>,
    pub(super) columns: Vec<(String, ArrayRef)>,
    pub(super) count: usize,
}

pub(super) fn read_file(
    bytes: Bytes,
    m: &ModelRec,
    wanted: &[(String, DataType)],
) -> Result<Rows, Value> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(|e| fail(format!("The update file is not a Parquet file: {e}")))?;
    let count = usize::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
    let schema = builder.schema().clone();
    let blocks_total = m.geometry.blocks();
    for field in schema.fields() {
        let name = field.name().as_str();
        if GEOMETRY.contains(&name) {
            continue;
        }
        let Some((_, expected)) = wanted.iter().find(|(t, _)| t == name) else {
            return Err(fail(format!("Unknown column '{name}' in the update file.")));
        };
        if !same_type(expected, field.data_type()) {
            return Err(fail(format!(
                "Column '{name}' has type {} in the update file, {expected} expected.",
                field.data_type()
            )));
        }
    }
    if let Some((title, _)) = wanted
        .iter()
        .find(|(t, _)| schema.field_with_name(t).is_err())
    {
        return Err(fail(format!(
            "Column '{title}' is missing from the update file."
        )));
    }
    let has = |n: &str| schema.field_with_name(n).is_ok();
    let geometry = if ["i", "j", "k"].iter().all(|n| has(n)) {
        Some("ijk")
    } else if ["x", "y", "z"].iter().all(|n| has(n)) {
        Some("xyz")
    } else {
        None
    };
    if geometry.is_none() && count != blocks_total {
        return Err(fail(format!(
            "The update file has {count} rows without block indices; the model has {blocks_total} blocks."
        )));
    }
    if count > blocks_total {
        return Err(fail(format!(
            "The update file has {count} rows; the model has {blocks_total} blocks."
        )));
    }
    let reader = builder
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| fail(format!("The update file cannot be read: {e}")))?;
    let mut batches: Vec<RecordBatch> = Vec::new();
    for batch in reader {
        batches.push(batch.map_err(|e| fail(format!("The update file cannot be read: {e}")))?);
    }
    let column = |name: &str| -> Result<ArrayRef, Value> {
        let parts: Vec<ArrayRef> = batches
            .iter()
            .filter_map(|b| b.column_by_name(name).cloned())
            .collect();
        let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
        if refs.is_empty() {
            return Ok(arrow_array::new_empty_array(
                schema
                    .field_with_name(name)
                    .map_err(|e| fail(e.to_string()))?
                    .data_type(),
            ));
        }
        arrow_select::concat::concat(&refs).map_err(|e| fail(e.to_string()))
    };
    let blocks = match geometry {
        Some("ijk") => Some(blocks_from_indices(
            m,
            [column("i")?, column("j")?, column("k")?],
        )?),
        Some(_) => Some(blocks_from_coordinates(
            m,
            [column("x")?, column("y")?, column("z")?],
        )?),
        None => None,
    };
    let columns = wanted
        .iter()
        .map(|(t, _)| Ok((t.clone(), column(t)?)))
        .collect::<Result<_, Value>>()?;
    Ok(Rows {
        blocks,
        columns,
        count,
    })
}

fn as_u64s(a: &ArrayRef, name: &str) -> Result<Vec<u64>, Value> {
    if a.null_count() > 0 {
        return Err(fail(format!("Geometry column '{name}' has nulls.")));
    }
    let bad = || fail(format!("Geometry column '{name}' has a negative value."));
    Ok(match a.data_type() {
        DataType::UInt32 => a
            .as_primitive::<UInt32Type>()
            .values()
            .iter()
            .map(|v| u64::from(*v))
            .collect(),
        DataType::UInt64 => a.as_primitive::<UInt64Type>().values().to_vec(),
        DataType::Int32 => a
            .as_primitive::<Int32Type>()
            .values()
            .iter()
            .map(|v| u64::try_from(*v).map_err(|_| bad()))
            .collect::<Result<_, _>>()?,
        DataType::Int64 => a
            .as_primitive::<Int64Type>()
            .values()
            .iter()
            .map(|v| u64::try_from(*v).map_err(|_| bad()))
            .collect::<Result<_, _>>()?,
        other => {
            return Err(fail(format!(
                "Geometry column '{name}' has type {other}; integers expected."
            )));
        }
    })
}

fn blocks_from_indices(m: &ModelRec, ijk: [ArrayRef; 3]) -> Result<Vec<u32>, Value> {
    let (n, _) = m.geometry.parents();
    let [i, j, k] = [
        as_u64s(&ijk[0], "i")?,
        as_u64s(&ijk[1], "j")?,
        as_u64s(&ijk[2], "k")?,
    ];
    let mut out = Vec::with_capacity(i.len());
    for row in 0..i.len() {
        let (a, b, c) = (i[row], j[row], k[row]);
        if a >= u64::from(n[0]) || b >= u64::from(n[1]) || c >= u64::from(n[2]) {
            return Err(fail(format!(
                "Row {row}: block ({a}, {b}, {c}) is outside the model."
            )));
        }
        out.push((a + u64::from(n[0]) * (b + u64::from(n[1]) * c)) as u32);
    }
    Ok(out)
}

fn blocks_from_coordinates(m: &ModelRec, xyz: [ArrayRef; 3]) -> Result<Vec<u32>, Value> {
    let (n, size) = m.geometry.parents();
    let r = m.rotation_matrix();
    let floats = |a: &ArrayRef, name: &str| -> Result<Vec<f64>, Value> {
        match a.data_type() {
            DataType::Float64 if a.null_count() == 0 => Ok(a
                .as_primitive::<arrow_array::types::Float64Type>()
                .values()
                .to_vec()),
            other => Err(fail(format!(
                "Geometry column '{name}' must be Float64 without nulls, not {other}."
            ))),
        }
    };
    let [x, y, z] = [
        floats(&xyz[0], "x")?,
        floats(&xyz[1], "y")?,
        floats(&xyz[2], "z")?,
    ];
    let mut out = Vec::with_capacity(x.len());
    for row in 0..x.len() {
        let d = [
            x[row] - m.origin[0],
            y[row] - m.origin[1],
            z[row] - m.origin[2],
        ];
        // The inverse of a rotation is its transpose.
        let local: Vec<f64> = (0..3)
            .map(|a| r[0][a] * d[0] + r[1][a] * d[1] + r[2][a] * d[2])
            .collect();
        let mut idx = [0u64; 3];
        for a in 0..3 {
            let f = local[a] / size[a];
            if !(0.0..f64::from(n[a])).contains(&f) {
                return Err(fail(format!(
                    "Row {row}: point ({}, {}, {}) is outside the model.",
                    x[row], y[row], z[row]
                )));
            }
            idx[a] = f.floor() as u64;
        }
        out.push((idx[0] + u64::from(n[0]) * (idx[1] + u64::from(n[1]) * idx[2])) as u32);
    }
    Ok(out)
}
