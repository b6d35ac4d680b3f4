//! The comparison of two results of the same specification revision: rows matched by cut-off
//! and category values (those of `to` in its order, then those only in `from`); for each
//! value column both cells, the difference `to - from` and the percentage change
//! `(to - from) / from × 100` (`PERCENT_CHANGE_FROM_ZERO` when `from` is 0). A missing row or
//! a cell that is not `OK` on either side makes the difference and percentage take its status
//! (`INVALID` before `NO_DATA`). Values are rounded to `decimal_places` when asked.

use serde_json::{Value, json};

fn round(v: f64, places: Option<i32>) -> f64 {
    match places {
        Some(p) => {
            let f = 10f64.powi(p);
            (v * f).round() / f
        }
        None => v,
    }
}

fn cell(value: Option<f64>, status: &str) -> Value {
    json!({"value": value, "status": status})
}

/// The value of an `OK` cell, or its status.
fn ok(c: &Value) -> Result<f64, &str> {
    match (c["status"].as_str().unwrap_or("OK"), c["value"].as_f64()) {
        ("OK", Some(v)) => Ok(v),
        ("OK", None) => Err("NO_DATA"),
        (status, _) => Err(status),
    }
}

fn compare_cells(from: &Value, to: &Value, places: Option<i32>) -> Value {
    let show = |c: &Value| match ok(c) {
        Ok(v) => cell(Some(round(v, places)), "OK"),
        Err(status) => cell(None, status),
    };
    let (difference, percent) = match (ok(from), ok(to)) {
        (Ok(f), Ok(t)) => (
            cell(Some(round(t - f, places)), "OK"),
            if f == 0.0 {
                cell(None, "PERCENT_CHANGE_FROM_ZERO")
            } else {
                cell(Some(round((t - f) / f * 100.0, places)), "OK")
            },
        ),
        (a, b) => {
            let status = if a == Err("INVALID") || b == Err("INVALID") {
                "INVALID"
            } else {
                "NO_DATA"
            };
            (cell(None, status), cell(None, status))
        }
    };
    json!({"from_value": show(from), "to_value": show(to), "difference": difference, "percent": percent})
}

fn info(r: &Value) -> Value {
    json!({
        "report_result_uuid": r["report_result_uuid"],
        "report_result_created_at": r["report_result_created_at"],
        "referenced_columns": r["referenced_columns"],
        "version_id": r["version_id"],
        "version_uuid": r["version_uuid"],
        "version_comment": r["version_comment"],
        "version_created_at": r["version_created_at"],
        "version_created_by": r["version_created_by"],
    })
}

fn sets(r: &Value) -> &[Value] {
    r["result_sets"].as_array().map_or(&[], Vec::as_slice)
}

fn rows(set: &Value) -> &[Value] {
    set["rows"].as_array().map_or(&[], Vec::as_slice)
}

/// The `ReportComparison` of results `from` and `to` (`ReportResult` JSON).
pub(super) fn compare(from: &Value, to: &Value, places: Option<i32>) -> Value {
    let width = to["value_columns"].as_array().map_or(0, Vec::len);
    let missing = vec![cell(None, "NO_DATA"); width];
    let result_sets: Vec<Value> = sets(to)
        .iter()
        .map(|to_set| {
            let cutoff = &to_set["cutoff_value"];
            let from_set = sets(from).iter().find(|s| s["cutoff_value"] == *cutoff);
            let from_rows = from_set.map_or(&[][..], rows);
            let mut keys: Vec<&Value> = rows(to_set).iter().map(|r| &r["categories"]).collect();
            for r in from_rows {
                if !keys.contains(&&r["categories"]) {
                    keys.push(&r["categories"]);
                }
            }
            let find = |rows: &'_ [Value], key: &Value| -> Vec<Value> {
                rows.iter()
                    .find(|r| r["categories"] == *key)
                    .and_then(|r| r["values"].as_array().cloned())
                    .unwrap_or_else(|| missing.clone())
            };
            let out: Vec<Value> = keys
                .into_iter()
                .map(|key| {
                    let (f, t) = (find(from_rows, key), find(rows(to_set), key));
                    let values: Vec<Value> = f
                        .iter()
                        .zip(&t)
                        .map(|(f, t)| compare_cells(f, t, places))
                        .collect();
                    json!({"categories": key, "values": values})
                })
                .collect();
            json!({"cutoff_value": cutoff, "rows": out})
        })
        .collect();
    json!({
        "bm_uuid": to["bm_uuid"],
        "report_specification_uuid": to["report_specification_uuid"],
        "report_specification_name": to["report_specification_name"],
        "report_specification_description": to["report_specification_description"],
        "report_specification_revision": to["report_specification_revision"],
        "categories": to["categories"],
        "value_columns": to["value_columns"],
        "cutoff_col_id": to["cutoff_col_id"],
        "from_result": info(from),
        "to_result": info(to),
        "result_sets": result_sets,
        "warnings": {
            "comparison": [],
            "from_result": from["warnings"],
            "to_result": to["warnings"],
        },
    })
}
