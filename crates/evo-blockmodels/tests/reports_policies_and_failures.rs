//! Report policies (null values warned about, cells marked) and report failures (unknown
//! column, unknown specification or result, deleted model, mesh filter), against the
//! in-process emulator.

use std::sync::Arc;

use crate::reports_fixture::*;
use evo_blockmodels::evo_tables::arrow_array::{ArrayRef, Float64Array};
use evo_blockmodels::{
    BBox, ColumnChanges, Error, MeshFilter, MeshFilterRelation, NewReportSpecification,
    NullValuesPolicy, ReportAggregation, ReportCategory, ReportCellStatus, ReportColumn,
    ReportResult, ReportSpecificationUpdate, ReportWarningType,
};
use uuid::Uuid;

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
