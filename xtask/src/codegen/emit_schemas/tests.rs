//! Tests of the generated code: objects flattened, unions ordered, name clashes reported.

use serde_json::{Value, json};

use super::naming::drop_common_words;
use super::*;

fn generate_set(values: Vec<Value>) -> Result<BTreeMap<&'static str, String>, String> {
    let set = SchemaSet::from_values(values);
    generate(&set, "header").map(|files| files.into_iter().collect())
}

fn base() -> Value {
    json!({
        "$id": "/components/base-thing/1.0.0/base-thing.schema.json",
        "description": "Common members.",
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "The name."},
            "uuid": {"oneOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]},
            "kind": {"type": "string"},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}}
        },
        "required": ["name", "uuid", "kind"]
    })
}

fn shape(version: &str, extra_required: &[&str]) -> Value {
    let mut required = vec!["schema", "kind", "size", "origin"];
    required.extend_from_slice(extra_required);
    json!({
        "$id": format!("/objects/shape/{version}/shape.schema.json"),
        "description": "A shape.",
        "allOf": [
            {"$ref": "/components/base-thing/1.0.0/base-thing.schema.json"},
            {"properties": {
                "schema": {"const": format!("/objects/shape/{version}/shape.schema.json")},
                "kind": {"const": "shape"},
                "size": {"type": "integer", "description": "Cells."},
                "origin": {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3},
                "colour": {"type": "string", "enum": ["red", "dark-blue"]},
                "parts": {"type": "array", "items": {"$ref": "#/$defs/part"}},
                "label": {"type": "string"}
            }}
        ],
        "$defs": {
            "part": {
                "description": "A part.",
                "oneOf": [
                    {"$ref": "/components/circle/1.0.0/circle.schema.json"},
                    {"$ref": "/components/square/1.0.0/square.schema.json"}
                ]
            }
        },
        "required": required
    })
}

fn parts() -> Vec<Value> {
    vec![
        json!({
            "$id": "/components/circle/1.0.0/circle.schema.json",
            "type": "object",
            "properties": {"part_type": {"const": "circle"}, "radius": {"type": "number"}},
            "required": ["part_type", "radius"]
        }),
        json!({
            "$id": "/components/square/1.0.0/square.schema.json",
            "type": "object",
            "properties": {"part_type": {"const": "square"}, "side": {"type": "number"}},
            "required": ["part_type", "side"]
        }),
    ]
}

#[test]
fn objects_flatten_all_of_and_keep_unknown_members() {
    let mut values = vec![base(), shape("1.1.0", &["label"]), shape("1.0.0", &[])];
    values.extend(parts());
    let files = generate_set(values).unwrap();
    let objects = &files["objects.rs"];
    // Only the latest version of an object becomes a type.
    assert_eq!(
        objects.matches("pub struct Shape {").count(),
        1,
        "{objects}"
    );
    for field in [
        "pub name: String,",
        "pub uuid: Option<evo_core::uuid::Uuid>,",
        "pub kind: String,",
        "pub tags: Option<std::collections::BTreeMap<String, String>>,",
        "pub origin: [f64; 3],",
        "pub colour: Option<ShapeColour>,",
        "pub parts: Option<Vec<ShapePart>>,",
        "pub extra: serde_json::Map<String, serde_json::Value>,",
        "#[serde(flatten)]",
        "deserialize_with = \"super::geoscience_object::integers::deserialize\"",
    ] {
        assert!(objects.contains(field), "{field}\n{objects}");
    }
    // `label` is required in 1.1.0 but not in 1.0.0: an older object still reads.
    assert!(objects.contains("pub label: Option<String>,"), "{objects}");
    // Fixed members are filled by `new`, which takes the others (in member order; sorted
    // here, as `from_values` does not know the document order).
    assert!(
        objects.contains("pub fn new(name: impl Into<String>, uuid: Option<evo_core::uuid::Uuid>, origin: [f64; 3], size: i64) -> Self"),
        "{objects}"
    );
    assert!(objects.contains("kind: \"shape\".to_owned(),"), "{objects}");
    assert!(objects.contains("schema: \"/objects/shape/1.1.0/shape.schema.json\".to_owned(),"));
    // String enums keep unknown values.
    assert!(objects.contains("pub enum ShapeColour {"), "{objects}");
    assert!(objects.contains("DarkBlue,"), "{objects}");
    assert!(objects.contains("Unknown(String),"), "{objects}");
    // The union of parts is tagged by `part_type`, with a fallback.
    assert!(objects.contains("pub enum ShapePart {"), "{objects}");
    assert!(objects.contains("Circle(Circle),"), "{objects}");
    assert!(objects.contains("Some(\"square\") => match"), "{objects}");
    assert!(objects.contains("Unknown(serde_json::Value),"), "{objects}");
    let components = &files["components.rs"];
    assert!(components.contains("pub struct Circle {"), "{components}");
    // A part only ever flattened into others is no type of its own.
    assert!(!components.contains("BaseThing"), "{components}");
    let dispatch = &files["geoscience_object.rs"];
    assert!(
        dispatch.contains("(\"shape\", 1) => Shape::deserialize(&value)"),
        "{dispatch}"
    );
    assert!(
        dispatch.contains(
            "const SCHEMA_ID: &'static str = \"/objects/shape/1.1.0/shape.schema.json\";"
        )
    );
}

#[test]
fn untagged_unions_try_the_most_specific_alternative_first() {
    let values = vec![json!({
        "$id": "/objects/thing/1.0.0/thing.schema.json",
        "type": "object",
        "properties": {
            "schema": {"const": "/objects/thing/1.0.0/thing.schema.json"},
            "crs": {"oneOf": [
                {"type": "object", "properties": {"code": {"type": "integer"}}, "required": ["code"]},
                {"type": "object", "properties": {"code": {"type": "integer"}, "text": {"type": "string"}}, "required": ["code", "text"]},
                {"const": "unspecified"}
            ]},
            "blob": {"oneOf": [{"type": "string"}, {"type": "string", "format": "uuid"}, {"type": "null"}]}
        },
        "required": ["schema", "crs", "blob"]
    })];
    let files = generate_set(values).unwrap();
    let objects = &files["objects.rs"];
    assert!(objects.contains("pub enum ThingCrs {"), "{objects}");
    assert!(objects.contains("Unspecified,"), "{objects}");
    let text_first = objects
        .find("Self::Variant1(parsed)")
        .expect("two-member alternative");
    let code_second = objects
        .find("Self::Code(parsed)")
        .expect("one-member alternative");
    assert!(text_first < code_second, "{objects}");
    // Only strings (and null) left: a nullable string.
    assert!(objects.contains("pub blob: Option<String>,"), "{objects}");
}

#[test]
fn clashing_names_are_reported() {
    let values = vec![
        json!({
            "$id": "/objects/thing/1.0.0/thing.schema.json",
            "type": "object",
            "properties": {
                "schema": {"const": "/objects/thing/1.0.0/thing.schema.json"},
                "part": {"type": "object", "properties": {"a": {"type": "string"}}},
                "other": {"$ref": "/components/thing-part/1.0.0/thing-part.schema.json"}
            }
        }),
        json!({
            "$id": "/components/thing-part/1.0.0/thing-part.schema.json",
            "type": "object",
            "properties": {"b": {"type": "string"}}
        }),
    ];
    let err = generate_set(values).unwrap_err();
    assert!(
        err.contains("two generated types are named ThingPart"),
        "{err}"
    );
    let err = generate_set(vec![]).unwrap_err();
    assert!(err.contains("no object schemas"), "{err}");
}

#[test]
fn common_words_leave_variant_names() {
    let names =
        |n: &[&str]| drop_common_words(&n.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        names(&["VariogramSphericalStructure", "VariogramGaussianStructure"]),
        ["Spherical", "Gaussian"]
    );
    assert_eq!(
        names(&["BoolAttribute", "ContinuousEnsemble"]),
        ["BoolAttribute", "ContinuousEnsemble"]
    );
    // Nothing left for one of them: the names stay whole.
    assert_eq!(
        names(&["Attribute", "BoolAttribute"]),
        ["Attribute", "BoolAttribute"]
    );
    assert_eq!(names(&["Float2D", "Float3D"]), ["Float2", "Float3"]);
}
