//! Column changes: `PATCH .../blocks` checks the change against the latest version and opens a
//! job waiting for its file; once `uploaded`, [`apply()`] reads the Parquet file, checks it
//! (geometry columns, row count, block indices, unknown and missing columns, types) and makes
//! the new version, or fails the job saying what was wrong.
//!
//! What lives where: this file holds the `PATCH` handler and how its job runs (once the file
//! is uploaded, then the reports that run on every new version, [`super::reports`]);
//! `request` checks the change it asks for; `file` reads the uploaded Parquet file; `apply`
//! makes the new version.

mod apply;
mod file;
mod request;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use uuid::Uuid;

use super::common::{bad_request, model_ctx, model_rec};
use super::jobs::{failure, job_url, new_job};
use super::reports::autorun_after;
use super::state::{BlockModelsState, CONTAINER, Geometry, JobKind, JobRec, Work};
use crate::state::{Role, Shared};
use crate::storage::sas::presign;
use apply::apply;
use request::parse_request;

/// How the job of a column change runs: the change applied from its uploaded file, then the
/// model's reports that run on every new version.
const UPDATE: Work = Work {
    run: run_update,
    then: Some(autorun_after),
};

fn run_update(shared: Arc<Shared>, rec: JobRec) -> BoxFuture<'static, Result<Value, Value>> {
    Box::pin(async move {
        let JobKind::Update { blob, .. } = rec.kind.clone() else {
            return Err(failure(500, "Error in Update", "not an update job"));
        };
        let bytes = match &blob {
            Some(blob) => Some(read_blob(&shared, blob).await?),
            None => None,
        };
        tokio::task::spawn_blocking(move || apply(&shared, &rec, bytes))
            .await
            .unwrap_or_else(|e| Err(failure(500, "Error in Update", e.to_string())))
    })
}

/// The bytes of an uploaded (committed) blob.
async fn read_blob(shared: &Shared, blob: &str) -> Result<Bytes, Value> {
    let key = format!("{CONTAINER}/{blob}");
    let missing = || failure(400, "Error in Update", "The update file was not uploaded.");
    let props = shared.blobs.props(&key).ok_or_else(missing)?;
    let mut stream = shared
        .blobs
        .read(&key, &props.etag, 0, props.size)
        .ok_or_else(missing)?
        .boxed();
    let mut out = BytesMut::with_capacity(props.size as usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| failure(500, "Error in Update", e.to_string()))?;
        out.extend_from_slice(&chunk);
    }
    Ok(out.freeze())
}

/// `PATCH .../block-models/{bm}/blocks`.
pub(super) async fn patch_blocks(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, bm)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = (|| {
        let (c, bm) = model_ctx(&shared, &headers, (&org, &ws, &bm))?;
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
        let job = new_job(&mut model, bm, c.user, kind, UPDATE, true);
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
