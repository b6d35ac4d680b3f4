//! Queries against the in-process emulator: the emulator really filters (bounding box of
//! indices or coordinates, columns, version, null rows); results come back as bounded record
//! batches or as a file; and the failure paths (unknown column, unknown version, deleted
//! model, no columns).

use crate::common;

use std::sync::Arc;

use evo_blockmodels::evo_tables::arrow_array::cast::AsArray;
use evo_blockmodels::evo_tables::arrow_array::types::{Float64Type, UInt32Type};
use evo_blockmodels::evo_tables::arrow_array::{
    Array, ArrayRef, Float64Array, RecordBatch, StringArray,
};
use evo_blockmodels::{
    BBox, BlockModelsClient, ColumnChanges, ColumnHeaders, Error, GeometryColumns, Query,
};
use futures_util::TryStreamExt as _;
use uuid::Uuid;

const N: (u32, u32, u32) = (10, 8, 6);

async fn filled(s: &common::Setup) -> Uuid {
    let (model, _) = s.client.create(&common::regular("q", N)).await.unwrap();
    let n = (N.0 * N.1 * N.2) as usize;
    // Au = block number; rock set on even blocks only.
    let au: ArrayRef = Arc::new(Float64Array::from_iter_values((0..n).map(|b| b as f64)));
    let rock: ArrayRef = Arc::new(StringArray::from_iter(
        (0..n).map(|b| (b % 2 == 0).then(|| format!("r{b}"))),
    ));
    s.client
        .update_columns(
            model.bm_uuid,
            &ColumnChanges::new()
                .add("Au", au, None)
                .add("rock", rock, None),
        )
        .await
        .unwrap();
    model.bm_uuid
}

async fn batches(client: &BlockModelsClient, bm: Uuid, query: &Query) -> Vec<RecordBatch> {
    client
        .query(bm, query)
        .await
        .unwrap()
        .batches()
        .try_collect()
        .await
        .unwrap()
}

fn u32s(b: &RecordBatch, name: &str) -> Vec<u32> {
    b.column_by_name(name)
        .unwrap()
        .as_primitive::<UInt32Type>()
        .values()
        .to_vec()
}

fn f64s(b: &RecordBatch, name: &str) -> Vec<f64> {
    b.column_by_name(name)
        .unwrap()
        .as_primitive::<Float64Type>()
        .values()
        .to_vec()
}

#[tokio::test]
async fn index_box_selects_exactly_its_blocks() {
    let s = common::start().await;
    let bm = filled(&s).await;
    let query = Query::new(["Au"]).bbox(BBox::indices((2, 4), (1, 1), (3, 5)));
    let b = batches(&s.client, bm, &query).await;
    assert_eq!(b.len(), 1);
    let b = &b[0];
    assert_eq!(b.num_rows(), 3 * 3);
    let schema = b.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["i", "j", "k", "Au"]);
    let (i, j, k, au) = (u32s(b, "i"), u32s(b, "j"), u32s(b, "k"), f64s(b, "Au"));
    for r in 0..b.num_rows() {
        assert!((2..=4).contains(&i[r]) && j[r] == 1 && (3..=5).contains(&k[r]));
        assert_eq!(au[r], f64::from(i[r] + 10 * (j[r] + 8 * k[r])));
    }
    // A box reaching outside the model is clipped to it.
    let clipped = batches(
        &s.client,
        bm,
        &Query::new(["Au"]).bbox(BBox::indices((8, 20), (-5, 0), (0, 0))),
    )
    .await;
    assert_eq!(clipped.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
}

#[tokio::test]
async fn coordinate_box_and_coordinate_output() {
    let s = common::start().await;
    let bm = filled(&s).await;
    // Blocks are 10 × 10 × 5 from (1000, 2000, 300): centroids at 1005 + 10 i, ...
    let query = Query::new(["Au", "rock"])
        .bbox(BBox::coordinates(
            (1000.0, 1030.0),
            (2000.0, 2012.0),
            (300.0, 306.0),
        ))
        .geometry(GeometryColumns::Coordinates)
        .exclude_null_rows(false);
    let b = batches(&s.client, bm, &query).await;
    let b = &b[0];
    // i 0..=2, j 0..=0 (2015 is out), k 0..=0 (307.5 is out).
    assert_eq!(b.num_rows(), 3);
    assert_eq!(f64s(b, "x"), [1005.0, 1015.0, 1025.0]);
    assert_eq!(f64s(b, "y"), [2005.0; 3]);
    assert_eq!(f64s(b, "z"), [302.5; 3]);
    assert_eq!(f64s(b, "Au"), [0.0, 1.0, 2.0]);
    let rock = b.column_by_name("rock").unwrap().as_string::<i32>();
    assert_eq!(rock.value(0), "r0");
    assert!(rock.is_null(1));
}

#[tokio::test]
async fn null_rows_column_ids_all_columns_and_bounded_batches() {
    let s = common::start().await;
    let bm = filled(&s).await;
    // Only even blocks have a rock: 240 of 480.
    let rocks = batches(&s.client, bm, &Query::new(["rock"])).await;
    assert_eq!(rocks.iter().map(|b| b.num_rows()).sum::<usize>(), 240);
    let all_rows = batches(
        &s.client,
        bm,
        &Query::new(["rock"]).exclude_null_rows(false),
    )
    .await;
    assert_eq!(all_rows.iter().map(|b| b.num_rows()).sum::<usize>(), 480);

    let version = s.client.latest_version(bm).await.unwrap();
    let au_id = version.mapping.column("Au").unwrap().col_id.clone();
    let by_id = batches(
        &s.client,
        bm,
        &Query::new([au_id.clone()]).column_headers(ColumnHeaders::Id),
    )
    .await;
    assert!(by_id[0].column_by_name(&au_id).is_some());

    let star = batches(&s.client, bm, &Query::new(["*"])).await;
    assert_eq!(star[0].num_columns(), 5);

    let result = s
        .client
        .query(bm, &Query::new(["Au"]))
        .await
        .unwrap()
        .batch_rows(100);
    assert_eq!(result.started().version_id, 2);
    assert_eq!(result.reader().unwrap().rows(), 480);
    let small: Vec<RecordBatch> = result.batches().try_collect().await.unwrap();
    assert!(small.len() >= 5 && small.iter().all(|b| b.num_rows() <= 100));
    let au: Vec<f64> = small.iter().flat_map(|b| f64s(b, "Au")).collect();
    assert_eq!(au, (0..480).map(f64::from).collect::<Vec<_>>());
}

#[tokio::test]
async fn results_to_a_file() {
    let s = common::start().await;
    let bm = filled(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("au.parquet");
    let result = s
        .client
        .query_to_file(bm, &Query::new(["Au"]), &path, None)
        .await
        .unwrap();
    assert_eq!(result.path(), path);
    assert!(path.is_file());
    assert_eq!(result.reader().unwrap().rows(), 480);
    // A temporary result kept under a name of our choice.
    let kept = dir.path().join("kept.parquet");
    let temp = s.client.query(bm, &Query::new(["rock"])).await.unwrap();
    let temp_path = temp.path().to_owned();
    temp.persist(&kept).unwrap();
    assert!(kept.is_file() && !temp_path.exists());
}

#[tokio::test]
async fn query_failures() {
    let s = common::start().await;
    let bm = filled(&s).await;
    let e = s.client.query(bm, &Query::new(["Zn"])).await.unwrap_err();
    assert!(e.is_bad_request(), "{e}");
    assert!(e.as_service().unwrap().to_string().contains("Zn") || format!("{e:?}").contains("Zn"));
    let e = s
        .client
        .query(bm, &Query::new(["Au"]).version(Uuid::new_v4()))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let no_columns: Vec<String> = Vec::new();
    assert!(matches!(
        s.client.query(bm, &Query::new(no_columns)).await,
        Err(Error::InvalidRequest(_))
    ));
    s.client.delete(bm).await.unwrap();
    let e = s.client.query(bm, &Query::new(["Au"])).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
}
