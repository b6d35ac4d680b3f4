//! Turns the Geoscience Object JSON Schemas into Rust types: one struct per object schema (its
//! `allOf` parts flattened into one set of fields), one type per component, element or `$defs`
//! entry it uses, string enums with an `Unknown` fallback, `oneOf` unions as enums (tagged by a
//! constant member when the alternatives have one), and `GeoscienceObject`, the enum over every
//! object keyed by its `schema` member. The output is unformatted; the caller runs rustfmt.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use super::emit::{lit, pascal, push_doc, snake, string_enum};
use super::json_schema::{
    Flat, Loc, ObjectSchema, SchemaSet, file_kind, file_type_name, type_name,
};

/// The modules of the output, in the order `mod.rs` lists them.
const MODULES: &[(&str, &str)] = &[
    (
        "objects",
        "The geoscience object types, one per object schema at its latest version.",
    ),
    (
        "components",
        "The components the object schemas are built from.",
    ),
    (
        "elements",
        "The elements (data arrays, units, blobs) the components are built from.",
    ),
];

/// The Rust type a schema maps to.
#[derive(Debug, Clone)]
struct Ty {
    rust: String,
    /// The schema also allows `null`.
    nullable: bool,
    /// JSON integers inside (an `i64`, or a list, map or alias of them).
    integer: bool,
}

impl Ty {
    fn plain(rust: &str) -> Self {
        Ty {
            rust: rust.to_owned(),
            nullable: false,
            integer: rust == "i64",
        }
    }

    /// `rust`, a wrapper (list, map) around `inner`.
    fn around(rust: String, inner: &Ty) -> Self {
        Ty {
            rust,
            nullable: false,
            integer: inner.integer,
        }
    }

    /// The type as an item of a list or map (`Option` when `null` is allowed).
    fn value(&self) -> String {
        if self.nullable {
            format!("Option<{}>", self.rust)
        } else {
            self.rust.clone()
        }
    }
}

/// Generates the files (name, unformatted source) for the latest version of every object in
/// `set`; `header` is the first comment line of each.
pub fn generate(set: &SchemaSet, header: &str) -> Result<Vec<(&'static str, String)>, String> {
    let objects = set.latest_objects()?;
    if objects.is_empty() {
        return Err("no object schemas (/objects/<name>/<version>/<name>.schema.json)".into());
    }
    let mut generator = Generator {
        set,
        memo: BTreeMap::new(),
        names: BTreeMap::new(),
        defs: BTreeMap::new(),
    };
    let mut typed = Vec::new();
    for object in &objects {
        let loc = Loc::root(&object.id);
        let ty = generator
            .ty(&loc)
            .map_err(|e| format!("{}: {e}", object.id))?;
        if !generator.defs.contains_key(&ty.rust) {
            return Err(format!(
                "{}: an object schema must describe an object",
                object.id
            ));
        }
        typed.push((object.clone(), ty.rust));
    }

    let mut files = Vec::new();
    let mut mod_rs = format!("// {header}\n\n");
    mod_rs.push_str(
        "//! Types generated from the Seequent Geoscience Object JSON Schemas (`specs/evo-schemas/`,\n\
         //! Apache-2.0): every object schema at its latest version, with the components and\n\
         //! elements it uses.\n//!\n\
         //! Each object is a struct with its `allOf` parts flattened into one set of fields;\n\
         //! optional members are `Option`s (left out of the JSON when `None`), string enums keep\n\
         //! values this SDK does not know in an `Unknown` variant, `oneOf` unions are enums with an\n\
         //! `Unknown(serde_json::Value)` fallback, and every struct keeps members it does not know\n\
         //! in `extra`, so a read-modify-write of a newer object loses nothing.\n//!\n\
         //! [`GeoscienceObject`] reads any object, typed by its `schema` member, and keeps objects\n\
         //! of other schemas as JSON; [`SchemaId`] parses and prints schema ids.\n\n",
    );
    for (module, doc) in MODULES {
        writeln!(mod_rs, "/// {doc}\npub mod {module};").unwrap();
    }
    mod_rs.push_str("mod geoscience_object;\n\n");
    for (module, _) in MODULES {
        writeln!(mod_rs, "pub use {module}::*;").unwrap();
    }
    mod_rs.push_str("pub use geoscience_object::*;\n");
    files.push(("mod.rs", mod_rs));

    for (module, doc) in MODULES {
        let mut text = format!("// {header}\n\n//! {doc}\n\n");
        let others: Vec<String> = MODULES
            .iter()
            .filter(|(other, _)| other != module)
            .map(|(other, _)| format!("{other}::*"))
            .collect();
        writeln!(
            text,
            "#[allow(unused_imports)]\nuse super::{{{}}};\n\
             #[allow(unused_imports)]\nuse serde::{{Deserialize, Serialize}};\n",
            others.join(", ")
        )
        .unwrap();
        for (kind, code) in generator.defs.values() {
            if kind == module {
                text.push_str(code);
            }
        }
        files.push((module_file(module), text));
    }
    files.push(("geoscience_object.rs", geoscience_object(header, &typed)));
    Ok(files)
}

fn module_file(module: &str) -> &'static str {
    match module {
        "objects" => "objects.rs",
        "components" => "components.rs",
        _ => "elements.rs",
    }
}

struct Generator<'s> {
    set: &'s SchemaSet,
    /// The type of every place already resolved.
    memo: BTreeMap<Loc, Ty>,
    /// Rust type name → the place that declares it (two places may not share a name).
    names: BTreeMap<String, Loc>,
    /// Rust type name → (module, source).
    defs: BTreeMap<String, (String, String)>,
}

impl Generator<'_> {
    fn schema(&self, loc: &Loc) -> Result<Value, String> {
        self.set.at(loc).cloned()
    }

    fn claim(&mut self, name: &str, loc: &Loc) -> Result<(), String> {
        match self.names.get(name) {
            Some(other) if other != loc => Err(format!(
                "two generated types are named {name}: {other} and {loc}"
            )),
            _ => {
                self.names.insert(name.to_owned(), loc.clone());
                Ok(())
            }
        }
    }

    fn define(&mut self, name: &str, loc: &Loc, code: String) {
        self.defs
            .insert(name.to_owned(), (file_kind(&loc.file).to_owned(), code));
    }

    /// The Rust type of the schema at `loc`, defining the named types it needs.
    fn ty(&mut self, loc: &Loc) -> Result<Ty, String> {
        if let Some(ty) = self.memo.get(loc) {
            return Ok(ty.clone());
        }
        let ty = if self.set.is_alias(loc)? {
            let target = self.set.ref_target(loc)?.expect("an alias has a $ref");
            self.ty(&target)?
        } else {
            self.ty_of_definition(loc).map_err(|e| {
                if e.starts_with('/') {
                    e
                } else {
                    format!("{loc}: {e}")
                }
            })?
        };
        self.memo.insert(loc.clone(), ty.clone());
        Ok(ty)
    }

    fn ty_of_definition(&mut self, loc: &Loc) -> Result<Ty, String> {
        let schema = self.schema(loc)?;
        if let Some(value) = schema.get("const") {
            return const_type(value).map(|t| Ty::plain(&t));
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            // Values that do not make variant names (units such as `0.1 ft`) stay strings.
            if values.iter().all(Value::is_string)
                && let Some(values) = enum_values(values)
            {
                let name = self.name_of(loc)?;
                self.claim(&name, loc)?;
                let doc = self
                    .doc_of(loc)?
                    .unwrap_or_else(|| format!("A `{name}` value."));
                let code = string_enum(&name, &with_source(&doc, loc), &values);
                self.define(&name, loc, code);
                return Ok(Ty::plain(&name));
            }
            let ty = match values.iter().all(Value::is_string) {
                true => Ty::plain("String"),
                false => primitive(loc, &schema)?,
            };
            return self.alias_if_named(loc, ty);
        }
        if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() {
            return self.union(loc, &schema);
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array)
            && parts.len() == 1
            && schema.get("properties").is_none()
            && !self.set.is_object(&loc.child("allOf").child("0"))?
        {
            let inner = self.ty(&loc.child("allOf").child("0"))?;
            return self.alias_if_named(loc, inner);
        }
        if self.set.is_object(loc)? || schema.get("type") == Some(&Value::from("object")) {
            let flat = self.set.flatten(loc)?;
            if !flat.properties.is_empty() {
                let name = self.name_of(loc)?;
                self.claim(&name, loc)?;
                // Known before the fields are resolved, so a recursive schema refers to itself.
                self.memo.insert(loc.clone(), Ty::plain(&name));
                let code = self.structure(&name, loc, &flat)?;
                self.define(&name, loc, code);
                return Ok(Ty::plain(&name));
            }
            let map = match &flat.additional {
                Some(values) => {
                    let inner = self.ty(values)?;
                    let rust = format!("std::collections::BTreeMap<String, {}>", inner.value());
                    Ty::around(rust, &inner)
                }
                None => Ty::plain("serde_json::Map<String, serde_json::Value>"),
            };
            return self.alias_if_named(loc, map);
        }
        if let Some(target) = self.set.ref_target(loc)? {
            let inner = self.ty(&target)?;
            return self.alias_if_named(loc, inner);
        }
        if schema.get("type") == Some(&Value::from("array")) {
            let item = match schema.get("items") {
                Some(_) => self.ty(&loc.child("items"))?,
                None => Ty::plain("serde_json::Value"),
            };
            let min = schema.get("minItems").and_then(Value::as_u64);
            let max = schema.get("maxItems").and_then(Value::as_u64);
            let rust = match (min, max) {
                (Some(n), Some(m)) if n == m && (1..=32).contains(&n) => {
                    format!("[{}; {n}]", item.value())
                }
                _ => format!("Vec<{}>", item.value()),
            };
            return self.alias_if_named(loc, Ty::around(rust, &item));
        }
        if schema.get("type").is_none() {
            return self.alias_if_named(loc, Ty::plain("serde_json::Value"));
        }
        let ty = primitive(loc, &schema)?;
        self.alias_if_named(loc, ty)
    }

    /// A named place (a file or a `$defs` entry) that maps to a plain Rust type becomes a
    /// documented alias, so the schema's name and description stay visible.
    fn alias_if_named(&mut self, loc: &Loc, ty: Ty) -> Result<Ty, String> {
        if !is_named_place(loc) {
            return Ok(ty);
        }
        let name = self.name_of(loc)?;
        if name == ty.rust {
            return Ok(ty);
        }
        self.claim(&name, loc)?;
        let mut code = String::new();
        let doc = self.doc_of(loc)?.unwrap_or_else(|| format!("A `{name}`."));
        let mut doc = with_source(&doc, loc);
        if ty.nullable {
            doc.push_str(" May be `null`.");
        }
        push_doc(&mut code, &doc);
        writeln!(code, "pub type {name} = {};\n", ty.rust).unwrap();
        self.define(&name, loc, code);
        Ok(Ty { rust: name, ..ty })
    }

    /// The name of the type declared at `loc`: the file's name, then the property path.
    fn name_of(&self, loc: &Loc) -> Result<String, String> {
        let mut name = file_type_name(&loc.file);
        let segments = loc.segments();
        let mut at = Loc::root(&loc.file);
        let mut i = 0;
        while i < segments.len() {
            let segment = segments[i].as_str();
            let next = segments.get(i + 1).map(String::as_str);
            match (segment, next) {
                ("properties" | "$defs", Some(key)) => {
                    name.push_str(&type_name(key).replace(' ', ""));
                    name = pascal_join(&name);
                    at = at.child(segment).child(key);
                    i += 2;
                }
                ("allOf", Some(index)) => {
                    at = at.child(segment).child(index);
                    i += 2;
                }
                ("oneOf" | "anyOf", Some(index)) => {
                    let alt = at.child(segment).child(index);
                    let index: usize = index.parse().unwrap_or(0);
                    name.push_str(&self.variant_base(&alt, index)?);
                    at = alt;
                    i += 2;
                }
                ("items", _) => {
                    name.push_str("Item");
                    at = at.child(segment);
                    i += 1;
                }
                ("additionalProperties", _) => {
                    name.push_str("Value");
                    at = at.child(segment);
                    i += 1;
                }
                (other, _) => {
                    name.push_str(&pascal(other));
                    at = at.child(other);
                    i += 1;
                }
            }
        }
        Ok(name)
    }

    /// The description of the schema at `loc` (or its `title`), else that of its `$ref` target,
    /// with `[`/`]` escaped for rustdoc.
    fn doc_of(&self, loc: &Loc) -> Result<Option<String>, String> {
        let schema = self.schema(loc)?;
        for key in ["description", "title"] {
            if let Some(text) = schema.get(key).and_then(Value::as_str) {
                return Ok(Some(escape_brackets(text)));
            }
        }
        match self.set.ref_target(loc)? {
            Some(target) => self.doc_of(&target),
            None => Ok(None),
        }
    }

    /// The name an alternative of a union goes by (before common words are dropped).
    fn variant_base(&self, alt: &Loc, index: usize) -> Result<String, String> {
        if self.set.is_alias(alt)? {
            let target = self.set.follow(alt)?;
            return self.name_of(&target);
        }
        let schema = self.schema(alt)?;
        if let Some(Value::String(value)) = schema.get("const") {
            return Ok(type_name(value));
        }
        if self.set.is_object(alt)? {
            let flat = self.set.flatten(alt)?;
            if flat.required.len() == 1 {
                let only = flat.required.iter().next().expect("one member");
                return Ok(pascal(only));
            }
        }
        if let Some(title) = schema.get("title").and_then(Value::as_str) {
            return Ok(pascal(title));
        }
        Ok(format!("Variant{index}"))
    }

    /// A `oneOf`/`anyOf`: `null` alternatives make it nullable; one alternative left is that
    /// type; only strings left is a `String`; otherwise an enum.
    fn union(&mut self, loc: &Loc, schema: &Value) -> Result<Ty, String> {
        let keyword = if schema.get("oneOf").is_some() {
            "oneOf"
        } else {
            "anyOf"
        };
        let count = schema[keyword]
            .as_array()
            .ok_or_else(|| format!("{keyword} is not a list"))?
            .len();
        let mut alternatives = Vec::new();
        let mut nullable = false;
        for i in 0..count {
            let alt = loc.child(keyword).child(&i.to_string());
            let target = self.set.follow(&alt)?;
            if self.schema(&target)?.get("type") == Some(&Value::from("null")) {
                nullable = true;
            } else {
                alternatives.push((i, alt));
            }
        }
        if alternatives.len() == 1 {
            let mut ty = self.ty(&alternatives[0].1)?;
            ty.nullable |= nullable;
            let ty = self.alias_if_named(loc, ty)?;
            return Ok(Ty { nullable, ..ty });
        }
        let mut all_strings = !alternatives.is_empty();
        for (_, alt) in &alternatives {
            all_strings &= self.is_string_like(alt)?;
        }
        if all_strings {
            let ty = self.alias_if_named(loc, Ty::plain("String"))?;
            return Ok(Ty { nullable, ..ty });
        }
        let name = self.name_of(loc)?;
        self.claim(&name, loc)?;
        self.memo.insert(
            loc.clone(),
            Ty {
                rust: name.clone(),
                nullable,
                integer: false,
            },
        );
        let code = self.union_enum(&name, loc, &alternatives)?;
        self.define(&name, loc, code);
        Ok(Ty {
            rust: name,
            nullable,
            integer: false,
        })
    }

    fn is_string_like(&self, loc: &Loc) -> Result<bool, String> {
        let loc = self.set.follow(loc)?;
        let schema = self.schema(&loc)?;
        if let Some(value) = schema.get("const") {
            return Ok(value.is_string());
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return Ok(values.iter().all(Value::is_string));
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(alts) = schema.get(keyword).and_then(Value::as_array) {
                for i in 0..alts.len() {
                    let alt = loc.child(keyword).child(&i.to_string());
                    let target = self.set.follow(&alt)?;
                    let null = self.schema(&target)?.get("type") == Some(&Value::from("null"));
                    if !null && !self.is_string_like(&alt)? {
                        return Ok(false);
                    }
                }
                return Ok(true);
            }
        }
        Ok(schema.get("type") == Some(&Value::from("string")) && schema.get("$ref").is_none())
    }

    /// The string values a member of an object alternative is fixed to (`const` or `enum`).
    fn fixed_values(&self, flat: &Flat, member: &str) -> Result<Vec<String>, String> {
        let Some((_, locs)) = flat.properties.iter().find(|(p, _)| p == member) else {
            return Ok(Vec::new());
        };
        for loc in locs.iter().rev() {
            let schema = self.schema(&self.set.follow(loc)?)?;
            if let Some(Value::String(value)) = schema.get("const") {
                return Ok(vec![value.clone()]);
            }
            if let Some(values) = schema.get("enum").and_then(Value::as_array) {
                return Ok(values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect());
            }
        }
        Ok(Vec::new())
    }

    /// The member whose fixed values tell the object alternatives apart, if there is one.
    fn discriminator(&self, flats: &[Flat]) -> Result<Option<Discriminator>, String> {
        let Some(first) = flats.first() else {
            return Ok(None);
        };
        'member: for (member, _) in &first.properties {
            let mut seen = BTreeSet::new();
            let mut per_alternative = Vec::new();
            for flat in flats {
                let values = self.fixed_values(flat, member)?;
                if values.is_empty() || !values.iter().all(|v| seen.insert(v.clone())) {
                    continue 'member;
                }
                per_alternative.push(values);
            }
            return Ok(Some((member.clone(), per_alternative)));
        }
        Ok(None)
    }

    fn union_enum(
        &mut self,
        name: &str,
        loc: &Loc,
        alternatives: &[(usize, Loc)],
    ) -> Result<String, String> {
        // Variant names, with the words every alternative shares dropped.
        let mut bases = Vec::new();
        for (i, alt) in alternatives {
            bases.push(self.variant_base(alt, *i)?);
        }
        let variants = drop_common_words(&bases);
        let unique: BTreeSet<&String> = variants.iter().collect();
        if unique.len() != variants.len() || variants.iter().any(|v| v == "Unknown") {
            return Err(format!(
                "{name}: union alternatives give duplicate variant names {variants:?}"
            ));
        }

        // Kinds of alternatives: a fixed string, or a type.
        enum Alt {
            Fixed(String),
            Typed { ty: Ty, required: usize },
        }
        let mut alts = Vec::new();
        let mut flats = Vec::new();
        let mut all_objects = true;
        for (_, alt) in alternatives {
            let target = self.set.follow(alt)?;
            let schema = self.schema(&target)?;
            if let Some(Value::String(value)) = schema.get("const") {
                alts.push(Alt::Fixed(value.clone()));
                all_objects = false;
                continue;
            }
            let ty = self.ty(alt)?;
            let mut required = 0;
            if self.set.is_object(alt)? {
                let flat = self.set.flatten(alt)?;
                required = flat.required.len();
                flats.push(flat);
            } else {
                all_objects = false;
            }
            alts.push(Alt::Typed { ty, required });
        }
        let tag = if all_objects {
            self.discriminator(&flats)?
        } else {
            None
        };

        let mut out = String::new();
        let doc = self
            .doc_of(loc)?
            .unwrap_or_else(|| format!("One of the `{name}` alternatives."));
        let how = match &tag {
            Some((member, _)) => format!(
                "The alternative is chosen by the `{member}` member; an unknown `{member}`, or a \
                 value that does not fit the type its `{member}` names, is kept in \
                 [`Self::Unknown`]."
            ),
            None => "The alternative is the first that fits (the one with the most required \
                     members first); a value that fits none is kept in [`Self::Unknown`]."
                .to_owned(),
        };
        push_doc(&mut out, &format!("{}\n\n{how}", with_source(&doc, loc)));
        out.push_str(
            "#[derive(Debug, Clone, PartialEq)]\n#[non_exhaustive]\n\
             #[allow(clippy::large_enum_variant)]\n",
        );
        writeln!(out, "pub enum {name} {{").unwrap();
        for ((variant, alt), (_, alt_loc)) in variants.iter().zip(&alts).zip(alternatives) {
            let alt_doc = self.doc_of(alt_loc)?;
            match alt {
                Alt::Fixed(value) => {
                    let doc = alt_doc.unwrap_or_default();
                    push_doc(&mut out, &format!("`{value:?}`. {doc}"));
                    writeln!(out, "{variant},").unwrap();
                }
                Alt::Typed { ty, .. } => {
                    let doc = alt_doc.unwrap_or_else(|| format!("A [`{}`].", ty.rust));
                    push_doc(&mut out, &doc);
                    writeln!(out, "{variant}({}),", ty.value()).unwrap();
                }
            }
        }
        out.push_str(
            "/// A value none of the known alternatives describes (for example from a newer\n\
             /// schema), kept as received.\nUnknown(serde_json::Value),\n}\n\n",
        );

        writeln!(
            out,
            "impl Serialize for {name} {{\n\
             fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\n\
             match self {{"
        )
        .unwrap();
        for (variant, alt) in variants.iter().zip(&alts) {
            match alt {
                Alt::Fixed(value) => {
                    writeln!(
                        out,
                        "Self::{variant} => serializer.serialize_str({}),",
                        lit(value)
                    )
                }
                Alt::Typed { .. } => {
                    writeln!(
                        out,
                        "Self::{variant}(value) => value.serialize(serializer),"
                    )
                }
            }
            .unwrap();
        }
        out.push_str("Self::Unknown(value) => value.serialize(serializer),\n}\n}\n}\n\n");

        writeln!(
            out,
            "impl<'de> Deserialize<'de> for {name} {{\n\
             fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n\
             let value = serde_json::Value::deserialize(deserializer)?;"
        )
        .unwrap();
        match &tag {
            Some((member, values)) => {
                writeln!(
                    out,
                    "match value.get({}).and_then(serde_json::Value::as_str) {{",
                    lit(member)
                )
                .unwrap();
                for (variant, values) in variants.iter().zip(values) {
                    let patterns: Vec<String> =
                        values.iter().map(|v| format!("Some({})", lit(v))).collect();
                    writeln!(
                        out,
                        "{} => match Deserialize::deserialize(&value) {{\n\
                         Ok(parsed) => Ok(Self::{variant}(parsed)),\n\
                         Err(_) => Ok(Self::Unknown(value)),\n}},",
                        patterns.join(" | ")
                    )
                    .unwrap();
                }
                out.push_str("_ => Ok(Self::Unknown(value)),\n}\n}\n}\n\n");
            }
            None => {
                for (variant, alt) in variants.iter().zip(&alts) {
                    if let Alt::Fixed(value) = alt {
                        writeln!(
                            out,
                            "if value.as_str() == Some({}) {{\nreturn Ok(Self::{variant});\n}}",
                            lit(value)
                        )
                        .unwrap();
                    }
                }
                let mut typed: Vec<(usize, &String, &Ty, usize)> = Vec::new();
                for (i, (variant, alt)) in variants.iter().zip(&alts).enumerate() {
                    if let Alt::Typed { ty, required } = alt {
                        typed.push((i, variant, ty, *required));
                    }
                }
                typed.sort_by_key(|(i, _, _, required)| (std::cmp::Reverse(*required), *i));
                for (_, variant, ty, _) in typed {
                    writeln!(
                        out,
                        "if let Ok(parsed) = <{} as Deserialize>::deserialize(&value) {{\n\
                         return Ok(Self::{variant}(parsed));\n}}",
                        ty.value()
                    )
                    .unwrap();
                }
                out.push_str("Ok(Self::Unknown(value))\n}\n}\n\n");
            }
        }
        Ok(out)
    }

    /// A struct for an object schema: its flattened members, `extra`, and `new`.
    fn structure(&mut self, name: &str, loc: &Loc, flat: &Flat) -> Result<String, String> {
        let required = self.required_in_every_version(loc, flat)?;
        let mut fields = String::new();
        let mut rust_names = BTreeSet::new();
        // (argument, type, value expression) for `new`, in member order.
        let mut init: Vec<(String, Option<String>, String)> = Vec::new();
        let mut any_required = false;
        for (json_name, locs) in &flat.properties {
            let rust_name = snake(json_name);
            if !rust_names.insert(rust_name.clone()) || rust_name == "extra" {
                return Err(format!("{name}: two fields are named {rust_name}"));
            }
            let member = self.member(locs)?;
            let required = required.contains(json_name);
            any_required |= required;
            let doc = member
                .doc
                .unwrap_or_else(|| format!("The `{json_name}` member."));
            let doc = match &member.fixed {
                Some(value) => format!("{doc}\n\nAlways `{value}` in this schema."),
                None => doc,
            };
            let mut serde_args = Vec::new();
            if rust_name.trim_start_matches("r#") != json_name {
                serde_args.push(format!("rename = {}", lit(json_name)));
            }
            let field_ty = if required && !member.ty.nullable {
                member.ty.rust.clone()
            } else {
                if !required || member.ty.integer {
                    serde_args.push("default".to_owned());
                }
                if !required {
                    serde_args.push("skip_serializing_if = \"Option::is_none\"".to_owned());
                }
                format!("Option<{}>", member.ty.rust)
            };
            if member.ty.integer {
                serde_args.push(
                    "deserialize_with = \"super::geoscience_object::integers::deserialize\""
                        .to_owned(),
                );
            }
            push_doc(&mut fields, &doc);
            if !serde_args.is_empty() {
                writeln!(fields, "#[serde({})]", serde_args.join(", ")).unwrap();
            }
            writeln!(fields, "pub {rust_name}: {field_ty},").unwrap();

            let arg = rust_name.clone();
            let entry = match (&member.fixed, required) {
                (Some(value), true) => (rust_name.clone(), None, fixed_expr(value, &field_ty)),
                (_, false) => (rust_name.clone(), None, "None".to_owned()),
                (None, true) if field_ty == "String" => (
                    rust_name.clone(),
                    Some(format!("{arg}: impl Into<String>")),
                    format!("{arg}.into()"),
                ),
                (None, true) => (
                    rust_name.clone(),
                    Some(format!("{arg}: {field_ty}")),
                    arg.clone(),
                ),
            };
            init.push(entry);
        }
        fields.push_str(
            "/// Members this version of the SDK does not know (for example from a newer schema\n\
             /// version), kept as received so they survive a read-modify-write.\n\
             #[serde(flatten)]\npub extra: serde_json::Map<String, serde_json::Value>,\n",
        );

        let mut out = String::new();
        let doc = self.doc_of(loc)?.unwrap_or_else(|| format!("A `{name}`."));
        push_doc(&mut out, &with_source(&doc, loc));
        let derive_default = if any_required { "" } else { ", Default" };
        writeln!(
            out,
            "#[derive(Debug, Clone, PartialEq, Serialize, Deserialize{derive_default})]\n\
             pub struct {name} {{\n{fields}}}\n"
        )
        .unwrap();

        if any_required {
            let args: Vec<&str> = init.iter().filter_map(|(_, a, _)| a.as_deref()).collect();
            let arg_names: Vec<String> = args
                .iter()
                .map(|a| {
                    let arg = a.split(':').next().unwrap_or_default();
                    format!("`{}`", arg.trim_start_matches("r#"))
                })
                .collect();
            let mut doc = format!("A `{name}` from its required members");
            if !arg_names.is_empty() {
                write!(doc, " ({})", arg_names.join(", ")).unwrap();
            }
            doc.push_str(
                "; members with a fixed value hold it, optional members are `None` and `extra` is \
                 empty.",
            );
            writeln!(out, "impl {name} {{").unwrap();
            push_doc(&mut out, &doc);
            if args.len() > 7 {
                out.push_str("#[allow(clippy::too_many_arguments)]\n");
            }
            writeln!(out, "pub fn new({}) -> Self {{\nSelf {{", args.join(", ")).unwrap();
            for (field, _, value) in &init {
                if value == field {
                    writeln!(out, "{field},").unwrap();
                } else {
                    writeln!(out, "{field}: {value},").unwrap();
                }
            }
            out.push_str("extra: serde_json::Map::new(),\n}\n}\n}\n\n");
            if args.is_empty() {
                writeln!(
                    out,
                    "impl Default for {name} {{\nfn default() -> Self {{\nSelf::new()\n}}\n}}\n"
                )
                .unwrap();
            }
        }
        Ok(out)
    }

    /// The members required at `loc` in this version and in every other version of the file
    /// with the same major version: an object written under an older minor version (an
    /// attribute without `key`, say) still reads.
    fn required_in_every_version(
        &self,
        loc: &Loc,
        flat: &Flat,
    ) -> Result<BTreeSet<String>, String> {
        let mut required = flat.required.clone();
        for other in self.set.same_major_versions(&loc.file) {
            let other = Loc {
                file: other,
                pointer: loc.pointer.clone(),
            };
            if self.set.at(&other).is_err() || !self.set.is_object(&other)? {
                continue;
            }
            let other_required = self.set.flatten(&other)?.required;
            required.retain(|r| other_required.contains(r));
        }
        Ok(required)
    }

    /// The type, documentation and fixed value of a member declared at `locs` (several when
    /// `allOf` parts each declare it; the outermost declaration that says something wins).
    fn member(&mut self, locs: &[Loc]) -> Result<Member, String> {
        let mut doc = None;
        let mut fixed = None;
        let mut defining = None;
        for loc in locs {
            let schema = self.schema(loc)?;
            if let Some(text) = self.doc_of(loc)? {
                doc = Some(text);
            }
            if let Some(value) = schema.get("const") {
                fixed = Some(value.clone());
            }
            let says_something = schema.as_object().is_some_and(|map| {
                map.keys().any(|k| {
                    matches!(
                        k.as_str(),
                        "$ref"
                            | "type"
                            | "enum"
                            | "const"
                            | "oneOf"
                            | "anyOf"
                            | "allOf"
                            | "properties"
                            | "items"
                    )
                })
            });
            if says_something {
                defining = Some(loc.clone());
            }
        }
        let ty = match &fixed {
            Some(value) => Ty::plain(&const_type(value)?),
            None => match &defining {
                Some(loc) => self.ty(loc)?,
                None => Ty::plain("serde_json::Value"),
            },
        };
        Ok(Member {
            ty,
            doc,
            fixed: fixed.map(|v| v.to_string()),
        })
    }
}

/// A member that tells union alternatives apart, and the values it has in each alternative.
type Discriminator = (String, Vec<Vec<String>>);

struct Member {
    ty: Ty,
    doc: Option<String>,
    /// The member's `const`, as JSON text.
    fixed: Option<String>,
}

/// The Rust expression of a fixed (`const`) member's value.
fn fixed_expr(json: &str, ty: &str) -> String {
    if ty == "String" {
        format!("{json}.to_owned()")
    } else {
        json.to_owned()
    }
}

/// A file root or a `$defs` entry: places that have a name of their own.
fn is_named_place(loc: &Loc) -> bool {
    let segments = loc.segments();
    segments.is_empty() || (segments.len() == 2 && segments[0] == "$defs")
}

/// The type of a `const` value.
fn const_type(value: &Value) -> Result<String, String> {
    Ok(match value {
        Value::String(_) => "String",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "i64",
        Value::Number(_) => "f64",
        other => return Err(format!("unsupported const {other}")),
    }
    .to_owned())
}

/// `string`, `integer`, `number`, `boolean`.
fn primitive(loc: &Loc, schema: &Value) -> Result<Ty, String> {
    let rust = match schema.get("type").and_then(Value::as_str) {
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => "evo_core::uuid::Uuid",
            _ => "String",
        },
        Some("integer") => "i64",
        Some("number") => "f64",
        Some("boolean") => "bool",
        Some("null") => "()",
        _ => {
            return Err(format!(
                "{loc}: unsupported type {}",
                schema.get("type").unwrap_or(&Value::Null)
            ));
        }
    };
    Ok(Ty::plain(rust))
}

/// (variant, value, doc) for each value of a string enum; `None` when a value does not give a
/// variant name of its own.
fn enum_values(values: &[Value]) -> Option<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    let mut variants = BTreeSet::new();
    for value in values {
        let value = value.as_str()?;
        let mut variant = type_name(value);
        if variant.starts_with(|c: char| c.is_ascii_digit()) {
            variant.insert(0, 'V');
        }
        if variant.is_empty()
            || variant == "Unknown"
            || !variant.chars().all(|c| c.is_ascii_alphanumeric())
            || !variants.insert(variant.clone())
        {
            return None;
        }
        out.push((variant, value.to_owned(), format!("`{value}`.")));
    }
    Some(out)
}

/// A type name with anything but letters and digits removed.
fn pascal_join(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Splits a PascalCase name into words (a digit run stays with the word before it).
fn pascal_words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let starts = i == 0
            || (c.is_ascii_uppercase()
                && (chars[i - 1].is_ascii_lowercase()
                    || chars[i - 1].is_ascii_digit()
                    || chars.get(i + 1).is_some_and(char::is_ascii_lowercase)));
        match words.last_mut() {
            Some(word) if !starts => word.push(c),
            _ => words.push(c.to_string()),
        }
    }
    words
}

/// Drops the leading and trailing words every name shares (`VariogramSphericalStructure`,
/// `VariogramGaussianStructure` → `Spherical`, `Gaussian`), when what is left still names each
/// one.
fn drop_common_words(names: &[String]) -> Vec<String> {
    if names.len() < 2 {
        return names.to_vec();
    }
    let split: Vec<Vec<String>> = names.iter().map(|n| pascal_words(n)).collect();
    let shortest = split.iter().map(Vec::len).min().unwrap_or(0);
    let mut prefix = 0;
    while prefix < shortest && split.iter().all(|w| w[prefix] == split[0][prefix]) {
        prefix += 1;
    }
    let mut suffix = 0;
    while suffix < shortest - prefix
        && split
            .iter()
            .all(|w| w[w.len() - 1 - suffix] == split[0][split[0].len() - 1 - suffix])
    {
        suffix += 1;
    }
    let stripped: Vec<String> = split
        .iter()
        .map(|w| w[prefix..w.len() - suffix].concat())
        .collect();
    let distinct: BTreeSet<&String> = stripped.iter().collect();
    let usable = stripped
        .iter()
        .all(|s| s.starts_with(|c: char| c.is_ascii_alphabetic()))
        && distinct.len() == stripped.len();
    if usable { stripped } else { names.to_vec() }
}

/// A type's documentation with the schema place it was generated from.
fn with_source(doc: &str, loc: &Loc) -> String {
    let doc = doc.trim();
    if loc.pointer.is_empty() {
        format!("{doc}\n\nSchema: `{}`.", loc.file)
    } else {
        format!("{doc}\n\nSchema: `{}`, at `{}`.", loc.file, loc.pointer)
    }
}

/// `[` and `]` escaped, so rustdoc does not read schema text as intra-doc links.
fn escape_brackets(text: &str) -> String {
    text.replace('[', "\\[").replace(']', "\\]")
}

/// `geoscience_object.rs`: `SchemaId`, `TypedObject` and the `GeoscienceObject` enum.
fn geoscience_object(header: &str, typed: &[(ObjectSchema, String)]) -> String {
    let mut out = format!("// {header}\n\n");
    out.push_str(
        "//! [`GeoscienceObject`]: any geoscience object, typed by its `schema` member.\n\n\
         #[allow(unused_imports)]\nuse super::objects::*;\n\
         use serde::{Deserialize, Serialize};\n",
    );
    out.push_str(SCHEMA_ID_SUPPORT);

    for (object, ty) in typed {
        let (major, minor, patch) = object.version;
        writeln!(
            out,
            "impl TypedObject for {ty} {{\n\
             const SCHEMA_ID: &'static str = {};\n\
             const SCHEMA_NAME: &'static str = {};\n\
             const SCHEMA_VERSION: (u64, u64, u64) = ({major}, {minor}, {patch});\n\
             fn schema(&self) -> &str {{\n&self.schema\n}}\n}}\n\n\
             impl From<{ty}> for GeoscienceObject {{\n\
             fn from(object: {ty}) -> Self {{\nSelf::{ty}(Box::new(object))\n}}\n}}\n",
            lit(&object.id),
            lit(&object.name),
        )
        .unwrap();
    }

    out.push_str(
        "/// Any geoscience object, typed by its `schema` member.\n///\n\
         /// An object whose schema has a generated type of the same name and major version is\n\
         /// that type (an older or newer minor version reads too: members the type does not know\n\
         /// are kept in its `extra`); any other object is kept as JSON in [`Self::Other`].\n\
         /// Reading never fails and serialising gives back the JSON that was read.\n\
         #[derive(Debug, Clone, PartialEq)]\n#[non_exhaustive]\npub enum GeoscienceObject {\n",
    );
    for (object, ty) in typed {
        writeln!(
            out,
            "/// A [`{ty}`] (`{}`, major version {}).\n{ty}(Box<{ty}>),",
            object.name, object.version.0
        )
        .unwrap();
    }
    out.push_str(
        "/// An object of a schema without a generated type (another name or major version),\n\
         /// kept as received.\nOther(serde_json::Value),\n}\n\n",
    );

    out.push_str(
        "impl GeoscienceObject {\n\
         /// Reads an object, typed by its `schema` member (see [`GeoscienceObject`]).\n///\n\
         /// Never fails: an object that does not fit the type its schema names (a required\n\
         /// member missing or of the wrong JSON type) is kept in [`Self::Other`] too. To learn\n\
         /// why, read it as the type itself (`serde_json::from_value::<PointSet>(…)`): the error\n\
         /// names the member.\n\
         pub fn from_value(value: serde_json::Value) -> Self {\n\
         let id = value.get(\"schema\").and_then(serde_json::Value::as_str).and_then(SchemaId::parse);\n\
         let Some(id) = id else {\nreturn Self::Other(value);\n};\n\
         let typed = match (id.name(), id.major()) {\n",
    );
    for (object, ty) in typed {
        writeln!(
            out,
            "({}, {}) => {ty}::deserialize(&value).map(|o| Self::{ty}(Box::new(o))),",
            lit(&object.name),
            object.version.0
        )
        .unwrap();
    }
    out.push_str(
        "_ => return Self::Other(value),\n};\ntyped.unwrap_or(Self::Other(value))\n}\n\n\
         /// The object as JSON.\n\
         pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {\n\
         serde_json::to_value(self)\n}\n\n\
         /// The `schema` member as written in the object (`None` for an object without one).\n\
         pub fn schema(&self) -> Option<&str> {\nmatch self {\n",
    );
    for (_, ty) in typed {
        writeln!(out, "Self::{ty}(o) => Some(&o.schema),").unwrap();
    }
    out.push_str(
        "Self::Other(value) => value.get(\"schema\").and_then(serde_json::Value::as_str),\n}\n}\n\n\
         /// The parsed `schema` member (`None` when it is missing or not a schema id).\n\
         pub fn schema_id(&self) -> Option<SchemaId> {\nself.schema().and_then(SchemaId::parse)\n}\n}\n\n\
         impl Serialize for GeoscienceObject {\n\
         fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {\n\
         match self {\n",
    );
    for (_, ty) in typed {
        writeln!(out, "Self::{ty}(o) => o.serialize(serializer),").unwrap();
    }
    out.push_str(
        "Self::Other(value) => value.serialize(serializer),\n}\n}\n}\n\n\
         impl<'de> Deserialize<'de> for GeoscienceObject {\n\
         fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {\n\
         let value = serde_json::Value::deserialize(deserializer)?;\n\
         Ok(Self::from_value(value))\n}\n}\n",
    );
    out
}

/// `SchemaId` and `TypedObject`: the same for every schema set.
const SCHEMA_ID_SUPPORT: &str = r#"
/// The id of a geoscience object schema, as every object's `schema` member names it:
/// `/objects/<name>/<major>.<minor>.<patch>/<name>.schema.json`.
///
/// ```
/// # use evo_objects::generated::SchemaId;
/// let id = SchemaId::parse("/objects/pointset/1.3.0/pointset.schema.json").unwrap();
/// assert_eq!((id.name(), id.version()), ("pointset", (1, 3, 0)));
/// assert_eq!(id.to_string(), "/objects/pointset/1.3.0/pointset.schema.json");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaId {
    name: String,
    version: (u64, u64, u64),
}

impl SchemaId {
    /// The id of schema `name` at a version. `None` when `name` is empty or holds anything but
    /// ASCII letters, digits, `-` and `_`.
    pub fn new(name: &str, version: (u64, u64, u64)) -> Option<Self> {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| SchemaId {
            name: name.to_owned(),
            version,
        })
    }

    /// Parses `/objects/<name>/<major>.<minor>.<patch>/<name>.schema.json`; `None` for
    /// anything else (another shape, a file name that is not the schema name, a version that
    /// is not three numbers).
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("/objects/")?;
        let mut parts = rest.split('/');
        let (name, version, file) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || file.strip_suffix(".schema.json")? != name {
            return None;
        }
        let mut numbers = version.split('.').map(|n| {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                n.parse::<u64>().ok()
            }
        });
        let version = (numbers.next()??, numbers.next()??, numbers.next()??);
        if numbers.next().is_some() {
            return None;
        }
        Self::new(name, version)
    }

    /// The schema's name, e.g. `pointset`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// (major, minor, patch).
    pub fn version(&self) -> (u64, u64, u64) {
        self.version
    }

    /// The major version: objects of one name and major version share a type.
    pub fn major(&self) -> u64 {
        self.version.0
    }
}

impl std::fmt::Display for SchemaId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (major, minor, patch) = self.version;
        write!(f, "/objects/{0}/{major}.{minor}.{patch}/{0}.schema.json", self.name)
    }
}

impl Serialize for SchemaId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SchemaId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SchemaId::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{text:?} is not a schema id (/objects/<name>/<major>.<minor>.<patch>/<name>.schema.json)"
            ))
        })
    }
}

/// JSON Schema's `integer` is any number without a fraction, so `1.0` is an integer too (and
/// objects with such values exist); serde reads only `1` into an `i64`.
pub(super) mod integers {
    use serde::Deserialize;

    /// Reads a value holding integers (an `i64`, or a list, map or option of them), taking a
    /// number without a fraction written as a float (`3.0`) for the integer.
    pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: serde::de::DeserializeOwned,
    {
        let mut value = serde_json::Value::deserialize(deserializer)?;
        whole_floats_as_integers(&mut value);
        T::deserialize(value).map_err(serde::de::Error::custom)
    }

    fn whole_floats_as_integers(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Number(n) if !n.is_i64() && !n.is_u64() => {
                // Below 2^53 every whole f64 is exact and fits an i64.
                if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                    *value = serde_json::Value::from(f as i64);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(whole_floats_as_integers),
            serde_json::Value::Object(map) => map.values_mut().for_each(whole_floats_as_integers),
            _ => {}
        }
    }
}

/// A struct generated from an object schema.
pub trait TypedObject: Serialize + serde::de::DeserializeOwned {
    /// The `$id` of the schema the type was generated from, e.g.
    /// `/objects/pointset/1.3.0/pointset.schema.json`.
    const SCHEMA_ID: &'static str;
    /// The schema's name, e.g. `pointset`.
    const SCHEMA_NAME: &'static str;
    /// The schema's version, (major, minor, patch).
    const SCHEMA_VERSION: (u64, u64, u64);

    /// The object's `schema` member as it is (it may name another minor version).
    fn schema(&self) -> &str;
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        assert!(dispatch.contains(
            "const SCHEMA_ID: &'static str = \"/objects/shape/1.1.0/shape.schema.json\";"
        ));
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
}
