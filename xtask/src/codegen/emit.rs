//! Turns a [`Spec`] into Rust source: serde models and endpoint functions on
//! `evo_core::ApiConnector`. The output is unformatted; the caller runs rustfmt on it.
//!
//! What lives where: this file assembles the three files; `names` makes Rust names and doc
//! comments, `models` the types, `endpoints` the functions.

mod endpoints;
mod models;
mod names;

use std::fmt::Write as _;

use super::openapi::Spec;
use endpoints::Endpoints;
use models::Models;
pub(super) use models::string_enum;
pub(super) use names::{doc_lines, lit, pascal, push_doc, snake};

/// The three generated files, unformatted.
pub struct Generated {
    pub mod_rs: String,
    pub models_rs: String,
    pub endpoints_rs: String,
}

/// Generates the code for `spec`; `header` is the first comment line of every file.
pub fn generate(spec: &Spec, header: &str) -> Result<Generated, String> {
    let mut models = Models::new(spec);
    for (name, schema) in &spec.components.schemas {
        models.component(name, schema)?;
    }
    let endpoints = Endpoints::generate(spec, &mut models)?;
    let title = &spec.info.title;
    let version = &spec.info.version;

    let mut mod_rs = format!("// {header}\n\n");
    writeln!(
        mod_rs,
        "//! Code generated from the OpenAPI description of the {title} (version {version}).\n//!"
    )
    .unwrap();
    if let Some(d) = &spec.info.description {
        for line in doc_lines(d) {
            writeln!(mod_rs, "//!{line}").unwrap();
        }
        mod_rs.push_str("//!\n");
    }
    mod_rs.push_str(
        "//! [`models`] holds the request and response types; [`endpoints`] one async function per\n\
         //! operation, sending it with an `evo_core::ApiConnector`.\n\n\
         pub mod endpoints;\npub mod models;\n",
    );

    let mut models_rs = format!("// {header}\n\n");
    writeln!(
        models_rs,
        "//! Request and response types of the {title}.\n"
    )
    .unwrap();
    models_rs.push_str("#[allow(unused_imports)]\nuse serde::{Deserialize, Serialize};\n\n");
    models_rs.push_str(&models.out);

    let mut endpoints_rs = format!("// {header}\n\n");
    writeln!(
        endpoints_rs,
        "//! One function per operation of the {title}. Errors (any status the operation does not\n\
         //! list as a success) come back as `evo_core::Error::Api` with the status and body kept.\n"
    )
    .unwrap();
    endpoints_rs.push_str(
        "#[allow(unused_imports)]\nuse super::models::*;\n\
         #[allow(unused_imports)]\nuse evo_core::http::{Method, StatusCode};\n\
         #[allow(unused_imports)]\nuse evo_core::uuid::Uuid;\n\
         #[allow(unused_imports)]\nuse evo_core::{ApiConnector, CollectionFormat, Error};\n\n",
    );
    endpoints_rs.push_str(&endpoints);

    Ok(Generated {
        mod_rs,
        models_rs,
        endpoints_rs,
    })
}
