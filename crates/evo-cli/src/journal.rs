//! The journal of unfinished uploads: which version an upload registered, so that running the
//! same copy again continues that version instead of starting a new one.
//!
//! An entry is keyed by the workspace, the remote path and the local file as it was (absolute
//! path, size, modification time): a changed file starts a new upload. Entries are removed
//! when their upload finishes and forgotten after a week (Azure keeps uncommitted blocks that
//! long). A damaged journal is set aside, never fatal: it only saves work.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::write_private;
use crate::error::{CliResult, io_error};

/// How long an unfinished upload can be continued.
const KEEP_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

/// An upload registered but not finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The file id.
    pub file_id: Uuid,
    /// The version the upload registered.
    pub version_id: String,
    /// When it was registered (Unix seconds).
    pub registered_at: u64,
}

/// What an entry is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalKey(String);

impl JournalKey {
    /// The key of uploading `local` (of `size` bytes) to `remote` in `environment`'s workspace.
    pub fn new(
        environment: &evo_core::Environment,
        remote: &str,
        local: &Path,
        size: u64,
    ) -> CliResult<Self> {
        let absolute = std::fs::canonicalize(local)
            .map_err(|e| io_error(format!("reading {}", local.display()), e))?;
        let modified = std::fs::metadata(&absolute)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Ok(JournalKey(format!(
            "{}|{}|{}|{remote}|{}|{size}|{modified}",
            environment.hub_url,
            environment.org_id,
            environment.workspace_id,
            absolute.display()
        )))
    }
}

/// The journal file and its entries.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    entries: Mutex<BTreeMap<String, Pending>>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Journal {
    /// Reads the journal at `path` (empty when missing or damaged).
    pub fn open(path: PathBuf) -> CliResult<Self> {
        let mut entries: BTreeMap<String, Pending> = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "ignoring a damaged upload journal");
                BTreeMap::new()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(io_error(format!("reading {}", path.display()), e)),
        };
        let oldest = now().saturating_sub(KEEP_FOR.as_secs());
        entries.retain(|_, p| p.registered_at >= oldest);
        Ok(Journal {
            path,
            entries: Mutex::new(entries),
        })
    }

    /// The unfinished upload for `key`.
    pub fn get(&self, key: &JournalKey) -> Option<Pending> {
        self.lock().get(&key.0).cloned()
    }

    /// Records the version an upload registered, before its bytes move.
    pub fn put(&self, key: &JournalKey, file_id: Uuid, version_id: &str) -> CliResult<()> {
        let mut entries = self.lock();
        entries.insert(
            key.0.clone(),
            Pending {
                file_id,
                version_id: version_id.to_owned(),
                registered_at: now(),
            },
        );
        self.save(&entries)
    }

    /// Forgets `key` (its upload finished, or cannot be continued).
    pub fn remove(&self, key: &JournalKey) -> CliResult<()> {
        let mut entries = self.lock();
        if entries.remove(&key.0).is_some() {
            self.save(&entries)?;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Pending>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn save(&self, entries: &BTreeMap<String, Pending>) -> CliResult<()> {
        let json = serde_json::to_vec_pretty(entries).unwrap_or_default();
        write_private(&self.path, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_a_reopen_and_a_damaged_journal_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("a.bin");
        std::fs::write(&local, b"abc").unwrap();
        let env = evo_core::Environment::new(
            "http://hub.test/".parse().unwrap(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let key = JournalKey::new(&env, "x/a.bin", &local, 3).unwrap();
        let path = dir.path().join("state/uploads.json");
        let journal = Journal::open(path.clone()).unwrap();
        let id = Uuid::new_v4();
        journal.put(&key, id, "7").unwrap();
        let reopened = Journal::open(path.clone()).unwrap();
        assert_eq!(
            reopened.get(&key).map(|p| (p.file_id, p.version_id)),
            Some((id, "7".into()))
        );
        // Another remote path, or a changed size, is another upload.
        assert!(
            reopened
                .get(&JournalKey::new(&env, "y/a.bin", &local, 3).unwrap())
                .is_none()
        );
        assert!(
            reopened
                .get(&JournalKey::new(&env, "x/a.bin", &local, 4).unwrap())
                .is_none()
        );
        reopened.remove(&key).unwrap();
        assert!(Journal::open(path.clone()).unwrap().get(&key).is_none());
        std::fs::write(&path, b"{not json").unwrap();
        assert!(Journal::open(path).unwrap().get(&key).is_none());
    }
}
