//! The subset of OpenAPI 3.0/3.1 that evo-rs specs use, as typed serde structs.
//!
//! Unknown keys are ignored (examples, titles, patterns, limits), so public specs can be read as
//! they are; features the emitter cannot turn into Rust are rejected there with a message naming
//! the schema or operation.

use indexmap::IndexMap;
use serde::Deserialize;

/// An OpenAPI document.
#[derive(Debug, Deserialize)]
pub struct Spec {
    pub info: Info,
    #[serde(default)]
    pub paths: IndexMap<String, PathItem>,
    #[serde(default)]
    pub components: Components,
}

/// `info`.
#[derive(Debug, Deserialize)]
pub struct Info {
    pub title: String,
    pub version: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// `components`.
#[derive(Debug, Default, Deserialize)]
pub struct Components {
    #[serde(default)]
    pub schemas: IndexMap<String, Schema>,
    #[serde(default)]
    pub parameters: IndexMap<String, RefOr<Parameter>>,
    #[serde(default)]
    pub responses: IndexMap<String, RefOr<Response>>,
}

/// A `$ref` or an inline value.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RefOr<T> {
    Ref {
        #[serde(rename = "$ref")]
        reference: String,
    },
    Item(T),
}

/// One path with its operations.
#[derive(Debug, Default, Deserialize)]
pub struct PathItem {
    #[serde(default)]
    pub parameters: Vec<RefOr<Parameter>>,
    pub get: Option<Operation>,
    pub put: Option<Operation>,
    pub post: Option<Operation>,
    pub patch: Option<Operation>,
    pub delete: Option<Operation>,
    pub head: Option<Operation>,
}

impl PathItem {
    /// The operations in a fixed order, with their HTTP method names.
    pub fn operations(&self) -> Vec<(&'static str, &Operation)> {
        [
            ("GET", &self.get),
            ("PUT", &self.put),
            ("POST", &self.post),
            ("PATCH", &self.patch),
            ("DELETE", &self.delete),
            ("HEAD", &self.head),
        ]
        .into_iter()
        .filter_map(|(m, op)| op.as_ref().map(|op| (m, op)))
        .collect()
    }
}

/// An operation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub operation_id: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Vec<RefOr<Parameter>>,
    #[serde(default)]
    pub request_body: Option<RequestBody>,
    #[serde(default)]
    pub responses: IndexMap<String, RefOr<Response>>,
    #[serde(default)]
    pub deprecated: bool,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterLocation {
    Path,
    Query,
    Header,
    Cookie,
}

/// A parameter.
#[derive(Debug, Clone, Deserialize)]
pub struct Parameter {
    pub name: String,
    #[serde(rename = "in")]
    pub location: ParameterLocation,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: Option<String>,
    pub schema: Schema,
    #[serde(default)]
    pub explode: Option<bool>,
    /// evo-rs extension: the value is a path whose `/` must stay unescaped
    /// (`x-evo-path-with-slashes: true`; `x-allow-slashes: true` is accepted too).
    #[serde(rename = "x-evo-path-with-slashes", alias = "x-allow-slashes", default)]
    pub path_with_slashes: bool,
}

/// A request body.
#[derive(Debug, Deserialize)]
pub struct RequestBody {
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: Option<String>,
    pub content: IndexMap<String, MediaType>,
}

/// A response.
#[derive(Debug, Clone, Deserialize)]
pub struct Response {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub content: IndexMap<String, MediaType>,
    /// evo-rs extension: this status (outside 2xx/3xx, e.g. a 503 health report) is an answer
    /// the operation returns as data, not an error.
    #[serde(rename = "x-evo-expected", default)]
    pub expected: bool,
}

/// A media type entry.
#[derive(Debug, Clone, Deserialize)]
pub struct MediaType {
    #[serde(default)]
    pub schema: Option<Schema>,
}

/// `type`: one name (3.0) or a list (3.1, e.g. `[string, "null"]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TypeSpec {
    One(String),
    Many(Vec<String>),
}

/// `additionalProperties`: a flag or a schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AdditionalProperties {
    Flag(bool),
    Schema(Box<Schema>),
}

/// A schema.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    #[serde(rename = "$ref")]
    pub reference: Option<String>,
    #[serde(rename = "type")]
    pub type_spec: Option<TypeSpec>,
    pub format: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub nullable: bool,
    #[serde(default)]
    pub required: Vec<String>,
    #[serde(default)]
    pub properties: IndexMap<String, Schema>,
    pub items: Option<Box<Schema>>,
    pub additional_properties: Option<AdditionalProperties>,
    #[serde(rename = "enum", default)]
    pub enum_values: Vec<serde_norway::Value>,
    pub default: Option<serde_norway::Value>,
    #[serde(default)]
    pub any_of: Vec<Schema>,
    #[serde(default)]
    pub one_of: Vec<Schema>,
    #[serde(default)]
    pub all_of: Vec<Schema>,
    /// evo-rs extension: documentation of each enum value.
    #[serde(rename = "x-enum-descriptions", default)]
    pub enum_descriptions: IndexMap<String, String>,
}

impl Schema {
    /// The non-null type names.
    pub fn types(&self) -> Vec<&str> {
        match &self.type_spec {
            None => Vec::new(),
            Some(TypeSpec::One(t)) => vec![t.as_str()],
            Some(TypeSpec::Many(ts)) => ts
                .iter()
                .map(String::as_str)
                .filter(|t| *t != "null")
                .collect(),
        }
    }

    /// True when `null` is allowed (3.0 `nullable`, 3.1 `type: [.., "null"]`, or
    /// `anyOf: [X, {type: "null"}]`).
    pub fn is_nullable(&self) -> bool {
        self.nullable
            || matches!(&self.type_spec, Some(TypeSpec::Many(ts)) if ts.iter().any(|t| t == "null"))
            || self.any_of.iter().chain(&self.one_of).any(Schema::is_null)
    }

    /// True for `{type: "null"}`.
    pub fn is_null(&self) -> bool {
        matches!(&self.type_spec, Some(TypeSpec::One(t)) if t == "null")
    }
}

/// The name of a `#/components/.../Name` reference.
pub fn ref_name(reference: &str) -> Option<&str> {
    reference.rsplit_once('/').map(|(_, name)| name)
}
