//! The column change a `PATCH .../blocks` asks for, checked against the latest version
//! (into an [`UpdateRequest`], which the job keeps in `state`).

use serde_json::Value;

use crate::blockmodels::common::{bad_request, invalid, json_body, known_unit, object};
use crate::blockmodels::state::{UpdateRequest, VersionRec, arrow_type};
use crate::http_util::ApiError;

/// The geometry columns a file may carry besides value columns.
pub(super) const GEOMETRY: &[&str] = &["i", "j", "k", "x", "y", "z"];

fn strings(v: Option<&Value>, what: &str) -> Result<Vec<String>, ApiError> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| {
            s.as_str()
                .map(str::to_owned)
                .ok_or_else(|| invalid(what, "titles are strings"))
        })
        .collect()
}

pub(super) fn parse_request(body: &[u8], latest: &VersionRec) -> Result<UpdateRequest, ApiError> {
    let body = object(json_body(body)?, "the body")?;
    let columns = body.get("columns").cloned().unwrap_or(Value::Null);
    let exists = |t: &str| latest.column(t).is_some();
    let mut new = Vec::new();
    for c in columns
        .get("new")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let title = c
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if title.trim().is_empty() || GEOMETRY.contains(&title.as_str()) || exists(&title) {
            return Err(bad_request(format!(
                "'{title}' cannot be the title of a new column"
            )));
        }
        let data_type = c
            .get("data_type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if arrow_type(data_type).is_none() {
            return Err(invalid(
                "columns.new.data_type",
                format!("unknown type '{data_type}'"),
            ));
        }
        let unit = c.get("unit_id").and_then(Value::as_str).map(str::to_owned);
        if unit.as_deref().is_some_and(|u| !known_unit(u)) {
            return Err(invalid("columns.new.unit_id", "unknown unit"));
        }
        new.push((title, data_type.to_owned(), unit));
    }
    let update = strings(columns.get("update"), "columns.update")?;
    let delete = strings(columns.get("delete"), "columns.delete")?;
    let mut rename = Vec::new();
    for r in columns
        .get("rename")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(old), Some(new_title)) = (
            r.get("title").and_then(Value::as_str),
            r.get("new_title").and_then(Value::as_str),
        ) else {
            return Err(invalid(
                "columns.rename",
                "title and new_title are required",
            ));
        };
        if new_title.trim().is_empty() || GEOMETRY.contains(&new_title) || exists(new_title) {
            return Err(bad_request(format!(
                "a column cannot be renamed to '{new_title}'"
            )));
        }
        rename.push((old.to_owned(), new_title.to_owned()));
    }
    let mut units = Vec::new();
    for m in columns
        .get("update_metadata")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let title = m
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let unit = m
            .pointer("/values/unit_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if unit.as_deref().is_some_and(|u| !known_unit(u)) {
            return Err(invalid("columns.update_metadata.unit_id", "unknown unit"));
        }
        units.push((title, unit));
    }
    for title in update
        .iter()
        .chain(&delete)
        .chain(rename.iter().map(|r| &r.0))
        .chain(units.iter().map(|u| &u.0))
    {
        if !exists(title) {
            return Err(bad_request(format!(
                "The block model has no column '{title}'."
            )));
        }
    }
    let merge = match body.get("update_type").and_then(Value::as_str) {
        None | Some("merge") => true,
        Some("replace") => false,
        Some(other) => {
            return Err(invalid(
                "update_type",
                format!("'{other}' is not merge or replace"),
            ));
        }
    };
    let request = UpdateRequest {
        new,
        update,
        delete,
        rename,
        units,
        merge,
        comment: body
            .get("comment")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    };
    if !request.has_data()
        && request.delete.is_empty()
        && request.rename.is_empty()
        && request.units.is_empty()
    {
        return Err(bad_request("The update changes nothing."));
    }
    Ok(request)
}
