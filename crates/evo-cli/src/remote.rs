//! Workspace paths as the command line spells them (`evo:surveys/a.csv`), and the files under
//! a folder: what `evo files` and `evo files cp` share.

use evo_files::{FileSummary, FilesClient, ListFilesQuery};
use futures_util::TryStreamExt;

use crate::error::CliResult;

/// The prefix that marks a path in the workspace (`evo:surveys/a.csv`).
pub const REMOTE_PREFIX: &str = "evo:";

/// A workspace path without the optional `evo:` prefix and surrounding `/`.
pub fn remote_path(text: &str) -> &str {
    text.strip_prefix(REMOTE_PREFIX)
        .unwrap_or(text)
        .trim_matches('/')
}

/// Every file under `folder` (every file when it is empty), or only deleted ones.
pub async fn list_under(
    files: &FilesClient,
    folder: &str,
    deleted: bool,
) -> CliResult<Vec<FileSummary>> {
    let query = ListFilesQuery::new()
        .deleted(deleted)
        .limit(evo_files::MAX_PAGE_SIZE);
    let prefix = if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    };
    let mut listed: Vec<FileSummary> = files
        .list_all(query)
        .try_filter(|f| std::future::ready(f.full_path().starts_with(&prefix)))
        .try_collect()
        .await?;
    listed.sort_by_key(|f| f.full_path());
    Ok(listed)
}
