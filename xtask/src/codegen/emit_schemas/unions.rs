//! `oneOf` unions: an enum per union, tagged by a constant member when the alternatives have
//! one, untagged (most specific alternative first) otherwise.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

use super::generator::Generator;
use super::naming::{drop_common_words, with_source};
use super::values::Ty;
use crate::codegen::emit::{lit, pascal, push_doc};
use crate::codegen::json_schema::{Flat, Loc, type_name};

/// A member that tells union alternatives apart, and the values it has in each alternative.
pub(super) type Discriminator = (String, Vec<Vec<String>>);

impl Generator<'_> {
    /// The name an alternative of a union goes by (before common words are dropped).
    pub(super) fn variant_base(&self, alt: &Loc, index: usize) -> Result<String, String> {
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
    pub(super) fn union(&mut self, loc: &Loc, schema: &Value) -> Result<Ty, String> {
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

    pub(super) fn is_string_like(&self, loc: &Loc) -> Result<bool, String> {
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
    pub(super) fn fixed_values(&self, flat: &Flat, member: &str) -> Result<Vec<String>, String> {
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
    pub(super) fn discriminator(&self, flats: &[Flat]) -> Result<Option<Discriminator>, String> {
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

    pub(super) fn union_enum(
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
}
