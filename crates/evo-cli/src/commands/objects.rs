//! `evo objects ls|get|versions|rm|restore|export|import`: geoscience objects of the
//! workspace (evo-objects), their tables to Parquet or CSV, and point sets from CSV or Parquet.

use evo_objects::evo_tables::TableInfo;
use evo_objects::{
    GetOptions, ListObjectsQuery, ListedObject, ObjectLocator, ObjectPath, ObjectReference,
    ObjectResponse, ObjectsClient, RestoreOutcome, SpatialObject,
};
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::cli::{ExportArgs, ImportArgs, ObjectsCommand, TableFileFormat};
use crate::error::{CliError, CliResult, Kind};
use crate::output::{Table, human_bytes, human_time, print_json};
use crate::progress::Bars;
use crate::remote::remote_path;
use crate::session::Session;
use crate::tables::{self, Staged};

/// Runs an `evo objects` command.
pub async fn run(session: &mut Session, command: ObjectsCommand) -> CliResult<()> {
    let objects = session.objects_client().await?;
    match command {
        ObjectsCommand::Ls {
            folder,
            deleted,
            schema,
        } => ls(session, &objects, folder.as_deref(), deleted, schema).await,
        ObjectsCommand::Get {
            object,
            object_version,
            raw,
        } => {
            let found = get(&objects, &object, object_version.as_deref(), false).await?;
            if raw {
                return print_json(&found.object);
            }
            if session.json() {
                return print_json(&found);
            }
            show(&found);
            Ok(())
        }
        ObjectsCommand::Versions { object } => {
            let found = get(&objects, &object, None, true).await?;
            let versions = found.versions_newest_first();
            if session.json() {
                return print_json(&versions);
            }
            let mut table = Table::new(["VERSION", "CREATED", "BY", "STAGE"]);
            for v in &versions {
                table.row(vec![
                    v.version_id.clone(),
                    human_time(v.created_at),
                    v.created_by
                        .as_ref()
                        .and_then(|u| u.name.clone().or_else(|| u.email.clone()))
                        .unwrap_or_default(),
                    v.stage.as_ref().map(|s| s.name.clone()).unwrap_or_default(),
                ]);
            }
            table.print("No versions.");
            Ok(())
        }
        ObjectsCommand::Rm { objects: targets } => {
            let mut removed = Vec::new();
            for target in &targets {
                let (locator, _) = locate(&objects, target)?;
                objects
                    .delete(locator.clone())
                    .await
                    .map_err(|e| not_found_hint(e.into(), "`evo objects ls` lists the objects"))?;
                removed.push(target.clone());
            }
            if session.json() {
                return print_json(&json!({ "deleted": removed }));
            }
            for target in removed {
                println!("deleted {}", remote_path(&target));
            }
            Ok(())
        }
        ObjectsCommand::Restore { object } => {
            let (id, old_path) = match Uuid::parse_str(&object) {
                Ok(id) => (id, None),
                Err(_) => {
                    let wanted = remote_path(&object).to_owned();
                    let deleted = find_deleted(&objects, &wanted).await?;
                    (deleted.object_id, Some(wanted))
                }
            };
            let outcome = objects
                .restore(id)
                .await
                .map_err(|e| not_found_hint(e.into(), "`evo objects ls --deleted` lists them"))?;
            let (path, moved) = match &outcome {
                RestoreOutcome::Moved(answer) => (answer.object_path.clone(), true),
                _ => (old_path, false),
            };
            if session.json() {
                return print_json(&json!({ "object_id": id, "path": path, "moved": moved }));
            }
            let shown = path.unwrap_or_else(|| id.to_string());
            if moved {
                println!("restored {id} as {shown} (its path was taken)");
            } else {
                println!("restored {shown}");
            }
            Ok(())
        }
        ObjectsCommand::Export(args) => export(session, &objects, args).await,
        ObjectsCommand::Import(args) => import(session, &objects, args).await,
    }
}

async fn ls(
    session: &Session,
    objects: &ObjectsClient,
    folder: Option<&str>,
    deleted: bool,
    schema: Option<String>,
) -> CliResult<()> {
    let folder = folder.map(remote_path).unwrap_or("");
    let prefix = if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    };
    let query = ListObjectsQuery::new()
        .deleted(deleted)
        .limit(evo_objects::MAX_PAGE_SIZE);
    let mut listed: Vec<ListedObject> = objects
        .list_all(query)
        .try_filter(|o| {
            let keep = o.full_path().starts_with(&prefix)
                && schema
                    .as_deref()
                    .is_none_or(|s| o.schema == s || schema_name(&o.schema).0 == s);
            std::future::ready(keep)
        })
        .try_collect()
        .await?;
    listed.sort_by_key(|o| o.full_path());
    if session.json() {
        return print_json(&listed);
    }
    let mut table = if deleted {
        Table::new(["PATH", "SCHEMA", "OBJECT ID", "DELETED"])
    } else {
        Table::new(["PATH", "SCHEMA", "VERSION", "MODIFIED"])
    };
    for o in &listed {
        let (name, version) = schema_name(&o.schema);
        table.row(vec![
            o.full_path(),
            format!("{name} {version}"),
            if deleted {
                o.object_id.to_string()
            } else {
                o.version_id.clone()
            },
            human_time(o.deleted_at.unwrap_or(o.modified_at)),
        ]);
    }
    table.print(if deleted {
        "No deleted objects."
    } else {
        "No objects."
    });
    Ok(())
}

/// `pointset` and `1.3.0` of `/objects/pointset/1.3.0/pointset.schema.json`.
fn schema_name(schema: &str) -> (&str, &str) {
    let mut parts = schema.trim_start_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("objects"), Some(name), Some(version)) => (name, version),
        _ => (schema, ""),
    }
}

/// An object named by its path (`evo:` optional), id or reference URL, and the version a
/// reference names.
fn locate(objects: &ObjectsClient, text: &str) -> CliResult<(ObjectLocator, Option<String>)> {
    if text.starts_with("https://") || text.starts_with("http://") {
        let reference = ObjectReference::parse(text)?;
        let here = objects.environment();
        if reference.workspace_id() != here.workspace_id || reference.org_id() != here.org_id {
            return Err(CliError::usage(format!(
                "the reference is of workspace {} (organization {}), not the chosen one",
                reference.workspace_id(),
                reference.org_id()
            ))
            .hint("pass --workspace with that workspace's id"));
        }
        return Ok((
            reference.locator().clone(),
            reference.version_id().map(str::to_owned),
        ));
    }
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok((ObjectLocator::Id(id), None));
    }
    Ok((
        ObjectLocator::Path(ObjectPath::new(remote_path(text))?),
        None,
    ))
}

/// Gets an object (at `version`, or the version its reference names, or the latest).
async fn get(
    objects: &ObjectsClient,
    text: &str,
    version: Option<&str>,
    with_versions: bool,
) -> CliResult<ObjectResponse> {
    let (locator, referenced) = locate(objects, text)?;
    let mut options = GetOptions::new().include_versions(with_versions);
    if let Some(v) = version.map(str::to_owned).or(referenced) {
        options = options.version(v);
    }
    objects.get(locator, &options).await.map_err(|e| {
        not_found_hint(
            e.into(),
            "`evo objects ls` lists the objects, `evo objects versions` their versions",
        )
    })
}

/// Prints an object's metadata and its tables.
fn show(object: &ObjectResponse) {
    let mut table = Table::new(["FIELD", "VALUE"]);
    let mut field = |name: &str, value: String| table.row(vec![name.to_owned(), value]);
    field("name", object.name().unwrap_or_default().to_owned());
    field("path", object.object_path.clone().unwrap_or_default());
    field(
        "object id",
        object.id().map(|i| i.to_string()).unwrap_or_default(),
    );
    field("schema", object.schema_id().unwrap_or_default().to_owned());
    field("version", object.version_id.clone());
    field("created", human_time(object.created_at));
    field("modified", human_time(object.modified_at));
    if let Some(stage) = &object.stage {
        field("stage", stage.name.clone());
    }
    println!("{}", table.render());
    let found = tables_of(&object.object);
    if found.is_empty() {
        println!("\nNo data tables.");
        return;
    }
    println!();
    let mut listed = Table::new(["TABLE", "ROWS", "TYPE", "DATA"]);
    for t in &found {
        listed.row(vec![
            t.label.clone(),
            t.info.length.to_string(),
            t.info
                .data_type
                .clone()
                .or_else(|| {
                    t.info
                        .values_data_type
                        .clone()
                        .map(|v| format!("lookup {v}"))
                })
                .unwrap_or_default(),
            t.info.data.clone(),
        ]);
    }
    println!("{}", listed.render());
}

/// A table an object's JSON refers to.
#[derive(Debug, Clone, PartialEq)]
struct FoundTable {
    /// `positions`, an attribute's name (`name (lookup)` for a category's lookup table), or
    /// the JSON pointer.
    label: String,
    /// Where it is in the object JSON.
    pointer: String,
    /// Its metadata.
    info: TableInfo,
}

/// Every table reference (an object with `data` and `length`) in an object's JSON.
fn tables_of(object: &Value) -> Vec<FoundTable> {
    fn walk(value: &Value, pointer: String, parent: Option<&Value>, out: &mut Vec<FoundTable>) {
        match value {
            Value::Object(map) => {
                let is_table = map.get("data").is_some_and(Value::is_string)
                    && map.get("length").is_some_and(Value::is_u64);
                if is_table && let Ok(info) = serde_json::from_value::<TableInfo>(value.clone()) {
                    let attribute = parent.and_then(|p| p.get("name")).and_then(Value::as_str);
                    let label = match (pointer.rsplit('/').next(), attribute) {
                        _ if POSITIONS.contains(&pointer.as_str()) => "positions".to_owned(),
                        (Some("values"), Some(name)) => name.to_owned(),
                        (Some("table"), Some(name)) => format!("{name} (lookup)"),
                        _ => pointer.clone(),
                    };
                    out.push(FoundTable {
                        label,
                        pointer: pointer.clone(),
                        info,
                    });
                }
                for (key, child) in map {
                    let escaped = key.replace('~', "~0").replace('/', "~1");
                    walk(child, format!("{pointer}/{escaped}"), Some(value), out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, format!("{pointer}/{i}"), None, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(object, String::new(), None, &mut out);
    // The positions first, then in the order of the JSON pointers.
    out.sort_by(|a, b| {
        (a.label != "positions", &a.pointer).cmp(&(b.label != "positions", &b.pointer))
    });
    out
}

/// Where the positions of point sets, meshes and line segments are.
const POSITIONS: [&str; 3] = [
    "/locations/coordinates",
    "/triangles/vertices",
    "/segments/vertices",
];

/// The table `wanted` names: `positions`, an attribute, a data id or a JSON pointer.
fn choose_table(object: &ObjectResponse, wanted: &str) -> CliResult<FoundTable> {
    let found = tables_of(&object.object);
    let pick = found
        .iter()
        .find(|t| t.label == wanted || t.pointer == wanted || t.info.data == wanted);
    pick.cloned().ok_or_else(|| {
        let labels: Vec<&str> = found.iter().map(|t| t.label.as_str()).collect();
        CliError::not_found(format!(
            "object {:?} has no table {wanted:?}",
            object.name().unwrap_or_default()
        ))
        .hint(if labels.is_empty() {
            "the object has no data tables".to_owned()
        } else {
            format!("its tables: {}", labels.join(", "))
        })
    })
}

async fn export(session: &Session, objects: &ObjectsClient, args: ExportArgs) -> CliResult<()> {
    let format = tables::format_of(&args.output, args.format)?;
    tables::check_destination(&args.output, args.force)?;
    let object = get(objects, &args.object, args.object_version.as_deref(), false).await?;
    let table = choose_table(&object, &args.table)?;
    let rows = match format {
        TableFileFormat::Parquet => {
            // The stored file itself: its SHA-256 is checked, and it is renamed into place only
            // when complete.
            // The size is known once the download starts: the bar grows with it.
            let size = 0;
            let bars = Bars::new(!session.json(), size, 1);
            let bar = bars.file(&table.label, size);
            let feedback = bar.feedback();
            let result = objects
                .download_data(
                    &object,
                    &table.info.data,
                    evo_objects::Destination::file(&args.output),
                    Some(&feedback),
                )
                .await;
            bar.finish(result.is_ok());
            bars.done();
            result?;
            table.info.length
        }
        TableFileFormat::Csv => {
            let reader = objects.read_table(&object, &table.info).await?;
            let staged = Staged::new(&args.output, args.force)?;
            tokio::task::spawn_blocking(move || {
                let rows = tables::write_csv(reader, &staged)?;
                staged.commit()?;
                Ok::<_, CliError>(rows)
            })
            .await
            .map_err(|e| CliError::failure(format!("writing CSV: {e}")))??
        }
    };
    let size = std::fs::metadata(&args.output)
        .map(|m| m.len())
        .unwrap_or(0);
    if session.json() {
        return print_json(&json!({
            "object_id": object.id(),
            "version_id": object.version_id,
            "table": table.label,
            "data": table.info.data,
            "rows": rows,
            "output": args.output,
            "format": match format { TableFileFormat::Csv => "csv", TableFileFormat::Parquet => "parquet" },
            "bytes": size,
        }));
    }
    println!(
        "wrote {} ({} rows of {}, {})",
        args.output.display(),
        rows,
        table.label,
        human_bytes(size)
    );
    Ok(())
}

async fn import(session: &Session, objects: &ObjectsClient, args: ImportArgs) -> CliResult<()> {
    let format = tables::format_of(&args.input, args.format)?;
    let path = ObjectPath::new(remote_path(&args.destination))?;
    let input = args.input.clone();
    let mut columns = tokio::task::spawn_blocking(move || match format {
        TableFileFormat::Csv => tables::read_csv(&input),
        TableFileFormat::Parquet => tables::read_parquet(&input),
    })
    .await
    .map_err(|e| CliError::failure(format!("reading the table: {e}")))??;
    if columns.rows == 0 {
        return Err(CliError::usage(format!(
            "{} has no rows",
            args.input.display()
        )));
    }
    let x = columns.take(&args.x)?.into_coordinates(&args.x)?;
    let y = columns.take(&args.y)?.into_coordinates(&args.y)?;
    let z = columns.take(&args.z)?.into_coordinates(&args.z)?;
    let positions = evo_objects::evo_tables::positions(x, y, z)
        .map_err(|e| CliError::usage(format!("the positions: {e}")))?;
    let name = args.name.clone().unwrap_or_else(|| default_name(&path));
    let mut spatial = SpatialObject::point_set(name, positions);
    let attributes: Vec<String> = columns.columns.iter().map(|(n, _)| n.clone()).collect();
    for (column, values) in columns.columns {
        spatial = spatial.attribute(column, values.into_array());
    }
    if let Some(code) = args.epsg {
        spatial = spatial.epsg(code);
    }
    if let Some(d) = &args.description {
        spatial = spatial.description(d.clone());
    }
    let (mut json, files) = objects.encode_spatial(&spatial).await?;
    // Replacing: the new version of the object at the path, guarded by its current version.
    let existing = if args.replace {
        match objects.get(path.clone(), &GetOptions::new()).await {
            Ok(current) => Some(current),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let total: u64 = files.iter().map(|f| f.len()).sum();
    let bars = Bars::new(!session.json(), total, files.len());
    let bar = bars.file("uploading tables", total);
    let feedback = bar.feedback();
    let uploaded = objects.upload_data(&files, Some(&feedback)).await;
    bar.finish(uploaded.is_ok());
    bars.done();
    let uploaded = uploaded?;
    let saved = match existing {
        Some(current) => {
            let id = current
                .id()
                .ok_or_else(|| CliError::failure("the object at the path has no id"))?;
            json["uuid"] = json!(id);
            objects
                .update_by_id(id, &json, Some(current.version_id.as_str()))
                .await?
        }
        None => objects.create(&path, &json).await?,
    };
    if session.json() {
        return print_json(&json!({
            "object_id": saved.id(),
            "path": path.as_str(),
            "version_id": saved.version_id,
            "points": columns.rows,
            "attributes": attributes,
            "bytes_uploaded": uploaded.bytes_uploaded,
            "files_uploaded": uploaded.uploaded.len(),
            "files_already_held": uploaded.skipped.len(),
        }));
    }
    println!(
        "created {} ({} points, {} attribute(s); {} uploaded, {} table(s) already held)",
        path.as_str(),
        columns.rows,
        attributes.len(),
        human_bytes(uploaded.bytes_uploaded),
        uploaded.skipped.len()
    );
    Ok(())
}

/// `points` for `surveys/points.json`.
fn default_name(path: &ObjectPath) -> String {
    let file = path.as_str().rsplit('/').next().unwrap_or(path.as_str());
    file.strip_suffix(".json").unwrap_or(file).to_owned()
}

/// The most recently deleted object that had `path`.
async fn find_deleted(objects: &ObjectsClient, path: &str) -> CliResult<ListedObject> {
    let query = ListObjectsQuery::new()
        .deleted(true)
        .limit(evo_objects::MAX_PAGE_SIZE);
    let candidates: Vec<ListedObject> = objects
        .list_all(query)
        .try_filter(|o| std::future::ready(o.full_path() == path))
        .try_collect()
        .await?;
    candidates
        .into_iter()
        .max_by_key(|o| o.deleted_at)
        .ok_or_else(|| {
            CliError::not_found(format!("no deleted object had the path {path:?}"))
                .hint("`evo objects ls --deleted` lists deleted objects and their ids")
        })
}

fn not_found_hint(e: CliError, hint: &str) -> CliError {
    if e.kind == Kind::NotFound {
        e.hint(hint)
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_found_and_labelled_in_object_json() {
        let sha = |c: char| c.to_string().repeat(64);
        let object = json!({
            "schema": "/objects/pointset/1.3.0/pointset.schema.json",
            "locations": {
                "coordinates": {"data": sha('a'), "length": 3, "width": 3, "data_type": "float64"},
                "attributes": [
                    {"name": "grade", "values": {"data": sha('b'), "length": 3, "width": 1, "data_type": "float64"}},
                    {"name": "rock", "values": {"data": sha('c'), "length": 3, "width": 1, "data_type": "int32"},
                     "table": {"data": sha('d'), "length": 2, "keys_data_type": "int32", "values_data_type": "string"}}
                ]
            }
        });
        let found = tables_of(&object);
        let labels: Vec<(&str, &str)> = found
            .iter()
            .map(|t| (t.label.as_str(), t.pointer.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                ("positions", "/locations/coordinates"),
                ("grade", "/locations/attributes/0/values"),
                ("rock (lookup)", "/locations/attributes/1/table"),
                ("rock", "/locations/attributes/1/values"),
            ]
        );
    }

    #[test]
    fn schema_names_are_shortened() {
        assert_eq!(
            schema_name("/objects/pointset/1.3.0/pointset.schema.json"),
            ("pointset", "1.3.0")
        );
        assert_eq!(schema_name("other"), ("other", ""));
        let p = ObjectPath::new("a/b/points.json").unwrap();
        assert_eq!(default_name(&p), "points");
    }
}
