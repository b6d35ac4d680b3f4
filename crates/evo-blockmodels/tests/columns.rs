//! Column changes against the in-process emulator: values from Arrow arrays up as Parquet,
//! each version keeping its own values; checks before sending; failed jobs for bad files
//! (unknown column, wrong type, wrong row count); an expired upload URL renewed; job
//! timeouts and the progress stream; deltas.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A block index and its value in one column.
type BlockValue = ((u32, u32, u32), Option<f64>);

use evo_blockmodels::evo_tables::arrow_array::{
    Array, ArrayRef, Float32Array, Float64Array, Int32Array, RecordBatch, StringArray, UInt32Array,
};
use evo_blockmodels::evo_tables::arrow_schema::{DataType, Field, Schema};
use evo_blockmodels::{
    BBox, ColumnChanges, DeltaRequest, Error, JobEvent, JobStatus, Query, UpdateType, Version,
};
use futures_util::TryStreamExt as _;
use uuid::Uuid;

/// The values of `column` of every row of a query result, with the block index of each row.
async fn read_column(
    client: &evo_blockmodels::BlockModelsClient,
    bm: Uuid,
    query: &Query,
    column: &str,
) -> Vec<((u32, u32, u32), Option<f64>)> {
    let result = client.query(bm, query).await.unwrap();
    let batches: Vec<RecordBatch> = result.batches().try_collect().await.unwrap();
    let mut out = Vec::new();
    for b in &batches {
        let idx = |n: &str| {
            b.column_by_name(n)
                .unwrap()
                .as_any()
                .downcast_ref::<UInt32Array>()
                .unwrap()
                .clone()
        };
        let (i, j, k) = (idx("i"), idx("j"), idx("k"));
        let values = b.column_by_name(column).unwrap();
        let values = evo_blockmodels::evo_tables::arrow_array::cast::AsArray::as_primitive::<
            evo_blockmodels::evo_tables::arrow_array::types::Float64Type,
        >(values.as_ref());
        for r in 0..b.num_rows() {
            out.push((
                (i.value(r), j.value(r), k.value(r)),
                values.is_valid(r).then(|| values.value(r)),
            ));
        }
    }
    out
}

fn grades(n: usize) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values(
        (0..n).map(|b| b as f64 * 0.25),
    ))
}

#[tokio::test]
async fn add_update_rename_delete_and_versions_keep_their_values() {
    let s = common::start().await;
    let (model, v1) = s
        .client
        .create(&common::regular("cols", (5, 4, 3)))
        .await
        .unwrap();
    let bm = model.bm_uuid;
    let n = 60;
    let rock: ArrayRef = Arc::new(StringArray::from_iter_values(
        (0..n).map(|b| format!("r{}", b % 3)),
    ));
    let v2 = s
        .client
        .update_columns(
            bm,
            &ColumnChanges::new()
                .add("Au", grades(n), Some("g/t".into()))
                .add("rock", rock, None)
                .add(
                    "code",
                    Arc::new(Int32Array::from_iter_values(0..n as i32)),
                    None,
                )
                .comment("assays"),
        )
        .await
        .unwrap();
    assert_eq!(v2.version_id, 2);
    assert_eq!(v2.comment, "assays");
    let au = v2.mapping.column("Au").unwrap();
    assert_eq!(au.unit_id.as_deref(), Some("g/t"));
    assert_eq!(au.data_type, evo_blockmodels::DataType::Float64);
    assert!(Uuid::parse_str(&au.col_id).is_ok());
    assert_eq!(
        v2.mapping.column("rock").unwrap().data_type,
        evo_blockmodels::DataType::Utf8
    );
    let changes = s
        .client
        .get_version(bm, v2.version_uuid)
        .await
        .unwrap()
        .changes
        .unwrap();
    assert_eq!(changes.columns.new, ["Au", "rock", "code"]);
    assert_eq!(changes.total_blocks, 60);
    assert_eq!(changes.blocks_uploaded, Some(60));

    // Every block back with its value, in block order (i fastest).
    let all = read_column(&s.client, bm, &Query::new(["Au"]), "Au").await;
    assert_eq!(all.len(), 60);
    for (b, ((i, j, k), v)) in all.iter().enumerate() {
        assert_eq!((*i + 5 * (*j + 4 * *k)) as usize, b);
        assert_eq!(*v, Some(b as f64 * 0.25));
    }

    // A merge update of three blocks by index: the others keep their values.
    let v3 = s
        .client
        .update_columns(
            bm,
            &ColumnChanges::new()
                .update(
                    "Au",
                    Arc::new(Float64Array::from(vec![100.0, 200.0, 300.0])),
                )
                .indices(vec![0, 4, 2], vec![0, 3, 1], vec![0, 2, 1])
                .update_type(UpdateType::Merge),
        )
        .await
        .unwrap();
    let merged = read_column(&s.client, bm, &Query::new(["Au"]), "Au").await;
    let value_at =
        |rows: &[BlockValue], ijk| rows.iter().find(|(x, _)| *x == ijk).and_then(|(_, v)| *v);
    assert_eq!(value_at(&merged, (0, 0, 0)), Some(100.0));
    assert_eq!(value_at(&merged, (4, 3, 2)), Some(200.0));
    assert_eq!(value_at(&merged, (2, 1, 1)), Some(300.0));
    assert_eq!(value_at(&merged, (1, 0, 0)), Some(0.25));
    assert_eq!(
        v3.bbox
            .map(|b| (b.i_minmax.min, b.i_minmax.max, b.k_minmax.max)),
        Some((0, 4, 2))
    );

    // A replace update of two blocks: the others become null (and are left out of results).
    s.client
        .update_columns(
            bm,
            &ColumnChanges::new()
                .update("Au", Arc::new(Float64Array::from(vec![7.0, 8.0])))
                .indices(vec![1, 2], vec![0, 0], vec![0, 0])
                .update_type(UpdateType::Replace),
        )
        .await
        .unwrap();
    let replaced = read_column(&s.client, bm, &Query::new(["Au"]), "Au").await;
    assert_eq!(replaced, [((1, 0, 0), Some(7.0)), ((2, 0, 0), Some(8.0))]);
    let with_nulls = read_column(
        &s.client,
        bm,
        &Query::new(["Au"]).exclude_null_rows(false),
        "Au",
    )
    .await;
    assert_eq!(with_nulls.len(), 60);
    assert_eq!(with_nulls.iter().filter(|(_, v)| v.is_some()).count(), 2);

    // Rename, set a unit, delete: no file.
    let v5 = s
        .client
        .update_columns(
            bm,
            &ColumnChanges::new()
                .rename("Au", "gold")
                .set_unit("code", Some("USD".into()))
                .delete("rock"),
        )
        .await
        .unwrap();
    assert!(v5.mapping.column("Au").is_none());
    assert_eq!(v5.mapping.column("gold").unwrap().col_id, au.col_id);
    assert_eq!(
        v5.mapping.column("code").unwrap().unit_id.as_deref(),
        Some("USD")
    );
    assert!(v5.mapping.column("rock").is_none());

    // Older versions keep their columns and values.
    let old = read_column(
        &s.client,
        bm,
        &Query::new(["Au"]).version(v2.version_uuid),
        "Au",
    )
    .await;
    assert_eq!(old, all);
    let versions: Vec<Version> = s.client.list_versions_all(bm).try_collect().await.unwrap();
    let numbers: Vec<u64> = versions.iter().map(|v| v.version_id).collect();
    assert_eq!(numbers, [5, 4, 3, 2, 1]);
    assert_eq!(versions[4].version_uuid, v1.version_uuid);
    assert_eq!(s.client.latest_version(bm).await.unwrap().version_id, 5);

    // Deltas: the versions after v1 that touched Au in a box around block (0, 0, 0).
    let corner = BBox::indices((0, 0), (0, 0), (0, 0));
    let deltas = s
        .client
        .deltas(
            bm,
            v1.version_uuid,
            &DeltaRequest {
                bbox: corner,
                columns: vec![au.col_id.clone()],
                end_version_uuid: None,
                verbose: true,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deltas.new_deltas, [v2.version_uuid]);
    assert_eq!(deltas.update_deltas.len(), 2);
    assert!(deltas.update_deltas.contains(&v3.version_uuid));
    assert!(deltas.delete_deltas.is_empty());
    // Nothing after the latest version: 304.
    let none = s
        .client
        .deltas(
            bm,
            v5.version_uuid,
            &DeltaRequest {
                bbox: corner,
                columns: vec!["gold".into()],
                end_version_uuid: None,
                verbose: false,
            },
        )
        .await
        .unwrap();
    assert!(none.is_none());
}

#[tokio::test]
async fn changes_are_checked_against_the_model_before_sending() {
    let s = common::start().await;
    let (model, _) = s
        .client
        .create(&common::regular("checks", (4, 4, 4)))
        .await
        .unwrap();
    let bm = model.bm_uuid;
    s.client
        .update_columns(bm, &ColumnChanges::new().add("Au", grades(64), None))
        .await
        .unwrap();
    let invalid = |changes: ColumnChanges| {
        let client = s.client.clone();
        async move {
            match client.update_columns(bm, &changes).await {
                Err(Error::InvalidRequest(m)) => m,
                other => panic!("expected an invalid request, got {other:?}"),
            }
        }
    };
    assert!(
        invalid(ColumnChanges::new())
            .await
            .contains("no column changes")
    );
    assert!(
        invalid(ColumnChanges::new().add("Cu", grades(63), None))
            .await
            .contains("64 blocks")
    );
    assert!(
        invalid(ColumnChanges::new().add("Au", grades(64), None))
            .await
            .contains("already has")
    );
    assert!(
        invalid(ColumnChanges::new().add("i", grades(64), None))
            .await
            .contains("cannot be")
    );
    let f32s: ArrayRef = Arc::new(Float32Array::from_iter_values((0..64).map(|v| v as f32)));
    assert!(
        invalid(ColumnChanges::new().update("Au", f32s))
            .await
            .contains("Float64")
    );
    assert!(
        invalid(ColumnChanges::new().update("Zn", grades(64)))
            .await
            .contains("no column")
    );
    assert!(
        invalid(ColumnChanges::new().delete("Zn"))
            .await
            .contains("no column")
    );
    assert!(
        invalid(ColumnChanges::new().update("Au", grades(2)).indices(
            vec![0, 4],
            vec![0, 0],
            vec![0, 0]
        ))
        .await
        .contains("below 4")
    );
    let lists: ArrayRef = Arc::new(evo_blockmodels::evo_tables::arrow_array::new_null_array(
        &DataType::Duration(evo_blockmodels::evo_tables::arrow_schema::TimeUnit::Second),
        64,
    ));
    assert!(
        invalid(ColumnChanges::new().add("t", lists, None))
            .await
            .contains("no type")
    );
    // Nothing reached the service: still one user column, two versions.
    assert_eq!(s.client.latest_version(bm).await.unwrap().version_id, 2);
}

/// A column change sent by hand with `file` as its Parquet file, the job's handle returned.
async fn raw_update(
    s: &common::Setup,
    bm: Uuid,
    body: serde_json::Value,
    file: Vec<u8>,
) -> evo_blockmodels::JobHandle<Version> {
    let hub = s.environment.hub_url.clone();
    let base = format!(
        "blockmodel/orgs/{}/workspaces/{}/block-models/{bm}",
        s.environment.org_id, s.environment.workspace_id
    );
    let http = s.client.connector().clone();
    let answer: serde_json::Value = http
        .request_url(
            http::Method::PATCH,
            hub.join(&format!("{base}/blocks")).unwrap(),
        )
        .json(&body)
        .send_json()
        .await
        .unwrap();
    let job: Uuid = answer["job_uuid"].as_str().unwrap().parse().unwrap();
    let url: url::Url = answer["upload_url"].as_str().unwrap().parse().unwrap();
    s.client
        .blob_client()
        .upload(url, evo_io::Source::bytes(file))
        .await
        .unwrap();
    http.request_url(
        http::Method::POST,
        hub.join(&format!("{base}/jobs/{job}/uploaded")).unwrap(),
    )
    .send_bytes()
    .await
    .unwrap();
    s.client.job(bm, job)
}

fn parquet(columns: Vec<(&str, ArrayRef)>) -> Vec<u8> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let mut writer = evo_blockmodels::evo_tables::ParquetWriter::new(
        Vec::new(),
        schema,
        &evo_blockmodels::evo_tables::WriteOptions::new(),
    )
    .unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap().0
}

#[tokio::test]
async fn a_bad_file_fails_the_job_with_its_payload() {
    let s = common::start().await;
    let (model, _) = s
        .client
        .create(&common::regular("bad files", (2, 2, 1)))
        .await
        .unwrap();
    let bm = model.bm_uuid;
    let add_au = serde_json::json!({
        "columns": {"new": [{"title": "Au", "data_type": "Float64"}], "update": [], "delete": [], "rename": []},
        "update_type": "replace",
    });
    let ijk = |n: u32| -> Vec<(&'static str, ArrayRef)> {
        vec![
            (
                "i",
                Arc::new(UInt32Array::from_iter_values((0..n).map(|b| b % 2))),
            ),
            (
                "j",
                Arc::new(UInt32Array::from_iter_values((0..n).map(|b| (b / 2) % 2))),
            ),
            (
                "k",
                Arc::new(UInt32Array::from_iter_values((0..n).map(|_| 0))),
            ),
        ]
    };
    let cases: Vec<(Vec<(&str, ArrayRef)>, &str)> = vec![
        (
            {
                let mut c = ijk(4);
                c.push(("Au", grades(4)));
                c.push(("Zn", grades(4)));
                c
            },
            "Unknown column 'Zn'",
        ),
        (
            {
                let mut c = ijk(4);
                c.push((
                    "Au",
                    Arc::new(Int32Array::from(vec![1, 2, 3, 4])) as ArrayRef,
                ));
                c
            },
            "type Int32",
        ),
        (vec![("Au", grades(3))], "3 rows"),
        (
            {
                let mut c = ijk(4);
                c[0].1 = Arc::new(UInt32Array::from(vec![0, 1, 0, 2]));
                c.push(("Au", grades(4)));
                c
            },
            "outside the model",
        ),
        (ijk(4), "missing"),
    ];
    for (columns, expected) in cases {
        let job = raw_update(&s, bm, add_au.clone(), parquet(columns)).await;
        let e = job.wait().await.unwrap_err();
        let failure = e.job_failure().unwrap_or_else(|| panic!("{e}"));
        assert_eq!(failure.status, 400);
        assert!(failure.detail.contains(expected), "{}", failure.detail);
        assert!(e.is_job_failed());
        assert_eq!(
            e.problem_type(),
            Some("https://seequent.com/error-codes/block-model-service/job/update-error")
        );
    }
    // Not a Parquet file at all.
    let job = raw_update(&s, bm, add_au, b"not parquet".to_vec()).await;
    assert!(
        job.wait()
            .await
            .unwrap_err()
            .job_failure()
            .unwrap()
            .detail
            .contains("not a Parquet")
    );
    // No version was made.
    assert_eq!(s.client.latest_version(bm).await.unwrap().version_id, 1);
}

#[tokio::test]
async fn an_expired_upload_url_is_renewed_from_the_job() {
    let s = common::start().await;
    let (model, _) = s
        .client
        .create(&common::regular("expiry", (3, 3, 3)))
        .await
        .unwrap();
    s.expire_before_blob.store(true, Ordering::SeqCst);
    let v = s
        .client
        .update_columns(
            model.bm_uuid,
            &ColumnChanges::new().add("Au", grades(27), None),
        )
        .await
        .unwrap();
    assert!(
        !s.expire_before_blob.load(Ordering::SeqCst),
        "the URL was expired"
    );
    assert!(v.mapping.column("Au").is_some());
    // The same for the download of a query result.
    s.expire_before_blob.store(true, Ordering::SeqCst);
    let rows = read_column(&s.client, model.bm_uuid, &Query::new(["Au"]), "Au").await;
    assert!(!s.expire_before_blob.load(Ordering::SeqCst));
    assert_eq!(rows.len(), 27);
}

#[tokio::test]
async fn jobs_time_out_and_report_progress() {
    let s = common::start().await;
    let (model, _) = s
        .client
        .create(&common::regular("slow", (2, 2, 2)))
        .await
        .unwrap();
    s.emu.set_blockmodel_job_delay(Duration::from_millis(600));
    let job = s
        .client
        .start_update_columns(
            model.bm_uuid,
            &ColumnChanges::new().add("Au", grades(8), None),
            None,
        )
        .await
        .unwrap();
    let job_id = job.job_id();
    let e = job
        .clone()
        .timeout(Some(Duration::from_millis(100)))
        .wait()
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(matches!(e, Error::JobTimedOut { job_id: id, .. } if id == job_id));
    // The job goes on; its progress stream shows the states, then the version.
    let events: Vec<JobEvent<Version>> = job.watch().try_collect().await.unwrap();
    let (last, states) = events.split_last().unwrap();
    assert!(matches!(last, JobEvent::Complete(v) if v.version_id == 2));
    assert!(states.iter().all(|e| matches!(
        e,
        JobEvent::Status(JobStatus::Queued | JobStatus::Processing)
    )));
    assert!(
        states
            .iter()
            .any(|e| matches!(e, JobEvent::Status(JobStatus::Processing)))
    );
    // A finished job reads as complete with its version as the payload.
    let state = s
        .client
        .job::<Version>(model.bm_uuid, job_id)
        .status()
        .await
        .unwrap();
    assert_eq!(state.job_status, JobStatus::Complete);
    // An unknown job is not found.
    let e = s
        .client
        .job::<Version>(model.bm_uuid, Uuid::new_v4())
        .wait()
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}
