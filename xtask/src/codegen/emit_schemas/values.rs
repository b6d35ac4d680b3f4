//! JSON values and types: the Rust type a schema maps to ([`Ty`]), the type of a primitive or
//! `const`, the expression of a fixed value, and the variants of a string enum.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::codegen::json_schema::{Loc, type_name};

/// The Rust type a schema maps to.
#[derive(Debug, Clone)]
pub(super) struct Ty {
    pub(super) rust: String,
    /// The schema also allows `null`.
    pub(super) nullable: bool,
    /// JSON integers inside (an `i64`, or a list, map or alias of them).
    pub(super) integer: bool,
}

impl Ty {
    pub(super) fn plain(rust: &str) -> Self {
        Ty {
            rust: rust.to_owned(),
            nullable: false,
            integer: rust == "i64",
        }
    }

    /// `rust`, a wrapper (list, map) around `inner`.
    pub(super) fn around(rust: String, inner: &Ty) -> Self {
        Ty {
            rust,
            nullable: false,
            integer: inner.integer,
        }
    }

    /// The type as an item of a list or map (`Option` when `null` is allowed).
    pub(super) fn value(&self) -> String {
        if self.nullable {
            format!("Option<{}>", self.rust)
        } else {
            self.rust.clone()
        }
    }
}

/// The Rust expression of a fixed (`const`) member's value.
pub(super) fn fixed_expr(json: &str, ty: &str) -> String {
    if ty == "String" {
        format!("{json}.to_owned()")
    } else {
        json.to_owned()
    }
}

/// A file root or a `$defs` entry: places that have a name of their own.
pub(super) fn is_named_place(loc: &Loc) -> bool {
    let segments = loc.segments();
    segments.is_empty() || (segments.len() == 2 && segments[0] == "$defs")
}

/// The type of a `const` value.
pub(super) fn const_type(value: &Value) -> Result<String, String> {
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
pub(super) fn primitive(loc: &Loc, schema: &Value) -> Result<Ty, String> {
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
pub(super) fn enum_values(values: &[Value]) -> Option<Vec<(String, String, String)>> {
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
