//! The Geoscience Object JSON Schemas as the generator reads them: every `*.schema.json` under a
//! folder, indexed by `$id`, with `$ref` resolution, `allOf` flattening and the naming rules.
//!
//! A place in a schema is a [`Loc`]: the `$id` of its file and a JSON pointer inside it. Types
//! are named after the place that declares them (a file, a `$defs` entry, or a property path
//! inside one), so a component flattened into many objects still gives one type.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::emit::pascal;

/// A place in the schema set: a file `$id` and a JSON pointer (`""` for the file itself).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    pub file: String,
    pub pointer: String,
}

impl Loc {
    pub fn root(file: &str) -> Self {
        Loc {
            file: file.to_owned(),
            pointer: String::new(),
        }
    }

    /// The place one step further in (`key` is a property name, keyword or index).
    pub fn child(&self, key: &str) -> Self {
        let escaped = key.replace('~', "~0").replace('/', "~1");
        Loc {
            file: self.file.clone(),
            pointer: format!("{}/{escaped}", self.pointer),
        }
    }

    /// The pointer's segments, unescaped.
    pub fn segments(&self) -> Vec<String> {
        self.pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect()
    }
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.file, self.pointer)
    }
}

/// Keywords that only document a schema; a schema with `$ref` and nothing else but these is an
/// alias of its target.
const ANNOTATIONS: &[&str] = &[
    "$id",
    "$schema",
    "$comment",
    "title",
    "description",
    "default",
    "example",
    "examples",
];

/// All schemas of a folder, by `$id`.
pub struct SchemaSet {
    pub files: BTreeMap<String, Value>,
    /// The member order of every object in each file (`serde_json::Value` sorts members, and
    /// the order of `properties` is the order of the generated fields).
    order: BTreeMap<String, KeyOrder>,
}

/// The shape of a JSON document with its object members in document order.
#[derive(Debug, Default)]
enum KeyOrder {
    Object(Vec<(String, KeyOrder)>),
    Array(Vec<KeyOrder>),
    #[default]
    Scalar,
}

impl<'de> serde::Deserialize<'de> for KeyOrder {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = KeyOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<KeyOrder, A::Error> {
                let mut members = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, KeyOrder>()? {
                    members.push((key, value));
                }
                Ok(KeyOrder::Object(members))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<KeyOrder, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<KeyOrder>()? {
                    items.push(item);
                }
                Ok(KeyOrder::Array(items))
            }
            fn visit_bool<E>(self, _: bool) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
            fn visit_unit<E>(self) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// One object schema: its name (`pointset`), version and `$id`.
#[derive(Debug, Clone)]
pub struct ObjectSchema {
    pub name: String,
    pub version: (u64, u64, u64),
    pub id: String,
}

/// The properties of an object schema with its `allOf` parts and `$ref`s merged.
#[derive(Debug, Default)]
pub struct Flat {
    /// Property name → every schema that declares it, outermost last.
    pub properties: Vec<(String, Vec<Loc>)>,
    pub required: BTreeSet<String>,
    /// `additionalProperties: {schema}`.
    pub additional: Option<Loc>,
}

impl SchemaSet {
    /// Reads every `*.schema.json` under `dir`. Returns the set and the files read as
    /// (path relative to `dir`, text), sorted by path, for the header hash.
    pub fn load(dir: &Path) -> Result<(Self, Vec<(String, String)>), String> {
        let mut texts = Vec::new();
        collect_files(dir, dir, &mut texts)?;
        texts.sort();
        let mut files = BTreeMap::new();
        let mut order = BTreeMap::new();
        for (rel, text) in &texts {
            let value: Value =
                serde_json::from_str(text).map_err(|e| format!("{rel}: not valid JSON: {e}"))?;
            let keys: KeyOrder =
                serde_json::from_str(text).map_err(|e| format!("{rel}: not valid JSON: {e}"))?;
            let id = value
                .get("$id")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{rel}: no $id"))?
                .to_owned();
            if files.insert(id.clone(), value).is_some() {
                return Err(format!("{rel}: $id {id} is used twice"));
            }
            order.insert(id, keys);
        }
        Ok((SchemaSet { files, order }, texts))
    }

    /// Builds a set from (id, schema) pairs (tests).
    #[cfg(test)]
    pub fn from_values(values: Vec<Value>) -> Self {
        let files = values
            .into_iter()
            .map(|v| (v["$id"].as_str().unwrap().to_owned(), v))
            .collect();
        SchemaSet {
            files,
            order: BTreeMap::new(),
        }
    }

    /// The highest version of every object schema (`/objects/<name>/<version>/<name>.schema.json`).
    pub fn latest_objects(&self) -> Result<Vec<ObjectSchema>, String> {
        let mut latest: BTreeMap<String, ObjectSchema> = BTreeMap::new();
        for id in self.files.keys() {
            let parts: Vec<&str> = id.trim_start_matches('/').split('/').collect();
            if parts.len() != 4 || parts[0] != "objects" {
                continue;
            }
            let version = parse_version(parts[2])
                .ok_or_else(|| format!("{id}: {:?} is not a version", parts[2]))?;
            let candidate = ObjectSchema {
                name: parts[1].to_owned(),
                version,
                id: id.clone(),
            };
            match latest.get(parts[1]) {
                Some(existing) if existing.version >= version => {}
                _ => {
                    latest.insert(parts[1].to_owned(), candidate);
                }
            }
        }
        Ok(latest.into_values().collect())
    }

    /// The schema at `loc`.
    pub fn at(&self, loc: &Loc) -> Result<&Value, String> {
        let file = self
            .files
            .get(&loc.file)
            .ok_or_else(|| format!("no schema has $id {:?}", loc.file))?;
        file.pointer(&loc.pointer)
            .ok_or_else(|| format!("{loc}: no such place"))
    }

    /// The other versions of the file `id` with the same major version
    /// (`/components/continuous-attribute/1.0.1/…` for `…/1.1.0/…`).
    pub fn same_major_versions(&self, id: &str) -> Vec<String> {
        let parts: Vec<&str> = id.trim_start_matches('/').split('/').collect();
        let Some((major, _, _)) = parts.get(2).and_then(|v| parse_version(v)) else {
            return Vec::new();
        };
        self.files
            .keys()
            .filter(|other| *other != id)
            .filter(|other| {
                let o: Vec<&str> = other.trim_start_matches('/').split('/').collect();
                o.len() == parts.len()
                    && o[0] == parts[0]
                    && o[1] == parts[1]
                    && o[3..] == parts[3..]
                    && o.get(2).and_then(|v| parse_version(v)).map(|v| v.0) == Some(major)
            })
            .cloned()
            .collect()
    }

    /// The member names of the object at `loc` in document order (sorted when the order is
    /// not known).
    pub fn keys_in_order(&self, loc: &Loc) -> Result<Vec<String>, String> {
        let value = self.at(loc)?;
        let Some(map) = value.as_object() else {
            return Ok(Vec::new());
        };
        let mut node = self.order.get(&loc.file);
        for segment in loc.segments() {
            node = match node {
                Some(KeyOrder::Object(members)) => {
                    members.iter().find(|(k, _)| *k == segment).map(|(_, v)| v)
                }
                Some(KeyOrder::Array(items)) => {
                    segment.parse::<usize>().ok().and_then(|i| items.get(i))
                }
                _ => None,
            };
        }
        match node {
            Some(KeyOrder::Object(members)) if members.len() == map.len() => {
                Ok(members.iter().map(|(k, _)| k.clone()).collect())
            }
            _ => Ok(map.keys().cloned().collect()),
        }
    }

    /// Where the `$ref` of the schema at `loc` points.
    pub fn ref_target(&self, loc: &Loc) -> Result<Option<Loc>, String> {
        let Some(reference) = self.at(loc)?.get("$ref") else {
            return Ok(None);
        };
        let reference = reference
            .as_str()
            .ok_or_else(|| format!("{loc}: $ref is not a string"))?;
        let (file, pointer) = match reference.split_once('#') {
            Some(("", pointer)) => (loc.file.clone(), pointer.to_owned()),
            Some((file, pointer)) => (file.to_owned(), pointer.to_owned()),
            None => (reference.to_owned(), String::new()),
        };
        let target = Loc { file, pointer };
        self.at(&target)
            .map_err(|e| format!("{loc}: $ref {reference:?}: {e}"))?;
        Ok(Some(target))
    }

    /// True when the schema at `loc` is a `$ref` plus annotations only.
    pub fn is_alias(&self, loc: &Loc) -> Result<bool, String> {
        let schema = self.at(loc)?;
        let Some(map) = schema.as_object() else {
            return Ok(false);
        };
        Ok(map.contains_key("$ref")
            && map
                .keys()
                .all(|k| k == "$ref" || ANNOTATIONS.contains(&k.as_str())))
    }

    /// Follows alias `$ref`s to the schema that defines something.
    pub fn follow(&self, loc: &Loc) -> Result<Loc, String> {
        let mut current = loc.clone();
        for _ in 0..64 {
            if !self.is_alias(&current)? {
                return Ok(current);
            }
            current = self.ref_target(&current)?.expect("an alias has a $ref");
        }
        Err(format!("{loc}: $ref cycle"))
    }

    /// True when the schema at `loc` describes an object with members (`properties`, `allOf`
    /// or a `$ref` to such a schema next to other keywords).
    pub fn is_object(&self, loc: &Loc) -> Result<bool, String> {
        let loc = self.follow(loc)?;
        let schema = self.at(&loc)?;
        if schema.get("properties").is_some() || schema.get("allOf").is_some() {
            return Ok(true);
        }
        match self.ref_target(&loc)? {
            Some(target) => self.is_object(&target),
            None => Ok(false),
        }
    }

    /// The members of the object schema at `loc`, with `allOf` parts and `$ref`s merged.
    pub fn flatten(&self, loc: &Loc) -> Result<Flat, String> {
        let mut flat = Flat::default();
        self.collect(loc, &mut flat, 0)?;
        for name in &flat.required {
            if !flat.properties.iter().any(|(p, _)| p == name) {
                return Err(format!("{loc}: required member {name:?} is not declared"));
            }
        }
        Ok(flat)
    }

    fn collect(&self, loc: &Loc, flat: &mut Flat, depth: usize) -> Result<(), String> {
        if depth > 64 {
            return Err(format!("{loc}: allOf/$ref nesting too deep"));
        }
        if let Some(target) = self.ref_target(loc)? {
            self.collect(&target, flat, depth + 1)?;
        }
        let schema = self.at(loc)?;
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for i in 0..parts.len() {
                self.collect(&loc.child("allOf").child(&i.to_string()), flat, depth + 1)?;
            }
        }
        if schema.get("properties").is_some_and(Value::is_object) {
            let props_loc = loc.child("properties");
            for name in self.keys_in_order(&props_loc)? {
                let prop = props_loc.child(&name);
                match flat.properties.iter_mut().find(|(p, _)| *p == name) {
                    Some((_, locs)) => locs.push(prop),
                    None => flat.properties.push((name, vec![prop])),
                }
            }
        }
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for r in required {
                let r = r
                    .as_str()
                    .ok_or_else(|| format!("{loc}: `required` holds a non-string"))?;
                flat.required.insert(r.to_owned());
            }
        }
        if let Some(additional) = schema.get("additionalProperties")
            && additional.is_object()
        {
            flat.additional = Some(loc.child("additionalProperties"));
        }
        Ok(())
    }
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else if path.to_string_lossy().ends_with(".schema.json") {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, text));
        }
    }
    Ok(())
}

/// `1.3.0` → `(1, 3, 0)`.
pub fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

/// The Rust name of a schema-set word list (`regular-3d-grid` → `Regular3DGrid`, `pointset` →
/// `PointSet`).
pub fn type_name(kebab: &str) -> String {
    kebab
        .split(['-', '_'])
        .map(|word| match word {
            "pointset" => "PointSet".to_owned(),
            "ip" => "IP".to_owned(),
            // `3d` → `3D`, `3` → `3`.
            w if w.starts_with(|c: char| c.is_ascii_digit()) => w.to_ascii_uppercase(),
            w => pascal(w),
        })
        .collect()
}

/// The Rust name of a file: `/components/bool-attribute/1.1.0/bool-attribute.schema.json` →
/// `BoolAttribute`; a file in a sub-folder is named after itself
/// (`/elements/unit/1.0.1/categories/unit-length.schema.json` → `UnitLength`).
pub fn file_type_name(id: &str) -> String {
    let parts: Vec<&str> = id.trim_start_matches('/').split('/').collect();
    let stem = if parts.len() > 4 {
        parts[parts.len() - 1].trim_end_matches(".schema.json")
    } else {
        parts.get(1).copied().unwrap_or(id)
    };
    type_name(stem)
}

/// `objects`, `components` or `elements`: the generated module a file's types go to.
pub fn file_kind(id: &str) -> &str {
    id.trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_well() {
        assert_eq!(type_name("pointset"), "PointSet");
        assert_eq!(type_name("regular-3d-grid"), "Regular3DGrid");
        assert_eq!(type_name("triangle-mesh"), "TriangleMesh");
        assert_eq!(type_name("line-segments"), "LineSegments");
        assert_eq!(type_name("float-array-3"), "FloatArray3");
        assert_eq!(type_name("geophysical-records-1d"), "GeophysicalRecords1D");
        assert_eq!(type_name("resistivity-ip"), "ResistivityIP");
        assert_eq!(
            file_type_name("/elements/unit/1.0.1/categories/unit-length.schema.json"),
            "UnitLength"
        );
        assert_eq!(
            file_type_name("/objects/pointset/1.3.0/pointset.schema.json"),
            "PointSet"
        );
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("1.3.0"), Some((1, 3, 0)));
        assert_eq!(parse_version("1.3"), None);
        assert_eq!(parse_version("1.3.0.1"), None);
        assert_eq!(parse_version("1.x.0"), None);
    }
}
