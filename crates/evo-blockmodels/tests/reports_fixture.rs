//! What the report tests share: a block model of 4 × 3 × 2 blocks with known values, a
//! resource specification, and the values a report of it must give.

use crate::common;

use std::sync::Arc;

use evo_blockmodels::evo_tables::arrow_array::{ArrayRef, Float64Array, StringArray};
use evo_blockmodels::{
    CategoryValue, ColumnChanges, NewReportSpecification, ReportAggregation, ReportCategory,
    ReportCellStatus, ReportColumn, ReportResult, Version,
};
use uuid::Uuid;

/// 4 × 3 × 2 blocks of 10 × 10 × 5 m = 500 m³.
pub const N: usize = 24;
pub const VOLUME: f64 = 500.0;
pub const ROCKS: [&str; 3] = ["ox", "fr", "tr"];

pub fn au(b: usize) -> f64 {
    0.1 * b as f64 + 0.05 * (b % 4) as f64
}
pub fn density(b: usize) -> f64 {
    2.0 + 0.25 * (b % 3) as f64
}
pub fn rock(b: usize) -> &'static str {
    ROCKS[(b / 2) % 3]
}
pub fn metal_kg(b: usize) -> f64 {
    1.5 * b as f64 + 3.0
}

pub fn f64s(f: impl Fn(usize) -> f64) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values((0..N).map(f)))
}

pub struct Fixture {
    pub s: common::Setup,
    pub bm: Uuid,
    pub v2: Version,
    pub au: Uuid,
    pub density: Uuid,
    pub rock: Uuid,
    pub metal: Uuid,
}

pub async fn fixture(name: &str) -> Fixture {
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

pub fn resource_spec(f: &Fixture) -> NewReportSpecification {
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
pub fn expected(au: &dyn Fn(usize) -> f64, keep: impl Fn(usize) -> bool) -> Option<[f64; 3]> {
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

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Checks every row of `result` against [`expected`] with `au` as the Au values.
pub fn check_resource(result: &ReportResult, au: &dyn Fn(usize) -> f64) {
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
