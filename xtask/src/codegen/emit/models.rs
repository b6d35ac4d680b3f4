//! The models: the Rust type each schema maps to ([`RType`]), and the struct and enum
//! definitions of the named and inline schemas ([`Models`]).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::codegen::openapi::{AdditionalProperties, Schema, Spec};

use super::names::{lit, pascal, push_doc, snake};

/// A Rust type a schema maps to.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum RType {
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
    pub(super) fn render(&self) -> String {
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
    pub(super) fn default_matches(&self, value: &serde_norway::Value) -> bool {
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
    pub(super) fn is_query_scalar(&self, enums: &BTreeSet<String>) -> bool {
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
pub(super) struct Models<'s> {
    pub(super) spec: &'s Spec,
    pub(super) out: String,
    pub(super) names: BTreeSet<String>,
    pub(super) enums: BTreeSet<String>,
    /// Named structs whose every field is optional or defaulted.
    pub(super) defaultable: BTreeSet<String>,
}

impl<'s> Models<'s> {
    pub(super) fn new(spec: &'s Spec) -> Self {
        Models {
            spec,
            out: String::new(),
            names: BTreeSet::new(),
            enums: BTreeSet::new(),
            defaultable: BTreeSet::new(),
        }
    }

    pub(super) fn claim(&mut self, name: &str) -> Result<(), String> {
        if !self.names.insert(name.to_owned()) {
            return Err(format!("two generated types are named {name}"));
        }
        Ok(())
    }

    pub(super) fn lookup(&self, reference: &str) -> Result<(&'s str, &'s Schema), String> {
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
    pub(super) fn is_named(schema: &Schema) -> bool {
        !schema.enum_values.is_empty()
            || !schema.properties.is_empty()
            || (schema.types() == ["object"] && schema.additional_properties.is_none())
    }

    /// Emits a component schema.
    pub(super) fn component(&mut self, name: &str, schema: &Schema) -> Result<(), String> {
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
    pub(super) fn define(&mut self, name: &str, schema: &Schema) -> Result<(), String> {
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
    pub(super) fn resolve(&mut self, schema: &Schema, context: &str) -> Result<RType, String> {
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

    pub(super) fn struct_def(&mut self, name: &str, schema: &Schema) -> Result<String, String> {
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

    pub(super) fn ref_nullable(&self, schema: &Schema) -> Result<bool, String> {
        match &schema.reference {
            Some(r) => Ok(self.lookup(r)?.1.is_nullable()),
            None => Ok(false),
        }
    }

    pub(super) fn ref_description(&self, schema: &Schema) -> Result<Option<String>, String> {
        match &schema.reference {
            Some(r) => Ok(self.lookup(r)?.1.description.clone()),
            None => Ok(None),
        }
    }

    pub(super) fn enum_def(&mut self, name: &str, schema: &Schema) -> Result<String, String> {
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
pub(in crate::codegen) fn string_enum(
    name: &str,
    doc: &str,
    values: &[(String, String, String)],
) -> String {
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
