//! Turns a [`Spec`] into Rust source: serde models and endpoint functions on
//! `evo_core::ApiConnector`. The output is unformatted; the caller runs rustfmt on it.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::openapi::{
    AdditionalProperties, Operation, Parameter, ParameterLocation, RefOr, Response, Schema, Spec,
    ref_name,
};

/// The three generated files, unformatted.
pub struct Generated {
    pub mod_rs: String,
    pub models_rs: String,
    pub endpoints_rs: String,
}

/// Generates the code for `spec`; `header` is the first comment line of every file.
pub fn generate(spec: &Spec, header: &str) -> Result<Generated, String> {
    let mut models = Models::new(spec);
    for (name, schema) in &spec.components.schemas {
        models.component(name, schema)?;
    }
    let endpoints = Endpoints::generate(spec, &mut models)?;
    let title = &spec.info.title;
    let version = &spec.info.version;

    let mut mod_rs = format!("// {header}\n\n");
    writeln!(
        mod_rs,
        "//! Code generated from the OpenAPI description of the {title} (version {version}).\n//!"
    )
    .unwrap();
    if let Some(d) = &spec.info.description {
        for line in doc_lines(d) {
            writeln!(mod_rs, "//!{line}").unwrap();
        }
        mod_rs.push_str("//!\n");
    }
    mod_rs.push_str(
        "//! [`models`] holds the request and response types; [`endpoints`] one async function per\n\
         //! operation, sending it with an `evo_core::ApiConnector`.\n\n\
         pub mod endpoints;\npub mod models;\n",
    );

    let mut models_rs = format!("// {header}\n\n");
    writeln!(
        models_rs,
        "//! Request and response types of the {title}.\n"
    )
    .unwrap();
    models_rs.push_str("#[allow(unused_imports)]\nuse serde::{Deserialize, Serialize};\n\n");
    models_rs.push_str(&models.out);

    let mut endpoints_rs = format!("// {header}\n\n");
    writeln!(
        endpoints_rs,
        "//! One function per operation of the {title}. Errors (any status the operation does not\n\
         //! list as a success) come back as `evo_core::Error::Api` with the status and body kept.\n"
    )
    .unwrap();
    endpoints_rs.push_str(
        "#[allow(unused_imports)]\nuse super::models::*;\n\
         #[allow(unused_imports)]\nuse evo_core::http::{Method, StatusCode};\n\
         #[allow(unused_imports)]\nuse evo_core::uuid::Uuid;\n\
         #[allow(unused_imports)]\nuse evo_core::{ApiConnector, CollectionFormat, Error};\n\n",
    );
    endpoints_rs.push_str(&endpoints);

    Ok(Generated {
        mod_rs,
        models_rs,
        endpoints_rs,
    })
}

// ---------------------------------------------------------------- names and docs

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// Splits a name into lowercase words at separators and case changes.
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        let boundary = c.is_ascii_uppercase()
            && i > 0
            && (chars[i - 1].is_ascii_lowercase()
                || chars[i - 1].is_ascii_digit()
                || (chars[i - 1].is_ascii_uppercase()
                    && chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())));
        if boundary && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `PascalCase`.
pub fn pascal(name: &str) -> String {
    let mut out: String = words(name)
        .iter()
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// `snake_case`, made a valid identifier (`type` → `r#type`, `self` → `self_`).
pub fn snake(name: &str) -> String {
    let mut out = words(name).join("_");
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if matches!(out.as_str(), "self" | "super" | "crate") {
        out.push('_');
    } else if KEYWORDS.contains(&out.as_str()) {
        out.insert_str(0, "r#");
    }
    out
}

/// A Rust string literal.
pub(super) fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// Doc text as `///` line bodies: collapsed whitespace kept per paragraph, `<`/`>` outside code
/// spans escaped, bare URLs wrapped in `<…>` so rustdoc renders them as links.
pub(super) fn doc_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, paragraph) in text.trim().split("\n\n").enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        let joined = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
        lines.push(format!(" {}", escape_doc(&joined)));
    }
    lines
}

fn escape_doc(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(part);
            continue;
        }
        let escaped = part.replace('<', "&lt;").replace('>', "&gt;");
        let mut words_out = Vec::new();
        for word in escaped.split(' ') {
            if word.starts_with("http://") || word.starts_with("https://") {
                let trimmed = word.trim_end_matches(['.', ',', ';', ')']);
                words_out.push(format!("<{trimmed}>{}", &word[trimmed.len()..]));
            } else {
                words_out.push(word.to_owned());
            }
        }
        out.push_str(&words_out.join(" "));
    }
    out
}

pub(super) fn push_doc(out: &mut String, text: &str) {
    for line in doc_lines(text) {
        writeln!(out, "///{line}").unwrap();
    }
}

// ---------------------------------------------------------------- types

/// A Rust type a schema maps to.
#[derive(Debug, Clone, PartialEq)]
enum RType {
    Uuid,
    DateTime,
    String,
    Bool,
    I32,
    I64,
    F64,
    Bytes,
    Json,
    JsonMap,
    Vec(Box<RType>),
    Map(Box<RType>),
    Named(String),
}

impl RType {
    fn render(&self) -> String {
        match self {
            RType::Uuid => "evo_core::uuid::Uuid".into(),
            RType::DateTime => "time::OffsetDateTime".into(),
            RType::String => "String".into(),
            RType::Bool => "bool".into(),
            RType::I32 => "i32".into(),
            RType::I64 => "i64".into(),
            RType::F64 => "f64".into(),
            RType::Bytes => "evo_core::bytes::Bytes".into(),
            RType::Json => "serde_json::Value".into(),
            RType::JsonMap => "serde_json::Map<String, serde_json::Value>".into(),
            RType::Vec(t) => format!("Vec<{}>", t.render()),
            RType::Map(t) => format!("std::collections::BTreeMap<String, {}>", t.render()),
            RType::Named(n) => n.clone(),
        }
    }

    /// Whether `Default::default()` is the empty value a spec `default` may name.
    fn default_matches(&self, value: &serde_norway::Value) -> bool {
        use serde_norway::Value as V;
        match (self, value) {
            (RType::String, V::String(s)) => s.is_empty(),
            (RType::Bool, V::Bool(b)) => !b,
            (RType::I32 | RType::I64 | RType::F64, V::Number(n)) => n.as_f64() == Some(0.0),
            (RType::Vec(_), V::Sequence(s)) => s.is_empty(),
            (RType::Map(_) | RType::JsonMap, V::Mapping(m)) => m.is_empty(),
            _ => false,
        }
    }

    /// Types a query parameter can carry (they implement `Display`).
    fn is_query_scalar(&self, enums: &BTreeSet<String>) -> bool {
        match self {
            RType::Uuid | RType::String | RType::Bool | RType::I32 | RType::I64 | RType::F64 => {
                true
            }
            RType::Named(n) => enums.contains(n),
            _ => false,
        }
    }
}

/// Collects model definitions, including the inline ones named after their context.
struct Models<'s> {
    spec: &'s Spec,
    out: String,
    names: BTreeSet<String>,
    enums: BTreeSet<String>,
    /// Named structs whose every field is optional or defaulted.
    defaultable: BTreeSet<String>,
}

impl<'s> Models<'s> {
    fn new(spec: &'s Spec) -> Self {
        Models {
            spec,
            out: String::new(),
            names: BTreeSet::new(),
            enums: BTreeSet::new(),
            defaultable: BTreeSet::new(),
        }
    }

    fn claim(&mut self, name: &str) -> Result<(), String> {
        if !self.names.insert(name.to_owned()) {
            return Err(format!("two generated types are named {name}"));
        }
        Ok(())
    }

    fn lookup(&self, reference: &str) -> Result<(&'s str, &'s Schema), String> {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .ok_or_else(|| {
                format!("unsupported $ref {reference:?} (only #/components/schemas/)")
            })?;
        self.spec
            .components
            .schemas
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
            .ok_or_else(|| format!("$ref {reference:?} names no schema"))
    }

    /// True when a component becomes a named type (struct or enum), not an alias.
    fn is_named(schema: &Schema) -> bool {
        !schema.enum_values.is_empty()
            || !schema.properties.is_empty()
            || (schema.types() == ["object"] && schema.additional_properties.is_none())
    }

    /// Emits a component schema.
    fn component(&mut self, name: &str, schema: &Schema) -> Result<(), String> {
        let rust_name = pascal(name);
        if Self::is_named(schema) {
            self.define(&rust_name, schema)?;
        } else {
            self.claim(&rust_name)?;
            let ty = self.resolve(schema, &rust_name)?;
            let mut text = String::new();
            push_doc(
                &mut text,
                schema
                    .description
                    .as_deref()
                    .unwrap_or("An alias of the spec."),
            );
            writeln!(text, "pub type {rust_name} = {};\n", ty.render()).unwrap();
            self.out.push_str(&text);
        }
        Ok(())
    }

    /// Emits a struct or enum named `name` for `schema`.
    fn define(&mut self, name: &str, schema: &Schema) -> Result<(), String> {
        self.claim(name)?;
        if !schema.enum_values.is_empty() {
            self.enums.insert(name.to_owned());
            let text = self.enum_def(name, schema)?;
            self.out.push_str(&text);
        } else {
            let text = self.struct_def(name, schema)?;
            self.out.push_str(&text);
        }
        Ok(())
    }

    /// The Rust type of `schema`; inline objects and enums are defined as `context`.
    fn resolve(&mut self, schema: &Schema, context: &str) -> Result<RType, String> {
        if let Some(reference) = &schema.reference {
            let (name, target) = self.lookup(reference)?;
            return if Self::is_named(target) {
                Ok(RType::Named(pascal(name)))
            } else {
                self.resolve(target, &pascal(name))
            };
        }
        if schema.all_of.len() == 1 {
            return self.resolve(&schema.all_of[0], context);
        }
        if !schema.all_of.is_empty() {
            return Err(format!(
                "{context}: allOf with several schemas is not supported"
            ));
        }
        let alternatives: Vec<&Schema> = schema
            .any_of
            .iter()
            .chain(&schema.one_of)
            .filter(|s| !s.is_null())
            .collect();
        match alternatives.len() {
            0 => {}
            1 => return self.resolve(alternatives[0], context),
            _ => {
                return Err(format!(
                    "{context}: anyOf/oneOf of several schemas is not supported; \
                     describe one object with optional fields instead"
                ));
            }
        }
        if !schema.enum_values.is_empty() {
            self.define(context, schema)?;
            return Ok(RType::Named(context.to_owned()));
        }
        let types = schema.types();
        match types.as_slice() {
            ["string"] => Ok(match schema.format.as_deref() {
                Some("uuid") => RType::Uuid,
                Some("date-time") => RType::DateTime,
                Some("binary") => RType::Bytes,
                _ => RType::String,
            }),
            ["integer"] => Ok(match schema.format.as_deref() {
                Some("int32") => RType::I32,
                _ => RType::I64,
            }),
            ["number"] => Ok(RType::F64),
            ["boolean"] => Ok(RType::Bool),
            ["array"] => {
                let items = schema
                    .items
                    .as_deref()
                    .ok_or_else(|| format!("{context}: an array needs `items`"))?;
                let inner = self.resolve(items, &format!("{context}Item"))?;
                Ok(RType::Vec(Box::new(inner)))
            }
            ["object"] | [] => {
                if !schema.properties.is_empty() {
                    self.define(context, schema)?;
                    return Ok(RType::Named(context.to_owned()));
                }
                match &schema.additional_properties {
                    Some(AdditionalProperties::Schema(values)) => {
                        let inner = self.resolve(values, &format!("{context}Value"))?;
                        Ok(RType::Map(Box::new(inner)))
                    }
                    _ if types.is_empty() => Ok(RType::Json),
                    _ => Ok(RType::JsonMap),
                }
            }
            other => Err(format!("{context}: unsupported type {other:?}")),
        }
    }

    fn struct_def(&mut self, name: &str, schema: &Schema) -> Result<String, String> {
        let open = matches!(
            schema.additional_properties,
            Some(AdditionalProperties::Flag(true))
        );
        if let Some(AdditionalProperties::Schema(_)) = schema.additional_properties {
            return Err(format!(
                "{name}: properties together with an additionalProperties schema are not supported"
            ));
        }
        for r in &schema.required {
            if !schema.properties.contains_key(r) {
                return Err(format!("{name}: required property {r:?} is not defined"));
            }
        }
        let mut fields = String::new();
        let mut all_optional = true;
        let mut rust_names = BTreeSet::new();
        for (json_name, prop) in &schema.properties {
            let rust_name = snake(json_name);
            if !rust_names.insert(rust_name.clone()) || rust_name == "extra" && open {
                return Err(format!("{name}: two fields are named {rust_name}"));
            }
            let ty = self.resolve(prop, &format!("{name}{}", pascal(json_name)))?;
            let required = schema.required.contains(json_name);
            let nullable = prop.is_nullable() || self.ref_nullable(prop)?;
            let doc = match &prop.description {
                Some(d) => d.clone(),
                None => self
                    .ref_description(prop)?
                    .unwrap_or_else(|| format!("`{json_name}`.")),
            };
            let mut serde_args: Vec<String> = Vec::new();
            if rust_name.trim_start_matches("r#") != json_name {
                serde_args.push(format!("rename = {}", lit(json_name)));
            }
            let (field_ty, optional) = if required && !nullable {
                all_optional = false;
                (ty.render(), false)
            } else if required {
                serde_args.push("default".into());
                (format!("Option<{}>", ty.render()), true)
            } else if let Some(default) = prop.default.as_ref().filter(|_| !nullable) {
                if !ty.default_matches(default) {
                    return Err(format!(
                        "{name}.{json_name}: only empty defaults (\"\", [], false, 0) are supported"
                    ));
                }
                serde_args.push("default".into());
                (ty.render(), false)
            } else {
                serde_args.push("default".into());
                serde_args.push("skip_serializing_if = \"Option::is_none\"".into());
                (format!("Option<{}>", ty.render()), true)
            };
            match &ty {
                RType::DateTime if optional => {
                    serde_args.push("with = \"time::serde::rfc3339::option\"".into())
                }
                RType::DateTime => serde_args.push("with = \"time::serde::rfc3339\"".into()),
                t if t.render().contains("OffsetDateTime") => {
                    return Err(format!(
                        "{name}.{json_name}: timestamps inside lists or maps are not supported"
                    ));
                }
                _ => {}
            }
            if let RType::Named(n) = &ty
                && !optional
                && !self.defaultable.contains(n)
                && !required
            {
                return Err(format!(
                    "{name}.{json_name}: a default for type {n} is not supported"
                ));
            }
            push_doc(&mut fields, &doc);
            if !serde_args.is_empty() {
                writeln!(fields, "#[serde({})]", serde_args.join(", ")).unwrap();
            }
            writeln!(fields, "pub {rust_name}: {field_ty},").unwrap();
        }
        if open {
            fields.push_str(
                "/// Members this version of the SDK does not know, kept as received so they\n\
                 /// survive a read-modify-write.\n\
                 #[serde(flatten)]\npub extra: serde_json::Map<String, serde_json::Value>,\n",
            );
        }
        let mut out = String::new();
        push_doc(
            &mut out,
            schema
                .description
                .as_deref()
                .unwrap_or("An object of the API."),
        );
        let derive_default = if all_optional {
            self.defaultable.insert(name.to_owned());
            ", Default"
        } else {
            ""
        };
        writeln!(
            out,
            "#[derive(Debug, Clone, PartialEq, Serialize, Deserialize{derive_default})]\npub struct {name} {{\n{fields}}}\n"
        )
        .unwrap();
        Ok(out)
    }

    fn ref_nullable(&self, schema: &Schema) -> Result<bool, String> {
        match &schema.reference {
            Some(r) => Ok(self.lookup(r)?.1.is_nullable()),
            None => Ok(false),
        }
    }

    fn ref_description(&self, schema: &Schema) -> Result<Option<String>, String> {
        match &schema.reference {
            Some(r) => Ok(self.lookup(r)?.1.description.clone()),
            None => Ok(None),
        }
    }

    fn enum_def(&mut self, name: &str, schema: &Schema) -> Result<String, String> {
        if schema.types() != ["string"] {
            return Err(format!("{name}: only string enums are supported"));
        }
        let mut values = Vec::new();
        let mut variants = BTreeSet::new();
        for v in &schema.enum_values {
            let serde_norway::Value::String(value) = v else {
                return Err(format!("{name}: enum value {v:?} is not a string"));
            };
            let variant = pascal(value);
            if variant.is_empty() || variant == "Unknown" || !variants.insert(variant.clone()) {
                return Err(format!(
                    "{name}: enum value {value:?} gives a bad or duplicate variant"
                ));
            }
            values.push((variant, value.clone()));
        }
        let values: Vec<(String, String, String)> = values
            .into_iter()
            .map(|(variant, value)| {
                let doc = match schema.enum_descriptions.get(&value) {
                    Some(d) => format!("`{value}`: {d}"),
                    None => format!("`{value}`."),
                };
                (variant, value, doc)
            })
            .collect();
        let doc = schema
            .description
            .as_deref()
            .unwrap_or("A value of the API.");
        Ok(string_enum(name, doc, &values))
    }
}

/// A `#[non_exhaustive]` string enum with an `Unknown(String)` variant, `as_str`, `Display`,
/// `From<&str>`, `FromStr` and string (de)serialization. `values` are (variant, wire value, doc).
pub(super) fn string_enum(name: &str, doc: &str, values: &[(String, String, String)]) -> String {
    let mut out = String::new();
    push_doc(&mut out, doc);
    out.push_str(
            "///\n/// Values this version of the SDK does not know are kept in [`Self::Unknown`], so a\n\
             /// new server value does not break parsing.\n",
        );
    writeln!(
        out,
        "#[derive(Debug, Clone, PartialEq, Eq, Hash)]\n#[non_exhaustive]\npub enum {name} {{"
    )
    .unwrap();
    for (variant, _, doc) in values {
        push_doc(&mut out, doc);
        writeln!(out, "{variant},").unwrap();
    }
    out.push_str(
        "/// A value this version of the SDK does not know, as received.\nUnknown(String),\n}\n\n",
    );
    writeln!(out, "impl {name} {{").unwrap();
    out.push_str("/// The value on the wire.\npub fn as_str(&self) -> &str {\nmatch self {\n");
    for (variant, value, _) in values {
        writeln!(out, "Self::{variant} => {},", lit(value)).unwrap();
    }
    out.push_str("Self::Unknown(value) => value,\n}\n}\n}\n\n");
    writeln!(
        out,
        "impl std::fmt::Display for {name} {{\n\
             fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n\
             f.write_str(self.as_str())\n}}\n}}\n"
    )
    .unwrap();
    writeln!(
        out,
        "impl From<&str> for {name} {{\nfn from(value: &str) -> Self {{\nmatch value {{"
    )
    .unwrap();
    for (variant, value, _) in values {
        writeln!(out, "{} => Self::{variant},", lit(value)).unwrap();
    }
    out.push_str("other => Self::Unknown(other.to_owned()),\n}\n}\n}\n\n");
    writeln!(
            out,
            "impl std::str::FromStr for {name} {{\n\
             type Err = std::convert::Infallible;\n\
             fn from_str(value: &str) -> Result<Self, Self::Err> {{\nOk(Self::from(value))\n}}\n}}\n\n\
             impl Serialize for {name} {{\n\
             fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\n\
             serializer.serialize_str(self.as_str())\n}}\n}}\n\n\
             impl<'de> Deserialize<'de> for {name} {{\n\
             fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n\
             let value = String::deserialize(deserializer)?;\nOk(Self::from(value.as_str()))\n}}\n}}\n"
        )
        .unwrap();
    out
}

// ---------------------------------------------------------------- endpoints

/// What a success response carries.
#[derive(Debug, Clone, PartialEq)]
enum Payload {
    Empty,
    Json(RType),
    Binary(Vec<String>),
}

/// The `http::StatusCode` constant and enum variant name of a status.
fn status_names(code: u16) -> Option<(&'static str, &'static str)> {
    Some(match code {
        200 => ("OK", "Ok"),
        201 => ("CREATED", "Created"),
        202 => ("ACCEPTED", "Accepted"),
        203 => (
            "NON_AUTHORITATIVE_INFORMATION",
            "NonAuthoritativeInformation",
        ),
        204 => ("NO_CONTENT", "NoContent"),
        206 => ("PARTIAL_CONTENT", "PartialContent"),
        301 => ("MOVED_PERMANENTLY", "MovedPermanently"),
        302 => ("FOUND", "Found"),
        303 => ("SEE_OTHER", "SeeOther"),
        304 => ("NOT_MODIFIED", "NotModified"),
        307 => ("TEMPORARY_REDIRECT", "TemporaryRedirect"),
        308 => ("PERMANENT_REDIRECT", "PermanentRedirect"),
        404 => ("NOT_FOUND", "NotFound"),
        409 => ("CONFLICT", "Conflict"),
        410 => ("GONE", "Gone"),
        503 => ("SERVICE_UNAVAILABLE", "ServiceUnavailable"),
        _ => return None,
    })
}

struct Endpoints;

impl Endpoints {
    fn generate(spec: &Spec, models: &mut Models<'_>) -> Result<String, String> {
        let mut out = String::new();
        let mut needs_binary = false;
        let mut fn_names = BTreeSet::new();
        for (path, item) in &spec.paths {
            for (method, op) in item.operations() {
                let name = snake(&op.operation_id);
                if !fn_names.insert(name.clone()) {
                    return Err(format!("two operations are named {name}"));
                }
                let text = Self::operation(
                    spec,
                    models,
                    path,
                    method,
                    &item.parameters,
                    op,
                    &mut needs_binary,
                )
                .map_err(|e| format!("{method} {path} ({}): {e}", op.operation_id))?;
                out.push_str(&text);
            }
        }
        if needs_binary {
            out.push_str(BINARY_SUPPORT);
        }
        Ok(out)
    }

    fn parameter(spec: &Spec, p: &RefOr<Parameter>) -> Result<Parameter, String> {
        match p {
            RefOr::Item(p) => Ok(p.clone()),
            RefOr::Ref { reference } => {
                let name = reference
                    .strip_prefix("#/components/parameters/")
                    .ok_or_else(|| format!("unsupported parameter $ref {reference:?}"))?;
                match spec.components.parameters.get(name) {
                    Some(RefOr::Item(p)) => Ok(p.clone()),
                    _ => Err(format!("parameter $ref {reference:?} names no parameter")),
                }
            }
        }
    }

    fn response(spec: &Spec, r: &RefOr<Response>) -> Result<Response, String> {
        match r {
            RefOr::Item(r) => Ok(r.clone()),
            RefOr::Ref { reference } => {
                let name = ref_name(reference).unwrap_or_default();
                match spec.components.responses.get(name) {
                    Some(RefOr::Item(r)) => Ok(r.clone()),
                    _ => Err(format!("response $ref {reference:?} names no response")),
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        spec: &Spec,
        models: &mut Models<'_>,
        path: &str,
        method: &str,
        path_params: &[RefOr<Parameter>],
        op: &Operation,
        needs_binary: &mut bool,
    ) -> Result<String, String> {
        let fn_name = snake(&op.operation_id);
        let op_type = pascal(&op.operation_id);

        // Parameters: path-level first, overridden by operation-level ones of the same name.
        let mut params: Vec<Parameter> = Vec::new();
        for p in path_params.iter().chain(&op.parameters) {
            let p = Self::parameter(spec, p)?;
            params.retain(|q| !(q.name == p.name && q.location == p.location));
            params.push(p);
        }
        params.retain(|p| {
            !(p.location == ParameterLocation::Header
                && p.name.eq_ignore_ascii_case("authorization"))
        });

        let mut args = vec!["connector: &ApiConnector".to_owned()];
        let mut chain = format!("connector\n.request(Method::{method}, {})", lit(path));
        let mut arg_docs = String::new();
        // Statements for optional headers and bodies, which cannot be chained.
        let mut optional: Vec<String> = Vec::new();

        // Path parameters, in the order of the template.
        let mut path_list: Vec<&Parameter> = params
            .iter()
            .filter(|p| p.location == ParameterLocation::Path)
            .collect();
        path_list.sort_by_key(|p| path.find(&format!("{{{}}}", p.name)).unwrap_or(usize::MAX));
        for p in &path_list {
            if !path.contains(&format!("{{{}}}", p.name)) {
                return Err(format!("path parameter {:?} is not in the path", p.name));
            }
            let arg = snake(&p.name);
            let ty = models.resolve(&p.schema, &format!("{op_type}{}", pascal(&p.name)))?;
            let arg_ty = match ty {
                RType::Uuid => "Uuid".to_owned(),
                RType::String => "&str".to_owned(),
                RType::I32 | RType::I64 => ty.render(),
                RType::Named(ref n) if models.enums.contains(n) => format!("&{n}"),
                other => return Err(format!("path parameter {:?} of type {other:?}", p.name)),
            };
            args.push(format!("{arg}: {arg_ty}"));
            let setter = if p.path_with_slashes {
                "path_param_with_slashes"
            } else {
                "path_param"
            };
            write!(chain, "\n.{setter}({}, {arg})", lit(&p.name)).unwrap();
            writeln!(
                arg_docs,
                "/// - `{arg}`: {}",
                doc_lines(p.description.as_deref().unwrap_or("a path parameter."))
                    .join(" ")
                    .trim()
            )
            .unwrap();
        }
        if path.matches('{').count() != path_list.len() {
            return Err("the path has placeholders without a parameter".into());
        }

        // Query and header parameters go in a params struct.
        let others: Vec<&Parameter> = params
            .iter()
            .filter(|p| {
                matches!(
                    p.location,
                    ParameterLocation::Query | ParameterLocation::Header
                )
            })
            .collect();
        if params
            .iter()
            .any(|p| p.location == ParameterLocation::Cookie)
        {
            return Err("cookie parameters are not supported".into());
        }
        let mut params_struct = String::new();
        if !others.is_empty() {
            let struct_name = format!("{op_type}Params");
            models.claim(&struct_name)?;
            let mut fields = String::new();
            let mut all_optional = true;
            for p in &others {
                let field = snake(&p.name);
                let ty = models.resolve(&p.schema, &format!("{op_type}{}", pascal(&p.name)))?;
                push_doc(
                    &mut fields,
                    p.description.as_deref().unwrap_or("A parameter."),
                );
                let getter = format!("params.{field}");
                match (&p.location, &ty) {
                    (ParameterLocation::Header, RType::String) => {
                        if p.required {
                            all_optional = false;
                            writeln!(fields, "pub {field}: String,").unwrap();
                            write!(chain, "\n.header({}, &{getter})", lit(&p.name)).unwrap();
                        } else {
                            writeln!(fields, "pub {field}: Option<String>,").unwrap();
                            optional.push(format!(
                                "if let Some(value) = &{getter} {{\nrequest = request.header({}, value);\n}}",
                                lit(&p.name)
                            ));
                        }
                    }
                    (ParameterLocation::Header, _) => {
                        return Err(format!("header parameter {:?} must be a string", p.name));
                    }
                    (_, RType::Vec(inner)) if inner.is_query_scalar(&models.enums) => {
                        writeln!(fields, "pub {field}: {},", ty.render()).unwrap();
                        let format = if p.explode.unwrap_or(true) {
                            "Multi"
                        } else {
                            "Csv"
                        };
                        write!(
                            chain,
                            "\n.query_list({}, &{getter}, CollectionFormat::{format})",
                            lit(&p.name)
                        )
                        .unwrap();
                    }
                    (_, t) if t.is_query_scalar(&models.enums) => {
                        let by_ref = matches!(t, RType::String | RType::Named(_));
                        if p.required {
                            all_optional = false;
                            writeln!(fields, "pub {field}: {},", t.render()).unwrap();
                            let value = if by_ref {
                                format!("&{getter}")
                            } else {
                                getter.clone()
                            };
                            write!(chain, "\n.query({}, {value})", lit(&p.name)).unwrap();
                        } else {
                            writeln!(fields, "pub {field}: Option<{}>,", t.render()).unwrap();
                            let value = if by_ref {
                                format!("{getter}.as_ref()")
                            } else {
                                getter.clone()
                            };
                            write!(chain, "\n.query_opt({}, {value})", lit(&p.name)).unwrap();
                        }
                    }
                    (_, other) => {
                        return Err(format!("query parameter {:?} of type {other:?}", p.name));
                    }
                }
            }
            push_doc(
                &mut params_struct,
                &format!("The query and header parameters of [`{fn_name}`]."),
            );
            let derive = if all_optional { ", Default" } else { "" };
            writeln!(
                params_struct,
                "#[derive(Debug, Clone, PartialEq{derive})]\npub struct {struct_name} {{\n{fields}}}\n"
            )
            .unwrap();
            args.push(format!("params: &{struct_name}"));
        }

        // Request body.
        if let Some(body) = &op.request_body {
            let json = body.content.iter().find(|(ct, _)| ct.contains("json"));
            match json {
                Some((_, media)) => {
                    let schema = media.schema.clone().unwrap_or_default();
                    let ty = models.resolve(&schema, &format!("{op_type}Body"))?;
                    if body.required {
                        args.push(format!("body: &{}", ty.render()));
                        chain.push_str("\n.json(body)");
                    } else {
                        args.push(format!("body: Option<&{}>", ty.render()));
                        optional.push(
                            "if let Some(body) = body {\nrequest = request.json(body);\n}".into(),
                        );
                    }
                    writeln!(
                        arg_docs,
                        "/// - `body`: {}",
                        doc_lines(
                            body.description
                                .as_deref()
                                .unwrap_or("the JSON request body.")
                        )
                        .join(" ")
                        .trim()
                    )
                    .unwrap();
                }
                None => {
                    let binary = body.content.values().all(|m| {
                        m.schema
                            .as_ref()
                            .is_none_or(|s| s.format.as_deref() == Some("binary"))
                    });
                    if !binary || body.content.is_empty() {
                        return Err("request bodies must be JSON or binary".into());
                    }
                    let types: Vec<&str> = body.content.keys().map(String::as_str).collect();
                    args.push("body: evo_core::bytes::Bytes".into());
                    args.push("content_type: &str".into());
                    chain.push_str("\n.body(evo_core::Body::from(body), Some(content_type))");
                    writeln!(
                        arg_docs,
                        "/// - `body`, `content_type`: the request body and its media type (one of {}).",
                        types.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
                    )
                    .unwrap();
                }
            }
        }

        // Success responses.
        let mut successes: Vec<(u16, Payload, String)> = Vec::new();
        for (code, response) in &op.responses {
            let response = Self::response(spec, response)?;
            let Ok(status) = code.parse::<u16>() else {
                continue;
            };
            if !(200..400).contains(&status) && !response.expected {
                continue;
            }
            let payload = if response.content.is_empty() {
                Payload::Empty
            } else if let Some((_, media)) =
                response.content.iter().find(|(ct, _)| ct.contains("json"))
            {
                match &media.schema {
                    Some(schema) => Payload::Json(models.resolve(
                        schema,
                        &format!(
                            "{op_type}{}",
                            status_names(status).map(|n| n.1).unwrap_or("Response")
                        ),
                    )?),
                    None => Payload::Json(RType::Json),
                }
            } else {
                Payload::Binary(response.content.keys().cloned().collect())
            };
            successes.push((status, payload, response.description.unwrap_or_default()));
        }
        if successes.is_empty() {
            return Err("no success response".into());
        }
        let accept: Vec<String> = successes
            .iter()
            .flat_map(|(_, p, _)| match p {
                Payload::Binary(types) => types.clone(),
                _ => Vec::new(),
            })
            .collect();
        let (prelude, mut chain) = if optional.is_empty() {
            (String::new(), chain)
        } else {
            (
                format!("let mut request = {chain};\n{}\n", optional.join("\n")),
                "request".to_owned(),
            )
        };
        if !accept.is_empty() {
            *needs_binary = true;
            write!(chain, "\n.header(\"accept\", {})", lit(&accept.join(", "))).unwrap();
        }
        let mut consts = Vec::new();
        for (status, _, _) in &successes {
            let (c, _) =
                status_names(*status).ok_or_else(|| format!("status {status} is not supported"))?;
            consts.push(format!("StatusCode::{c}"));
        }
        write!(chain, "\n.expect_status(&[{}])", consts.join(", ")).unwrap();

        let mut response_enum = String::new();
        let (return_type, body_code) = if successes.len() == 1 {
            let (_, payload, _) = &successes[0];
            match payload {
                Payload::Empty => (
                    "()".to_owned(),
                    format!("{chain}\n.send_empty()\n.await?;\nOk(())"),
                ),
                Payload::Json(t) => (
                    t.render(),
                    format!("{chain}\n.send_json::<{}>()\n.await", t.render()),
                ),
                Payload::Binary(_) => (
                    "BinaryBody".to_owned(),
                    format!(
                        "let response = {chain}\n.send()\n.await?;\nread_binary(response).await"
                    ),
                ),
            }
        } else {
            let enum_name = format!("{op_type}Response");
            models.claim(&enum_name)?;
            push_doc(
                &mut response_enum,
                &format!("The answers of [`{fn_name}`]."),
            );
            writeln!(
                response_enum,
                "#[derive(Debug, Clone, PartialEq)]\n#[allow(clippy::large_enum_variant)]\npub enum {enum_name} {{"
            )
            .unwrap();
            let mut arms = String::new();
            for (status, payload, description) in &successes {
                let (_, variant) = status_names(*status).unwrap_or(("", ""));
                push_doc(&mut response_enum, &format!("{status}: {description}"));
                match payload {
                    Payload::Empty => {
                        writeln!(response_enum, "{variant},").unwrap();
                        writeln!(arms, "{status} => Ok({enum_name}::{variant}),").unwrap();
                    }
                    Payload::Json(t) => {
                        writeln!(response_enum, "{variant}({}),", t.render()).unwrap();
                        writeln!(
                            arms,
                            "{status} => Ok({enum_name}::{variant}(evo_core::decode_json(response, evo_core::DEFAULT_MAX_RESPONSE_BYTES).await?)),"
                        )
                        .unwrap();
                    }
                    Payload::Binary(_) => {
                        writeln!(response_enum, "{variant}(BinaryBody),").unwrap();
                        writeln!(
                            arms,
                            "{status} => Ok({enum_name}::{variant}(read_binary(response).await?)),"
                        )
                        .unwrap();
                    }
                }
            }
            response_enum.push_str("}\n\n");
            (
                enum_name,
                format!(
                    "let response = {chain}\n.send()\n.await?;\nmatch response.status().as_u16() {{\n{arms}_ => Err(evo_core::api_error_from_response(response, None, None).await),\n}}"
                ),
            )
        };

        let body_code = format!("{prelude}{body_code}");

        let mut out = String::new();
        out.push_str(&params_struct);
        out.push_str(&response_enum);
        push_doc(&mut out, op.summary.as_deref().unwrap_or(&op.operation_id));
        out.push_str("///\n");
        writeln!(out, "/// `{method} {path}`").unwrap();
        if let Some(d) = &op.description {
            out.push_str("///\n");
            push_doc(&mut out, d);
        }
        if !arg_docs.is_empty() {
            out.push_str("///\n");
            out.push_str(&arg_docs);
        }
        if op.deprecated {
            out.push_str("#[deprecated]\n");
        }
        writeln!(
            out,
            "pub async fn {fn_name}({}) -> Result<{return_type}, Error> {{\n{body_code}\n}}\n",
            args.join(", ")
        )
        .unwrap();
        Ok(out)
    }
}

/// Support code for binary responses.
const BINARY_SUPPORT: &str = r#"
/// A binary response body with its media type.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryBody {
    /// The `Content-Type` the server sent.
    pub content_type: Option<String>,
    /// The body.
    pub data: evo_core::bytes::Bytes,
}

/// Reads a whole binary response (at most `evo_core::DEFAULT_MAX_RESPONSE_BYTES`).
async fn read_binary(response: evo_core::http::Response<evo_core::Body>) -> Result<BinaryBody, Error> {
    let status = response.status();
    let content_type = response
        .headers()
        .get(evo_core::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let data = response
        .into_body()
        .collect(evo_core::DEFAULT_MAX_RESPONSE_BYTES)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => Error::from(evo_core::DecodeError::new(
                "a body within the size limit",
                status,
                e.to_string(),
                b"",
            )),
            _ => Error::from(
                evo_core::TransportError::new(
                    evo_core::TransportErrorKind::Connection,
                    format!("reading the response body failed: {e}"),
                )
                .with_source(e),
            ),
        })?;
    Ok(BinaryBody { content_type, data })
}
"#;
