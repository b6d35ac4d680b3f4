//! `geoscience_object.rs`: `SchemaId`, `TypedObject` and the `GeoscienceObject` enum over
//! every object, keyed by its `schema` member.

use std::fmt::Write as _;

use crate::codegen::emit::lit;
use crate::codegen::json_schema::ObjectSchema;

/// `geoscience_object.rs`: `SchemaId`, `TypedObject` and the `GeoscienceObject` enum.
pub(super) fn geoscience_object(header: &str, typed: &[(ObjectSchema, String)]) -> String {
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
