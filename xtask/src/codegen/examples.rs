//! One example object per object schema, every member filled in (optional ones too), for the
//! tests of the generated types: each example must read into its typed struct and write back
//! unchanged. A list whose items are a union gets one item per alternative, so every attribute
//! kind and every variogram structure is exercised.

use serde_json::{Map, Value, json};

use super::json_schema::{Loc, SchemaSet};

/// Nesting deeper than this gets empty lists (recursive schemas such as folders end there).
const MAX_DEPTH: usize = 12;

/// (file name, pretty JSON) for the latest version of every object schema.
pub fn generate(set: &SchemaSet) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for object in set.latest_objects()? {
        let value = example(set, &Loc::root(&object.id), 0)
            .map_err(|e| format!("example of {}: {e}", object.id))?;
        let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())? + "\n";
        out.push((format!("{}.json", object.name), text));
    }
    Ok(out)
}

fn example(set: &SchemaSet, loc: &Loc, depth: usize) -> Result<Value, String> {
    let loc = set.follow(loc)?;
    let schema = set.at(&loc)?.clone();
    if let Some(value) = schema.get("const") {
        return Ok(value.clone());
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .first()
            .cloned()
            .ok_or_else(|| format!("{loc}: empty enum"));
    }
    for keyword in ["oneOf", "anyOf"] {
        if let Some(alts) = schema.get(keyword).and_then(Value::as_array) {
            // The first alternative that is not `null`.
            for i in 0..alts.len() {
                let alt = loc.child(keyword).child(&i.to_string());
                let target = set.follow(&alt)?;
                if set.at(&target)?.get("type") != Some(&Value::from("null")) {
                    return example(set, &alt, depth + 1);
                }
            }
            return Ok(Value::Null);
        }
    }
    if set.is_object(&loc)? || schema.get("type") == Some(&Value::from("object")) {
        let flat = set.flatten(&loc)?;
        if flat.properties.is_empty() {
            let mut map = Map::new();
            let value = match &flat.additional {
                Some(values) => example(set, values, depth + 1)?,
                None => json!("value"),
            };
            map.insert("key".to_owned(), value);
            return Ok(Value::Object(map));
        }
        let mut map = Map::new();
        for (name, locs) in &flat.properties {
            // The outermost declaration that says something about the member.
            let declared = locs
                .iter()
                .rev()
                .find(|l| {
                    set.at(l).ok().and_then(Value::as_object).is_some_and(|m| {
                        m.keys()
                            .any(|k| !matches!(k.as_str(), "description" | "title" | "$comment"))
                    })
                })
                .unwrap_or(&locs[locs.len() - 1]);
            map.insert(name.clone(), example(set, declared, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Some(target) = set.ref_target(&loc)? {
        return example(set, &target, depth + 1);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => array(set, &loc, &schema, depth),
        Some("string") => Ok(match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => json!("00000000-0000-4000-8000-000000000001"),
            Some("date-time") => json!("2024-05-06T07:08:09Z"),
            _ if schema.get("pattern").and_then(Value::as_str) == Some("^[0-9A-Fa-f]{64}$") => {
                json!("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
            }
            _ => json!("text"),
        }),
        Some("integer") => Ok(json!(
            schema
                .get("minimum")
                .and_then(Value::as_i64)
                .map_or(1, |m| m.max(1))
        )),
        Some("number") => Ok(json!(
            schema
                .get("minimum")
                .and_then(Value::as_f64)
                .map_or(1.5, |m| m.max(1.5))
        )),
        Some("boolean") => Ok(json!(true)),
        _ => Ok(json!("value")),
    }
}

fn array(set: &SchemaSet, loc: &Loc, schema: &Value, depth: usize) -> Result<Value, String> {
    if schema.get("items").is_none() {
        return Ok(json!([]));
    }
    let items = loc.child("items");
    let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
    if depth > MAX_DEPTH && min == 0 {
        return Ok(json!([]));
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && max == min
    {
        let item = example(set, &items, depth + 1)?;
        return Ok(Value::Array(vec![item; min as usize]));
    }
    // One item per alternative of a union of items.
    let target = set.follow(&items)?;
    let item_schema = set.at(&target)?;
    for keyword in ["oneOf", "anyOf"] {
        if let Some(alts) = item_schema.get(keyword).and_then(Value::as_array) {
            let mut out = Vec::new();
            for i in 0..alts.len() {
                let alt = target.child(keyword).child(&i.to_string());
                let value = example(set, &alt, depth + 1)?;
                if !value.is_null() {
                    out.push(value);
                }
            }
            return Ok(Value::Array(out));
        }
    }
    let count = min.max(1) as usize;
    let item = example(set, &items, depth + 1)?;
    Ok(Value::Array(vec![item; count]))
}
