//! `evo files ls|rm|versions|restore` (`cp` is in [`crate::copy`]).

use evo_files::{FileSummary, FilesClient, GetOptions, ListFilesQuery, RestoreOutcome};
use futures_util::TryStreamExt;
use serde_json::json;
use uuid::Uuid;

use crate::cli::FilesCommand;
use crate::error::{CliError, CliResult, Kind};
use crate::output::{Table, human_bytes, human_time, print_json};
use crate::remote::{list_under, remote_path};
use crate::session::Session;

/// Runs an `evo files` command.
pub async fn run(session: &mut Session, command: FilesCommand) -> CliResult<()> {
    match command {
        FilesCommand::Cp(args) => crate::copy::run(session, args).await,
        FilesCommand::Ls { folder, deleted } => {
            let files = session.files_client(None).await?;
            let folder = folder.as_deref().map(remote_path).unwrap_or("");
            let listed = list_under(&files, folder, deleted).await?;
            if session.json() {
                return print_json(&listed);
            }
            let mut table = if deleted {
                Table::new(["PATH", "SIZE", "FILE ID", "DELETED"])
            } else {
                Table::new(["PATH", "SIZE", "VERSION", "MODIFIED"])
            };
            for f in &listed {
                table.row(vec![
                    f.full_path(),
                    human_bytes(f.size),
                    if deleted {
                        f.file_id.to_string()
                    } else {
                        f.version_id.clone()
                    },
                    human_time(f.deleted_at.unwrap_or(f.modified_at)),
                ]);
            }
            table.print(if deleted {
                "No deleted files."
            } else {
                "No files."
            });
            Ok(())
        }
        FilesCommand::Rm { paths, recursive } => {
            let files = session.files_client(None).await?;
            let mut removed = Vec::new();
            for path in &paths {
                let path = remote_path(path);
                if recursive {
                    let under = list_under(&files, path, false).await?;
                    if under.is_empty() {
                        return Err(CliError::not_found(format!("no files under {path:?}")));
                    }
                    for f in under {
                        files.delete_by_id(f.file_id).await?;
                        removed.push(f.full_path());
                    }
                } else {
                    files.delete_by_path(path).await.map_err(|e| {
                        not_found_hint(e, "`evo files ls` lists the files; -r deletes a folder")
                    })?;
                    removed.push(path.to_owned());
                }
            }
            if session.json() {
                return print_json(&json!({ "deleted": removed }));
            }
            for path in removed {
                println!("deleted {path}");
            }
            Ok(())
        }
        FilesCommand::Versions { path } => {
            let files = session.files_client(None).await?;
            let options = GetOptions::new().include_versions(true);
            let metadata = files
                .get_by_path(remote_path(&path), &options)
                .await
                .map_err(|e| not_found_hint(e, "`evo files ls` lists the files"))?;
            let versions = metadata.versions_newest_first();
            if session.json() {
                return print_json(&versions);
            }
            let mut table = Table::new(["VERSION", "SIZE", "CREATED", "BY"]);
            for v in &versions {
                table.row(vec![
                    v.version_id.clone(),
                    human_bytes(v.size),
                    human_time(v.created_at),
                    v.created_by
                        .as_ref()
                        .and_then(|u| u.name.clone().or_else(|| u.email.clone()))
                        .unwrap_or_default(),
                ]);
            }
            table.print("No versions.");
            Ok(())
        }
        FilesCommand::Restore { path } => {
            let files = session.files_client(None).await?;
            let (file_id, old_path) = match Uuid::parse_str(&path) {
                Ok(id) => (id, path.clone()),
                Err(_) => {
                    let wanted = remote_path(&path).to_owned();
                    let deleted = find_deleted(&files, &wanted).await?;
                    (deleted.file_id, wanted)
                }
            };
            let outcome = files.restore(file_id).await.map_err(|e| {
                let e = CliError::from(e);
                if e.kind == Kind::Conflict {
                    e.hint("another file now has its path: move or delete that one first")
                } else {
                    e
                }
            })?;
            let restored_at = match &outcome {
                RestoreOutcome::Moved { metadata, .. } => metadata.full_path(),
                _ => old_path,
            };
            if session.json() {
                return print_json(&json!({
                    "file_id": file_id,
                    "path": restored_at,
                    "moved": matches!(outcome, RestoreOutcome::Moved { .. }),
                }));
            }
            match outcome {
                RestoreOutcome::Moved { .. } => {
                    println!("restored {file_id} as {restored_at} (its path was taken)")
                }
                _ => println!("restored {restored_at}"),
            }
            Ok(())
        }
    }
}

/// The most recently deleted file that had `path`.
async fn find_deleted(files: &FilesClient, path: &str) -> CliResult<FileSummary> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let query = ListFilesQuery::new()
        .deleted(true)
        .file_name(name)
        .limit(evo_files::MAX_PAGE_SIZE);
    let candidates: Vec<FileSummary> = files
        .list_all(query)
        .try_filter(|f| std::future::ready(f.full_path() == path))
        .try_collect()
        .await?;
    candidates
        .into_iter()
        .max_by_key(|f| f.deleted_at)
        .ok_or_else(|| {
            CliError::not_found(format!("no deleted file had the path {path:?}"))
                .hint("`evo files ls --deleted` lists deleted files and their ids")
        })
}

fn not_found_hint(e: evo_files::Error, hint: &str) -> CliError {
    let e = CliError::from(e);
    if e.kind == Kind::NotFound {
        e.hint(hint)
    } else {
        e
    }
}
