//! Object paths in a workspace, validated before any request is made.

use std::fmt;

use evo_core::workspace_path::{self, PathRules};

use crate::error::Error;

pub use evo_core::workspace_path::MAX_PATH_BYTES;

/// The rules of an object path: those of every workspace path, and no `?` or `#` (which
/// would end the path of an object reference URL) nor `\`.
const RULES: PathRules = PathRules {
    leaf: "object",
    forbidden: &['?', '#', '\\'],
};

/// A validated path of a geoscience object in a workspace, such as `surveys/2024/points.json`.
///
/// Folders are separated by `/`. A leading `/` is accepted and dropped (paths are relative to
/// the workspace root). Rejected, with [`Error::InvalidPath`] saying why: an empty path, a
/// trailing `/` (a folder, not an object), empty segments (`a//b`), `.` and `..` segments,
/// names made only of spaces, control characters, a `?` or `#` (which would end the path of an
/// object reference URL), and paths longer than [`MAX_PATH_BYTES`]. Spaces and other Unicode
/// are kept; they are percent-encoded on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectPath(String);

impl ObjectPath {
    /// Validates `path`.
    pub fn new(path: impl AsRef<str>) -> Result<Self, Error> {
        let original = path.as_ref();
        match RULES.check(original) {
            Ok(path) => Ok(ObjectPath(path.to_owned())),
            Err(reason) => Err(Error::InvalidPath {
                path: original.to_owned(),
                reason,
            }),
        }
    }

    /// The path, without a leading `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The object's file name: the last segment.
    pub fn name(&self) -> &str {
        workspace_path::name_of(&self.0)
    }

    /// The folder holding the object, without leading or trailing `/` (empty at the root).
    pub fn folder(&self) -> &str {
        workspace_path::folder_of(&self.0)
    }
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ObjectPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for ObjectPath {
    type Error = Error;
    fn try_from(value: &str) -> Result<Self, Error> {
        ObjectPath::new(value)
    }
}

impl TryFrom<String> for ObjectPath {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        ObjectPath::new(value)
    }
}

impl TryFrom<&String> for ObjectPath {
    type Error = Error;
    fn try_from(value: &String) -> Result<Self, Error> {
        ObjectPath::new(value)
    }
}

impl TryFrom<&ObjectPath> for ObjectPath {
    type Error = Error;
    fn try_from(value: &ObjectPath) -> Result<Self, Error> {
        Ok(value.clone())
    }
}

impl std::str::FromStr for ObjectPath {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        ObjectPath::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked() {
        let p = ObjectPath::new("/A/b c/m.json").unwrap();
        assert_eq!(p.as_str(), "A/b c/m.json");
        assert_eq!(p.name(), "m.json");
        assert_eq!(p.folder(), "A/b c");
        assert_eq!(ObjectPath::new("m.json").unwrap().folder(), "");
        for bad in [
            "", "/", "a/", "a//b", "../a", "a/./b", "  /a", "a\nb", "a?b", "a#b",
        ] {
            assert!(ObjectPath::new(bad).is_err(), "{bad:?} accepted");
        }
        assert!(ObjectPath::new("x".repeat(MAX_PATH_BYTES + 1)).is_err());
    }
}
