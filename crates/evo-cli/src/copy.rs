//! `evo files cp`: files and whole folders both ways, several files at a time, with progress
//! bars, resuming what an interrupted run left.
//!
//! Downloads resume from the partial file evo-io keeps beside the target. Uploads resume
//! through the journal: before any byte moves, the version an upload registered is written to
//! `state/uploads.json` in the configuration folder, so the next run of the same copy
//! continues that version (the blob store keeps the blocks already sent) instead of starting
//! a new one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use evo_files::{Destination, FileSummary, FilesClient, GetOptions, Source};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;

use crate::cli::CpArgs;
use crate::error::{CliError, CliResult, Kind, io_error};
use crate::journal::{Journal, JournalKey};
use crate::output::{human_bytes, print_json};
use crate::progress::Bars;
use crate::remote::{REMOTE_PREFIX, list_under, remote_path};
use crate::session::Session;

/// A file in the workspace to download.
#[derive(Debug, Clone)]
struct RemoteFile {
    file_id: uuid::Uuid,
    version_id: String,
    size: u64,
    path: String,
}

impl From<&FileSummary> for RemoteFile {
    fn from(f: &FileSummary) -> Self {
        RemoteFile {
            file_id: f.file_id,
            version_id: f.version_id.clone(),
            size: f.size,
            path: f.full_path(),
        }
    }
}

/// One file to move.
#[derive(Debug, Clone)]
enum Job {
    Upload {
        local: PathBuf,
        remote: String,
        size: u64,
    },
    Download {
        file: RemoteFile,
        local: PathBuf,
    },
}

impl Job {
    fn size(&self) -> u64 {
        match self {
            Job::Upload { size, .. } => *size,
            Job::Download { file, .. } => file.size,
        }
    }
    fn label(&self) -> String {
        match self {
            Job::Upload { remote, .. } => remote.clone(),
            Job::Download { local, .. } => local.display().to_string(),
        }
    }
}

/// What one finished copy reports.
#[derive(Debug, Serialize)]
struct Copied {
    from: String,
    to: String,
    size: u64,
    file_id: uuid::Uuid,
    version_id: String,
    /// Downloads: bytes taken from an earlier, interrupted run. Uploads: whether the upload
    /// continued a version an interrupted run had registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    resumed_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resumed: Option<bool>,
    /// True when an identical-size local file was kept instead of downloaded again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    skipped: bool,
}

/// Runs `evo files cp`.
pub async fn run(session: &mut Session, args: CpArgs) -> CliResult<()> {
    let upload = match (
        args.source.starts_with(REMOTE_PREFIX),
        args.destination.starts_with(REMOTE_PREFIX),
    ) {
        (false, true) => true,
        (true, false) => false,
        _ => {
            return Err(CliError::usage(
                "one side of `cp` must be a workspace path (evo:PATH) and the other a local path",
            )
            .hint("upload: evo files cp ./data.csv evo:surveys/   download: evo files cp evo:surveys/data.csv ."));
        }
    };
    let mut blobs = evo_io::BlobClient::builder(session.transport())
        .concurrency(usize::from(args.block_parallel));
    if let Some(size) = args.block_size {
        blobs = blobs.block_size(size).single_put_max(size);
    }
    let files = session.files_client(Some(blobs.build())).await?;
    let jobs = if upload {
        if args.file_version.is_some() {
            return Err(CliError::usage("--file-version applies to downloads only"));
        }
        plan_uploads(&args)?
    } else {
        plan_downloads(&files, &args).await?
    };
    if jobs.is_empty() {
        return Err(CliError::not_found(format!(
            "nothing to copy at {:?}",
            args.source
        )));
    }
    let journal = Arc::new(Journal::open(session.dir.upload_journal())?);
    let bars = Bars::new(
        !session.json(),
        jobs.iter().map(Job::size).sum(),
        jobs.len(),
    );
    let env = files.environment().clone();
    let outcomes: Vec<(Job, CliResult<Copied>)> = futures_util::stream::iter(jobs)
        .map(|job| {
            let files = &files;
            let journal = journal.clone();
            let bars = &bars;
            let args = &args;
            let env = &env;
            async move {
                let bar = bars.file(&job.label(), job.size());
                let result = match &job {
                    Job::Upload {
                        local,
                        remote,
                        size,
                    } => match JournalKey::new(env, remote, local, *size) {
                        Ok(key) => upload_one(files, &journal, key, local, remote, &bar).await,
                        Err(e) => Err(e),
                    },
                    Job::Download { file, local } => {
                        download_one(files, file, local, args, &bar).await
                    }
                };
                bar.finish(result.is_ok());
                (job, result)
            }
        })
        .buffer_unordered(usize::from(args.parallel))
        .collect()
        .await;
    bars.done();

    let mut copied = Vec::new();
    let mut failed = Vec::new();
    for (job, outcome) in outcomes {
        match outcome {
            Ok(c) => copied.push(c),
            Err(e) => failed.push((job, e)),
        }
    }
    copied.sort_by(|a, b| a.to.cmp(&b.to));
    if session.json() {
        let failures: Vec<_> = failed
            .iter()
            .map(|(job, e)| json!({"file": job.label(), "error": e.message, "kind": e.kind.name()}))
            .collect();
        print_json(&json!({"copied": copied, "failed": failures}))?;
    } else {
        for c in &copied {
            let note = match (c.skipped, c.resumed_bytes, c.resumed) {
                (true, _, _) => " (unchanged, kept)".to_owned(),
                (_, Some(b), _) if b > 0 => format!(" (resumed after {})", human_bytes(b)),
                (_, _, Some(true)) => " (resumed)".to_owned(),
                _ => String::new(),
            };
            println!("{} -> {} ({}){note}", c.from, c.to, human_bytes(c.size));
        }
    }
    match failed.len() {
        0 => Ok(()),
        n => {
            for (job, e) in &failed {
                if !session.json() {
                    eprintln!("failed: {}: {}", job.label(), e.message);
                }
            }
            let kind = failed[0].1.kind;
            let total = copied.len() + n;
            let error = CliError::new(kind, format!("{n} of {total} file(s) were not copied"));
            Err(match kind {
                Kind::Conflict => error.hint("pass --force to replace local files"),
                Kind::Auth | Kind::NotFound | Kind::Usage => {
                    error.hint(failed[0].1.hint.clone().unwrap_or_default())
                }
                _ => error.hint("run the same command again: the copy continues where it stopped"),
            })
        }
    }
}

/// The uploads of `args`: one file, or every file under a folder with `-r`.
fn plan_uploads(args: &CpArgs) -> CliResult<Vec<Job>> {
    let local = PathBuf::from(&args.source);
    let meta = std::fs::metadata(&local).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            Kind::NotFound
        } else {
            Kind::Failure
        };
        CliError::new(kind, format!("{}: {e}", local.display()))
    })?;
    let dest = args.destination.strip_prefix(REMOTE_PREFIX).unwrap_or("");
    let into_folder = dest.is_empty() || dest.ends_with('/');
    let dest = dest.trim_matches('/');
    let join = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_owned()
        } else {
            format!("{a}/{b}")
        }
    };
    let base = local
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if meta.is_file() {
        let remote = if into_folder {
            join(dest, &base)
        } else {
            dest.to_owned()
        };
        return Ok(vec![Job::Upload {
            local,
            remote,
            size: meta.len(),
        }]);
    }
    if !args.recursive {
        return Err(CliError::usage(format!("{} is a folder", local.display()))
            .hint("pass -r to copy a folder and everything under it"));
    }
    let root = if into_folder && !base.is_empty() {
        join(dest, &base)
    } else {
        dest.to_owned()
    };
    let mut jobs = Vec::new();
    walk(&local, &mut |path, rel, size| {
        jobs.push(Job::Upload {
            local: path.to_owned(),
            remote: join(&root, rel),
            size,
        })
    })?;
    Ok(jobs)
}

/// Calls `visit(path, relative path with '/', size)` for every file under `dir`, in name
/// order, skipping the state files of interrupted transfers.
fn walk(dir: &Path, visit: &mut dyn FnMut(&Path, &str, u64)) -> CliResult<()> {
    fn inner(dir: &Path, prefix: &str, visit: &mut dyn FnMut(&Path, &str, u64)) -> CliResult<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| io_error(format!("reading {}", dir.display()), e))?
            .collect::<Result<_, _>>()
            .map_err(|e| io_error(format!("reading {}", dir.display()), e))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_transfer_state(&name) {
                continue;
            }
            let path = entry.path();
            let meta = std::fs::metadata(&path)
                .map_err(|e| io_error(format!("reading {}", path.display()), e))?;
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            if meta.is_dir() {
                inner(&path, &rel, visit)?;
            } else if meta.is_file() {
                visit(&path, &rel, meta.len());
            }
        }
        Ok(())
    }
    inner(dir, "", visit)
}

/// evo-io's state files beside an interrupted transfer's source or target.
fn is_transfer_state(name: &str) -> bool {
    name.ends_with(".evo-upload")
        || name.ends_with(".evo-download")
        || name.ends_with(".evo-download.json")
        || name.ends_with(".partial")
}

/// The downloads of `args`: one file, or every file under a folder with `-r`.
async fn plan_downloads(files: &FilesClient, args: &CpArgs) -> CliResult<Vec<Job>> {
    let remote = remote_path(&args.source);
    let dest = PathBuf::from(&args.destination);
    let dest_is_dir = dest.is_dir() || args.destination.ends_with(['/', '\\']);
    let source_is_folder = args.source.ends_with('/') || remote.is_empty();
    if !source_is_folder {
        let mut options = GetOptions::new();
        if let Some(v) = &args.file_version {
            options = options.version(v.clone());
        }
        match files.get_by_path(remote, &options).await {
            Ok(meta) => {
                let local = if dest_is_dir {
                    safe_local(&dest, &meta.name)?
                } else {
                    dest.clone()
                };
                let file = RemoteFile {
                    file_id: meta.file_id,
                    version_id: meta.version_id.clone(),
                    size: meta.size,
                    path: remote.to_owned(),
                };
                return Ok(vec![Job::Download { file, local }]);
            }
            Err(e) if e.is_not_found() && args.recursive => {}
            Err(e) => {
                let e = CliError::from(e);
                return Err(if e.kind == Kind::NotFound {
                    e.hint("`evo files ls` lists the files; -r copies a folder")
                } else {
                    e
                });
            }
        }
    }
    if !args.recursive {
        return Err(CliError::usage(format!("{:?} is a folder", args.source))
            .hint("pass -r to copy a folder and everything under it"));
    }
    if args.file_version.is_some() {
        return Err(CliError::usage(
            "--file-version applies to one file, not a folder",
        ));
    }
    let listed = list_under(files, remote, false).await?;
    if listed.is_empty() {
        return Err(CliError::not_found(format!("no files under {remote:?}"))
            .hint("`evo files ls` lists the files"));
    }
    // As for uploads: into a folder named with a trailing '/', the folder's own name is kept.
    let base = remote.rsplit('/').next().unwrap_or("");
    let root = if args.destination.ends_with(['/', '\\']) && !base.is_empty() {
        safe_local(&dest, base)?
    } else {
        dest.clone()
    };
    let strip = if remote.is_empty() {
        0
    } else {
        remote.len() + 1
    };
    let mut jobs = Vec::new();
    for file in listed {
        let full = file.full_path();
        let rel = full.get(strip..).unwrap_or(&full);
        let mut local = root.clone();
        for segment in rel.split('/') {
            local = safe_local(&local, segment)?;
        }
        jobs.push(Job::Download {
            file: RemoteFile::from(&file),
            local,
        });
    }
    Ok(jobs)
}

/// Joins a name from the server under `dir`, refusing anything that would leave it.
fn safe_local(dir: &Path, name: &str) -> CliResult<PathBuf> {
    evo_core::cache::safe_join(dir, name).map_err(|e| {
        CliError::failure(format!(
            "the workspace holds a path this machine cannot use safely: {e}"
        ))
    })
}

async fn upload_one(
    files: &FilesClient,
    journal: &Journal,
    key: JournalKey,
    local: &Path,
    remote: &str,
    bar: &crate::progress::FileBar,
) -> CliResult<Copied> {
    let feedback = bar.feedback();
    let mut resumed = false;
    let pending = match journal.get(&key) {
        Some(pending) => {
            resumed = true;
            Some(pending)
        }
        None => None,
    };
    let (file_id, version_id) = match pending {
        Some(p) => (p.file_id, p.version_id),
        None => {
            let target = files.register_upload_by_path(remote, None).await?;
            journal.put(&key, target.file_id, &target.version_id)?;
            (target.file_id, target.version_id)
        }
    };
    let uploaded = files
        .resume_upload(file_id, version_id.clone(), Source::file(local))
        .feedback(&feedback)
        .await;
    let metadata = match uploaded {
        Ok(m) => m,
        Err(e) if resumed && !e.is_retryable() && e.as_transfer().is_none() => {
            // The version the journal named is gone (expired or finished elsewhere): start over.
            tracing::info!(error = %e, "the interrupted upload cannot be continued; starting again");
            journal.remove(&key)?;
            resumed = false;
            let target = files.register_upload_by_path(remote, None).await?;
            journal.put(&key, target.file_id, &target.version_id)?;
            bar.reset();
            files
                .resume_upload(target.file_id, target.version_id, Source::file(local))
                .feedback(&feedback)
                .await?
        }
        Err(e) => return Err(e.into()),
    };
    journal.remove(&key)?;
    Ok(Copied {
        from: local.display().to_string(),
        to: format!("{REMOTE_PREFIX}{}", metadata.full_path()),
        size: metadata.size,
        file_id: metadata.file_id,
        version_id: metadata.version_id,
        resumed_bytes: None,
        resumed: Some(resumed),
        skipped: false,
    })
}

async fn download_one(
    files: &FilesClient,
    file: &RemoteFile,
    local: &Path,
    args: &CpArgs,
    bar: &crate::progress::FileBar,
) -> CliResult<Copied> {
    let copied = |size, version_id: String, resumed_bytes, skipped| Copied {
        from: format!("{REMOTE_PREFIX}{}", file.path),
        to: local.display().to_string(),
        size,
        file_id: file.file_id,
        version_id,
        resumed_bytes: Some(resumed_bytes),
        resumed: None,
        skipped,
    };
    if let Ok(existing) = std::fs::metadata(local) {
        if existing.is_dir() {
            return Err(CliError::new(
                Kind::Conflict,
                format!("{} is a folder", local.display()),
            ));
        }
        if !args.force {
            if existing.len() == file.size && args.file_version.is_none() {
                // A rerun of an interrupted folder copy: what is complete stays.
                bar.skip();
                return Ok(copied(file.size, file.version_id.clone(), 0, true));
            }
            return Err(
                CliError::new(Kind::Conflict, format!("{} exists", local.display()))
                    .hint("pass --force to replace it"),
            );
        }
    }
    if let Some(dir) = local.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| io_error(format!("creating {}", dir.display()), e))?;
    }
    let feedback = bar.feedback();
    let version = args
        .file_version
        .as_deref()
        .or(Some(file.version_id.as_str()));
    let done = files
        .download(file.file_id, version, Destination::file(local))
        .overwrite(args.force)
        .feedback(&feedback)
        .await?;
    Ok(copied(
        done.metadata.size,
        done.metadata.version_id,
        done.report.resumed_bytes,
        false,
    ))
}
