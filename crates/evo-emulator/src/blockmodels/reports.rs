//! Report specifications under `.../block-models/{bm}/report-specifications`: created and
//! changed after checks against the columns of the model's latest version (they must exist,
//! be numeric or categorical as their role needs, have units convertible to the output
//! units), listed by name, read with their last run; reporting jobs that compute a result
//! from the block values of a version ([`compute`]); results listed newest first and read;
//! comparisons of two results of the same revision ([`compare`]), whose request makes the
//! missing results in a job. Specifications with `autorun` run on every new version a column
//! change makes.

mod compare;
mod compute;
mod spec;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{
    Ctx, R, S, bad_request, invalid, json_body, model_ctx, model_rec, not_found, page, page_json,
    respond, units,
};
use super::jobs::{answer_with_job, failure, job_url, new_job, spawn_job};
use super::state::{BlockModelsState, JobKind, JobRec, ModelRec, Status, VersionRec, Work};
use crate::clock::format_workspace_time;
use crate::http_util::{ApiError, Query, parse_uuid, user_json};
use crate::state::{Model, Role, Shared};
use spec::{SpecRec, parse_spec, spec_json, uuid_of};

/// The specifications and results of every model: a service state of its own (beside
/// [`BlockModelsState`]), so that `state` does not name this module.
#[derive(Debug, Default)]
struct ReportStore {
    specs: HashMap<Uuid, SpecRec>,
    results: HashMap<Uuid, ResultRec>,
}

/// A report result: its `ReportResult` JSON and what listings and comparisons look up.
#[derive(Debug, Clone)]
struct ResultRec {
    id: Uuid,
    spec: Uuid,
    revision: u64,
    version: Uuid,
    version_id: u64,
    created_at: OffsetDateTime,
    json: Value,
}

fn store(model: &Model) -> Option<&ReportStore> {
    model.services.get::<ReportStore>()
}

fn store_mut(model: &mut Model) -> &mut ReportStore {
    model.services.get_mut::<ReportStore>()
}

type P3 = Path<(String, String, String)>;
type P4 = Path<(String, String, String, String)>;

/// The model (live, with at least the role `min`) of a request's caller.
fn open(
    model: &mut Model,
    (c, bm): (Ctx, Uuid),
    min: Role,
) -> Result<(Ctx, &mut ModelRec), ApiError> {
    Ok((c, model_rec(model, &c, bm, min, false)?))
}

fn spec_of(model: &Model, bm: Uuid, rs: &str) -> Result<SpecRec, ApiError> {
    let rs = parse_uuid(S, "rs_id", rs)?;
    store(model)
        .and_then(|s| s.specs.get(&rs))
        .filter(|s| s.bm == bm)
        .cloned()
        .ok_or_else(|| not_found("Report specification", rs))
}

fn latest_of(m: &ModelRec) -> Result<VersionRec, ApiError> {
    m.latest()
        .cloned()
        .ok_or_else(|| bad_request("The block model has no version yet."))
}

/// Records a reporting job of `spec` on `version`; its id and the id of the result it makes.
fn report_job(model: &mut Model, bm: Uuid, user: Uuid, spec: Uuid, version: Uuid) -> Uuid {
    let kind = JobKind::Report {
        spec,
        version,
        result: Uuid::new_v4(),
    };
    new_job(model, bm, user, kind, REPORT, false)
}

/// How a reporting or comparison job runs ([`work`]).
const REPORT: Work = Work {
    run: run_report,
    then: None,
};

fn run_report(shared: Arc<Shared>, rec: JobRec) -> BoxFuture<'static, Result<Value, Value>> {
    Box::pin(async move {
        tokio::task::spawn_blocking(move || work(&shared, &rec))
            .await
            .unwrap_or_else(|e| Err(failure(500, "Error in Report", e.to_string())))
    })
}

/// `POST .../report-specifications[?run_now]` and `PATCH .../report-specifications/{rs}`.
async fn save(
    shared: Arc<Shared>,
    headers: HeaderMap,
    path: (&str, &str, &str),
    rs: Option<&str>,
    raw: Option<String>,
    body: Bytes,
) -> Response {
    let saved = (|| {
        let run_now = Query::parse(raw.as_deref())
            .flag("run_now")
            .map_err(|e| invalid("run_now", e))?;
        let who = model_ctx(&shared, &headers, path)?;
        let mut model = shared.model();
        let (c, m) = open(&mut model, who, Role::Editor)?;
        let (m, latest) = (m.clone(), latest_of(m)?);
        let prev = rs.map(|rs| spec_of(&model, m.id, rs)).transpose()?;
        let (name, description, autorun, body) = parse_spec(&body, &m, &latest, prev.as_ref())?;
        let spec = match prev {
            Some(p) => SpecRec {
                revision: p.revision + u64::from(p.body != body),
                name,
                description,
                autorun,
                body,
                ..p
            },
            None => SpecRec {
                id: Uuid::new_v4(),
                bm: m.id,
                name,
                description,
                autorun,
                revision: 0,
                body,
            },
        };
        let mut answer = spec_json(&spec, None);
        store_mut(&mut model).specs.insert(spec.id, spec.clone());
        let job = run_now.then(|| report_job(&mut model, m.id, c.user, spec.id, latest.uuid));
        let ws = c.ws.unwrap_or_default();
        answer["job_url"] = json!(job.map(|j| job_url(&shared, c.org, ws, m.id, j)));
        let status = if rs.is_some() {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        Ok((status, answer, job))
    })();
    answer_with_job(&shared, saved)
}

async fn create(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm)): P3,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    save(shared, headers, (&org, &ws, &bm), None, raw, body).await
}

async fn update(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm, rs)): P4,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    save(shared, headers, (&org, &ws, &bm), Some(&rs), raw, body).await
}

/// `GET .../report-specifications[?offset&limit]`, by name.
async fn list(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm)): P3,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond((|| -> R {
        let (offset, limit) = page(&Query::parse(raw.as_deref()))?;
        let who = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let mut model = shared.model();
        let bm = open(&mut model, who, Role::Viewer)?.1.id;
        let store = store(&model);
        let mut all: Vec<&SpecRec> = store
            .map(|s| s.specs.values().filter(|s| s.bm == bm).collect())
            .unwrap_or_default();
        all.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        let mut used: Vec<&str> = Vec::new();
        for s in &all {
            used.push(&s.body.mass_unit_id);
            used.extend(s.body.density_unit_id.as_deref());
            used.extend(s.body.columns.iter().map(|c| c.output_unit_id.as_str()));
        }
        let results = all
            .iter()
            .skip(offset)
            .take(limit)
            .map(|s| spec_json(s, store))
            .collect();
        let mut body = page_json(results, all.len(), offset, limit);
        body["referenced_units"] = units()
            .as_array()
            .into_iter()
            .flatten()
            .filter(|u| used.iter().any(|id| u["unit_id"] == *id))
            .cloned()
            .collect();
        Ok(axum::Json(body).into_response())
    })())
}

/// `GET .../report-specifications/{rs}`.
async fn get_one(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm, rs)): P4,
    headers: HeaderMap,
) -> Response {
    respond((|| -> R {
        let who = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let mut model = shared.model();
        let bm = open(&mut model, who, Role::Viewer)?.1.id;
        let spec = spec_of(&model, bm, &rs)?;
        Ok(axum::Json(spec_json(&spec, store(&model))).into_response())
    })())
}

/// A JSON body that may be left out (as `{}`).
fn optional_json(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    json_body(body)
}

/// `POST .../report-specifications/{rs}/jobs`: `{version_uuid?}`.
async fn run(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm, rs)): P4,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = (|| {
        let body = optional_json(&body)?;
        let version = uuid_of(body.get("version_uuid"), "version_uuid")?;
        let who = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let mut model = shared.model();
        let (c, m) = open(&mut model, who, Role::Editor)?;
        let v = match version {
            Some(id) => m
                .version(id)
                .cloned()
                .ok_or_else(|| not_found("Version", id))?,
            None => latest_of(m)?,
        };
        let bm = m.id;
        let spec = spec_of(&model, bm, &rs)?;
        let job = report_job(&mut model, bm, c.user, spec.id, v.uuid);
        let answer = json!({
            "bm_uuid": bm,
            "job_url": job_url(&shared, c.org, c.ws.unwrap_or_default(), bm, job),
            "job_uuid": job,
            "report_specification_uuid": spec.id,
            "version_id": v.version_id,
            "version_uuid": v.uuid,
        });
        Ok((StatusCode::CREATED, answer, Some(job)))
    })();
    answer_with_job(&shared, started)
}

/// `GET .../report-specifications/{rs}/results[?offset&limit]`, newest first.
async fn results(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm, rs)): P4,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond((|| -> R {
        let (offset, limit) = page(&Query::parse(raw.as_deref()))?;
        let who = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let mut model = shared.model();
        let bm = open(&mut model, who, Role::Viewer)?.1.id;
        let spec = spec_of(&model, bm, &rs)?;
        let mut all: Vec<&ResultRec> = store(&model)
            .map(|s| s.results.values().filter(|r| r.spec == spec.id).collect())
            .unwrap_or_default();
        all.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.version_id)));
        let summary = |r: &ResultRec| {
            let j = &r.json;
            json!({
                "report_result_uuid": r.id,
                "report_result_created_at": j["report_result_created_at"],
                "report_specification_uuid": r.spec,
                "mesh_filter_used": j["mesh_filter_used"],
                "version_id": r.version_id,
                "version_uuid": r.version,
                "version_created_at": j["version_created_at"],
                "version_created_by": j["version_created_by"],
            })
        };
        let page = all.iter().skip(offset).take(limit).map(|r| summary(r));
        Ok(axum::Json(page_json(page.collect(), all.len(), offset, limit)).into_response())
    })())
}

/// `GET .../report-specifications/{rs}/results/{result}`.
async fn result(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm, rs, id)): Path<(String, String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| -> R {
        let who = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let mut model = shared.model();
        let bm = open(&mut model, who, Role::Viewer)?.1.id;
        let spec = spec_of(&model, bm, &rs)?;
        let id = parse_uuid(S, "report_result_uuid", &id)?;
        let r = result_of(&model, spec.id, id)?;
        Ok(axum::Json(r.json.clone()).into_response())
    })())
}

fn result_of(model: &Model, spec: Uuid, id: Uuid) -> Result<&ResultRec, ApiError> {
    store(model)
        .and_then(|s| s.results.get(&id))
        .filter(|r| r.spec == spec)
        .ok_or_else(|| not_found("Report result", id))
}

/// The latest result of `spec`'s current revision on `version`.
fn existing_result(model: &Model, spec: &SpecRec, version: Uuid) -> Option<Uuid> {
    store(model)?
        .results
        .values()
        .filter(|r| r.spec == spec.id && r.revision == spec.revision && r.version == version)
        .max_by_key(|r| r.created_at)
        .map(|r| r.id)
}

/// `POST .../report-specifications/{rs}/comparisons`: `{from_version_uuid?, to_version_uuid?}`
/// (default: the latest version and the one before it). 200 with both results when they
/// exist for the current revision, else 201 with a job that makes the missing ones.
async fn request_comparison(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm, rs)): P4,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let asked = (|| {
        let body = optional_json(&body)?;
        let from = uuid_of(body.get("from_version_uuid"), "from_version_uuid")?;
        let to = uuid_of(body.get("to_version_uuid"), "to_version_uuid")?;
        let who = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let mut model = shared.model();
        let (c, m) = open(&mut model, who, Role::Editor)?;
        let find = |id: Uuid| {
            m.version(id)
                .cloned()
                .ok_or_else(|| not_found("Version", id))
        };
        let to = match to {
            Some(id) => find(id)?,
            None => latest_of(m)?,
        };
        let from = match from {
            Some(id) => find(id)?,
            None => m
                .versions
                .iter()
                .rev()
                .find(|v| v.version_id < to.version_id)
                .cloned()
                .ok_or_else(|| {
                    bad_request("There is no version before the one compared to compare with.")
                })?,
        };
        let bm = m.id;
        let spec = spec_of(&model, bm, &rs)?;
        let (f, t) = (
            existing_result(&model, &spec, from.uuid),
            existing_result(&model, &spec, to.uuid),
        );
        if f.is_some() && t.is_some() {
            let answer = json!({"from_result_uuid": f, "to_result_uuid": t, "job_url": null});
            return Ok((StatusCode::OK, answer, None));
        }
        let kind = JobKind::Comparison {
            spec: spec.id,
            from_version: from.uuid,
            to_version: to.uuid,
        };
        let job = new_job(&mut model, bm, c.user, kind, REPORT, false);
        let url = job_url(&shared, c.org, c.ws.unwrap_or_default(), bm, job);
        let answer = json!({"from_result_uuid": f, "to_result_uuid": t, "job_url": url});
        Ok((StatusCode::CREATED, answer, Some(job)))
    })();
    answer_with_job(&shared, asked)
}

/// `GET .../report-specifications/{rs}/comparisons?from&to[&decimal_places]`.
async fn comparison(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm, rs)): P4,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond((|| -> R {
        let q = Query::parse(raw.as_deref());
        let id = |k: &str| {
            q.get(k)
                .ok_or_else(|| invalid(k, "a report result UUID is required"))
                .and_then(|v| parse_uuid(S, k, v))
        };
        let (from, to) = (id("from")?, id("to")?);
        let places = q
            .u64("decimal_places")
            .map_err(|e| invalid("decimal_places", e))?;
        if places.is_some_and(|p| p > 10) {
            return Err(invalid("decimal_places", "between 0 and 10"));
        }
        let who = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
        let mut model = shared.model();
        let bm = open(&mut model, who, Role::Viewer)?.1.id;
        let spec = spec_of(&model, bm, &rs)?;
        let (f, t) = (
            result_of(&model, spec.id, from)?,
            result_of(&model, spec.id, to)?,
        );
        if f.revision != t.revision {
            return Err(bad_request(format!(
                "Results of revisions {} and {} of the report specification cannot be compared.",
                f.revision, t.revision
            )));
        }
        let body = compare::compare(&f.json, &t.json, places.map(|p| p as i32));
        Ok(axum::Json(body).into_response())
    })())
}

/// Runs a reporting or comparison job.
fn work(shared: &Shared, rec: &JobRec) -> Result<Value, Value> {
    match rec.kind {
        JobKind::Report {
            spec,
            version,
            result,
        } => {
            let r = make_result(shared, rec.bm, spec, version, result)?;
            Ok(json!({
                "bm_uuid": rec.bm,
                "report_result_uuid": r.id,
                "report_specification_uuid": spec,
                "version_id": r.version_id,
                "version_uuid": r.version,
            }))
        }
        JobKind::Comparison {
            spec,
            from_version,
            to_version,
        } => {
            let mut ids = [None; 2];
            for (slot, version) in ids.iter_mut().zip([from_version, to_version]) {
                let existing = {
                    let model = shared.model();
                    let s = spec_rec(&model, spec)?;
                    existing_result(&model, &s, version)
                };
                *slot = Some(match existing {
                    Some(id) => id,
                    None => make_result(shared, rec.bm, spec, version, Uuid::new_v4())?.id,
                });
            }
            Ok(json!({
                "report_specification_uuid": spec,
                "from_result_uuid": ids[0],
                "from_version_uuid": from_version,
                "to_result_uuid": ids[1],
                "to_version_uuid": to_version,
            }))
        }
        _ => Err(failure(500, "Error in Report", "not a report job")),
    }
}

fn spec_rec(model: &Model, spec: Uuid) -> Result<SpecRec, Value> {
    store(model)
        .and_then(|s| s.specs.get(&spec))
        .cloned()
        .ok_or_else(|| failure(404, "Error in Report", "The report specification is gone."))
}

/// Computes and stores result `id` of `spec` on `version` of model `bm`.
fn make_result(
    shared: &Shared,
    bm: Uuid,
    spec: Uuid,
    version: Uuid,
    id: Uuid,
) -> Result<ResultRec, Value> {
    let fail = |status: u16, detail: String| failure(status, "Error in Report", detail);
    let (m, v, s, created_by) = {
        let model = shared.model();
        let m = model
            .services
            .get::<BlockModelsState>()
            .and_then(|s| s.models.get(&bm))
            .filter(|m| !m.deleted)
            .ok_or_else(|| fail(404, format!("The block model {bm} was deleted.")))?;
        let v = m
            .version(version)
            .cloned()
            .ok_or_else(|| fail(404, format!("Version {version} is gone.")))?;
        let s = spec_rec(&model, spec)?;
        let by = user_json(&model, v.created_by);
        (
            ModelRec {
                versions: Vec::new(),
                ..m.clone()
            },
            v,
            s,
            by,
        )
    };
    let mut json = compute::compute(&m, &v, &s).map_err(|d| fail(400, d))?;
    let now = shared.clock.now();
    let b = &s.body;
    json["report_result_uuid"] = json!(id);
    json["report_result_created_at"] = json!(format_workspace_time(now));
    json["bm_uuid"] = json!(bm);
    json["report_specification_uuid"] = json!(s.id);
    json["report_specification_name"] = json!(s.name);
    json["report_specification_description"] = json!(s.description);
    json["report_specification_revision"] = json!(s.revision);
    json["cutoff_col_id"] = json!(b.cutoff_col_id);
    json["mesh_filter_used"] = Value::Null;
    json["version_id"] = json!(v.version_id);
    json["version_uuid"] = json!(v.uuid);
    json["version_comment"] = json!(v.comment);
    json["version_created_at"] = json!(format_workspace_time(v.created_at));
    json["version_created_by"] = created_by;
    let r = ResultRec {
        id,
        spec: s.id,
        revision: s.revision,
        version: v.uuid,
        version_id: v.version_id,
        created_at: now,
        json,
    };
    store_mut(&mut shared.model()).results.insert(id, r.clone());
    Ok(r)
}

/// After job `job` completed: when it made a new version by a column change, runs the
/// model's specifications that have `autorun` (what a column change's job does after,
/// `update`'s [`Work::then`]).
pub(super) fn autorun_after(shared: &Arc<Shared>, job: Uuid) {
    let jobs = {
        let mut model = shared.model();
        let Some(state) = model.services.get::<BlockModelsState>() else {
            return;
        };
        let Some(rec) = state.jobs.get(&job) else {
            return;
        };
        let (JobKind::Update { version_uuid, .. }, Status::Complete) = (&rec.kind, rec.status)
        else {
            return;
        };
        let (bm, user, version) = (rec.bm, rec.user, *version_uuid);
        let specs: Vec<Uuid> = store(&model)
            .into_iter()
            .flat_map(|s| s.specs.values())
            .filter(|s| s.bm == bm && s.autorun)
            .map(|s| s.id)
            .collect();
        specs
            .into_iter()
            .map(|s| report_job(&mut model, bm, user, s, version))
            .collect::<Vec<_>>()
    };
    for job in jobs {
        spawn_job(shared.clone(), job);
    }
}

/// The routes under `bm` (`.../block-models/{bm}`).
pub(super) fn routes(bm: &str) -> Router<Arc<Shared>> {
    let specs = format!("{bm}/report-specifications");
    let spec = format!("{specs}/{{rs}}");
    Router::new()
        .route(&specs, get(list).post(create))
        .route(&spec, get(get_one).patch(update))
        .route(&format!("{spec}/jobs"), post(run))
        .route(&format!("{spec}/results"), get(results))
        .route(&format!("{spec}/results/{{result}}"), get(result))
        .route(
            &format!("{spec}/comparisons"),
            post(request_comparison).get(comparison),
        )
}
