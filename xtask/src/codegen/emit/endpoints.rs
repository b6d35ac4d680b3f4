//! The endpoints: one async function per operation, sending it with an
//! `evo_core::ApiConnector`, and the support code for binary responses.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::codegen::openapi::{
    Operation, Parameter, ParameterLocation, RefOr, Response, Spec, ref_name,
};

use super::models::{Models, RType};
use super::names::{doc_lines, lit, pascal, push_doc, snake};

/// What a success response carries.
#[derive(Debug, Clone, PartialEq)]
enum Payload {
    Empty,
    Json(RType),
    Binary(Vec<String>),
}

/// The `http::StatusCode` constant and enum variant name of a status.
fn status_names(code: u16) -> Option<(&'static str, &'static str)> {
    Some(match code {
        200 => ("OK", "Ok"),
        201 => ("CREATED", "Created"),
        202 => ("ACCEPTED", "Accepted"),
        203 => (
            "NON_AUTHORITATIVE_INFORMATION",
            "NonAuthoritativeInformation",
        ),
        204 => ("NO_CONTENT", "NoContent"),
        206 => ("PARTIAL_CONTENT", "PartialContent"),
        301 => ("MOVED_PERMANENTLY", "MovedPermanently"),
        302 => ("FOUND", "Found"),
        303 => ("SEE_OTHER", "SeeOther"),
        304 => ("NOT_MODIFIED", "NotModified"),
        307 => ("TEMPORARY_REDIRECT", "TemporaryRedirect"),
        308 => ("PERMANENT_REDIRECT", "PermanentRedirect"),
        404 => ("NOT_FOUND", "NotFound"),
        409 => ("CONFLICT", "Conflict"),
        410 => ("GONE", "Gone"),
        503 => ("SERVICE_UNAVAILABLE", "ServiceUnavailable"),
        _ => return None,
    })
}

pub(super) struct Endpoints;

impl Endpoints {
    pub(super) fn generate(spec: &Spec, models: &mut Models<'_>) -> Result<String, String> {
        let mut out = String::new();
        let mut needs_binary = false;
        let mut fn_names = BTreeSet::new();
        for (path, item) in &spec.paths {
            for (method, op) in item.operations() {
                let name = snake(&op.operation_id);
                if !fn_names.insert(name.clone()) {
                    return Err(format!("two operations are named {name}"));
                }
                let text = Self::operation(
                    spec,
                    models,
                    path,
                    method,
                    &item.parameters,
                    op,
                    &mut needs_binary,
                )
                .map_err(|e| format!("{method} {path} ({}): {e}", op.operation_id))?;
                out.push_str(&text);
            }
        }
        if needs_binary {
            out.push_str(BINARY_SUPPORT);
        }
        Ok(out)
    }

    fn parameter(spec: &Spec, p: &RefOr<Parameter>) -> Result<Parameter, String> {
        match p {
            RefOr::Item(p) => Ok(p.clone()),
            RefOr::Ref { reference } => {
                let name = reference
                    .strip_prefix("#/components/parameters/")
                    .ok_or_else(|| format!("unsupported parameter $ref {reference:?}"))?;
                match spec.components.parameters.get(name) {
                    Some(RefOr::Item(p)) => Ok(p.clone()),
                    _ => Err(format!("parameter $ref {reference:?} names no parameter")),
                }
            }
        }
    }

    fn response(spec: &Spec, r: &RefOr<Response>) -> Result<Response, String> {
        match r {
            RefOr::Item(r) => Ok(r.clone()),
            RefOr::Ref { reference } => {
                let name = ref_name(reference).unwrap_or_default();
                match spec.components.responses.get(name) {
                    Some(RefOr::Item(r)) => Ok(r.clone()),
                    _ => Err(format!("response $ref {reference:?} names no response")),
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        spec: &Spec,
        models: &mut Models<'_>,
        path: &str,
        method: &str,
        path_params: &[RefOr<Parameter>],
        op: &Operation,
        needs_binary: &mut bool,
    ) -> Result<String, String> {
        let fn_name = snake(&op.operation_id);
        let op_type = pascal(&op.operation_id);

        // Parameters: path-level first, overridden by operation-level ones of the same name.
        let mut params: Vec<Parameter> = Vec::new();
        for p in path_params.iter().chain(&op.parameters) {
            let p = Self::parameter(spec, p)?;
            params.retain(|q| !(q.name == p.name && q.location == p.location));
            params.push(p);
        }
        params.retain(|p| {
            !(p.location == ParameterLocation::Header
                && p.name.eq_ignore_ascii_case("authorization"))
        });

        let mut args = vec!["connector: &ApiConnector".to_owned()];
        let mut chain = format!("connector\n.request(Method::{method}, {})", lit(path));
        let mut arg_docs = String::new();
        // Statements for optional headers and bodies, which cannot be chained.
        let mut optional: Vec<String> = Vec::new();

        // Path parameters, in the order of the template.
        let mut path_list: Vec<&Parameter> = params
            .iter()
            .filter(|p| p.location == ParameterLocation::Path)
            .collect();
        path_list.sort_by_key(|p| path.find(&format!("{{{}}}", p.name)).unwrap_or(usize::MAX));
        for p in &path_list {
            if !path.contains(&format!("{{{}}}", p.name)) {
                return Err(format!("path parameter {:?} is not in the path", p.name));
            }
            let arg = snake(&p.name);
            let ty = models.resolve(&p.schema, &format!("{op_type}{}", pascal(&p.name)))?;
            let arg_ty = match ty {
                RType::Uuid => "Uuid".to_owned(),
                RType::String => "&str".to_owned(),
                RType::I32 | RType::I64 => ty.render(),
                RType::Named(ref n) if models.enums.contains(n) => format!("&{n}"),
                other => return Err(format!("path parameter {:?} of type {other:?}", p.name)),
            };
            args.push(format!("{arg}: {arg_ty}"));
            let setter = if p.path_with_slashes {
                "path_param_with_slashes"
            } else {
                "path_param"
            };
            write!(chain, "\n.{setter}({}, {arg})", lit(&p.name)).unwrap();
            writeln!(
                arg_docs,
                "/// - `{arg}`: {}",
                doc_lines(p.description.as_deref().unwrap_or("a path parameter."))
                    .join(" ")
                    .trim()
            )
            .unwrap();
        }
        if path.matches('{').count() != path_list.len() {
            return Err("the path has placeholders without a parameter".into());
        }

        // Query and header parameters go in a params struct.
        let others: Vec<&Parameter> = params
            .iter()
            .filter(|p| {
                matches!(
                    p.location,
                    ParameterLocation::Query | ParameterLocation::Header
                )
            })
            .collect();
        if params
            .iter()
            .any(|p| p.location == ParameterLocation::Cookie)
        {
            return Err("cookie parameters are not supported".into());
        }
        let mut params_struct = String::new();
        if !others.is_empty() {
            let struct_name = format!("{op_type}Params");
            models.claim(&struct_name)?;
            let mut fields = String::new();
            let mut all_optional = true;
            for p in &others {
                let field = snake(&p.name);
                let ty = models.resolve(&p.schema, &format!("{op_type}{}", pascal(&p.name)))?;
                push_doc(
                    &mut fields,
                    p.description.as_deref().unwrap_or("A parameter."),
                );
                let getter = format!("params.{field}");
                match (&p.location, &ty) {
                    (ParameterLocation::Header, RType::String) => {
                        if p.required {
                            all_optional = false;
                            writeln!(fields, "pub {field}: String,").unwrap();
                            write!(chain, "\n.header({}, &{getter})", lit(&p.name)).unwrap();
                        } else {
                            writeln!(fields, "pub {field}: Option<String>,").unwrap();
                            optional.push(format!(
                                "if let Some(value) = &{getter} {{\nrequest = request.header({}, value);\n}}",
                                lit(&p.name)
                            ));
                        }
                    }
                    (ParameterLocation::Header, _) => {
                        return Err(format!("header parameter {:?} must be a string", p.name));
                    }
                    (_, RType::Vec(inner)) if inner.is_query_scalar(&models.enums) => {
                        writeln!(fields, "pub {field}: {},", ty.render()).unwrap();
                        let format = if p.explode.unwrap_or(true) {
                            "Multi"
                        } else {
                            "Csv"
                        };
                        write!(
                            chain,
                            "\n.query_list({}, &{getter}, CollectionFormat::{format})",
                            lit(&p.name)
                        )
                        .unwrap();
                    }
                    (_, t) if t.is_query_scalar(&models.enums) => {
                        let by_ref = matches!(t, RType::String | RType::Named(_));
                        if p.required {
                            all_optional = false;
                            writeln!(fields, "pub {field}: {},", t.render()).unwrap();
                            let value = if by_ref {
                                format!("&{getter}")
                            } else {
                                getter.clone()
                            };
                            write!(chain, "\n.query({}, {value})", lit(&p.name)).unwrap();
                        } else {
                            writeln!(fields, "pub {field}: Option<{}>,", t.render()).unwrap();
                            let value = if by_ref {
                                format!("{getter}.as_ref()")
                            } else {
                                getter.clone()
                            };
                            write!(chain, "\n.query_opt({}, {value})", lit(&p.name)).unwrap();
                        }
                    }
                    (_, other) => {
                        return Err(format!("query parameter {:?} of type {other:?}", p.name));
                    }
                }
            }
            push_doc(
                &mut params_struct,
                &format!("The query and header parameters of [`{fn_name}`]."),
            );
            let derive = if all_optional { ", Default" } else { "" };
            writeln!(
                params_struct,
                "#[derive(Debug, Clone, PartialEq{derive})]\npub struct {struct_name} {{\n{fields}}}\n"
            )
            .unwrap();
            args.push(format!("params: &{struct_name}"));
        }

        // Request body.
        if let Some(body) = &op.request_body {
            let json = body.content.iter().find(|(ct, _)| ct.contains("json"));
            match json {
                Some((_, media)) => {
                    let schema = media.schema.clone().unwrap_or_default();
                    let ty = models.resolve(&schema, &format!("{op_type}Body"))?;
                    if body.required {
                        args.push(format!("body: &{}", ty.render()));
                        chain.push_str("\n.json(body)");
                    } else {
                        args.push(format!("body: Option<&{}>", ty.render()));
                        optional.push(
                            "if let Some(body) = body {\nrequest = request.json(body);\n}".into(),
                        );
                    }
                    writeln!(
                        arg_docs,
                        "/// - `body`: {}",
                        doc_lines(
                            body.description
                                .as_deref()
                                .unwrap_or("the JSON request body.")
                        )
                        .join(" ")
                        .trim()
                    )
                    .unwrap();
                }
                None => {
                    let binary = body.content.values().all(|m| {
                        m.schema
                            .as_ref()
                            .is_none_or(|s| s.format.as_deref() == Some("binary"))
                    });
                    if !binary || body.content.is_empty() {
                        return Err("request bodies must be JSON or binary".into());
                    }
                    let types: Vec<&str> = body.content.keys().map(String::as_str).collect();
                    args.push("body: evo_core::bytes::Bytes".into());
                    args.push("content_type: &str".into());
                    chain.push_str("\n.body(evo_core::Body::from(body), Some(content_type))");
                    writeln!(
                        arg_docs,
                        "/// - `body`, `content_type`: the request body and its media type (one of {}).",
                        types.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
                    )
                    .unwrap();
                }
            }
        }

        // Success responses.
        let mut successes: Vec<(u16, Payload, String)> = Vec::new();
        for (code, response) in &op.responses {
            let response = Self::response(spec, response)?;
            let Ok(status) = code.parse::<u16>() else {
                continue;
            };
            if !(200..400).contains(&status) && !response.expected {
                continue;
            }
            let payload = if response.content.is_empty() {
                Payload::Empty
            } else if let Some((_, media)) =
                response.content.iter().find(|(ct, _)| ct.contains("json"))
            {
                match &media.schema {
                    Some(schema) => Payload::Json(models.resolve(
                        schema,
                        &format!(
                            "{op_type}{}",
                            status_names(status).map(|n| n.1).unwrap_or("Response")
                        ),
                    )?),
                    None => Payload::Json(RType::Json),
                }
            } else {
                Payload::Binary(response.content.keys().cloned().collect())
            };
            successes.push((status, payload, response.description.unwrap_or_default()));
        }
        if successes.is_empty() {
            return Err("no success response".into());
        }
        let accept: Vec<String> = successes
            .iter()
            .flat_map(|(_, p, _)| match p {
                Payload::Binary(types) => types.clone(),
                _ => Vec::new(),
            })
            .collect();
        let (prelude, mut chain) = if optional.is_empty() {
            (String::new(), chain)
        } else {
            (
                format!("let mut request = {chain};\n{}\n", optional.join("\n")),
                "request".to_owned(),
            )
        };
        if !accept.is_empty() {
            *needs_binary = true;
            write!(chain, "\n.header(\"accept\", {})", lit(&accept.join(", "))).unwrap();
        }
        let mut consts = Vec::new();
        for (status, _, _) in &successes {
            let (c, _) =
                status_names(*status).ok_or_else(|| format!("status {status} is not supported"))?;
            consts.push(format!("StatusCode::{c}"));
        }
        write!(chain, "\n.expect_status(&[{}])", consts.join(", ")).unwrap();

        let mut response_enum = String::new();
        let (return_type, body_code) = if successes.len() == 1 {
            let (_, payload, _) = &successes[0];
            match payload {
                Payload::Empty => (
                    "()".to_owned(),
                    format!("{chain}\n.send_empty()\n.await?;\nOk(())"),
                ),
                Payload::Json(t) => (
                    t.render(),
                    format!("{chain}\n.send_json::<{}>()\n.await", t.render()),
                ),
                Payload::Binary(_) => (
                    "BinaryBody".to_owned(),
                    format!(
                        "let response = {chain}\n.send()\n.await?;\nread_binary(response).await"
                    ),
                ),
            }
        } else {
            let enum_name = format!("{op_type}Response");
            models.claim(&enum_name)?;
            push_doc(
                &mut response_enum,
                &format!("The answers of [`{fn_name}`]."),
            );
            writeln!(
                response_enum,
                "#[derive(Debug, Clone, PartialEq)]\n#[allow(clippy::large_enum_variant)]\npub enum {enum_name} {{"
            )
            .unwrap();
            let mut arms = String::new();
            for (status, payload, description) in &successes {
                let (_, variant) = status_names(*status).unwrap_or(("", ""));
                push_doc(&mut response_enum, &format!("{status}: {description}"));
                match payload {
                    Payload::Empty => {
                        writeln!(response_enum, "{variant},").unwrap();
                        writeln!(arms, "{status} => Ok({enum_name}::{variant}),").unwrap();
                    }
                    Payload::Json(t) => {
                        writeln!(response_enum, "{variant}({}),", t.render()).unwrap();
                        writeln!(
                            arms,
                            "{status} => Ok({enum_name}::{variant}(evo_core::decode_json(response, evo_core::DEFAULT_MAX_RESPONSE_BYTES).await?)),"
                        )
                        .unwrap();
                    }
                    Payload::Binary(_) => {
                        writeln!(response_enum, "{variant}(BinaryBody),").unwrap();
                        writeln!(
                            arms,
                            "{status} => Ok({enum_name}::{variant}(read_binary(response).await?)),"
                        )
                        .unwrap();
                    }
                }
            }
            response_enum.push_str("}\n\n");
            (
                enum_name,
                format!(
                    "let response = {chain}\n.send()\n.await?;\nmatch response.status().as_u16() {{\n{arms}_ => Err(evo_core::api_error_from_response(response, None, None).await),\n}}"
                ),
            )
        };

        let body_code = format!("{prelude}{body_code}");

        let mut out = String::new();
        out.push_str(&params_struct);
        out.push_str(&response_enum);
        push_doc(&mut out, op.summary.as_deref().unwrap_or(&op.operation_id));
        out.push_str("///\n");
        writeln!(out, "/// `{method} {path}`").unwrap();
        if let Some(d) = &op.description {
            out.push_str("///\n");
            push_doc(&mut out, d);
        }
        if !arg_docs.is_empty() {
            out.push_str("///\n");
            out.push_str(&arg_docs);
        }
        if op.deprecated {
            out.push_str("#[deprecated]\n");
        }
        writeln!(
            out,
            "pub async fn {fn_name}({}) -> Result<{return_type}, Error> {{\n{body_code}\n}}\n",
            args.join(", ")
        )
        .unwrap();
        Ok(out)
    }
}

/// Support code for binary responses.
const BINARY_SUPPORT: &str = r#"
/// A binary response body with its media type.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryBody {
    /// The `Content-Type` the server sent.
    pub content_type: Option<String>,
    /// The body.
    pub data: evo_core::bytes::Bytes,
}

/// Reads a whole binary response (at most `evo_core::DEFAULT_MAX_RESPONSE_BYTES`).
async fn read_binary(response: evo_core::http::Response<evo_core::Body>) -> Result<BinaryBody, Error> {
    let status = response.status();
    let content_type = response
        .headers()
        .get(evo_core::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let data = response
        .into_body()
        .collect(evo_core::DEFAULT_MAX_RESPONSE_BYTES)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => Error::from(evo_core::DecodeError::new(
                "a body within the size limit",
                status,
                e.to_string(),
                b"",
            )),
            _ => Error::from(
                evo_core::TransportError::new(
                    evo_core::TransportErrorKind::Connection,
                    format!("reading the response body failed: {e}"),
                )
                .with_source(e),
            ),
        })?;
    Ok(BinaryBody { content_type, data })
}
"#;
