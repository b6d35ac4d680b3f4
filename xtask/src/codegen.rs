//! `cargo xtask codegen [--check]`: regenerates `crates/*/src/generated/` from `specs/`, and
//! the copies of spec files crates package with them ([`mirror`]: the emulator's schemas).
//!
//! Each spec in [`TARGETS`] becomes `mod.rs`, `models.rs` and `endpoints.rs` in its crate's
//! `src/generated/`. Output is rustfmt-formatted and deterministic (same spec, same bytes), and
//! starts with a header naming the spec and its SHA-256. `--check` regenerates in memory and
//! fails, listing the stale files, when the committed output differs.

mod emit;
mod emit_schemas;
mod examples;
mod json_schema;
mod mirror;
mod openapi;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// One spec and the folder its code goes to.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The spec, relative to the workspace root.
    pub spec: &'static str,
    /// The output folder, relative to the workspace root.
    pub out_dir: &'static str,
}

/// Which spec feeds which crate. Adding an API is one row here plus the spec.
pub const TARGETS: &[Target] = &[
    Target {
        spec: "specs/discovery.yaml",
        out_dir: "crates/evo-discovery/src/generated",
    },
    Target {
        spec: "specs/workspaces.yaml",
        out_dir: "crates/evo-workspaces/src/generated",
    },
    Target {
        spec: "specs/files.yaml",
        out_dir: "crates/evo-files/src/generated",
    },
];

/// A folder of JSON Schemas and the folder its types go to.
#[derive(Debug, Clone, Copy)]
pub struct SchemaTarget {
    /// The folder holding the `*.schema.json` files (searched recursively), relative to the
    /// workspace root.
    pub schemas: &'static str,
    /// The output folder, relative to the workspace root.
    pub out_dir: &'static str,
    /// Where one example object per object schema goes (every member filled in, JSON), for
    /// the crate's tests of the generated types.
    pub examples_dir: &'static str,
}

/// Which JSON Schema folder feeds which crate: every object schema at its latest version, with
/// the components and elements it uses, becomes a type.
pub const SCHEMA_TARGETS: &[SchemaTarget] = &[SchemaTarget {
    schemas: "specs/evo-schemas/schema",
    out_dir: "crates/evo-objects/src/generated",
    examples_dir: "crates/evo-objects/tests/fixtures/typed/examples",
}];

/// Regenerates, or with `--check` verifies, the generated code.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut check = false;
    for arg in args {
        match arg.as_str() {
            "--check" => check = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?} (usage: codegen [--check])"
                ));
            }
        }
    }
    let root = workspace_root();
    let files = generate_all(&root)?;
    let orphans = mirror::orphans(&root, &files)?;
    if check {
        let mut stale = stale_files(&files);
        stale.extend(orphans);
        if stale.is_empty() {
            println!("generated code is up to date ({} files)", files.len());
            return Ok(());
        }
        let list: Vec<String> = stale
            .iter()
            .map(|p| format!("  {}", p.strip_prefix(&root).unwrap_or(p).display()))
            .collect();
        return Err(format!(
            "generated code is stale; run `cargo xtask codegen` and commit the result:\n{}",
            list.join("\n")
        ));
    }
    for path in &orphans {
        std::fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        println!(
            "removed {}",
            path.strip_prefix(&root).unwrap_or(path).display()
        );
    }
    for (path, contents) in &files {
        let current = std::fs::read_to_string(path).ok();
        if current.as_deref().map(normalize) == Some(normalize(contents)) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        // Write to a temporary file and rename, so an interrupted run leaves no half file.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, contents)
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!(
            "wrote {}",
            path.strip_prefix(&root).unwrap_or(path).display()
        );
    }
    Ok(())
}

/// The workspace root (the parent of the xtask crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Generates every target: (absolute path, formatted contents).
pub fn generate_all(root: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let mut out = Vec::new();
    for target in TARGETS {
        let spec_path = root.join(target.spec);
        let text = std::fs::read_to_string(&spec_path)
            .map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
        let files = generate_target(target.spec, &text)?;
        let dir = root.join(target.out_dir);
        for (name, contents) in files {
            out.push((dir.join(name), contents));
        }
    }
    for target in SCHEMA_TARGETS {
        let (set, texts) = json_schema::SchemaSet::load(&root.join(target.schemas))?;
        let files = generate_schema_target(target.schemas, &set, &texts)?;
        let dir = root.join(target.out_dir);
        for (name, contents) in files {
            out.push((dir.join(name), contents));
        }
        let dir = root.join(target.examples_dir);
        for (name, contents) in examples::generate(&set)? {
            out.push((dir.join(name), contents));
        }
    }
    out.extend(mirror::generate(root)?);
    Ok(out)
}

/// Generates the types of a JSON Schema folder (`schemas`, as named in the header) read as
/// `set` from the files `texts` (relative path, text): files (name, formatted contents).
fn generate_schema_target(
    schemas: &str,
    set: &json_schema::SchemaSet,
    texts: &[(String, String)],
) -> Result<Vec<(&'static str, String)>, String> {
    // The hash covers every file of the folder (path and normalised text), so any change to a
    // schema, used or not, shows in the header.
    let mut hasher = Sha256::new();
    for (path, text) in texts {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(normalize(text).as_bytes());
        hasher.update([0]);
    }
    let hash = hex::encode(hasher.finalize());
    let header = format!(
        "Generated by `cargo xtask codegen` from {schemas} ({} files, sha256 {hash}), do not edit by hand.",
        texts.len()
    );
    let files = emit_schemas::generate(set, &header).map_err(|e| format!("{schemas}: {e}"))?;
    files
        .into_iter()
        .map(|(name, source)| Ok((name, rustfmt(&source)?)))
        .collect()
}

/// Generates one spec's files (name, formatted contents) from its text.
pub fn generate_target(spec_name: &str, text: &str) -> Result<Vec<(&'static str, String)>, String> {
    let spec: openapi::Spec =
        serde_norway::from_str(text).map_err(|e| format!("{spec_name}: not a valid spec: {e}"))?;
    let hash = hex::encode(Sha256::digest(normalize(text).as_bytes()));
    let header = format!(
        "Generated by `cargo xtask codegen` from {spec_name} (sha256 {hash}), do not edit by hand."
    );
    let generated = emit::generate(&spec, &header).map_err(|e| format!("{spec_name}: {e}"))?;
    Ok(vec![
        ("mod.rs", rustfmt(&generated.mod_rs)?),
        ("models.rs", rustfmt(&generated.models_rs)?),
        ("endpoints.rs", rustfmt(&generated.endpoints_rs)?),
    ])
}

/// The files whose contents on disk differ from `files`.
pub fn stale_files(files: &[(PathBuf, String)]) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|(path, contents)| {
            std::fs::read_to_string(path).ok().map(|c| normalize(&c)) != Some(normalize(contents))
        })
        .map(|(path, _)| path.clone())
        .collect()
}

/// Line endings normalised, so a checkout with CRLF is not "stale".
fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Formats Rust source with rustfmt (edition 2024, the project's settings).
fn rustfmt(source: &str) -> Result<String, String> {
    use std::io::Write as _;
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_owned());
    let mut child = Command::new(&rustfmt)
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .current_dir(workspace_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot run {rustfmt} (install it with `rustup component add rustfmt`): {e}")
        })?;
    let mut stdin = child.stdin.take().ok_or("rustfmt has no stdin")?;
    let input = source.to_owned();
    // Feed stdin from a thread so a large output cannot deadlock against a full stdout pipe.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|e| format!("rustfmt failed: {e}"))?;
    writer
        .join()
        .map_err(|_| "rustfmt input thread panicked".to_owned())?
        .map_err(|e| format!("cannot write to rustfmt: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "rustfmt rejected the generated code (a generator bug):\n{}\n--- source ---\n{source}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|_| "rustfmt wrote non-UTF-8 output".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed generated code matches the specs (the same check as `codegen --check`).
    #[test]
    fn generated_up_to_date() {
        let root = workspace_root();
        let files = generate_all(&root).expect("generation succeeds");
        let stale = stale_files(&files);
        assert!(
            stale.is_empty(),
            "stale generated files (run `cargo xtask codegen`): {stale:?}"
        );
    }

    #[test]
    fn output_is_deterministic_and_marked() {
        let text = std::fs::read_to_string(workspace_root().join("specs/workspaces.yaml")).unwrap();
        let a = generate_target("specs/workspaces.yaml", &text).unwrap();
        let b = generate_target("specs/workspaces.yaml", &text).unwrap();
        assert_eq!(a, b);
        for (_, contents) in &a {
            assert!(contents.starts_with(
                "// Generated by `cargo xtask codegen` from specs/workspaces.yaml (sha256 "
            ));
            assert!(
                contents
                    .lines()
                    .next()
                    .unwrap()
                    .ends_with("), do not edit by hand.")
            );
        }
        // A changed spec changes the hash in the header.
        let c = generate_target("specs/workspaces.yaml", &format!("{text}\n# changed\n")).unwrap();
        assert_ne!(a[0].1.lines().next(), c[0].1.lines().next());
    }

    /// The features another API (the File API) needs: path parameters with slashes, boolean
    /// and list query parameters, a 303 answer returned as data, arrays, nested objects, enums,
    /// nullable `anyOf`, binary bodies.
    #[test]
    fn file_api_features() {
        let spec = r##"
openapi: 3.1.0
info: {title: Test API, version: "1"}
paths:
  /file/v2/orgs/{org_id}/files/path/{file_path}:
    parameters:
      - {name: org_id, in: path, required: true, schema: {type: string, format: uuid}}
      - name: file_path
        in: path
        required: true
        x-evo-path-with-slashes: true
        description: The file's path.
        schema: {type: string}
    get:
      operationId: getFileByPath
      summary: Gets a file.
      parameters:
        - {name: include_versions, in: query, schema: {type: boolean}, description: Versions too.}
        - {name: version_id, in: query, schema: {anyOf: [{type: string}, {type: "null"}]}}
        - {name: tag, in: query, schema: {type: array, items: {type: string}}, explode: true}
        - {name: authorization, in: header, required: true, schema: {type: string}}
      responses:
        "200":
          description: The file.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/File"}
        "404": {description: Not found.}
    post:
      operationId: restoreFile
      summary: Restores a file.
      parameters:
        - {name: deleted, in: query, required: true, schema: {type: boolean}}
      responses:
        "204": {description: Restored in place.}
        "303":
          description: Restored under another path.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/File"}
    put:
      operationId: putBlob
      summary: Uploads bytes.
      requestBody:
        required: true
        content:
          application/octet-stream:
            schema: {type: string, format: binary}
      responses:
        "201": {description: Stored.}
components:
  schemas:
    File:
      type: object
      additionalProperties: true
      required: [file_id, versions, kind]
      properties:
        file_id: {type: string, format: uuid, description: The id.}
        created_at: {type: string, format: date-time, description: When.}
        kind:
          type: string
          enum: [file, folder]
          description: The kind.
        versions:
          type: array
          description: Versions.
          items:
            type: object
            required: [version_id]
            properties:
              version_id: {type: string, description: The version.}
              size: {type: [integer, "null"], description: Bytes.}
        etag: {anyOf: [{type: string}, {type: "null"}], description: The ETag.}
"##;
        let files = generate_target("specs/test.yaml", spec).expect("generates");
        let models = &files[1].1;
        let endpoints = &files[2].1;
        assert!(models.contains("pub struct File {"), "{models}");
        assert!(
            models.contains("pub versions: Vec<FileVersionsItem>,"),
            "{models}"
        );
        assert!(models.contains("pub struct FileVersionsItem {"), "{models}");
        assert!(models.contains("pub size: Option<i64>,"), "{models}");
        assert!(models.contains("pub etag: Option<String>,"), "{models}");
        assert!(models.contains("pub enum FileKind {"), "{models}");
        assert!(models.contains("Unknown(String),"), "{models}");
        assert!(
            models.contains("with = \"time::serde::rfc3339::option\""),
            "{models}"
        );
        assert!(models.contains("#[serde(flatten)]"), "{models}");
        assert!(
            endpoints.contains(".path_param_with_slashes(\"file_path\", file_path)"),
            "{endpoints}"
        );
        assert!(
            endpoints.contains(".path_param(\"org_id\", org_id)"),
            "{endpoints}"
        );
        assert!(
            endpoints.contains("pub include_versions: Option<bool>,"),
            "{endpoints}"
        );
        assert!(endpoints.contains(".query_opt(\"include_versions\", params.include_versions)"));
        assert!(endpoints.contains(".query_list(\"tag\", &params.tag, CollectionFormat::Multi)"));
        assert!(
            !endpoints.contains("authorization"),
            "the authorizer sets that header"
        );
        assert!(
            endpoints.contains("pub enum RestoreFileResponse {"),
            "{endpoints}"
        );
        assert!(endpoints.contains("SeeOther(File)"), "{endpoints}");
        assert!(endpoints.contains("StatusCode::NO_CONTENT, StatusCode::SEE_OTHER"));
        assert!(endpoints.contains("content_type: &str"), "{endpoints}");
    }

    /// The JSON Schema target: same bytes twice, a header naming the folder and its hash, and
    /// a changed file detected as stale.
    #[test]
    fn schema_target_is_deterministic_and_staleness_is_detected() {
        let root = workspace_root();
        let target = &SCHEMA_TARGETS[0];
        let (set, texts) = json_schema::SchemaSet::load(&root.join(target.schemas)).unwrap();
        let a = generate_schema_target(target.schemas, &set, &texts).unwrap();
        let b = generate_schema_target(target.schemas, &set, &texts).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            examples::generate(&set).unwrap(),
            examples::generate(&set).unwrap()
        );
        let names: Vec<&str> = a.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "mod.rs",
                "objects.rs",
                "components.rs",
                "elements.rs",
                "geoscience_object.rs"
            ]
        );
        for (_, contents) in &a {
            let first = contents.lines().next().unwrap();
            assert!(
                first.starts_with(
                    "// Generated by `cargo xtask codegen` from specs/evo-schemas/schema ("
                ) && first.ends_with("), do not edit by hand."),
                "{first}"
            );
        }
        // A changed schema changes the header hash.
        let mut changed = texts.clone();
        changed[0].1.push(' ');
        let c = generate_schema_target(target.schemas, &set, &changed).unwrap();
        assert_ne!(a[0].1.lines().next(), c[0].1.lines().next());

        // `--check` compares with the files on disk: an edited file is stale, a CRLF one is not.
        let dir = std::env::temp_dir().join(format!("xtask-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fresh = dir.join("fresh.rs");
        let crlf = dir.join("crlf.rs");
        let edited = dir.join("edited.rs");
        let missing = dir.join("missing.rs");
        let contents = a[1].1.clone();
        std::fs::write(&fresh, &contents).unwrap();
        std::fs::write(&crlf, contents.replace('\n', "\r\n")).unwrap();
        std::fs::write(&edited, contents.replacen("pub struct", "struct", 1)).unwrap();
        let files: Vec<(PathBuf, String)> = [&fresh, &crlf, &edited, &missing]
            .iter()
            .map(|p| ((*p).clone(), contents.clone()))
            .collect();
        let stale = stale_files(&files);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(stale, vec![edited, missing]);
    }

    #[test]
    fn allow_slashes_alias() {
        let spec = r##"
openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /files/path/{file_path}:
    delete:
      operationId: delete_file
      parameters:
        - {name: file_path, in: path, required: true, x-allow-slashes: true, schema: {type: string}}
      responses:
        "204": {description: Deleted.}
"##;
        let files = generate_target("specs/t.yaml", spec).unwrap();
        assert!(
            files[2]
                .1
                .contains(".path_param_with_slashes(\"file_path\", file_path)")
        );
    }

    #[test]
    fn unsupported_features_are_reported() {
        let spec = r##"
openapi: 3.0.3
info: {title: T, version: "1"}
paths: {}
components:
  schemas:
    Either:
      oneOf: [{type: string}, {type: integer}]
"##;
        let err = generate_target("specs/t.yaml", spec).unwrap_err();
        assert!(err.contains("Either") && err.contains("oneOf"), "{err}");
        let err = generate_target("specs/t.yaml", "not: [valid").unwrap_err();
        assert!(err.contains("not a valid spec"), "{err}");
    }
}
