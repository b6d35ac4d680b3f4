//! Paths of files and objects in a workspace, as the File and Geoscience Object APIs take
//! them: the rules they share, checked before any request is made, and the splitting and
//! joining of folder and name.
//!
//! The service clients wrap a checked path in a type of their own (`evo_files::FilePath`,
//! `evo_objects::ObjectPath`) and turn a refusal into their error type.

/// The longest path accepted, in UTF-8 bytes (the blob-name limit of Azure storage, which
/// backs the File API; object paths are held to the same).
pub const MAX_PATH_BYTES: usize = 1024;

/// What a kind of path names, and what it refuses beyond the rules every workspace path
/// follows.
///
/// Every path is checked for: control characters (including NUL, tab and newline); emptiness
/// (a leading `/` is dropped first: paths are relative to the workspace root); more than
/// [`MAX_PATH_BYTES`]; a trailing `/` (a folder, not a file or object); empty segments
/// (`a//b`), `.` and `..` segments, and names made only of spaces. Spaces and any other
/// Unicode are kept; they are percent-encoded on the wire.
///
/// ```
/// use evo_core::workspace_path::PathRules;
///
/// let objects = PathRules { leaf: "object", forbidden: &['?', '#'] };
/// assert_eq!(objects.check("/surveys/points.json"), Ok("surveys/points.json"));
/// assert_eq!(objects.check("a?b").unwrap_err(), "contains '?'");
/// assert!(objects.check("a/").unwrap_err().contains("not an object"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathRules {
    /// What a path names, for the messages: `"file"`, `"object"`.
    pub leaf: &'static str,
    /// Characters refused anywhere in a path, besides control characters.
    pub forbidden: &'static [char],
}

impl PathRules {
    /// Checks `path`: the path without its leading `/`, or the reason it is refused.
    pub fn check<'p>(&self, path: &'p str) -> Result<&'p str, String> {
        if let Some(c) = path.chars().find(|c| c.is_control()) {
            return Err(format!("contains the control character U+{:04X}", c as u32));
        }
        if let Some(c) = path.chars().find(|c| self.forbidden.contains(c)) {
            return Err(format!("contains {c:?}"));
        }
        let path = path.trim_start_matches('/');
        if path.is_empty() {
            return Err("the path is empty".to_owned());
        }
        if path.len() > MAX_PATH_BYTES {
            return Err(format!(
                "the path is {} bytes long; at most {MAX_PATH_BYTES} are allowed",
                path.len()
            ));
        }
        if path.ends_with('/') {
            let article = if self.leaf.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            return Err(format!(
                "ends with '/', which names a folder, not {article} {}",
                self.leaf
            ));
        }
        for segment in path.split('/') {
            match segment {
                "" => return Err("contains an empty folder name ('//')".to_owned()),
                "." | ".." => {
                    return Err(format!(
                        "contains a {segment:?} segment; paths must not be relative"
                    ));
                }
                _ if segment.trim().is_empty() => {
                    return Err(format!(
                        "contains a folder or {} name made only of spaces",
                        self.leaf
                    ));
                }
                _ => {}
            }
        }
        Ok(path)
    }
}

/// The last segment of a checked path: the file or object name.
pub fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The folder of a checked path, without leading or trailing `/` (empty at the root).
pub fn folder_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// The full path (`A/x.csv`) of `name` in `folder` as the services send folders (`/A/`:
/// leading and trailing `/`; `/` at the workspace root): no leading `/`.
pub fn join_folder(folder: &str, name: &str) -> String {
    let folder = folder.trim_matches('/');
    if folder.is_empty() {
        name.to_owned()
    } else {
        format!("{folder}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: PathRules = PathRules {
        leaf: "file",
        forbidden: &[],
    };

    #[test]
    fn paths_are_checked_by_the_shared_rules() {
        assert_eq!(FILES.check("/a/b c/d.csv"), Ok("a/b c/d.csv"));
        assert_eq!(FILES.check("a?b#c"), Ok("a?b#c"));
        for bad in ["", "/", "a//b", "../a", "a/./b", "  /a", "a\nb"] {
            assert!(FILES.check(bad).is_err(), "{bad:?} accepted");
        }
        assert!(FILES.check("a/").unwrap_err().ends_with("not a file"));
        assert!(
            FILES
                .check("x".repeat(MAX_PATH_BYTES + 1).as_str())
                .is_err()
        );
        assert!(FILES.check("x".repeat(MAX_PATH_BYTES).as_str()).is_ok());
    }

    #[test]
    fn names_and_folders() {
        assert_eq!(
            (name_of("a/b/c.csv"), folder_of("a/b/c.csv")),
            ("c.csv", "a/b")
        );
        assert_eq!((name_of("c.csv"), folder_of("c.csv")), ("c.csv", ""));
        assert_eq!(join_folder("/A/B/", "x.csv"), "A/B/x.csv");
        assert_eq!(join_folder("/", "x.csv"), "x.csv");
    }
}
