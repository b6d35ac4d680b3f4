//! A local cache of per-workspace, per-scope folders with atomic file placement.

use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use crate::environment::Environment;
use crate::error::Error;

/// A folder holding cached data, laid out as `<root>/<org id>/<workspace id>/<scope>/`.
///
/// Files are placed atomically: written to a temporary sibling, flushed to disk, then renamed,
/// so a reader never sees a half-written file under its final name.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// A cache rooted at `root` (created if missing; made absolute).
    pub fn new(root: impl AsRef<Path>) -> Result<Self, Error> {
        let root = root.as_ref();
        std::fs::create_dir_all(root)
            .map_err(|e| Error::io(format!("creating cache folder {}", root.display()), e))?;
        let root = std::fs::canonicalize(root)
            .map_err(|e| Error::io(format!("resolving cache folder {}", root.display()), e))?;
        Ok(Cache { root })
    }

    /// The absolute root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder for `scope` (e.g. `"files"`) of a workspace, created if missing.
    pub fn location(&self, environment: &Environment, scope: &str) -> Result<PathBuf, Error> {
        let dir = self.scope_dir(environment, scope)?;
        if dir.exists() && !dir.is_dir() {
            return Err(Error::invalid_request(format!(
                "cache location {} exists and is not a folder",
                dir.display()
            )));
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating cache folder {}", dir.display()), e))?;
        Ok(dir)
    }

    fn scope_dir(&self, environment: &Environment, scope: &str) -> Result<PathBuf, Error> {
        let scope_path = safe_join(Path::new(""), scope)?;
        Ok(self
            .root
            .join(environment.org_id.to_string())
            .join(environment.workspace_id.to_string())
            .join(scope_path))
    }

    /// Removes cached data: everything (`None, None`), one workspace (`Some, None`) or one
    /// scope of one workspace (`Some, Some`). A scope without a workspace is an error.
    pub fn clear(
        &self,
        environment: Option<&Environment>,
        scope: Option<&str>,
    ) -> Result<(), Error> {
        let target = match (environment, scope) {
            (None, None) => self.root.clone(),
            (Some(env), None) => self
                .root
                .join(env.org_id.to_string())
                .join(env.workspace_id.to_string()),
            (Some(env), Some(scope)) => self.scope_dir(env, scope)?,
            (None, Some(_)) => {
                return Err(Error::invalid_request(
                    "clearing a cache scope needs the workspace it belongs to",
                ));
            }
        };
        if target == self.root {
            for entry in std::fs::read_dir(&self.root)
                .map_err(|e| Error::io(format!("listing {}", self.root.display()), e))?
            {
                let entry = entry.map_err(|e| Error::io("listing the cache", e))?;
                remove_any(&entry.path())?;
            }
            return Ok(());
        }
        if target.exists() {
            remove_any(&target)?;
        }
        Ok(())
    }

    /// The path of a file named `name` (from a server: validated) in a scope of a workspace.
    pub fn file_path(
        &self,
        environment: &Environment,
        scope: &str,
        name: &str,
    ) -> Result<PathBuf, Error> {
        let dir = self.location(environment, scope)?;
        safe_join(&dir, name)
    }
}

fn remove_any(path: &Path) -> Result<(), Error> {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    result.map_err(|e| Error::io(format!("removing {}", path.display()), e))
}

/// Joins a single file name (possibly from a server) to `dir`, rejecting anything that could
/// escape it: empty names, `.` and `..`, absolute paths, path separators and NUL.
pub fn safe_join(dir: &Path, name: &str) -> Result<PathBuf, Error> {
    let bad = |why: &str| Error::invalid_request(format!("unsafe file name {name:?}: {why}"));
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name.contains(['/', '\\', '\0']) {
        return Err(bad("contains a path separator or NUL"));
    }
    let mut components = Path::new(name).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(_)), None) => Ok(dir.join(name)),
        _ => Err(bad("not a plain file name")),
    }
}

/// The temporary sibling used while `target` is being written: `.<name>.<random>.partial`.
pub fn temp_path_for(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".to_owned());
    let tmp = format!(".{name}.{:016x}.partial", fastrand::u64(..));
    target.with_file_name(tmp)
}

/// Moves a fully written `temp` file to `target` atomically, after flushing it to disk, and
/// flushes the folder entry where the platform allows.
pub fn place_atomically(temp: &Path, target: &Path) -> Result<(), Error> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(temp)
        .map_err(|e| Error::io(format!("opening {}", temp.display()), e))?;
    file.sync_all()
        .map_err(|e| Error::io(format!("flushing {}", temp.display()), e))?;
    drop(file);
    std::fs::rename(temp, target).map_err(|e| {
        Error::io(
            format!("moving {} to {}", temp.display(), target.display()),
            e,
        )
    })?;
    if let Some(parent) = target.parent()
        && let Ok(dir) = std::fs::File::open(parent)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Writes `bytes` to `target` atomically (temporary sibling, fsync, rename).
pub fn write_atomically(target: &Path, bytes: &[u8]) -> Result<(), Error> {
    let temp = temp_path_for(target);
    let result = (|| {
        let mut file = std::fs::File::create(&temp)
            .map_err(|e| Error::io(format!("creating {}", temp.display()), e))?;
        file.write_all(bytes)
            .map_err(|e| Error::io(format!("writing {}", temp.display()), e))?;
        drop(file);
        place_atomically(&temp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn env() -> Environment {
        Environment::new(
            "http://hub/".parse().unwrap(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        )
    }

    #[test]
    fn names_cannot_escape() {
        let dir = Path::new("/cache");
        for bad in ["", ".", "..", "../x", "/etc/passwd", "a/b", "a\\b", "x\0y"] {
            assert!(safe_join(dir, bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(safe_join(dir, "a b ü.txt").unwrap(), dir.join("a b ü.txt"));
    }

    #[test]
    fn locations_and_clear() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path()).unwrap();
        let e = env();
        let dir = cache.location(&e, "files").unwrap();
        assert!(dir.is_dir() && dir.starts_with(cache.root()));
        let file = cache.file_path(&e, "files", "x.bin").unwrap();
        write_atomically(&file, b"data").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"data");
        assert!(cache.location(&e, "../escape").is_err());
        assert!(cache.clear(None, Some("files")).is_err());
        cache.clear(Some(&e), Some("files")).unwrap();
        assert!(!file.exists());
        cache.location(&e, "files").unwrap();
        cache.clear(None, None).unwrap();
        assert_eq!(std::fs::read_dir(cache.root()).unwrap().count(), 0);
    }

    #[test]
    fn atomic_write_leaves_no_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("t.bin");
        write_atomically(&target, b"1").unwrap();
        write_atomically(&target, b"22").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"22");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
