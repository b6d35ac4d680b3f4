//! Report specifications against the in-process emulator: create, list, get, update (and the
//! revision), run on a version, results, comparisons, autorun; report values checked against
//! values computed here from the block values the test wrote; checks before sending; failure
//! paths (unknown column, unknown specification or result, deleted model, mesh filter).

use std::time::Duration;

use crate::reports_fixture::*;
use evo_blockmodels::{
    CategoryValue, ColumnChanges, ComparisonStarted, ListQuery, NewReportSpecification,
    NullValuesPolicy, ReportAggregation, ReportCellStatus, ReportColumn, ReportComparisonRequest,
    ReportSpecificationUpdate,
};
use futures_util::TryStreamExt as _;
use uuid::Uuid;

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
