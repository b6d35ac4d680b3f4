//! Copies of spec files that a crate needs inside its own package: `cargo package` includes
//! only the crate's folder, so a published crate cannot read `specs/` at build time.
//! `cargo xtask codegen` writes the copies; `--check` fails when one differs from its source,
//! is missing, or has no source any more.

use std::path::{Path, PathBuf};

/// A folder copied into a crate: its files whose names end with one of `suffixes`, and the
/// `extra` files of the folder's parent (licence, provenance), kept at the same relative paths.
#[derive(Debug, Clone, Copy)]
pub struct Mirror {
    /// The folder copied (searched recursively), relative to the workspace root.
    pub from: &'static str,
    /// Files beside `from` copied too (e.g. its licence), relative to the workspace root.
    pub extra: &'static [&'static str],
    /// The copy, relative to the workspace root.
    pub to: &'static str,
    /// Which files of `from` are copied.
    pub suffixes: &'static [&'static str],
}

/// The copies: the object JSON Schemas the emulator embeds (its build.rs) and validates
/// posted objects against.
pub const MIRRORS: &[Mirror] = &[Mirror {
    from: "specs/evo-schemas/schema",
    extra: &[
        "specs/evo-schemas/LICENSE.md",
        "specs/evo-schemas/SOURCE.md",
    ],
    to: "crates/evo-emulator/schemas",
    suffixes: &[".schema.json"],
}];

/// Every file each mirror should hold: (absolute path of the copy, contents).
pub fn generate(root: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let mut out = Vec::new();
    for mirror in MIRRORS {
        let from = root.join(mirror.from);
        let to = root.join(mirror.to);
        let mut files = Vec::new();
        collect(&from, mirror.suffixes, &mut files)?;
        files.sort();
        for file in files {
            let relative = file.strip_prefix(&from).unwrap_or(&file);
            out.push((to.join("schema").join(relative), read(&file)?));
        }
        for extra in mirror.extra {
            let file = root.join(extra);
            let name = file
                .file_name()
                .ok_or_else(|| format!("{extra}: no file name"))?;
            out.push((to.join(name), read(&file)?));
        }
    }
    Ok(out)
}

/// Files inside the mirrors that `files` does not list (their source was removed).
pub fn orphans(root: &Path, files: &[(PathBuf, String)]) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for mirror in MIRRORS {
        let to = root.join(mirror.to);
        if to.is_dir() {
            collect(&to, &[""], &mut found)?;
        }
    }
    found.retain(|path| !files.iter().any(|(p, _)| p == path));
    found.sort();
    Ok(found)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn collect(dir: &Path, suffixes: &[&str], out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            collect(&path, suffixes, out)?;
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| suffixes.iter().any(|s| n.ends_with(s)))
        {
            out.push(path);
        }
    }
    Ok(())
}
