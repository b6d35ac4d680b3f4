//! Validation of workspace bodies (name, description, labels, bounding box).

use axum::body::Bytes;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::http_util::ApiError;
use crate::state::Org;

use super::common::S;

pub(super) fn parse_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request(
            S,
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(ApiError::bad_request(
            S,
            format!("The request body is not valid JSON: {e}"),
        )),
    }
}

pub(super) fn validate_name(v: &Value, errs: &mut Vec<(String, String)>) -> Option<String> {
    match v.as_str() {
        Some(s) if !s.trim().is_empty() && s.chars().count() <= 60 => Some(s.to_owned()),
        Some(_) => {
            errs.push(("name".into(), "must be 1 to 60 characters".into()));
            None
        }
        None => {
            errs.push(("name".into(), "must be a string".into()));
            None
        }
    }
}

pub(super) fn validate_string(
    name: &str,
    v: &Value,
    errs: &mut Vec<(String, String)>,
) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.clone()),
        _ => {
            errs.push((name.into(), "must be a string".into()));
            None
        }
    }
}

pub(super) fn validate_labels(v: &Value, errs: &mut Vec<(String, String)>) -> Option<Vec<String>> {
    match v {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => {
            let mut out = Vec::new();
            if items.len() > 20 {
                errs.push(("labels".into(), "at most 20 labels".into()));
                return None;
            }
            for i in items {
                match i.as_str() {
                    Some(s) if !s.is_empty() && s.chars().count() <= 100 => out.push(s.to_owned()),
                    _ => {
                        errs.push((
                            "labels".into(),
                            "each label must be a string of 1 to 100 characters".into(),
                        ));
                        return None;
                    }
                }
            }
            Some(out)
        }
        _ => {
            errs.push(("labels".into(), "must be a list of strings".into()));
            None
        }
    }
}

pub(super) fn validate_bbox(v: &Value, errs: &mut Vec<(String, String)>) -> Option<Value> {
    if v.is_null() {
        return Some(Value::Null);
    }
    let fail = |errs: &mut Vec<(String, String)>, why: &str| {
        errs.push(("bounding_box".into(), why.into()));
        None
    };
    if v.get("type").and_then(Value::as_str) != Some("Polygon") {
        return fail(errs, "type must be Polygon");
    }
    let Some(rings) = v.get("coordinates").and_then(Value::as_array) else {
        return fail(errs, "coordinates must be a list of rings");
    };
    let Some(ring) = rings
        .first()
        .and_then(Value::as_array)
        .filter(|_| rings.len() == 1)
    else {
        return fail(errs, "coordinates must hold exactly one ring");
    };
    if ring.len() != 5 {
        return fail(errs, "the ring must have 5 positions");
    }
    let mut pts = Vec::new();
    for p in ring {
        let Some(pair) = p.as_array().filter(|a| a.len() == 2) else {
            return fail(errs, "each position must be [longitude, latitude]");
        };
        let (Some(lon), Some(lat)) = (pair[0].as_f64(), pair[1].as_f64()) else {
            return fail(errs, "positions must be numbers");
        };
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return fail(
                errs,
                "longitude must be within [-180, 180] and latitude within [-90, 90]",
            );
        }
        pts.push((lon, lat));
    }
    if pts[0] != pts[4] {
        return fail(
            errs,
            "the ring must be closed (first position == last position)",
        );
    }
    Some(json!({"type": "Polygon", "coordinates": v["coordinates"].clone()}))
}

pub(super) fn name_taken(org: &Org, name: &str, except: Option<Uuid>) -> bool {
    org.workspaces
        .iter()
        .any(|w| !w.deleted && w.name == name && Some(w.id) != except)
}

pub(super) fn conflict(name: &str) -> ApiError {
    ApiError::new(
        S,
        409,
        "already-exists",
        "Conflict.",
        format!("A workspace named '{name}' already exists."),
    )
}
