//! Queries and deltas. `POST .../blocks` checks the query (version, columns) into a
//! [`QueryRequest`] and opens a job; [`run`] selects the blocks of the version within the
//! bounding box (indices, or centroids in world coordinates), leaves out rows whose queried
//! values are all null when asked, and writes the geometry and value columns as Parquet
//! ([`super::result_file`]), which the job stores in its blob. `POST .../versions/{v}/delta`
//! lists the versions after `v` that touched the columns within a box.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, Field, Schema};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use uuid::Uuid;

use super::common::{
    S, bad_request, column_json, invalid, json_body, model_ctx, model_rec, not_found, object,
    respond, system_columns,
};
use super::jobs::{failure, job_url, new_job, spawn_job};
use super::result_file::{LAYOUT, Source, write_result};
use super::selection::Selection;
use super::state::{
    Area, BlockModelsState, CONTAINER, Geometry, JobKind, JobRec, ModelRec, QueryRequest,
    VersionRec, Work, arrow_type,
};
use crate::http_util::{ApiError, parse_uuid};
use crate::state::{Role, Shared};

/// The bounding box of a request (`bbox`), if any.
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
        let (c, bm) = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let body = object(json_body(&body)?, "the body")?;
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
        let job = new_job(&mut model, bm, c.user, kind, QUERY, false);
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

/// How the job of a query runs: the result file written ([`run`]) into its blob.
const QUERY: Work = Work {
    run: run_query,
    then: None,
};

fn run_query(shared: Arc<Shared>, rec: JobRec) -> BoxFuture<'static, Result<Value, Value>> {
    Box::pin(async move {
        let JobKind::Query { blob, .. } = rec.kind.clone() else {
            return Err(failure(400, "Error in Query", "not a query job"));
        };
        let shared2 = shared.clone();
        let (segments, md5) = tokio::task::spawn_blocking(move || run(&shared2, &rec))
            .await
            .unwrap_or_else(|e| Err(failure(500, "Error in Query", e.to_string())))?;
        let key = format!("{CONTAINER}/{blob}");
        shared
            .blobs
            .put_service_blob(
                &key,
                segments,
                md5,
                Some("application/octet-stream".to_owned()),
            )
            .await
            .map_err(|e| failure(500, "Error in Query", e.message))?;
        Ok(json!({}))
    })
}

/// Answers query job `rec`: the result as Parquet bytes (in segments) and their MD5, or a
/// failure payload.
fn run(shared: &Shared, rec: &JobRec) -> Result<(Vec<Bytes>, [u8; 16]), Value> {
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
    let mut blocks = Selection::of(&m, request.bbox);
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
    if request.exclude_null_rows {
        let values: Vec<ArrayRef> = columns.iter().map(|(_, a)| a.clone()).collect();
        blocks.retain_valid(&values);
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
    let schema = Arc::new(Schema::new(fields));
    write_result(&m, schema, &sources, blocks.as_blocks(), LAYOUT).map_err(|e| fail(e.to_string()))
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
        let (c, bm) = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let start = parse_uuid(S, "version_id", &version)?;
        let body = object(json_body(&body)?, "the body")?;
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
