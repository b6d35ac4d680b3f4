//! A report result computed from the block values of a version.
//!
//! Blocks: those of the regular model within the specification's box. Each block's mass is
//! its volume (block size in the model's length unit, as m³) times its density (from the
//! density column in its unit, or the fixed value; a null or non-positive density is replaced
//! by 2.7 t/m³ with an `INVALID_DENSITY_VALUE` warning, as the service's warning says). A block
//! goes to the row of its category values (a null or empty category value leaves it out with
//! an `INVALID_CATEGORY_VALUE` warning; values not in a category's filter leave it out) and to
//! the grand total row (all categories null), in the result set of every cut-off its cut-off
//! value reaches (`>=`). Cells: first the mass (in the mass unit), then per column the sum
//! (`SUM`) or the mass-weighted average (`MASS_AVERAGE`) of the values converted from the
//! column's unit to the output unit. Null and negative values follow the policies:
//! `ZERO` counts them as 0, `IGNORE_BLOCK` leaves the block out, `IGNORE_VALUE` leaves the
//! value out of its column, `MARK_AS_INVALID` makes the cells it would go into `INVALID`
//! (every cell of the row for a cut-off value), `USE` (negative values) keeps them; each
//! occurrence is counted in a warning. A cell without any block is `NO_DATA`.

use std::cmp::Ordering;
use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use serde_json::{Value, json};

use super::super::query::parse_area;
use super::super::selection::Selection;
use super::super::state::{ColumnRec, Geometry, ModelRec, VersionRec};
use super::spec::{Aggregation, Policy, SpecRec, unit};

/// The density used for blocks whose density is null or not above 0, in kg/m³.
const DEFAULT_DENSITY: f64 = 2700.0;

fn number(a: &ArrayRef, i: usize) -> Option<f64> {
    if a.is_null(i) {
        return None;
    }
    Some(match a.data_type() {
        DataType::Float64 => a.as_primitive::<Float64Type>().value(i),
        DataType::Float32 => f64::from(a.as_primitive::<Float32Type>().value(i)),
        DataType::Int8 => f64::from(a.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => f64::from(a.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => f64::from(a.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => a.as_primitive::<Int64Type>().value(i) as f64,
        DataType::UInt8 => f64::from(a.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => f64::from(a.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => f64::from(a.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => a.as_primitive::<UInt64Type>().value(i) as f64,
        _ => return None,
    })
}

/// A category value as the report shows it; `None` for null or empty.
fn category(a: &ArrayRef, i: usize) -> Option<Value> {
    if a.is_null(i) {
        return None;
    }
    let v = match a.data_type() {
        DataType::Utf8 => json!(a.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => json!(a.as_string::<i64>().value(i)),
        DataType::Utf8View => json!(a.as_string_view().value(i)),
        DataType::Boolean => json!(a.as_boolean().value(i)),
        DataType::UInt64 => json!(a.as_primitive::<UInt64Type>().value(i)),
        _ => json!(number(a, i)? as i64),
    };
    (v != json!("")).then_some(v)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        _ => text_of(a).cmp(&text_of(b)),
    }
}

/// Column `id` of `v` (recorded in `referenced`), or why the report cannot use it.
fn find_col<'a>(
    v: &'a VersionRec,
    referenced: &mut Vec<&'a ColumnRec>,
    id: uuid::Uuid,
    role: &str,
) -> Result<Col<'a>, String> {
    let rec = v.columns.iter().find(|c| c.id == id).ok_or_else(|| {
        format!(
            "The {role} column {id} is not a column of version {}.",
            v.version_id
        )
    })?;
    if !referenced.iter().any(|r| r.id == id) {
        referenced.push(rec);
    }
    Ok(Col {
        rec,
        values: rec.values.clone(),
    })
}

enum Density<'a> {
    /// kg/m³ for every block.
    Fixed(f64),
    /// A column and the factor of its unit to kg/m³.
    Column(Col<'a>, f64),
}

/// The values of a column of the version (all null when it has none).
struct Col<'a> {
    rec: &'a ColumnRec,
    values: Option<ArrayRef>,
}

impl Col<'_> {
    fn number(&self, b: usize) -> Option<f64> {
        self.values.as_ref().and_then(|a| number(a, b))
    }
    fn category(&self, b: usize) -> Option<Value> {
        self.values.as_ref().and_then(|a| category(a, b))
    }
}

#[derive(Debug, Clone, Default)]
struct ColAcc {
    sum: f64,
    weight: f64,
    n: u64,
    invalid: bool,
}

#[derive(Debug, Clone, Default)]
struct Acc {
    blocks: u64,
    mass: f64,
    invalid: bool,
    cols: Vec<ColAcc>,
}

/// A value of a block for one column after the policies.
enum Val {
    V(f64),
    Skip,
    Invalid,
}

#[derive(Default)]
struct Warnings(Vec<(&'static str, String, u64)>);

impl Warnings {
    fn add(&mut self, kind: &'static str, message: &str) {
        match self.0.iter_mut().find(|w| w.0 == kind) {
            Some(w) => w.2 += 1,
            None => self.0.push((kind, message.to_owned(), 1)),
        }
    }
    fn json(&self) -> Value {
        self.0
            .iter()
            .map(|(k, m, n)| json!({"warning_type": k, "message": m, "occurrences": n}))
            .collect()
    }
}

/// What the policies make of a raw value; `None`: leave the block out.
fn apply(
    raw: Option<f64>,
    null: Policy,
    negative: Policy,
    warnings: &mut Warnings,
    (null_kind, negative_kind): (&'static str, &'static str),
) -> Option<Val> {
    let policy = match raw {
        None => {
            warnings.add(
                null_kind,
                "A value was null; the null values policy was applied.",
            );
            null
        }
        Some(x) if x < 0.0 => {
            warnings.add(
                negative_kind,
                "A value was negative; the negative values policy was applied.",
            );
            negative
        }
        Some(x) => return Some(Val::V(x)),
    };
    match policy {
        Policy::Use => Some(Val::V(raw.unwrap_or(0.0))),
        Policy::Zero => Some(Val::V(0.0)),
        Policy::IgnoreBlock => None,
        Policy::IgnoreValue => Some(Val::Skip),
        Policy::MarkAsInvalid => Some(Val::Invalid),
    }
}

/// The computed members of a `ReportResult`: `categories`, `value_columns`,
/// `referenced_columns`, `result_sets`, `warnings`; or why the report cannot be computed.
pub(super) fn compute(m: &ModelRec, v: &VersionRec, s: &SpecRec) -> Result<Value, String> {
    let b = &s.body;
    if !b.mesh_filter.is_null() {
        return Err("Mesh filters are not emulated: the emulator does not evaluate mesh geometry, so this report cannot be computed.".into());
    }
    let Geometry::Regular { size, .. } = m.geometry else {
        return Err("Reports on sub-blocked models are not emulated.".into());
    };
    let mut referenced: Vec<&ColumnRec> = Vec::new();
    let mut col = |id, role: &str| find_col(v, &mut referenced, id, role);
    let factor = |unit_id: Option<&str>, kind: &str, what: &str| -> Result<f64, String> {
        match unit_id.and_then(|u| unit(u).map(|t| (u, t))) {
            Some((_, (t, f))) if t == kind => Ok(f),
            Some((u, (t, _))) => Err(format!("{what} is in '{u}' ({t}), not a {kind} unit.")),
            None => Err(format!("{what} has no unit of type {kind}.")),
        }
    };
    let mut values = Vec::new();
    for c in &b.columns {
        let column = col(c.col_id, "value")?;
        let what = format!("Column '{}'", column.rec.title);
        let (out_type, out_factor) = unit(&c.output_unit_id).unwrap_or_default();
        let in_factor = factor(column.rec.unit_id.as_deref(), &out_type, &what)?;
        values.push((column, c.aggregation, in_factor / out_factor));
    }
    let mut categories = Vec::new();
    for c in b.categories.iter().flatten() {
        categories.push((col(c.col_id, "category")?, c.values.clone()));
    }
    let cutoff = b.cutoff_col_id.map(|id| col(id, "cut-off")).transpose()?;
    let density = match (b.density_col_id, b.density_value) {
        (Some(id), _) => {
            let c = col(id, "density")?;
            let f = factor(
                c.rec.unit_id.as_deref(),
                "MASS_PER_VOLUME",
                "The density column",
            )?;
            Density::Column(c, f)
        }
        (None, Some(value)) => Density::Fixed(
            value
                * factor(
                    b.density_unit_id.as_deref(),
                    "MASS_PER_VOLUME",
                    "The density",
                )?,
        ),
        (None, None) => return Err("The report specification has no density.".into()),
    };
    let referenced_json: Vec<Value> = referenced
        .iter()
        .map(|c| {
            json!({"col_id": c.id, "data_type": c.data_type, "title": c.title, "unit_id": c.unit_id, "unit_id_from_version": v.uuid})
        })
        .collect();
    let mass_factor = factor(Some(&b.mass_unit_id), "MASS", "The mass unit")?;
    let length = m
        .size_unit_id
        .as_deref()
        .and_then(unit)
        .filter(|(t, _)| t == "LENGTH")
        .map_or(1.0, |(_, f)| f);
    let volume = size.iter().map(|s| s * length).product::<f64>();
    let area = parse_area(&b.bbox).map_err(|_| "The bounding box is invalid.".to_owned())?;
    let cutoffs: Vec<Option<f64>> = match &b.cutoff_values {
        Some(cs) => cs.iter().copied().map(Some).collect(),
        None => vec![None],
    };

    let n_cat = categories.len();
    let empty = Acc {
        cols: vec![ColAcc::default(); values.len()],
        ..Acc::default()
    };
    let mut rows: Vec<(Vec<Value>, Vec<Acc>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let total_key = vec![Value::Null; n_cat];
    let mut warnings = Warnings::default();
    'blocks: for block in Selection::of(m, area).iter() {
        let block = block as usize;
        let mut key = Vec::with_capacity(n_cat);
        for (c, filter) in &categories {
            let Some(value) = c.category(block) else {
                warnings.add(
                    "INVALID_CATEGORY_VALUE",
                    "A category value was null or empty; the block was left out.",
                );
                continue 'blocks;
            };
            if filter
                .as_ref()
                .is_some_and(|f| !f.contains(&text_of(&value)))
            {
                continue 'blocks;
            }
            key.push(value);
        }
        let (mut cut, mut invalid) = (None, false);
        if let Some(c) = &cutoff {
            let kinds = ("NULL_CUTOFF_VALUE", "NEGATIVE_CUTOFF_VALUE");
            match apply(c.number(block), b.null, b.negative, &mut warnings, kinds) {
                None => continue 'blocks,
                Some(Val::V(x)) => cut = Some(x),
                // Without its value the block cannot be placed: every row it may be in is
                // invalid (a value left out cannot be compared either).
                Some(Val::Skip | Val::Invalid) => invalid = true,
            }
        }
        let mut vals = Vec::with_capacity(values.len());
        for (c, _, conversion) in &values {
            let kinds = ("NULL_COLUMN_VALUE", "NEGATIVE_COLUMN_VALUE");
            match apply(c.number(block), b.null, b.negative, &mut warnings, kinds) {
                None => continue 'blocks,
                Some(Val::V(x)) => vals.push(Val::V(x * conversion)),
                Some(other) => vals.push(other),
            }
        }
        let rho = match &density {
            Density::Fixed(fixed) => *fixed,
            Density::Column(c, f) => match c.number(block) {
                Some(d) if d > 0.0 => d * f,
                _ => {
                    warnings.add(
                        "INVALID_DENSITY_VALUE",
                        "Density value was null, or less than or equal to 0. The default density value of 2.7 was used.",
                    );
                    DEFAULT_DENSITY
                }
            },
        };
        let mass = volume * rho;
        let keys: &[&Vec<Value>] = if n_cat > 0 {
            &[&key, &total_key]
        } else {
            &[&key]
        };
        for k in keys {
            let at = *index
                .entry(Value::from((*k).clone()).to_string())
                .or_insert_with(|| {
                    rows.push(((*k).clone(), vec![empty.clone(); cutoffs.len()]));
                    rows.len() - 1
                });
            for (set, limit) in cutoffs.iter().enumerate() {
                let inside = match (limit, cut) {
                    (None, _) => true,
                    (Some(_), None) => invalid,
                    (Some(l), Some(x)) => x >= *l,
                };
                if !inside {
                    continue;
                }
                let acc = &mut rows[at].1[set];
                acc.blocks += 1;
                if invalid {
                    acc.invalid = true;
                    continue;
                }
                acc.mass += mass;
                for ((val, (_, aggregation, _)), c) in
                    vals.iter().zip(&values).zip(acc.cols.iter_mut())
                {
                    match (val, aggregation) {
                        (Val::V(x), Aggregation::Sum) => {
                            c.sum += x;
                            c.n += 1;
                        }
                        (Val::V(x), Aggregation::MassAverage) => {
                            c.sum += x * mass;
                            c.weight += mass;
                            c.n += 1;
                        }
                        (Val::Skip, _) => {}
                        (Val::Invalid, _) => c.invalid = true,
                    }
                }
            }
        }
    }

    // Category rows in the order of the filters' values, else of the values; the total last.
    let position = |i: usize, v: &Value| {
        categories[i]
            .1
            .as_ref()
            .and_then(|f| f.iter().position(|x| *x == text_of(v)))
    };
    rows.sort_by(|(a, _), (b, _)| {
        let total = |k: &Vec<Value>| n_cat > 0 && k.iter().all(Value::is_null);
        total(a).cmp(&total(b)).then_with(|| {
            (0..n_cat)
                .map(|i| {
                    position(i, &a[i])
                        .cmp(&position(i, &b[i]))
                        .then_with(|| cmp_values(&a[i], &b[i]))
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        })
    });
    let cell = |value: Option<f64>, status: &str| json!({"value": value, "status": status});
    let result_sets: Vec<Value> = cutoffs
        .iter()
        .enumerate()
        .map(|(set, limit)| {
            let rows: Vec<Value> = rows
                .iter()
                .map(|(key, accs)| {
                    let acc = &accs[set];
                    let mut cells = vec![match (acc.invalid, acc.blocks) {
                        (true, _) => cell(None, "INVALID"),
                        (false, 0) => cell(None, "NO_DATA"),
                        _ => cell(Some(acc.mass / mass_factor), "OK"),
                    }];
                    for (c, (_, aggregation, _)) in acc.cols.iter().zip(&values) {
                        cells.push(if acc.invalid || c.invalid {
                            cell(None, "INVALID")
                        } else if c.n == 0 {
                            cell(None, "NO_DATA")
                        } else {
                            match aggregation {
                                Aggregation::Sum => cell(Some(c.sum), "OK"),
                                Aggregation::MassAverage if c.weight > 0.0 => {
                                    cell(Some(c.sum / c.weight), "OK")
                                }
                                Aggregation::MassAverage => cell(None, "NO_DATA"),
                            }
                        });
                    }
                    json!({"categories": key, "values": cells})
                })
                .collect();
            json!({"cutoff_value": limit, "rows": rows})
        })
        .collect();
    let mut value_columns =
        vec![json!({"col_id": null, "label": "Mass", "unit_id": b.mass_unit_id})];
    value_columns.extend(
        b.columns
            .iter()
            .map(|c| json!({"col_id": c.col_id, "label": c.label, "unit_id": c.output_unit_id})),
    );
    Ok(json!({
        "categories": b.categories.iter().flatten().map(|c| json!({"col_id": c.col_id, "label": c.label})).collect::<Vec<_>>(),
        "value_columns": value_columns,
        "referenced_columns": referenced_json,
        "result_sets": result_sets,
        "warnings": warnings.json(),
    }))
}
