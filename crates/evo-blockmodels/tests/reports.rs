//! Report specifications against the in-process emulator: create, list, get, update (and the
//! revision), run on a version, results, comparisons, autorun; report values checked against
//! values computed here from the block values the test wrote; checks before sending; failure
//! paths (unknown column, unknown specification or result, deleted model, mesh filter).

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use evo_blockmodels::evo_tables::arrow_array::{ArrayRef, Float64Array, StringArray};
use evo_blockmodels::{
    BBox, CategoryValue, ColumnChanges, ComparisonStarted, Error, ListQuery, MeshFilter,
    MeshFilterRelation, NewReportSpecification, NullValuesPolicy, ReportAggregation,
    ReportCategory, ReportCellStatus, ReportColumn, ReportComparisonRequest, ReportResult,
    ReportSpecificationUpdate, ReportWarningType, Version,
};
use futures_util::TryStreamExt as _;
use uuid::Uuid;

/// 4 × 3 × 2 blocks of 10 × 10 × 5 m = 500 m³.
const N: usize = 24;
const VOLUME: f64 = 500.0;
const ROCKS: [&str; 3] = ["ox", "fr", "tr"];

fn au(b: usize) -> f64 {
    0.1 * b as f64 + 0.05 * (b % 4) as f64
}
fn density(b: usize) -> f64 {
    2.0 + 0.25 * (b % 3) as f64
}
fn rock(b: usize) -> &'static str {
    ROCKS[(b / 2) % 3]
}
fn metal_kg(b: usize) -> f64 {
    1.5 * b as f64 + 3.0
}

fn f64s(f: impl Fn(usize) -> f64) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values((0..N).map(f)))
}

struct Fixture {
    s: common::Setup,
    bm: Uuid,
    v2: Version,
    au: Uuid,
    density: Uuid,
    rock: Uuid,
    metal: Uuid,
}

async fn fixture(name: &str) -> Fixture {
    let s = common::start().await;
    let (model, _) = s
        .client
        .create(&common::regular(name, (4, 3, 2)))
        .await
        .unwrap();
    let rocks: ArrayRef = Arc::new(StringArray::from_iter_values((0..N).map(rock)));
    let v2 = s
        .client
        .update_columns(
            model.bm_uuid,
            &ColumnChanges::new()
                .add("Au", f64s(au), Some("g/t".into()))
                .add("density", f64s(density), Some("t/m3".into()))
                .add("metal", f64s(metal_kg), Some("kg".into()))
                .add("rock", rocks, None)
                .comment("assays"),
        )
        .await
        .unwrap();
    let id = |t: &str| Uuid::parse_str(&v2.mapping.column(t).unwrap().col_id).unwrap();
    Fixture {
        bm: model.bm_uuid,
        au: id("Au"),
        density: id("density"),
        rock: id("rock"),
        metal: id("metal"),
        v2,
        s,
    }
}

fn resource_spec(f: &Fixture) -> NewReportSpecification {
    NewReportSpecification::new("Resource", "t")
        .description(Some("gold by rock type".into()))
        .autorun(false)
        .column(ReportColumn::new(
            f.au,
            "Au grade",
            ReportAggregation::MassAverage,
            "g/t",
        ))
        .column(ReportColumn::new(
            f.metal,
            "Metal",
            ReportAggregation::Sum,
            "t",
        ))
        .category(ReportCategory::new(f.rock, "Rock"))
        .density_column(f.density)
        .cutoffs(f.au, [0.0, 1.0])
}

/// Mass (t), mass-weighted Au (g/t) and metal (t) of the blocks `keep` selects, computed from
/// the values written; `None` when no block is selected.
fn expected(au: &dyn Fn(usize) -> f64, keep: impl Fn(usize) -> bool) -> Option<[f64; 3]> {
    let blocks: Vec<usize> = (0..N).filter(|b| keep(*b)).collect();
    if blocks.is_empty() {
        return None;
    }
    let mass_t = |b: usize| VOLUME * density(b); // t/m³ × m³ = t
    let mass: f64 = blocks.iter().map(|b| mass_t(*b)).sum();
    let grade = blocks.iter().map(|b| au(*b) * mass_t(*b)).sum::<f64>() / mass;
    let metal = blocks.iter().map(|b| metal_kg(*b) / 1000.0).sum();
    Some([mass, grade, metal])
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Checks every row of `result` against [`expected`] with `au` as the Au values.
fn check_resource(result: &ReportResult, au: &dyn Fn(usize) -> f64) {
    let labels: Vec<&str> = result
        .value_columns
        .iter()
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(labels, ["Mass", "Au grade", "Metal"]);
    assert_eq!(result.value_columns[0].col_id, None);
    assert_eq!(result.categories.len(), 1);
    assert_eq!(result.result_sets.len(), 2);
    for cutoff in [0.0, 1.0] {
        let set = result.result_set(Some(cutoff)).unwrap();
        // Rows: fr, ox, tr (sorted), then the total.
        let keys: Vec<Option<CategoryValue>> =
            set.rows.iter().map(|r| r.categories[0].clone()).collect();
        let text = |s: &str| Some(CategoryValue::Text(s.into()));
        assert_eq!(keys, [text("fr"), text("ox"), text("tr"), None]);
        for row in &set.rows {
            let want = match &row.categories[0] {
                Some(CategoryValue::Text(r)) => expected(au, |b| rock(b) == r && au(b) >= cutoff),
                None => expected(au, |b| au(b) >= cutoff),
                other => panic!("unexpected category {other:?}"),
            };
            match want {
                Some(want) => {
                    for (cell, want) in row.values.iter().zip(want) {
                        assert_eq!(cell.status, ReportCellStatus::Ok, "{row:?}");
                        assert!(close(cell.value.unwrap(), want), "{cell:?} != {want}");
                    }
                }
                None => assert!(
                    row.values
                        .iter()
                        .all(|c| c.status == ReportCellStatus::NoData && c.value.is_none())
                ),
            }
        }
    }
}

#[tokio::test]
async fn create_list_get_update_run_and_read_results() {
    let f = fixture("report").await;
    let (client, bm) = (&f.s.client, f.bm);
    let spec = client
        .create_report_specification(bm, &resource_spec(&f))
        .await
        .unwrap();
    assert_eq!(spec.bm_uuid, bm);
    assert_eq!(spec.name, "Resource");
    assert_eq!(spec.revision, 0);
    assert!(!spec.autorun);
    assert_eq!(spec.columns.len(), 2);
    assert_eq!(spec.cutoff_values.as_deref(), Some(&[0.0, 1.0][..]));
    assert_eq!(
        spec.null_values_policy,
        Some(NullValuesPolicy::IgnoreBlock),
        "the service's default"
    );
    let rs = spec.report_specification_uuid;

    // A second one, with a fixed density, made and run at once.
    let (other, job) = client
        .create_report_specification_and_run(
            bm,
            &NewReportSpecification::new("A fixed density", "kg")
                .column(ReportColumn::new(
                    f.au,
                    "Au",
                    ReportAggregation::MassAverage,
                    "g/t",
                ))
                .density_value(2.5, "t/m3"),
        )
        .await
        .unwrap();
    let run = job.wait().await.unwrap();
    assert_eq!(
        run.report_specification_uuid,
        other.report_specification_uuid
    );
    assert_eq!(run.version_uuid, f.v2.version_uuid);
    let fixed = client
        .get_report_result(bm, other.report_specification_uuid, run.report_result_uuid)
        .await
        .unwrap();
    let set = fixed.result_set(None).unwrap();
    assert_eq!(set.rows.len(), 1, "no categories: one total row");
    assert!(set.rows[0].categories.is_empty());
    let mass_kg = N as f64 * VOLUME * 2500.0;
    assert!(close(set.rows[0].values[0].value.unwrap(), mass_kg));
    let mean_au = (0..N).map(au).sum::<f64>() / N as f64;
    assert!(close(set.rows[0].values[1].value.unwrap(), mean_au));

    // Listed by name, with the units they use; read one with its last run.
    let page = client
        .list_report_specifications_page(bm, &ListQuery::new().limit(1))
        .await
        .unwrap();
    assert_eq!((page.page.total, page.page.items.len()), (Some(2), 1));
    assert_eq!(page.page.items[0].name, "A fixed density");
    let units: Vec<String> = page
        .referenced_units
        .into_iter()
        .map(|u| u.unit_id)
        .collect();
    for u in ["t", "kg", "g/t", "t/m3"] {
        assert!(units.iter().any(|x| x == u), "{u} in {units:?}");
    }
    let all: Vec<_> = client
        .list_report_specifications_all(bm)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["A fixed density", "Resource"]
    );
    let read = client
        .get_report_specification(bm, other.report_specification_uuid)
        .await
        .unwrap();
    assert_eq!(read.last_result_version_id, Some(2));
    assert!(read.last_result_created_at.is_some());
    assert_eq!(
        client
            .get_report_specification(bm, rs)
            .await
            .unwrap()
            .last_result_version_id,
        None
    );

    // Run on the version made by the column change: the values computed here.
    let result = client
        .run_report(bm, rs, Some(f.v2.version_uuid))
        .await
        .unwrap();
    assert_eq!(result.report_specification_name, "Resource");
    assert_eq!(result.report_specification_revision, 0);
    assert_eq!(result.version_id, 2);
    assert_eq!(result.version_comment.as_deref(), Some("assays"));
    assert_eq!(result.cutoff_col_id, Some(f.au));
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
    let referenced: Vec<Uuid> = result.referenced_columns.iter().map(|c| c.col_id).collect();
    for c in [f.au, f.metal, f.rock, f.density] {
        assert!(referenced.contains(&c));
    }
    check_resource(&result, &au);

    // A renamed specification keeps its revision; new cut-offs make a new one.
    let renamed = client
        .update_report_specification(
            bm,
            rs,
            &ReportSpecificationUpdate::from_current(&spec).name("Resource 2026"),
        )
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.revision),
        ("Resource 2026", 0)
    );
    let (recut, job) = client
        .update_report_specification_and_run(
            bm,
            rs,
            &ReportSpecificationUpdate::from_current(&renamed).cutoffs(f.au, [0.5]),
        )
        .await
        .unwrap();
    assert_eq!(recut.revision, 1);
    let second = job.wait().await.unwrap();
    let second = client
        .get_report_result(bm, rs, second.report_result_uuid)
        .await
        .unwrap();
    assert_eq!(second.report_specification_revision, 1);
    let total = second.result_set(Some(0.5)).unwrap().rows.last().unwrap();
    let want = expected(&au, |b| au(b) >= 0.5).unwrap();
    assert!(close(total.values[0].value.unwrap(), want[0]));

    // Results: newest first; every page.
    let results = client
        .list_report_results_page(bm, rs, &ListQuery::new())
        .await
        .unwrap();
    assert_eq!(results.total, Some(2));
    assert_eq!(
        results.items[0].report_result_uuid,
        second.report_result_uuid
    );
    assert_eq!(
        results.items[1].report_result_uuid,
        result.report_result_uuid
    );
    let all: Vec<_> = client
        .list_report_results_all(bm, rs)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|r| r.version_id == 2));

    // Results of different revisions cannot be compared.
    let e = client
        .get_report_comparison(
            bm,
            rs,
            result.report_result_uuid,
            second.report_result_uuid,
            None,
        )
        .await
        .unwrap_err();
    assert!(e.is_bad_request(), "{e}");
}

#[tokio::test]
async fn comparisons_between_versions_and_autorun() {
    let f = fixture("compare").await;
    let (client, bm) = (&f.s.client, f.bm);
    let rs = client
        .create_report_specification(bm, &resource_spec(&f))
        .await
        .unwrap()
        .report_specification_uuid;
    let from = client.run_report(bm, rs, None).await.unwrap();
    // Version 3 raises the grade of every even block; only "Resource" has autorun off.
    let au3 = |b: usize| au(b) + if b % 2 == 0 { 0.75 } else { 0.0 };
    let auto = client
        .create_report_specification(
            bm,
            &NewReportSpecification::new("Autorun", "t")
                .column(ReportColumn::new(
                    f.metal,
                    "Metal",
                    ReportAggregation::Sum,
                    "kg",
                ))
                .density_value(3.0, "t/m3"),
        )
        .await
        .unwrap();
    let v3 = client
        .update_columns(bm, &ColumnChanges::new().update("Au", f64s(au3)))
        .await
        .unwrap();

    // No result of version 3 yet: the request starts a job that makes it.
    let request = ReportComparisonRequest {
        from_version_uuid: Some(f.v2.version_uuid),
        to_version_uuid: Some(v3.version_uuid),
    };
    let run = match client
        .request_report_comparison(bm, rs, &request)
        .await
        .unwrap()
    {
        ComparisonStarted::Job(job) => job.wait().await.unwrap(),
        other => panic!("expected a job, got {other:?}"),
    };
    assert_eq!(
        run.from_result_uuid,
        Some(from.report_result_uuid),
        "reused"
    );
    assert_eq!(run.to_version_uuid, Some(v3.version_uuid));
    let to = client
        .get_report_result(bm, rs, run.to_result_uuid.unwrap())
        .await
        .unwrap();
    assert_eq!(to.version_id, 3);
    check_resource(&to, &au3);
    // Both exist now: the default request (the latest and the one before) answers at once.
    match client
        .request_report_comparison(bm, rs, &ReportComparisonRequest::default())
        .await
        .unwrap()
    {
        ComparisonStarted::Ready {
            from_result_uuid,
            to_result_uuid,
        } => {
            assert_eq!(from_result_uuid, from.report_result_uuid);
            assert_eq!(to_result_uuid, to.report_result_uuid);
        }
        other => panic!("expected both results, got {other:?}"),
    }
    let comparison = client
        .compare_reports(bm, rs, &ReportComparisonRequest::default(), Some(4))
        .await
        .unwrap();
    assert_eq!(comparison.from_result.version_id, 2);
    assert_eq!(comparison.to_result.version_id, 3);
    assert_eq!(comparison.value_columns.len(), 3);
    let round = |v: f64| (v * 1e4).round() / 1e4;
    for set in &comparison.result_sets {
        let cutoff = set.cutoff_value.unwrap();
        for row in &set.rows {
            let keep = |au: &dyn Fn(usize) -> f64, b: usize| {
                au(b) >= cutoff
                    && match &row.categories[0] {
                        Some(CategoryValue::Text(r)) => rock(b) == r,
                        _ => true,
                    }
            };
            let a = expected(&au, |b| keep(&au, b));
            let b = expected(&au3, |b| keep(&au3, b));
            for (i, v) in row.values.iter().enumerate() {
                match (a, b) {
                    (Some(a), Some(b)) => {
                        assert!(close(v.from_value.value.unwrap(), round(a[i])));
                        assert!(close(v.to_value.value.unwrap(), round(b[i])));
                        assert!(close(v.difference.value.unwrap(), round(b[i] - a[i])));
                        assert!(close(
                            v.percent.value.unwrap(),
                            round((b[i] - a[i]) / a[i] * 100.0)
                        ));
                    }
                    _ => assert_eq!(v.difference.status, ReportCellStatus::NoData),
                }
            }
        }
    }

    // "Autorun" ran by itself on version 3.
    let mut auto_results = Vec::new();
    for _ in 0..200 {
        auto_results = client
            .list_report_results_page(bm, auto.report_specification_uuid, &ListQuery::new())
            .await
            .unwrap()
            .items;
        if !auto_results.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(auto_results.len(), 1);
    assert_eq!(auto_results[0].version_uuid, Some(v3.version_uuid));
}

#[tokio::test]
async fn policies_warn_and_mark_cells() {
    let f = fixture("policies").await;
    let (client, bm) = (&f.s.client, f.bm);
    // Version 3: Ag, null in every fifth block, negative in block 1.
    let ag: ArrayRef = Arc::new(Float64Array::from_iter((0..N).map(|b| match b {
        1 => Some(-2.0),
        b if b % 5 == 0 => None,
        b => Some(b as f64),
    })));
    let v3 = client
        .update_columns(bm, &ColumnChanges::new().add("Ag", ag, Some("g/t".into())))
        .await
        .unwrap();
    let ag_id = Uuid::parse_str(&v3.mapping.column("Ag").unwrap().col_id).unwrap();
    let spec = |name: &str| {
        NewReportSpecification::new(name, "t")
            .autorun(false)
            .column(ReportColumn::new(
                ag_id,
                "Ag",
                ReportAggregation::Sum,
                "g/t",
            ))
            .density_value(2.0, "t/m3")
    };
    let nulls = (0..N).filter(|b| b % 5 == 0).count() as u64;
    let warnings = |r: &ReportResult, kind| {
        r.warnings
            .iter()
            .find(|w| w.warning_type == kind)
            .map(|w| w.occurrences)
    };
    let total = |r: &ReportResult| r.result_sets[0].rows[0].values.clone();

    // The defaults leave out blocks with a null or negative value.
    let rs = client
        .create_report_specification(bm, &spec("default"))
        .await
        .unwrap();
    let r = client
        .run_report(bm, rs.report_specification_uuid, None)
        .await
        .unwrap();
    let kept: Vec<usize> = (0..N).filter(|b| *b != 1 && b % 5 != 0).collect();
    let cells = total(&r);
    assert!(close(
        cells[0].value.unwrap(),
        kept.len() as f64 * VOLUME * 2.0
    ));
    assert!(close(
        cells[1].value.unwrap(),
        kept.iter().map(|b| *b as f64).sum()
    ));
    assert_eq!(
        warnings(&r, ReportWarningType::NullColumnValue),
        Some(nulls)
    );
    assert_eq!(
        warnings(&r, ReportWarningType::NegativeColumnValue),
        Some(1)
    );

    // Zero / use: every block counts.
    let rs = client
        .create_report_specification(
            bm,
            &spec("zero")
                .null_values(NullValuesPolicy::Zero)
                .negative_values(evo_blockmodels::NegativeValuesPolicy::Use),
        )
        .await
        .unwrap();
    let r = client
        .run_report(bm, rs.report_specification_uuid, None)
        .await
        .unwrap();
    let cells = total(&r);
    assert!(close(cells[0].value.unwrap(), N as f64 * VOLUME * 2.0));
    let sum: f64 = (0..N)
        .map(|b| match b {
            1 => -2.0,
            b if b % 5 == 0 => 0.0,
            b => b as f64,
        })
        .sum();
    assert!(close(cells[1].value.unwrap(), sum));

    // Mark as invalid: the Ag cell is invalid, the mass is not.
    let rs = client
        .create_report_specification(
            bm,
            &spec("invalid").null_values(NullValuesPolicy::MarkAsInvalid),
        )
        .await
        .unwrap();
    let r = client
        .run_report(bm, rs.report_specification_uuid, None)
        .await
        .unwrap();
    let cells = total(&r);
    assert_eq!(cells[0].status, ReportCellStatus::Ok);
    assert_eq!(cells[1].status, ReportCellStatus::Invalid);
    assert_eq!(cells[1].value, None);

    // A report of the version before Ag existed cannot be computed: the job fails.
    let e = client
        .run_report(bm, rs.report_specification_uuid, Some(f.v2.version_uuid))
        .await
        .unwrap_err();
    assert!(e.is_job_failed(), "{e}");
    assert!(
        e.job_failure()
            .unwrap()
            .detail
            .contains("not a column of version 2")
    );

    // A box of indices: the blocks of the first layer only.
    let rs = client
        .create_report_specification(
            bm,
            &spec("box")
                .null_values(NullValuesPolicy::Zero)
                .negative_values(evo_blockmodels::NegativeValuesPolicy::Zero)
                .bbox(Some(BBox::indices((0, 3), (0, 2), (0, 0)))),
        )
        .await
        .unwrap();
    let r = client
        .run_report(bm, rs.report_specification_uuid, None)
        .await
        .unwrap();
    let cells = total(&r);
    assert!(close(cells[0].value.unwrap(), 12.0 * VOLUME * 2.0));
    let sum: f64 = (0..12)
        .filter(|b| *b != 1 && b % 5 != 0)
        .map(|b| b as f64)
        .sum();
    assert!(close(cells[1].value.unwrap(), sum));
}

#[tokio::test]
async fn report_failures() {
    let f = fixture("failures").await;
    let (client, bm) = (&f.s.client, f.bm);
    // Checked before sending: nothing reaches the service.
    let base = || {
        NewReportSpecification::new("ok", "t")
            .column(ReportColumn::new(f.au, "Au", ReportAggregation::Sum, "g/t"))
            .density_column(f.density)
    };
    for bad in [
        base().name("  "),
        base().name("x".repeat(121)),
        NewReportSpecification::new("no columns", "t").density_column(f.density),
        NewReportSpecification::new("no density", "t").column(ReportColumn::new(
            f.au,
            "Au",
            ReportAggregation::Sum,
            "g/t",
        )),
        base().density_value(0.5, "t/m3"),
        base().cutoffs(f.au, Vec::<f64>::new()),
        base().cutoffs(f.au, [f64::NAN]),
        base().category(ReportCategory::new(f.rock, "Rock").values(Vec::<String>::new())),
        base()
            .category(ReportCategory::new(f.rock, "a"))
            .category(ReportCategory::new(f.rock, "b"))
            .category(ReportCategory::new(f.rock, "c"))
            .category(ReportCategory::new(f.rock, "d"))
            .category(ReportCategory::new(f.rock, "e"))
            .category(ReportCategory::new(f.rock, "f")),
    ] {
        let e = client
            .create_report_specification(bm, &bad)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    }
    // A system column is refused when a report column is made from it.
    let i = f.v2.mapping.column("i").unwrap();
    assert!(matches!(
        ReportColumn::of(i, ReportAggregation::Sum, "t"),
        Err(Error::InvalidRequest(_))
    ));
    let au = ReportColumn::of(
        f.v2.mapping.column("Au").unwrap(),
        ReportAggregation::MassAverage,
        "g/t",
    )
    .unwrap();
    assert_eq!((au.col_id, au.label.as_str()), (f.au, "Au"));

    // The service checks the columns: an unknown one, a text column to sum, a unit that does
    // not convert.
    let unknown = Uuid::new_v4();
    let e = client
        .create_report_specification(
            bm,
            &base().column(ReportColumn::new(
                unknown,
                "x",
                ReportAggregation::Sum,
                "g/t",
            )),
        )
        .await
        .unwrap_err();
    assert!(e.is_bad_request(), "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(400));
    let problem = e.as_service().unwrap().as_api().unwrap().problem().unwrap();
    assert!(
        problem
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains(&unknown.to_string()),
        "{problem:?}"
    );
    let e = client
        .create_report_specification(
            bm,
            &base().column(ReportColumn::new(
                f.rock,
                "rock",
                ReportAggregation::Sum,
                "g/t",
            )),
        )
        .await
        .unwrap_err();
    assert!(e.is_bad_request(), "{e}");
    let e = client
        .create_report_specification(
            bm,
            &base().column(ReportColumn::new(
                f.metal,
                "m",
                ReportAggregation::Sum,
                "g/t",
            )),
        )
        .await
        .unwrap_err();
    assert!(e.is_bad_request(), "{e}");
    let e = client
        .create_report_specification(bm, &base().mass_unit("g/t"))
        .await
        .unwrap_err();
    assert!(e.is_unprocessable(), "{e}");

    // Unknown specification, result; unknown version to run on.
    let rs = client
        .create_report_specification(bm, &base())
        .await
        .unwrap()
        .report_specification_uuid;
    for e in [
        client
            .get_report_specification(bm, Uuid::new_v4())
            .await
            .unwrap_err(),
        client
            .run_report(bm, Uuid::new_v4(), None)
            .await
            .unwrap_err(),
        client
            .get_report_result(bm, rs, Uuid::new_v4())
            .await
            .unwrap_err(),
        client
            .run_report(bm, rs, Some(Uuid::new_v4()))
            .await
            .unwrap_err(),
        client
            .update_report_specification(
                bm,
                Uuid::new_v4(),
                &ReportSpecificationUpdate::from_current(
                    &client.get_report_specification(bm, rs).await.unwrap(),
                ),
            )
            .await
            .unwrap_err(),
    ] {
        assert!(e.is_not_found(), "{e}");
    }
    assert!(matches!(
        client
            .get_report_comparison(bm, rs, Uuid::new_v4(), Uuid::new_v4(), Some(11))
            .await,
        Err(Error::InvalidRequest(_))
    ));

    // A mesh filter is stored but cannot be computed by the emulator: the job says so.
    let mesh = client
        .create_report_specification(
            bm,
            &base().name("mesh").mesh_filter(Some(MeshFilter {
                relation: MeshFilterRelation::Inside,
                uuid: Uuid::new_v4(),
            })),
        )
        .await
        .unwrap();
    assert!(mesh.mesh_filter.is_some());
    let e = client
        .run_report(bm, mesh.report_specification_uuid, None)
        .await
        .unwrap_err();
    assert!(
        e.job_failure().unwrap().detail.contains("not emulated"),
        "{e}"
    );

    // A deleted model: its specifications are gone with it.
    client.delete(bm).await.unwrap();
    let e = client.run_report(bm, rs, None).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let e = client.get_report_specification(bm, rs).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
}
