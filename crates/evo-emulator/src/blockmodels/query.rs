//! Queries and deltas. `POST .../blocks` checks the query (version, columns) and opens a job;
//! [`run`] selects the blocks of the version within the bounding box (indices, or centroids
//! in world coordinates), leaves out rows whose queried values are all null when asked, and
//! writes the geometry and value columns as Parquet. `POST .../versions/{v}/delta` lists the
//! versions after `v` that touched the columns within a box.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::compute_leaves;
use parquet::basic::Encoding;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use serde_json::{Value, json};
use uuid::Uuid;

use super::common::{
    S, bad_request, column_json, ctx, invalid, model_rec, not_found, respond, system_columns,
};
use super::jobs::{failure, job_url, new_job, spawn_job};
use super::models::object;
use super::state::{BlockModelsState, Geometry, JobKind, JobRec, ModelRec, VersionRec};
use super::update::arrow_type;
use crate::http_util::{ApiError, parse_uuid};
use crate::state::{Role, Shared};

/// Rows per row group of a result file.
const ROW_GROUP_ROWS: usize = 1024 * 1024;

/// The largest dictionary of a result column chunk (8,192 float64 values).
const DICTIONARY_BYTES: usize = 64 * 1024;

/// A checked query.
#[derive(Debug, Clone)]
pub(crate) struct QueryRequest {
    version: Uuid,
    /// Column ids, in the order asked.
    columns: Vec<Uuid>,
    bbox: Option<Area>,
    coordinates: bool,
    by_id: bool,
    exclude_null_rows: bool,
}

/// A bounding box: inclusive index ranges, or inclusive centroid coordinate ranges.
#[derive(Debug, Clone, Copy)]
pub(super) enum Area {
    Indices([[i64; 2]; 3]),
    Coordinates([[f64; 2]; 3]),
}

pub(super) fn parse_area(v: &Value) -> Result<Option<Area>, ApiError> {
    if v.is_null() {
        return Ok(None);
    }
    let range_i = |k: &str| -> Option<[i64; 2]> {
        let r = v.get(k)?;
        Some([r.get("min")?.as_i64()?, r.get("max")?.as_i64()?])
    };
    let range_f = |k: &str| -> Option<[f64; 2]> {
        let r = v.get(k)?;
        Some([r.get("min")?.as_f64()?, r.get("max")?.as_f64()?])
    };
    if let (Some(i), Some(j), Some(k)) = (
        range_i("i_minmax"),
        range_i("j_minmax"),
        range_i("k_minmax"),
    ) {
        return Ok(Some(Area::Indices([i, j, k])));
    }
    if let (Some(x), Some(y), Some(z)) = (
        range_f("x_minmax"),
        range_f("y_minmax"),
        range_f("z_minmax"),
    ) {
        return Ok(Some(Area::Coordinates([x, y, z])));
    }
    Err(invalid(
        "bbox",
        "i/j/k_minmax integer ranges or x/y/z_minmax number ranges",
    ))
}

/// The columns named by titles, ids or `*` in `version`.
fn resolve_columns(v: &VersionRec, names: &[String]) -> Result<Vec<Uuid>, ApiError> {
    let mut out = Vec::new();
    for name in names {
        if name == "*" {
            out.extend(v.columns.iter().map(|c| c.id));
        } else if ["i", "j", "k", "x", "y", "z"].contains(&name.as_str()) {
            continue;
        } else {
            let c = v.column(name).ok_or_else(|| {
                bad_request(format!("The block model version has no column '{name}'."))
            })?;
            out.push(c.id);
        }
    }
    Ok(out)
}

/// `POST .../block-models/{bm}/blocks`: a query.
pub(super) async fn post_blocks(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = (|| {
        let c = ctx(&shared, &headers, &org, Some(&ws))?;
        let bm = parse_uuid(S, "bm_id", &bm)?;
        let body = object(
            serde_json::from_slice(&body).map_err(|e| invalid("body", format!("not JSON: {e}")))?,
            "the body",
        )?;
        let names: Vec<String> = body
            .get("columns")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("columns", "a list of column titles or ids is required"))?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid("columns", "strings"))
            })
            .collect::<Result<_, _>>()?;
        let bbox = parse_area(body.get("bbox").unwrap_or(&Value::Null))?;
        let coordinates = match body.get("geometry_columns").and_then(Value::as_str) {
            None | Some("indices") => false,
            Some("coordinates") => true,
            Some(other) => {
                return Err(invalid(
                    "geometry_columns",
                    format!("'{other}' is not coordinates or indices"),
                ));
            }
        };
        let options = body.get("output_options").cloned().unwrap_or(Value::Null);
        match options.get("file_format").and_then(Value::as_str) {
            None | Some("parquet") => {}
            Some(other) => {
                return Err(bad_request(format!(
                    "The emulator writes parquet results only, not '{other}'."
                )));
            }
        }
        let by_id = options.get("column_headers").and_then(Value::as_str) == Some("id");
        let exclude_null_rows = options
            .get("exclude_null_rows")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let mut model = shared.model();
        let m = model_rec(&mut model, &c, bm, Role::Viewer, false)?.clone();
        if !matches!(m.geometry, Geometry::Regular { .. }) {
            return Err(bad_request(
                "The emulator answers queries of regular block models only.",
            ));
        }
        let v = match body.get("version_uuid").and_then(Value::as_str) {
            Some(s) => {
                let id = Uuid::parse_str(s).map_err(|_| invalid("version_uuid", "a UUID"))?;
                m.version(id).ok_or_else(|| not_found("Version", id))?
            }
            None => m.latest().ok_or_else(|| {
                super::common::conflict("The block model is still being created.")
            })?,
        };
        let columns = resolve_columns(v, &names)?;
        let mut mapping = system_columns(&m.geometry);
        mapping.extend(v.columns.iter().map(column_json));
        let (n, _) = m.geometry.parents();
        let full = json!({
            "i_minmax": {"min": 0, "max": n[0] - 1},
            "j_minmax": {"min": 0, "max": n[1] - 1},
            "k_minmax": {"min": 0, "max": n[2] - 1},
        });
        let request = QueryRequest {
            version: v.uuid,
            columns: columns.clone(),
            bbox,
            coordinates,
            by_id,
            exclude_null_rows,
        };
        let ws = c.ws.unwrap_or_default();
        let kind = JobKind::Query {
            request: Arc::new(request),
            blob: String::new(),
        };
        let job = new_job(&mut model, bm, c.user, kind, false);
        if let Some(JobKind::Query { blob, .. }) = model
            .services
            .get_mut::<BlockModelsState>()
            .jobs
            .get_mut(&job)
            .map(|j| &mut j.kind)
        {
            *blob = format!("{}/{ws}/{bm}/query/{job}.parquet", c.org);
        }
        Ok((
            json!({
                "bm_uuid": bm,
                "version_id": v.version_id,
                "version_uuid": v.uuid,
                "columns": columns,
                "mapping": {"columns": mapping, "groups": []},
                "bbox": body.get("bbox").filter(|b| !b.is_null()).cloned().unwrap_or(full),
                "job_url": job_url(&shared, c.org, ws, bm, job),
            }),
            job,
        ))
    })();
    match started {
        Ok((answer, job)) => {
            spawn_job(shared.clone(), job);
            axum::Json(answer).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// The blocks of `m` within `area`, in block order (`i` fastest).
pub(super) fn select(m: &ModelRec, area: Option<Area>) -> Vec<u32> {
    let (n, _) = m.geometry.parents();
    let full = [
        [0, i64::from(n[0]) - 1],
        [0, i64::from(n[1]) - 1],
        [0, i64::from(n[2]) - 1],
    ];
    let clamp = |r: [i64; 2], a: usize| [r[0].max(full[a][0]), r[1].min(full[a][1])];
    let (ranges, coords) = match area {
        None => (full, None),
        Some(Area::Indices(b)) => ([clamp(b[0], 0), clamp(b[1], 1), clamp(b[2], 2)], None),
        Some(Area::Coordinates(b)) => (full, Some(b)),
    };
    let rot = m.rotation_matrix();
    let mut out = Vec::new();
    for k in ranges[2][0]..=ranges[2][1] {
        for j in ranges[1][0]..=ranges[1][1] {
            for i in ranges[0][0]..=ranges[0][1] {
                let ijk = [i as u32, j as u32, k as u32];
                if let Some(b) = coords {
                    let c = m.centroid(&rot, ijk);
                    if (0..3).any(|a| c[a] < b[a][0] || c[a] > b[a][1]) {
                        continue;
                    }
                }
                out.push((i + i64::from(n[0]) * (j + i64::from(n[1]) * k)) as u32);
            }
        }
    }
    out
}

/// Answers query job `rec`: the result as Parquet bytes, or a failure payload.
pub(super) fn run(shared: &Shared, rec: &JobRec) -> Result<bytes::Bytes, Value> {
    let fail = |d: String| failure(400, "Error in Query", d);
    let JobKind::Query { request, .. } = &rec.kind else {
        return Err(fail("not a query job".into()));
    };
    let (m, v) = {
        let model = shared.model();
        let m = model
            .services
            .get::<BlockModelsState>()
            .and_then(|s| s.models.get(&rec.bm))
            .ok_or_else(|| fail("The block model is gone.".into()))?;
        let v = m
            .version(request.version)
            .cloned()
            .ok_or_else(|| fail("The version is gone.".into()))?;
        (
            ModelRec {
                versions: Vec::new(),
                ..m.clone()
            },
            v,
        )
    };
    let mut blocks = select(&m, request.bbox);
    let columns: Vec<(String, ArrayRef)> = request
        .columns
        .iter()
        .filter_map(|id| v.columns.iter().find(|c| c.id == *id))
        .map(|c| {
            let values = c.values.clone().unwrap_or_else(|| {
                let ty = arrow_type(&c.data_type).unwrap_or(DataType::Float64);
                arrow_array::new_null_array(&ty, m.geometry.blocks())
            });
            (
                if request.by_id {
                    c.id.to_string()
                } else {
                    c.title.clone()
                },
                values,
            )
        })
        .collect();
    if request.exclude_null_rows && !columns.is_empty() {
        blocks.retain(|b| columns.iter().any(|(_, a)| a.is_valid(*b as usize)));
    }
    let mut fields = if request.coordinates {
        ["x", "y", "z"]
            .map(|f| Field::new(f, DataType::Float64, false))
            .to_vec()
    } else {
        ["i", "j", "k"]
            .map(|f| Field::new(f, DataType::UInt32, false))
            .to_vec()
    };
    fields.extend(
        columns
            .iter()
            .map(|(name, a)| Field::new(name, a.data_type().clone(), true)),
    );
    let mut sources: Vec<Source> = (0..3)
        .map(|axis| {
            if request.coordinates {
                Source::Centroid(axis)
            } else {
                Source::Index(axis)
            }
        })
        .collect();
    sources.extend(
        columns
            .into_iter()
            .map(|(_, values)| Source::Values(values)),
    );
    write_result(
        &m,
        Arc::new(Schema::new(fields)),
        &sources,
        &blocks,
        ROW_GROUP_ROWS,
    )
    .map_err(|e| fail(e.to_string()))
}

/// Where the values of a result column come from, for the blocks of a row group.
enum Source {
    /// The block's index along an axis (0: i, 1: j, 2: k).
    Index(usize),
    /// The block's centroid's world coordinate along an axis (0: x, 1: y, 2: z).
    Centroid(usize),
    /// A stored column of the version, one value per block.
    Values(ArrayRef),
}

impl Source {
    fn array(&self, m: &ModelRec, rot: &[[f64; 3]; 3], blocks: &[u32]) -> Result<ArrayRef, String> {
        let (n, _) = m.geometry.parents();
        let ijk = |b: u32| [b % n[0], (b / n[0]) % n[1], b / (n[0] * n[1])];
        Ok(match self {
            Source::Index(axis) => Arc::new(UInt32Array::from_iter_values(
                blocks.iter().map(|b| ijk(*b)[*axis]),
            )),
            Source::Centroid(axis) => Arc::new(Float64Array::from_iter_values(
                blocks.iter().map(|b| m.centroid(rot, ijk(*b))[*axis]),
            )),
            Source::Values(values) => match contiguous(blocks) {
                // A run of consecutive blocks (a whole model, a slab): a view, no copy.
                Some(first) => values.slice(first, blocks.len()),
                None => {
                    let take = UInt32Array::from(blocks.to_vec());
                    arrow_select::take::take(values.as_ref(), &take, None)
                        .map_err(|e| e.to_string())?
                }
            },
        })
    }
}

/// The first block of `blocks` when they are consecutive (they are sorted and distinct).
fn contiguous(blocks: &[u32]) -> Option<usize> {
    let (first, last) = (*blocks.first()?, *blocks.last()?);
    ((last - first) as usize == blocks.len() - 1).then_some(first as usize)
}

/// Writes the result file: `schema`'s columns taken from `sources` for `blocks`, in row groups
/// of `group_rows`, each column of a row group built and encoded on a thread of its own
/// (a query job is the whole of a query's wait, so it uses every core). Block indices are
/// delta-encoded (they grow by one along a row); dictionaries are kept small, so a column of
/// few distinct values (domains, coordinates) is dictionary-encoded and one of many (a
/// continuous grade) gives up on its dictionary early; statistics are kept per column chunk.
fn write_result(
    m: &ModelRec,
    schema: Arc<Schema>,
    sources: &[Source],
    blocks: &[u32],
    group_rows: usize,
) -> Result<bytes::Bytes, String> {
    let mut props = WriterProperties::builder()
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_dictionary_page_size_limit(DICTIONARY_BYTES);
    for index in ["i", "j", "k"] {
        if schema.field_with_name(index).is_ok() {
            props = props
                .set_column_dictionary_enabled(ColumnPath::from(index), false)
                .set_column_encoding(ColumnPath::from(index), Encoding::DELTA_BINARY_PACKED);
        }
    }
    let writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props.build()))
        .map_err(|e| e.to_string())?;
    let (mut file, factory) = writer.into_serialized_writer().map_err(|e| e.to_string())?;
    let rot = m.rotation_matrix();
    for (group, rows) in blocks.chunks(group_rows).enumerate() {
        let writers = factory
            .create_column_writers(group)
            .map_err(|e| e.to_string())?;
        let chunks = std::thread::scope(|scope| {
            let encoders: Vec<_> = writers
                .into_iter()
                .zip(sources)
                .zip(schema.fields().iter())
                .map(|((mut writer, source), field)| {
                    let rot = &rot;
                    scope.spawn(move || -> Result<_, String> {
                        let array = source.array(m, rot, rows)?;
                        for leaf in compute_leaves(field, &array).map_err(|e| e.to_string())? {
                            writer.write(&leaf).map_err(|e| e.to_string())?;
                        }
                        writer.close().map_err(|e| e.to_string())
                    })
                })
                .collect();
            encoders
                .into_iter()
                .map(|encoder| {
                    encoder
                        .join()
                        .unwrap_or_else(|_| Err("a column encoder panicked".to_owned()))
                })
                .collect::<Result<Vec<_>, String>>()
        })?;
        let mut row_group = file.next_row_group().map_err(|e| e.to_string())?;
        for chunk in chunks {
            chunk
                .append_to_row_group(&mut row_group)
                .map_err(|e| e.to_string())?;
        }
        row_group.close().map_err(|e| e.to_string())?;
    }
    Ok(bytes::Bytes::from(
        file.into_inner().map_err(|e| e.to_string())?,
    ))
}

/// `POST .../versions/{version}/delta`: the versions after `version` (up to
/// `end_version_uuid`) that added, updated or deleted values of the columns within the box.
pub(super) async fn delta(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm, version)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let c = ctx(&shared, &headers, &org, Some(&ws))?;
        let bm = parse_uuid(S, "bm_id", &bm)?;
        let start = parse_uuid(S, "version_id", &version)?;
        let body = object(
            serde_json::from_slice(&body).map_err(|e| invalid("body", format!("not JSON: {e}")))?,
            "the body",
        )?;
        let area = parse_area(body.get("bbox").unwrap_or(&Value::Null))?
            .ok_or_else(|| invalid("bbox", "required"))?;
        let names: Vec<String> = body
            .get("columns")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let verbose = body
            .get("verbose")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut model = shared.model();
        let m = model_rec(&mut model, &c, bm, Role::Viewer, false)?.clone();
        let first = m
            .versions
            .iter()
            .position(|v| v.uuid == start)
            .ok_or_else(|| not_found("Version", start))?;
        let last = match body.get("end_version_uuid").and_then(Value::as_str) {
            Some(s) => {
                let id = Uuid::parse_str(s).map_err(|_| invalid("end_version_uuid", "a UUID"))?;
                m.versions
                    .iter()
                    .position(|v| v.uuid == id)
                    .ok_or_else(|| not_found("Version", id))?
            }
            None => m.versions.len() - 1,
        };
        let end = &m.versions[last];
        // Titles and ids of the columns, as of the start and the end version.
        let mut ids: Vec<Uuid> = Vec::new();
        for name in &names {
            let found = m.versions[first]
                .column(name)
                .or_else(|| end.column(name))
                .ok_or_else(|| bad_request(format!("The block model has no column '{name}'.")))?;
            ids.push(found.id);
        }
        let (n, _) = m.geometry.parents();
        let index_area = match area {
            Area::Indices(b) => b,
            Area::Coordinates(_) => [
                [0, i64::from(n[0]) - 1],
                [0, i64::from(n[1]) - 1],
                [0, i64::from(n[2]) - 1],
            ],
        };
        let meets = |v: &VersionRec| match v.bbox {
            None => false,
            Some(b) => (0..3).all(|a| {
                i64::from(b[a][0]) <= index_area[a][1] && i64::from(b[a][1]) >= index_area[a][0]
            }),
        };
        let (mut new, mut updated, mut deleted, mut data) = (vec![], vec![], vec![], vec![]);
        for v in m.versions.iter().take(last + 1).skip(first + 1) {
            let hit = |list: &[Uuid]| list.iter().any(|id| ids.contains(id));
            let mut any = false;
            if hit(&v.touched.new) && meets(v) {
                new.push(v.uuid);
                any = true;
            }
            if hit(&v.touched.updated) && meets(v) {
                updated.push(v.uuid);
                any = true;
            }
            if hit(&v.touched.deleted) {
                deleted.push(v.uuid);
                any = true;
            }
            if any && verbose {
                data.push(json!({"version_id": v.version_id, "version_uuid": v.uuid, "changes": v.changes}));
            }
        }
        if new.is_empty() && updated.is_empty() && deleted.is_empty() {
            return Ok(StatusCode::NOT_MODIFIED.into_response());
        }
        Ok(axum::Json(json!({"new_deltas": new, "update_deltas": updated, "delete_deltas": deleted, "version_data": data})).into_response())
    })())
}

#[cfg(test)]
mod tests {
    use arrow_array::RecordBatch;
    use arrow_array::cast::AsArray as _;
    use arrow_array::types::{Float64Type, UInt32Type};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    fn model(n: [u32; 3]) -> ModelRec {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        ModelRec {
            id: Uuid::nil(),
            org: Uuid::nil(),
            ws: Uuid::nil(),
            name: "m".into(),
            description: None,
            crs: None,
            size_unit_id: None,
            fill_subblocks: false,
            origin: [100.0, 200.0, 300.0],
            rotation: Vec::new(),
            size_options: Value::Null,
            geometry: Geometry::Regular {
                n,
                size: [2.0, 4.0, 8.0],
            },
            created_at: now,
            created_by: Uuid::nil(),
            updated_at: now,
            updated_by: Uuid::nil(),
            deleted: false,
            versions: Vec::new(),
        }
    }

    /// Row groups of 7 rows, a gap in the blocks (a box), a whole model (a slice): every
    /// row comes back in order with its indices, centroid and value, whatever the group.
    #[test]
    fn results_in_many_row_groups_keep_every_row_in_order() {
        let m = model([4, 3, 5]);
        let values: ArrayRef = Arc::new(Float64Array::from_iter_values(
            (0..60).map(|b| f64::from(b) * 1.5),
        ));
        let schema = Arc::new(Schema::new(vec![
            Field::new("i", DataType::UInt32, false),
            Field::new("j", DataType::UInt32, false),
            Field::new("k", DataType::UInt32, false),
            Field::new("x", DataType::Float64, false),
            Field::new("grade", DataType::Float64, true),
        ]));
        let sources = [
            Source::Index(0),
            Source::Index(1),
            Source::Index(2),
            Source::Centroid(0),
            Source::Values(values),
        ];
        let boxed = select(&m, Some(Area::Indices([[1, 2], [0, 2], [1, 3]])));
        assert!(contiguous(&boxed).is_none());
        let whole = select(&m, None);
        assert_eq!(contiguous(&whole), Some(0));
        for blocks in [boxed, whole] {
            let bytes = write_result(&m, schema.clone(), &sources, &blocks, 7).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
            assert_eq!(reader.metadata().num_row_groups(), blocks.len().div_ceil(7));
            let batches: Vec<RecordBatch> = reader.build().unwrap().map(Result::unwrap).collect();
            let rows: Vec<(u32, u32, u32, f64, f64)> = batches
                .iter()
                .flat_map(|b| {
                    let u = |c: usize| b.column(c).as_primitive::<UInt32Type>().values().to_vec();
                    let f = |c: usize| b.column(c).as_primitive::<Float64Type>().values().to_vec();
                    let (i, j, k, x, g) = (u(0), u(1), u(2), f(3), f(4));
                    (0..b.num_rows()).map(move |r| (i[r], j[r], k[r], x[r], g[r]))
                })
                .collect();
            let expected: Vec<(u32, u32, u32, f64, f64)> = blocks
                .iter()
                .map(|&b| {
                    let (i, j, k) = (b % 4, (b / 4) % 3, b / 12);
                    (
                        i,
                        j,
                        k,
                        100.0 + (f64::from(i) + 0.5) * 2.0,
                        f64::from(b) * 1.5,
                    )
                })
                .collect();
            assert_eq!(rows, expected);
        }
    }
}
