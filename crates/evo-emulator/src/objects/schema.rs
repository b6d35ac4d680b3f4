//! Validation of posted objects against the Evo object JSON Schemas, embedded at build time
//! from `schemas/` (the copy of the repository's `specs/evo-schemas/`, see `build.rs`). Nothing is fetched: a `$ref` outside the
//! embedded set fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Registry, Validator};
use serde_json::Value;

include!(concat!(env!("OUT_DIR"), "/schemas.rs"));

/// The base the schemas' relative ids (`/objects/pointset/1.3.0/pointset.schema.json`) resolve
/// against; never contacted.
const BASE: &str = "https://schemas.evo-emulator.invalid";

/// Why an object does not validate.
#[derive(Debug)]
pub(super) enum SchemaError {
    /// No embedded schema has this id.
    Unknown(String),
    /// The object breaks its schema: where in the object, which schema keyword, and why.
    Invalid {
        json_path: String,
        schema_path: Vec<String>,
        message: String,
    },
}

struct Schemas {
    registry: Option<Registry<'static>>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

fn schemas() -> &'static Schemas {
    static SCHEMAS_STATE: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS_STATE.get_or_init(|| {
        let resources = SCHEMAS.iter().filter_map(|(id, text)| {
            let doc: Value = serde_json::from_str(text).ok()?;
            Some((format!("{BASE}{id}"), doc))
        });
        let registry = Registry::new()
            .extend(resources)
            .and_then(|b| b.prepare())
            .map_err(|e| tracing::error!("the embedded object schemas do not load: {e}"))
            .ok();
        Schemas {
            registry,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

/// Whether an embedded schema has this id.
#[cfg(test)]
fn known(schema_id: &str) -> bool {
    SCHEMAS.iter().any(|(id, _)| *id == schema_id)
}

fn validator(schema_id: &str) -> Result<Arc<Validator>, SchemaError> {
    let state = schemas();
    if let Some(v) = state
        .validators
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(schema_id)
    {
        return Ok(v.clone());
    }
    let unknown = || SchemaError::Unknown(schema_id.to_owned());
    let text = SCHEMAS
        .iter()
        .find(|(id, _)| *id == schema_id)
        .map(|(_, text)| *text)
        .ok_or_else(unknown)?;
    let registry = state.registry.as_ref().ok_or_else(unknown)?;
    let doc: Value = serde_json::from_str(text).map_err(|_| unknown())?;
    let built = jsonschema::options()
        .with_registry(registry)
        .with_base_uri(format!("{BASE}{schema_id}"))
        .build(&doc)
        .map_err(|e| {
            tracing::error!(schema_id, "an embedded object schema does not compile: {e}");
            unknown()
        })?;
    let built = Arc::new(built);
    state
        .validators
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(schema_id.to_owned(), built.clone());
    Ok(built)
}

/// Checks `object` against the schema its `schema` member names.
pub(super) fn validate(schema_id: &str, object: &Value) -> Result<(), SchemaError> {
    let validator = validator(schema_id)?;
    match validator.iter_errors(object).next() {
        None => Ok(()),
        Some(e) => Err(SchemaError::Invalid {
            json_path: json_path(e.instance_path().as_str()),
            schema_path: e
                .schema_path()
                .as_str()
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect(),
            message: e.to_string(),
        }),
    }
}

/// `/structures/0/name` → `$.structures[0].name`.
fn json_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for seg in pointer.split('/').filter(|s| !s.is_empty()) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            out.push('.');
            out.push_str(&seg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_paths_read_like_the_api() {
        assert_eq!(json_path(""), "$");
        assert_eq!(json_path("/structures/0/name"), "$.structures[0].name");
    }

    #[test]
    fn every_object_schema_is_embedded() {
        assert!(known("/objects/pointset/1.3.0/pointset.schema.json"));
        assert!(known(
            "/elements/float-array-3/1.0.1/float-array-3.schema.json"
        ));
        assert!(!known("/objects/nothing/1.0.0/nothing.schema.json"));
    }

    #[test]
    fn a_pointset_validates_and_a_broken_one_does_not() {
        let id = "/objects/pointset/1.3.0/pointset.schema.json";
        let mut ps = json!({
            "schema": id,
            "uuid": "00000000-0000-0000-0000-000000000002",
            "name": "p",
            "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
            "coordinate_reference_system": {"epsg_code": 2048},
            "locations": {"coordinates": {
                "data": "0000000000000000000000000000000000000000000000000000000000000001",
                "length": 1, "width": 3, "data_type": "float64"
            }}
        });
        validate(id, &ps).unwrap();
        ps["locations"]["coordinates"]["width"] = json!(2);
        match validate(id, &ps) {
            Err(SchemaError::Invalid { json_path, .. }) => {
                assert!(json_path.starts_with("$.locations"), "{json_path}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            validate("/objects/none/1.0.0/none.schema.json", &ps),
            Err(SchemaError::Unknown(_))
        ));
    }
}
