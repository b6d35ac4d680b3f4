//! The generator: [`Generator`] resolves schema places to their Rust types ([`Ty`]), names
//! and documents them, and collects the definitions.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::naming::{escape_brackets, pascal_join, with_source};
use super::values::{Ty, const_type, enum_values, is_named_place, primitive};
use crate::codegen::emit::{pascal, push_doc, string_enum};
use crate::codegen::json_schema::{Loc, SchemaSet, file_kind, file_type_name, type_name};

pub(super) struct Generator<'s> {
    pub(super) set: &'s SchemaSet,
    /// The type of every place already resolved.
    pub(super) memo: BTreeMap<Loc, Ty>,
    /// Rust type name → the place that declares it (two places may not share a name).
    pub(super) names: BTreeMap<String, Loc>,
    /// Rust type name → (module, source).
    pub(super) defs: BTreeMap<String, (String, String)>,
}

impl Generator<'_> {
    pub(super) fn schema(&self, loc: &Loc) -> Result<Value, String> {
        self.set.at(loc).cloned()
    }

    pub(super) fn claim(&mut self, name: &str, loc: &Loc) -> Result<(), String> {
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

    pub(super) fn define(&mut self, name: &str, loc: &Loc, code: String) {
        self.defs
            .insert(name.to_owned(), (file_kind(&loc.file).to_owned(), code));
    }

    /// The Rust type of the schema at `loc`, defining the named types it needs.
    pub(super) fn ty(&mut self, loc: &Loc) -> Result<Ty, String> {
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

    pub(super) fn ty_of_definition(&mut self, loc: &Loc) -> Result<Ty, String> {
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
    pub(super) fn alias_if_named(&mut self, loc: &Loc, ty: Ty) -> Result<Ty, String> {
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
    pub(super) fn name_of(&self, loc: &Loc) -> Result<String, String> {
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
    pub(super) fn doc_of(&self, loc: &Loc) -> Result<Option<String>, String> {
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
}
