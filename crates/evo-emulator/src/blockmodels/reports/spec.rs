//! Report specifications: their records, the checks of a create or update body against the
//! columns of the model's latest version, and their JSON.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::super::common::{bad_request, invalid, units};
use super::super::state::{Geometry, ModelRec, VersionRec};
use super::ReportStore;
use crate::clock::format_workspace_time;
use crate::http_util::ApiError;

/// What a report does with null or negative values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Policy {
    Use,
    Zero,
    IgnoreBlock,
    IgnoreValue,
    MarkAsInvalid,
}

impl Policy {
    fn parse(v: Option<&Value>, null_policy: bool) -> Result<Option<Policy>, ApiError> {
        let name = if null_policy {
            "null_values_policy"
        } else {
            "negative_values_policy"
        };
        Ok(Some(match v.and_then(|v| (!v.is_null()).then_some(v)) {
            None => return Ok(None),
            Some(v) => match v.as_str() {
                Some("USE") if !null_policy => Policy::Use,
                Some("ZERO") => Policy::Zero,
                Some("IGNORE_BLOCK") => Policy::IgnoreBlock,
                Some("IGNORE_VALUE") => Policy::IgnoreValue,
                Some("MARK_AS_INVALID") => Policy::MarkAsInvalid,
                _ => return Err(invalid(name, format!("not a policy: {v}"))),
            },
        }))
    }

    fn as_str(self) -> &'static str {
        match self {
            Policy::Use => "USE",
            Policy::Zero => "ZERO",
            Policy::IgnoreBlock => "IGNORE_BLOCK",
            Policy::IgnoreValue => "IGNORE_VALUE",
            Policy::MarkAsInvalid => "MARK_AS_INVALID",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Aggregation {
    Sum,
    MassAverage,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct SpecColumn {
    pub(super) col_id: Uuid,
    pub(super) label: String,
    pub(super) aggregation: Aggregation,
    pub(super) output_unit_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct SpecCategory {
    pub(super) col_id: Uuid,
    pub(super) label: String,
    pub(super) values: Option<Vec<String>>,
}

/// What a specification reports: a change of any of it makes a new revision.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SpecBody {
    pub(super) columns: Vec<SpecColumn>,
    pub(super) categories: Option<Vec<SpecCategory>>,
    /// The `bbox` JSON (checked), or null.
    pub(super) bbox: Value,
    pub(super) cutoff_col_id: Option<Uuid>,
    pub(super) cutoff_values: Option<Vec<f64>>,
    pub(super) density_col_id: Option<Uuid>,
    pub(super) density_unit_id: Option<String>,
    pub(super) density_value: Option<f64>,
    pub(super) mass_unit_id: String,
    /// The `mesh_filter` JSON, or null.
    pub(super) mesh_filter: Value,
    pub(super) negative: Policy,
    pub(super) null: Policy,
}

/// A report specification.
#[derive(Debug, Clone)]
pub(super) struct SpecRec {
    pub(super) id: Uuid,
    pub(super) bm: Uuid,
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) autorun: bool,
    pub(super) revision: u64,
    pub(super) body: SpecBody,
}

/// The type and conversion factor (to the base unit of the type) of a unit.
pub(super) fn unit(id: &str) -> Option<(String, f64)> {
    units()
        .as_array()?
        .iter()
        .find(|u| u["unit_id"] == id)
        .map(|u| {
            (
                u["unit_type"].as_str().unwrap_or_default().to_owned(),
                u["conversion_factor"].as_f64().unwrap_or(1.0),
            )
        })
}

const NUMERIC: [&str; 10] = [
    "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32", "Float64",
];
const CATEGORICAL: [&str; 10] = [
    "Utf8", "Boolean", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
];

fn text(body: &Map<String, Value>, key: &str, max: usize) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(invalid(key, format!("at most {max} characters"))),
        Some(_) => Err(invalid(key, "a string is required")),
    }
}

pub(super) fn uuid_of(v: Option<&Value>, name: &str) -> Result<Option<Uuid>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_str()
            .and_then(|s| s.parse().ok())
            .map(Some)
            .ok_or_else(|| invalid(name, "a UUID is required")),
    }
}

/// Checks a create or update body against the latest version `v`; the name, description,
/// autorun and the body. `prev` gives the policies an update leaves out.
pub(super) fn parse_spec(
    raw: &[u8],
    m: &ModelRec,
    v: &VersionRec,
    prev: Option<&SpecRec>,
) -> Result<(String, Option<String>, bool, SpecBody), ApiError> {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(raw) else {
        return Err(invalid("body", "a JSON object is required"));
    };
    let name = text(&body, "name", 120)?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| invalid("name", "a non-empty name is required"))?;
    let description = text(&body, "description", 1000)?;
    let autorun = match body.get("autorun") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("autorun", "a boolean is required")),
    };
    if matches!(m.geometry, Geometry::SubBlocked { .. }) {
        return Err(bad_request(
            "Reports on sub-blocked models are not emulated (their block values are not stored).",
        ));
    }
    let column = |id: Uuid, role: &str, types: &[&str]| -> Result<(), ApiError> {
        let c = v.columns.iter().find(|c| c.id == id).ok_or_else(|| {
            bad_request(format!(
                "The {role} column {id} is not a column of the block model's latest version."
            ))
        })?;
        if !types.contains(&c.data_type.as_str()) {
            return Err(bad_request(format!(
                "The {role} column '{}' is {}; it must be one of {}.",
                c.title,
                c.data_type,
                types.join(", ")
            )));
        }
        Ok(())
    };
    let unit_of = |id: Uuid| v.columns.iter().find(|c| c.id == id)?.unit_id.clone();
    let unit_typed = |name: &str, id: &str, kind: &str| -> Result<f64, ApiError> {
        match unit(id) {
            Some((t, f)) if t == kind => Ok(f),
            Some((t, _)) => Err(invalid(name, format!("'{id}' is a {t} unit, not {kind}"))),
            None => Err(invalid(name, format!("unknown unit '{id}'"))),
        }
    };
    let mass_unit_id =
        text(&body, "mass_unit_id", 120)?.ok_or_else(|| invalid("mass_unit_id", "required"))?;
    unit_typed("mass_unit_id", &mass_unit_id, "MASS")?;

    let mut columns = Vec::new();
    let list = body
        .get("columns")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("columns", "a list is required"))?;
    for (n, c) in list.iter().enumerate() {
        let at = |k: &str| format!("columns[{n}].{k}");
        let col_id = uuid_of(c.get("col_id"), &at("col_id"))?
            .ok_or_else(|| invalid(&at("col_id"), "required"))?;
        let label = c
            .get("label")
            .and_then(Value::as_str)
            .filter(|l| l.chars().count() <= 120)
            .ok_or_else(|| invalid(&at("label"), "a string of at most 120 characters"))?;
        let aggregation = match c.get("aggregation").and_then(Value::as_str) {
            Some("SUM") => Aggregation::Sum,
            Some("MASS_AVERAGE") => Aggregation::MassAverage,
            _ => return Err(invalid(&at("aggregation"), "SUM or MASS_AVERAGE")),
        };
        let output = c
            .get("output_unit_id")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(&at("output_unit_id"), "required"))?;
        let (out_type, _) =
            unit(output).ok_or_else(|| invalid(&at("output_unit_id"), "unknown unit"))?;
        column(col_id, "value", &NUMERIC)?;
        let col_unit = unit_of(col_id).and_then(|u| unit(&u).map(|t| (u, t.0)));
        match col_unit {
            None => {
                return Err(bad_request(format!(
                    "The value column {col_id} has no unit; report columns need one."
                )));
            }
            Some((u, t)) if t != out_type => {
                return Err(bad_request(format!(
                    "The value column {col_id} is in '{u}' ({t}), which cannot be reported in '{output}' ({out_type})."
                )));
            }
            Some(_) => {}
        }
        columns.push(SpecColumn {
            col_id,
            label: label.to_owned(),
            aggregation,
            output_unit_id: output.to_owned(),
        });
    }
    if columns.is_empty() {
        return Err(invalid("columns", "at least one column is required"));
    }

    let categories = match body.get("categories") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) if list.len() <= 5 => {
            let mut out = Vec::new();
            for (n, c) in list.iter().enumerate() {
                let at = |k: &str| format!("categories[{n}].{k}");
                let col_id = uuid_of(c.get("col_id"), &at("col_id"))?
                    .ok_or_else(|| invalid(&at("col_id"), "required"))?;
                let label = c
                    .get("label")
                    .and_then(Value::as_str)
                    .filter(|l| l.chars().count() <= 120)
                    .ok_or_else(|| invalid(&at("label"), "a string of at most 120 characters"))?;
                let values = match c.get("values") {
                    None | Some(Value::Null) => None,
                    Some(Value::Array(vs)) if (1..=100).contains(&vs.len()) => Some(
                        vs.iter()
                            .map(|v| v.as_str().map(str::to_owned))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| invalid(&at("values"), "strings"))?,
                    ),
                    Some(_) => return Err(invalid(&at("values"), "1 to 100 strings")),
                };
                column(col_id, "category", &CATEGORICAL)?;
                out.push(SpecCategory {
                    col_id,
                    label: label.to_owned(),
                    values,
                });
            }
            Some(out)
        }
        Some(_) => return Err(invalid("categories", "a list of at most 5 categories")),
    };

    let cutoff_col_id = uuid_of(body.get("cutoff_col_id"), "cutoff_col_id")?;
    let cutoff_values = match body.get("cutoff_values") {
        None | Some(Value::Null) => None,
        Some(Value::Array(vs)) if (1..=20).contains(&vs.len()) => Some(
            vs.iter()
                .map(Value::as_f64)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid("cutoff_values", "numbers"))?,
        ),
        Some(_) => return Err(invalid("cutoff_values", "1 to 20 numbers")),
    };
    match (cutoff_col_id, &cutoff_values) {
        (Some(id), Some(_)) => column(id, "cut-off", &NUMERIC)?,
        (None, None) => {}
        _ => {
            return Err(invalid(
                "cutoff_values",
                "cutoff_col_id and cutoff_values go together",
            ));
        }
    }

    let density_col_id = uuid_of(body.get("density_col_id"), "density_col_id")?;
    let density_unit_id = text(&body, "density_unit_id", 120)?;
    let density_value = match body.get("density_value") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_f64()
                .filter(|d| *d > 1.0)
                .ok_or_else(|| invalid("density_value", "a number above 1"))?,
        ),
    };
    match (density_col_id, density_value, &density_unit_id) {
        (Some(id), None, None) => {
            column(id, "density", &NUMERIC)?;
            let u = unit_of(id).unwrap_or_default();
            if unit(&u).is_none_or(|(t, _)| t != "MASS_PER_VOLUME") {
                return Err(bad_request(format!(
                    "The density column {id} needs a MASS_PER_VOLUME unit, it has '{u}'."
                )));
            }
        }
        (None, Some(_), Some(u)) => {
            unit_typed("density_unit_id", u, "MASS_PER_VOLUME")?;
        }
        _ => {
            return Err(invalid(
                "density_col_id",
                "either density_col_id, or density_value with density_unit_id, is required",
            ));
        }
    }

    let bbox = body.get("bbox").cloned().unwrap_or(Value::Null);
    super::super::query::parse_area(&bbox)?;
    let mesh_filter = body.get("mesh_filter").cloned().unwrap_or(Value::Null);
    if !mesh_filter.is_null()
        && (uuid_of(mesh_filter.get("uuid"), "mesh_filter.uuid")?.is_none()
            || !matches!(
                mesh_filter.get("relation").and_then(Value::as_str),
                Some("INSIDE" | "OUTSIDE")
            ))
    {
        return Err(invalid(
            "mesh_filter",
            "{relation: INSIDE or OUTSIDE, uuid}",
        ));
    }
    let default = |p: Option<&SpecRec>, null: bool| {
        p.map_or(Policy::IgnoreBlock, |p| {
            if null { p.body.null } else { p.body.negative }
        })
    };
    let negative = Policy::parse(body.get("negative_values_policy"), false)?
        .unwrap_or_else(|| default(prev, false));
    let null =
        Policy::parse(body.get("null_values_policy"), true)?.unwrap_or_else(|| default(prev, true));
    Ok((
        name,
        description,
        autorun,
        SpecBody {
            columns,
            categories,
            bbox,
            cutoff_col_id,
            cutoff_values,
            density_col_id,
            density_unit_id,
            density_value,
            mass_unit_id,
            mesh_filter,
            negative,
            null,
        },
    ))
}

/// A `ReportSpecificationWithLastRunInfo` (without the last run when `store` is `None`).
pub(super) fn spec_json(s: &SpecRec, store: Option<&ReportStore>) -> Value {
    let b = &s.body;
    let mut out = json!({
        "report_specification_uuid": s.id,
        "bm_uuid": s.bm,
        "name": s.name,
        "description": s.description,
        "autorun": s.autorun,
        "revision": s.revision,
        "columns": b.columns.iter().map(|c| json!({
            "col_id": c.col_id,
            "label": c.label,
            "aggregation": match c.aggregation { Aggregation::Sum => "SUM", Aggregation::MassAverage => "MASS_AVERAGE" },
            "output_unit_id": c.output_unit_id,
        })).collect::<Vec<_>>(),
        "categories": b.categories.as_ref().map(|cs| cs.iter().map(|c| json!({
            "col_id": c.col_id, "label": c.label, "values": c.values,
        })).collect::<Vec<_>>()),
        "bbox": b.bbox,
        "cutoff_col_id": b.cutoff_col_id,
        "cutoff_values": b.cutoff_values,
        "density_col_id": b.density_col_id,
        "density_unit_id": b.density_unit_id,
        "density_value": b.density_value,
        "mass_unit_id": b.mass_unit_id,
        "mesh_filter": b.mesh_filter,
        "negative_values_policy": b.negative.as_str(),
        "null_values_policy": b.null.as_str(),
    });
    if let Some(store) = store {
        let last = store
            .results
            .values()
            .filter(|r| r.spec == s.id)
            .max_by_key(|r| (r.created_at, r.version_id));
        out["last_result_created_at"] = json!(last.map(|r| format_workspace_time(r.created_at)));
        out["last_result_version_id"] = json!(last.map(|r| r.version_id));
    }
    out
}
