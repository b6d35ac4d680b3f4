//! Turns the Geoscience Object JSON Schemas into Rust types: one struct per object schema (its
//! `allOf` parts flattened into one set of fields), one type per component, element or `$defs`
//! entry it uses, string enums with an `Unknown` fallback, `oneOf` unions as enums (tagged by a
//! constant member when the alternatives have one), and `GeoscienceObject`, the enum over every
//! object keyed by its `schema` member. The output is unformatted; the caller runs rustfmt.
//!
//! What lives where: this file lists the modules and assembles the files; `generator`
//! resolves schema places to types; `structs` and `unions` write objects and `oneOf` unions;
//! `values` and `naming` hold the small pieces they share; `geoscience_object` writes the
//! enum over every object and its support code.

mod generator;
mod geoscience_object;
mod naming;
mod structs;
#[cfg(test)]
mod tests;
mod unions;
mod values;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::json_schema::{Loc, SchemaSet};

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

use generator::Generator;
use geoscience_object::geoscience_object;

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
