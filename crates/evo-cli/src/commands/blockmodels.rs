//! `evo blockmodels ls|query`: block models of the workspace (evo-blockmodels), and their
//! columns queried to Parquet (the service's result file, kept as it is) or CSV (streamed a
//! record batch at a time from the downloaded result).

use evo_blockmodels::{
    BBox, BlockModel, BlockModelsClient, GEOMETRY_COLUMNS, GeometryColumns, ListQuery, Query,
    SizeOptions,
};
use futures_util::TryStreamExt;
use serde_json::json;
use uuid::Uuid;

use crate::cli::{BlockModelsCommand, BlockQueryArgs, TableFileFormat};
use crate::error::{CliError, CliResult, Kind, io_error};
use crate::output::{Table, human_bytes, human_time, print_json};
use crate::progress::Bars;
use crate::session::Session;
use crate::tables::{self, Staged};

/// Runs an `evo blockmodels` command.
pub async fn run(session: &mut Session, command: BlockModelsCommand) -> CliResult<()> {
    let client = session.blockmodels_client().await?;
    match command {
        BlockModelsCommand::Ls { deleted } => ls(session, &client, deleted).await,
        BlockModelsCommand::Query(args) => query(session, &client, args).await,
    }
}

async fn ls(session: &Session, client: &BlockModelsClient, deleted: bool) -> CliResult<()> {
    let mut models: Vec<BlockModel> = client
        .list_all(ListQuery::new().deleted(deleted))
        .try_collect()
        .await?;
    models.sort_by(|a, b| (&a.name, a.bm_uuid).cmp(&(&b.name, b.bm_uuid)));
    if session.json() {
        return print_json(&models);
    }
    let mut table = Table::new(["NAME", "ID", "TYPE", "BLOCKS", "BLOCK SIZE", "UPDATED"]);
    for m in &models {
        let (blocks, size) = geometry(&m.size_options);
        let unit = m.size_unit_id.as_deref().unwrap_or_default();
        table.row(vec![
            m.name.clone(),
            m.bm_uuid.to_string(),
            m.size_options.model_type().to_owned(),
            blocks,
            format!("{size} {unit}").trim_end().to_owned(),
            human_time(m.last_updated_at),
        ]);
    }
    table.print(if deleted {
        "No deleted block models."
    } else {
        "No block models."
    });
    Ok(())
}

/// The block counts (`10 x 8 x 6`; parent blocks and sub-blocks per parent for sub-blocked
/// models) and the size of a block (of a parent block).
fn geometry(options: &SizeOptions) -> (String, String) {
    let (n, size, sub) = options.dimensions();
    let mut blocks = format!("{} x {} x {}", n.nx, n.ny, n.nz);
    if let Some(s) = sub {
        blocks.push_str(&format!(" (/ {} x {} x {})", s.nx, s.ny, s.nz));
    }
    (blocks, format!("{} x {} x {}", size.x, size.y, size.z))
}

/// The live block model named by `wanted`: its id, or its exact name.
async fn find_model(client: &BlockModelsClient, wanted: &str) -> CliResult<BlockModel> {
    let hint = "`evo blockmodels ls` lists the block models";
    if let Ok(id) = Uuid::parse_str(wanted) {
        return client.get(id).await.map_err(|e| {
            let e = CliError::from(e);
            if e.kind == Kind::NotFound {
                CliError::not_found(format!("no block model {wanted} in the workspace")).hint(hint)
            } else {
                e
            }
        });
    }
    let mut found: Vec<BlockModel> = client
        .list_all(ListQuery::new())
        .try_filter(|m| std::future::ready(m.name == wanted))
        .try_collect()
        .await?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(
            CliError::not_found(format!("no block model named {wanted:?} in the workspace"))
                .hint(format!("{hint}; names are case-sensitive")),
        ),
        n => Err(CliError::usage(format!(
            "{n} block models are named {wanted:?}; name it by id"
        ))
        .hint(hint)),
    }
}

/// The version named by `wanted`: a uuid as it is, a number looked up among the versions.
async fn version_uuid(
    client: &BlockModelsClient,
    model: &BlockModel,
    wanted: &str,
) -> CliResult<Uuid> {
    if let Ok(id) = Uuid::parse_str(wanted) {
        return Ok(id);
    }
    let number: u64 = wanted.parse().map_err(|_| {
        CliError::usage(format!(
            "--model-version {wanted:?} is neither a version uuid nor a version number"
        ))
    })?;
    let versions = client
        .list_versions_all(model.bm_uuid)
        .try_filter(|v| std::future::ready(v.version_id == number));
    let found = std::pin::pin!(versions).try_next().await?;
    found.map(|v| v.version_uuid).ok_or_else(|| {
        CliError::not_found(format!(
            "block model {:?} has no version {number}",
            model.name
        ))
    })
}

/// Six numbers `a,b,c,d,e,f` of `--bbox` or `--ijk`, as three ranges.
fn six<T: std::str::FromStr + PartialOrd + Copy>(flag: &str, text: &str) -> CliResult<[(T, T); 3]> {
    let values: Vec<T> = text
        .split(',')
        .map(|v| v.trim().parse::<T>())
        .collect::<Result<_, _>>()
        .map_err(|_| CliError::usage(format!("--{flag} {text:?} is not six numbers")))?;
    let [a, b, c, d, e, f] = values[..] else {
        return Err(CliError::usage(format!(
            "--{flag} takes six numbers (min,max of each axis), got {}",
            values.len()
        )));
    };
    let ranges = [(a, b), (c, d), (e, f)];
    // `partial_cmp` so that NaN, which orders with nothing, is refused too.
    let ordered = |(min, max): &(T, T)| {
        matches!(
            min.partial_cmp(max),
            Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
        )
    };
    if !ranges.iter().all(ordered) {
        return Err(CliError::usage(format!(
            "--{flag} {text:?}: each minimum must be at most its maximum (and a number)"
        )));
    }
    Ok(ranges)
}

/// The box of `--bbox` (coordinates) or `--ijk` (indices).
fn bbox_of(args: &BlockQueryArgs) -> CliResult<Option<BBox>> {
    if let Some(text) = &args.bbox {
        let [x, y, z] = six::<f64>("bbox", text)?;
        if ![x.0, x.1, y.0, y.1, z.0, z.1].iter().all(|v| v.is_finite()) {
            return Err(CliError::usage("--bbox takes finite numbers"));
        }
        return Ok(Some(BBox::coordinates(x, y, z)));
    }
    if let Some(text) = &args.ijk {
        let [i, j, k] = six::<i64>("ijk", text)?;
        return Ok(Some(BBox::indices(i, j, k)));
    }
    Ok(None)
}

async fn query(
    session: &Session,
    client: &BlockModelsClient,
    args: BlockQueryArgs,
) -> CliResult<()> {
    let format = tables::format_of(&args.out, args.format)?;
    tables::check_destination(&args.out, args.force)?;
    let columns: Vec<String> = args
        .columns
        .iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    let columns = if columns.is_empty() {
        vec!["*".to_owned()]
    } else {
        columns
    };
    let bbox = bbox_of(&args)?;
    let model = find_model(client, &args.model).await?;
    let mut request = Query::new(columns)
        .exclude_null_rows(!args.include_empty)
        .geometry(if args.coordinates {
            GeometryColumns::Coordinates
        } else {
            GeometryColumns::Indices
        });
    if let Some(bbox) = bbox {
        request = request.bbox(bbox);
    }
    let version = match &args.model_version {
        Some(wanted) => Some(version_uuid(client, &model, wanted).await?),
        None => None,
    };
    if let Some(version) = version {
        request = request.version(version);
    }
    let (started, rows) = match format {
        TableFileFormat::Parquet => {
            // The result file itself, downloaded beside the output and renamed into place
            // by the SDK once complete; the download does not make the folder.
            if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| io_error(dir.display(), e))?;
            }
            let bars = Bars::new(!session.json(), 0, 1);
            let bar = bars.file(&model.name, 0);
            let feedback = bar.feedback();
            let result = client
                .query_to_file(model.bm_uuid, &request, &args.out, Some(&feedback))
                .await;
            bar.finish(result.is_ok());
            bars.done();
            let result = match result {
                Ok(r) => r,
                Err(e) => return Err(explain(client, &model, version, e).await),
            };
            let rows = result.reader().map_err(CliError::from)?.rows();
            (result.started().clone(), rows)
        }
        TableFileFormat::Csv => {
            let result = match client.query(model.bm_uuid, &request).await {
                Ok(r) => r,
                Err(e) => return Err(explain(client, &model, version, e).await),
            };
            let started = result.started().clone();
            let staged = Staged::new(&args.out, args.force)?;
            let rows = tokio::task::spawn_blocking(move || {
                // Batches are read from the downloaded result and written one at a time.
                let reader = result.reader()?;
                let rows = tables::write_csv(reader, &staged)?;
                staged.commit()?;
                drop(result);
                Ok::<_, CliError>(rows)
            })
            .await
            .map_err(|e| CliError::failure(format!("writing CSV: {e}")))??;
            (started, rows)
        }
    };
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    if session.json() {
        return print_json(&json!({
            "bm_uuid": model.bm_uuid,
            "name": model.name,
            "version_id": started.version_id,
            "version_uuid": started.version_uuid,
            "columns": started.columns,
            "rows": rows,
            "output": args.out,
            "format": match format { TableFileFormat::Csv => "csv", TableFileFormat::Parquet => "parquet" },
            "bytes": size,
        }));
    }
    println!(
        "wrote {} ({rows} rows of {} version {}, {})",
        args.out.display(),
        model.name,
        started.version_id,
        human_bytes(size)
    );
    Ok(())
}

/// A failed query with a hint: the columns of the version queried when the query was refused
/// (an unknown column is the usual cause), where to find the models when one is missing.
async fn explain(
    client: &BlockModelsClient,
    model: &BlockModel,
    version: Option<Uuid>,
    e: evo_blockmodels::Error,
) -> CliError {
    let e = CliError::from(e);
    match e.kind {
        Kind::Usage => {
            let found = match version {
                Some(v) => client.get_version(model.bm_uuid, v).await,
                None => client.latest_version(model.bm_uuid).await,
            };
            let Ok(found) = found else {
                return e;
            };
            let titles: Vec<&str> = found
                .mapping
                .columns
                .iter()
                .map(|c| c.title.as_str())
                .filter(|t| !GEOMETRY_COLUMNS.contains(t))
                .collect();
            e.hint(if titles.is_empty() {
                format!(
                    "version {} of block model {:?} has no columns",
                    found.version_id, model.name
                )
            } else {
                format!(
                    "the columns of version {} of block model {:?}: {}",
                    found.version_id,
                    model.name,
                    titles.join(", ")
                )
            })
        }
        Kind::NotFound => e.hint("`evo blockmodels ls` lists the block models"),
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_take_six_ordered_numbers() {
        assert_eq!(
            six::<f64>("bbox", "0, 10,-5,5,1e2,2e2").unwrap(),
            [(0.0, 10.0), (-5.0, 5.0), (100.0, 200.0)]
        );
        assert_eq!(six::<i64>("ijk", "1,2,3").unwrap_err().kind, Kind::Usage);
        assert_eq!(
            six::<i64>("ijk", "1,2,3,4,x,6").unwrap_err().kind,
            Kind::Usage
        );
        let reversed = six::<i64>("ijk", "2,1,0,0,0,0").unwrap_err();
        assert!(reversed.message.contains("at most"), "{reversed}");
        assert_eq!(
            six::<f64>("bbox", "NaN,1,0,0,0,0").unwrap_err().kind,
            Kind::Usage
        );
    }

    #[test]
    fn geometry_shows_counts_and_sizes() {
        let regular = SizeOptions::Regular {
            n_blocks: evo_blockmodels::Size3::new(10, 8, 6),
            block_size: evo_blockmodels::BlockSize::new(10.0, 10.0, 5.0),
        };
        assert_eq!(
            geometry(&regular),
            ("10 x 8 x 6".to_owned(), "10 x 10 x 5".to_owned())
        );
    }
}
