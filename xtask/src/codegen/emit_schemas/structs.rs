//! Object structs: the flattened members of an object schema, `extra`, and `new`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::generator::Generator;
use super::naming::with_source;
use super::values::{Ty, const_type, fixed_expr};
use crate::codegen::emit::{lit, push_doc, snake};
use crate::codegen::json_schema::{Flat, Loc};

pub(super) struct Member {
    pub(super) ty: Ty,
    pub(super) doc: Option<String>,
    /// The member's `const`, as JSON text.
    pub(super) fixed: Option<String>,
}

impl Generator<'_> {
    /// A struct for an object schema: its flattened members, `extra`, and `new`.
    pub(super) fn structure(
        &mut self,
        name: &str,
        loc: &Loc,
        flat: &Flat,
    ) -> Result<String, String> {
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
    pub(super) fn required_in_every_version(
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
    pub(super) fn member(&mut self, locs: &[Loc]) -> Result<Member, String> {
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
