//! Object data: `PUT .../data` (upload URLs for the files the emulator does not hold yet, in
//! batches), and the data references of an object (every string under a `data` key).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::common::{API, S, data_blob, data_held, invalid, json_body, respond, workspace};
use super::state::{DATA_CONTAINER, DataFile};
use crate::http_util::ApiError;
use crate::state::{Role, Shared};
use crate::storage::sas::presign;

/// At most this many names per `PUT .../data`.
pub(super) const MAX_NAMES: usize = 32;

/// Every data reference of an object, each once (in the order of a walk over sorted keys): the string values of keys
/// named `data` (as the SDKs find them).
pub(super) fn data_refs(object: &Value) -> Vec<String> {
    fn walk(v: &Value, key: Option<&str>, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    walk(v, Some(k), out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, None, out);
                }
            }
            Value::String(s) if key == Some("data") && !out.contains(s) => out.push(s.clone()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(object, None, &mut out);
    out
}

/// Whether `name` can name a data file: a lowercase hex SHA-256 or a UUID.
pub(super) fn valid_name(name: &str) -> bool {
    let sha = name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    sha || Uuid::parse_str(name).is_ok_and(|u| u.hyphenated().to_string() == name)
}

/// The names that cannot name a data file.
pub(super) fn invalid_keys(names: &[String]) -> Vec<String> {
    names.iter().filter(|n| !valid_name(n)).cloned().collect()
}

/// `PUT /geoscience-object/orgs/{org}/workspaces/{ws}/data` with `[{name}, ...]`: for each name,
/// its server id and whether the emulator holds it; an upload URL for those it does not.
pub(super) async fn put_data(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let body = json_body(&body)?;
        let names: Vec<String> = body
            .as_array()
            .ok_or_else(|| invalid("body", "a list of {name} objects is required"))?
            .iter()
            .map(|item| {
                item.get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| invalid("name", "every item needs a string name"))
            })
            .collect::<Result<_, _>>()?;
        if names.is_empty() || names.len() > MAX_NAMES {
            return Err(invalid("body", format!("between 1 and {MAX_NAMES} names")));
        }
        let bad = invalid_keys(&names);
        if !bad.is_empty() {
            return Err(ApiError::new(
                S,
                400,
                "data/invalid-key",
                "Data Key Not Valid.",
                "Data names must be SHA-256 digests or UUIDs.",
            )
            .with("invalid", json!(bad)));
        }
        let held: Vec<bool> = names.iter().map(|n| data_held(&shared, &c, n)).collect();
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Editor)?;
        let answer: Vec<Value> = names
            .iter()
            .zip(held)
            .map(|(name, exists)| {
                let id = w
                    .data
                    .entry(name.clone())
                    .or_insert_with(|| DataFile { id: Uuid::new_v4() })
                    .id;
                if exists {
                    json!({"id": id, "name": name, "exists": true})
                } else {
                    let url = presign(
                        &shared,
                        DATA_CONTAINER,
                        &data_blob(c.org, c.ws, name),
                        "rcw",
                    );
                    json!({"id": id, "name": name, "exists": false, "upload_url": url})
                }
            })
            .collect();
        Ok(axum::Json(Value::Array(answer)).into_response())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_references_are_strings_under_data_keys() {
        let sha = "a".repeat(64);
        let o = json!({
            "locations": {"coordinates": {"data": sha, "width": 3}},
            "attributes": [{"values": {"data": "00000000-0000-0000-0000-000000000003"}},
                           {"values": {"data": sha}}, {"data": null}, {"data": 7}],
            "name": "data",
        });
        assert_eq!(
            data_refs(&o),
            ["00000000-0000-0000-0000-000000000003".to_owned(), sha]
        );
    }

    #[test]
    fn names_are_sha256_or_uuids() {
        assert!(valid_name(&"0f".repeat(32)));
        assert!(valid_name("00000000-0000-0000-0000-000000000003"));
        assert!(!valid_name(&"0F".repeat(32)));
        assert!(!valid_name("abc"));
        assert!(!valid_name("../x"));
    }
}
