//! Column changes: `PATCH .../blocks` checks the change against the latest version and opens a
//! job waiting for its file; once `uploaded`, [`apply`] reads the Parquet file, checks it
//! (geometry columns, row count, block indices, unknown and missing columns, types) and makes
//! the new version, or fails the job saying what was wrong.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, UInt32Array};
use arrow_schema::DataType;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Value, json};
use uuid::Uuid;

use super::common::{S, bad_request, ctx, invalid, known_unit, model_rec, version_json};
use super::jobs::{failure, job_url, new_job};
use super::models::object;
use super::state::{
    BlockModelsState, CONTAINER, ColumnRec, Geometry, JobKind, JobRec, ModelRec, Touched,
    VersionRec,
};
use crate::http_util::{ApiError, parse_uuid};
use crate::state::{Role, Shared};
use crate::storage::sas::presign;

/// The geometry columns a file may carry besides value columns.
const GEOMETRY: &[&str] = &["i", "j", "k", "x", "y", "z"];

/// A checked column change.
#[derive(Debug, Clone)]
pub(crate) struct UpdateRequest {
    new: Vec<(String, String, Option<String>)>,
    update: Vec<String>,
    delete: Vec<String>,
    rename: Vec<(String, String)>,
    units: Vec<(String, Option<String>)>,
    merge: bool,
    comment: String,
}

impl UpdateRequest {
    fn has_data(&self) -> bool {
        !self.new.is_empty() || !self.update.is_empty()
    }
}

/// The Arrow type of a service type name.
pub(super) fn arrow_type(name: &str) -> Option<DataType> {
    use arrow_schema::TimeUnit;
    Some(match name {
        "Boolean" => DataType::Boolean,
        "Int8" => DataType::Int8,
        "Int16" => DataType::Int16,
        "Int32" => DataType::Int32,
        "Int64" => DataType::Int64,
        "UInt8" => DataType::UInt8,
        "UInt16" => DataType::UInt16,
        "UInt32" => DataType::UInt32,
        "UInt64" => DataType::UInt64,
        "Float16" => DataType::Float16,
        "Float32" => DataType::Float32,
        "Float64" => DataType::Float64,
        "Utf8" => DataType::Utf8,
        "Date32" => DataType::Date32,
        "Timestamp" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        _ => return None,
    })
}

/// Whether a file column of Arrow type `found` holds values of service type `expected`.
fn same_type(expected: &DataType, found: &DataType) -> bool {
    match (expected, found) {
        (DataType::Timestamp(u1, _), DataType::Timestamp(u2, Some(tz))) => {
            u1 == u2 && matches!(tz.as_ref(), "UTC" | "+00:00" | "Etc/UTC" | "Z")
        }
        _ => expected == found,
    }
}

fn strings(v: Option<&Value>, what: &str) -> Result<Vec<String>, ApiError> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| {
            s.as_str()
                .map(str::to_owned)
                .ok_or_else(|| invalid(what, "titles are strings"))
        })
        .collect()
}

fn parse_request(body: &[u8], latest: &VersionRec) -> Result<UpdateRequest, ApiError> {
    let body = object(
        serde_json::from_slice(body).map_err(|e| invalid("body", format!("not JSON: {e}")))?,
        "the body",
    )?;
    let columns = body.get("columns").cloned().unwrap_or(Value::Null);
    let exists = |t: &str| latest.column(t).is_some();
    let mut new = Vec::new();
    for c in columns
        .get("new")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let title = c
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if title.trim().is_empty() || GEOMETRY.contains(&title.as_str()) || exists(&title) {
            return Err(bad_request(format!(
                "'{title}' cannot be the title of a new column"
            )));
        }
        let data_type = c
            .get("data_type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if arrow_type(data_type).is_none() {
            return Err(invalid(
                "columns.new.data_type",
                format!("unknown type '{data_type}'"),
            ));
        }
        let unit = c.get("unit_id").and_then(Value::as_str).map(str::to_owned);
        if unit.as_deref().is_some_and(|u| !known_unit(u)) {
            return Err(invalid("columns.new.unit_id", "unknown unit"));
        }
        new.push((title, data_type.to_owned(), unit));
    }
    let update = strings(columns.get("update"), "columns.update")?;
    let delete = strings(columns.get("delete"), "columns.delete")?;
    let mut rename = Vec::new();
    for r in columns
        .get("rename")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(old), Some(new_title)) = (
            r.get("title").and_then(Value::as_str),
            r.get("new_title").and_then(Value::as_str),
        ) else {
            return Err(invalid(
                "columns.rename",
                "title and new_title are required",
            ));
        };
        if new_title.trim().is_empty() || GEOMETRY.contains(&new_title) || exists(new_title) {
            return Err(bad_request(format!(
                "a column cannot be renamed to '{new_title}'"
            )));
        }
        rename.push((old.to_owned(), new_title.to_owned()));
    }
    let mut units = Vec::new();
    for m in columns
        .get("update_metadata")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let title = m
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let unit = m
            .pointer("/values/unit_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if unit.as_deref().is_some_and(|u| !known_unit(u)) {
            return Err(invalid("columns.update_metadata.unit_id", "unknown unit"));
        }
        units.push((title, unit));
    }
    for title in update
        .iter()
        .chain(&delete)
        .chain(rename.iter().map(|r| &r.0))
        .chain(units.iter().map(|u| &u.0))
    {
        if !exists(title) {
            return Err(bad_request(format!(
                "The block model has no column '{title}'."
            )));
        }
    }
    let merge = match body.get("update_type").and_then(Value::as_str) {
        None | Some("merge") => true,
        Some("replace") => false,
        Some(other) => {
            return Err(invalid(
                "update_type",
                format!("'{other}' is not merge or replace"),
            ));
        }
    };
    let request = UpdateRequest {
        new,
        update,
        delete,
        rename,
        units,
        merge,
        comment: body
            .get("comment")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    };
    if !request.has_data()
        && request.delete.is_empty()
        && request.rename.is_empty()
        && request.units.is_empty()
    {
        return Err(bad_request("The update changes nothing."));
    }
    Ok(request)
}

/// `PATCH .../block-models/{bm}/blocks`.
pub(super) async fn patch_blocks(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = (|| {
        let c = ctx(&shared, &headers, &org, Some(&ws))?;
        let bm = parse_uuid(S, "bm_id", &bm)?;
        let mut model = shared.model();
        let m = model_rec(&mut model, &c, bm, Role::Editor, false)?;
        let latest = m
            .latest()
            .ok_or_else(|| super::common::conflict("The block model is still being created."))?;
        let request = parse_request(&body, latest)?;
        if request.has_data() && !matches!(m.geometry, Geometry::Regular { .. }) {
            return Err(bad_request(
                "The emulator stores column values of regular block models only.",
            ));
        }
        let echo: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let version_uuid = Uuid::new_v4();
        let ws = c.ws.unwrap_or_default();
        let has_data = request.has_data();
        let kind = JobKind::Update {
            request: Arc::new(request),
            blob: None,
            version_uuid,
        };
        let job = new_job(&mut model, bm, c.user, kind, true);
        let mut answer = json!({
            "changes": echo,
            "job_uuid": job,
            "job_url": job_url(&shared, c.org, ws, bm, job),
            "version_uuid": version_uuid,
        });
        if has_data {
            // The file is named by the job.
            let blob = format!("{}/{ws}/{bm}/{job}.parquet", c.org);
            if let Some(JobKind::Update { blob: b, .. }) = model
                .services
                .get_mut::<BlockModelsState>()
                .jobs
                .get_mut(&job)
                .map(|j| &mut j.kind)
            {
                *b = Some(blob.clone());
            }
            answer["upload_url"] = json!(presign(&shared, CONTAINER, &blob, "rcw"));
        }
        Ok(answer)
    })();
    match answer {
        Ok(answer) => (StatusCode::ACCEPTED, axum::Json(answer)).into_response(),
        Err(e) => e.into_response(),
    }
}

fn fail(detail: impl Into<String>) -> Value {
    failure(400, "Error in Update", detail)
}

/// The uploaded rows: the block of each row, and the value columns by title.
struct Rows {
    blocks: Option<Vec<u32>>,
    columns: Vec<(String, ArrayRef)>,
    count: usize,
}

fn read_file(bytes: Bytes, m: &ModelRec, wanted: &[(String, DataType)]) -> Result<Rows, Value> {
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

/// Applies the column change of job `rec` (with its uploaded file) as a new version.
pub(super) fn apply(shared: &Shared, rec: &JobRec, file: Option<Bytes>) -> Result<Value, Value> {
    let JobKind::Update {
        request,
        version_uuid,
        ..
    } = &rec.kind
    else {
        return Err(fail("not an update job"));
    };
    let (m, base) = {
        let model = shared.model();
        let m = model
            .services
            .get::<BlockModelsState>()
            .and_then(|s| s.models.get(&rec.bm))
            .filter(|m| !m.deleted)
            .ok_or_else(|| failure(404, "Error in Update", "The block model was deleted."))?;
        let base = m
            .latest()
            .cloned()
            .ok_or_else(|| fail("The block model has no version."))?;
        (
            ModelRec {
                versions: Vec::new(),
                ..m.clone()
            },
            base,
        )
    };
    let blocks = m.geometry.blocks();
    let wanted: Vec<(String, DataType)> = request
        .new
        .iter()
        .map(|(t, ty, _)| (t.clone(), arrow_type(ty).unwrap_or(DataType::Null)))
        .chain(request.update.iter().map(|t| {
            let ty = base
                .column(t)
                .and_then(|c| arrow_type(&c.data_type))
                .unwrap_or(DataType::Null);
            (t.clone(), ty)
        }))
        .collect();
    let rows = match file {
        Some(bytes) => Some(read_file(bytes, &m, &wanted)?),
        None if request.has_data() => return Err(fail("The update file was not uploaded.")),
        None => None,
    };
    // Where each block's value is in the file (`None`: not in it).
    let (positions, bbox) = match rows.as_ref().and_then(|r| r.blocks.as_ref()) {
        Some(file_blocks) => {
            let mut pos: Vec<Option<u32>> = vec![None; blocks];
            for (row, b) in file_blocks.iter().enumerate() {
                if pos[*b as usize].replace(row as u32).is_some() {
                    return Err(fail(format!(
                        "Row {row}: the block appears twice in the update file."
                    )));
                }
            }
            let in_order = file_blocks.len() == blocks
                && file_blocks
                    .iter()
                    .enumerate()
                    .all(|(r, b)| *b as usize == r);
            let bbox = index_box(&m, file_blocks);
            (
                if in_order {
                    None
                } else {
                    Some(UInt32Array::from(pos))
                },
                bbox,
            )
        }
        None => (
            None,
            rows.as_ref()
                .and_then(|_| index_box(&m, &[0, blocks.saturating_sub(1) as u32])),
        ),
    };
    // A replace update of existing columns changes every block (those not in the file become
    // null).
    let bbox = if !request.merge && !request.update.is_empty() {
        index_box(&m, &[0, blocks.saturating_sub(1) as u32])
    } else {
        bbox
    };
    let full = |values: &ArrayRef| -> Result<ArrayRef, Value> {
        match &positions {
            None => Ok(values.clone()),
            Some(pos) => arrow_select::take::take(values.as_ref(), pos, None)
                .map_err(|e| fail(e.to_string())),
        }
    };
    let mut columns = base.columns.clone();
    let mut touched = Touched::default();
    let mut changes =
        json!({"new": [], "updated": [], "deleted": [], "renamed": [], "metadata_updated": []});
    columns.retain(|c| {
        let keep = !request.delete.contains(&c.title);
        if !keep {
            touched.deleted.push(c.id);
        }
        keep
    });
    changes["deleted"] = json!(request.delete);
    for (title, new_title) in &request.rename {
        if let Some(c) = columns.iter_mut().find(|c| &c.title == title) {
            c.title = new_title.clone();
        }
    }
    changes["renamed"] = json!(
        request
            .rename
            .iter()
            .map(|(o, n)| json!({"old_title": o, "new_title": n}))
            .collect::<Vec<_>>()
    );
    for (title, unit) in &request.units {
        if let Some(c) = columns.iter_mut().find(|c| &c.title == title) {
            c.unit_id = unit.clone();
        }
    }
    changes["metadata_updated"] = json!(
        request
            .units
            .iter()
            .map(|(t, u)| json!({"title": t, "values": {"unit_id": u}}))
            .collect::<Vec<_>>()
    );
    let file_column = |title: &str| {
        rows.as_ref()
            .and_then(|r| r.columns.iter().find(|(t, _)| t == title))
            .map(|(_, a)| a.clone())
    };
    for title in &request.update {
        let Some(values) = file_column(title) else {
            continue;
        };
        let new_values = full(&values)?;
        let c = columns
            .iter_mut()
            .find(|c| &c.title == title)
            .ok_or_else(|| fail(format!("The column '{title}' is gone.")))?;
        c.values = Some(match (&positions, request.merge, &c.values) {
            (Some(pos), true, Some(old)) => {
                let in_file = BooleanArray::from_iter(pos.iter().map(|p| Some(p.is_some())));
                arrow_select::zip::zip(&in_file, &new_values, old)
                    .map_err(|e| fail(e.to_string()))?
            }
            _ => new_values,
        });
        touched.updated.push(c.id);
    }
    changes["updated"] = json!(request.update);
    for (title, data_type, unit) in &request.new {
        let values = file_column(title).map(|v| full(&v)).transpose()?;
        let id = Uuid::new_v4();
        columns.push(ColumnRec {
            id,
            title: title.clone(),
            data_type: data_type.clone(),
            unit_id: unit.clone(),
            values,
        });
        touched.new.push(id);
    }
    changes["new"] = json!(request.new.iter().map(|(t, _, _)| t).collect::<Vec<_>>());
    let now = shared.clock.now();
    let mut model = shared.model();
    let state = model.services.get_mut::<BlockModelsState>();
    let live = state
        .models
        .get_mut(&rec.bm)
        .filter(|m| !m.deleted)
        .ok_or_else(|| failure(404, "Error in Update", "The block model was deleted."))?;
    if live.latest().map(|v| v.uuid) != Some(base.uuid) {
        return Err(failure(
            409,
            "Error in Update",
            "Another update made a new version meanwhile; send the change again.",
        ));
    }
    let version = VersionRec {
        version_id: base.version_id + 1,
        uuid: *version_uuid,
        created_at: now,
        created_by: rec.user,
        comment: request.comment.clone(),
        columns,
        bbox,
        changes: json!({
            "columns": changes,
            "total_blocks": blocks,
            "blocks_uploaded": rows.as_ref().map_or(0, |r| r.count),
            "update_type": if request.merge { "merge" } else { "replace" },
        }),
        touched,
    };
    live.versions.push(version);
    live.updated_at = now;
    live.updated_by = rec.user;
    let live = live.clone();
    let v = live.latest().ok_or_else(|| fail("no version"))?;
    Ok(version_json(&model, &live, v, false))
}

fn index_box(m: &ModelRec, blocks: &[u32]) -> Option<[[u32; 2]; 3]> {
    let (n, _) = m.geometry.parents();
    let mut b = [[u32::MAX, 0]; 3];
    for block in blocks {
        let block = *block as u64;
        let ijk = [
            block % u64::from(n[0]),
            (block / u64::from(n[0])) % u64::from(n[1]),
            block / (u64::from(n[0]) * u64::from(n[1])),
        ];
        for a in 0..3 {
            b[a][0] = b[a][0].min(ijk[a] as u32);
            b[a][1] = b[a][1].max(ijk[a] as u32);
        }
    }
    (!blocks.is_empty()).then_some(b)
}
