//! File paths in a workspace, validated before any request is made.

use std::fmt;

use evo_core::workspace_path::{self, PathRules};

use crate::error::Error;

pub use evo_core::workspace_path::MAX_PATH_BYTES;

/// The rules of a file path (those of every workspace path).
const RULES: PathRules = PathRules {
    leaf: "file",
    forbidden: &[],
};

/// A validated path of a file in a workspace, such as `reports/2024/drill holes.csv`.
///
/// Folders are separated by `/`. A leading `/` is accepted and dropped (paths are relative to
/// the workspace root). Rejected, with [`Error::InvalidPath`] saying why: an empty path, a
/// trailing `/` (a folder, not a file), empty segments (`a//b`), `.` and `..` segments, folder
/// or file names made only of spaces, control characters (including NUL, tab and newline), and
/// paths longer than [`MAX_PATH_BYTES`].
/// Spaces and any other Unicode are kept as they are; they are percent-encoded on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FilePath(String);

impl FilePath {
    /// Validates `path`.
    pub fn new(path: impl AsRef<str>) -> Result<Self, Error> {
        let original = path.as_ref();
        match RULES.check(original) {
            Ok(path) => Ok(FilePath(path.to_owned())),
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

    /// The file name: the last segment.
    pub fn file_name(&self) -> &str {
        workspace_path::name_of(&self.0)
    }

    /// The folder holding the file, without leading or trailing `/` (empty at the root).
    pub fn folder(&self) -> &str {
        workspace_path::folder_of(&self.0)
    }
}

impl fmt::Display for FilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for FilePath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for FilePath {
    type Error = Error;
    fn try_from(value: &str) -> Result<Self, Error> {
        FilePath::new(value)
    }
}

impl TryFrom<String> for FilePath {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        FilePath::new(value)
    }
}

impl TryFrom<&String> for FilePath {
    type Error = Error;
    fn try_from(value: &String) -> Result<Self, Error> {
        FilePath::new(value)
    }
}

impl TryFrom<&FilePath> for FilePath {
    type Error = Error;
    fn try_from(value: &FilePath) -> Result<Self, Error> {
        Ok(value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(path: &str) -> String {
        match FilePath::new(path) {
            Err(Error::InvalidPath { reason, .. }) => reason,
            other => panic!("{path:?} was not rejected: {other:?}"),
        }
    }

    #[test]
    fn valid_paths_are_kept() {
        for (input, kept) in [
            ("a.txt", "a.txt"),
            ("/a/b/c.csv", "a/b/c.csv"),
            ("a/new file.txt", "a/new file.txt"),
            ("données/été ü 日本.bin", "données/été ü 日本.bin"),
            ("a/b%20c+d&e=f?.txt", "a/b%20c+d&e=f?.txt"),
            ("..hidden/.x", "..hidden/.x"),
        ] {
            let p = FilePath::new(input).unwrap();
            assert_eq!(p.as_str(), kept);
        }
        let p = FilePath::new("/x/y/z.txt").unwrap();
        assert_eq!(p.file_name(), "z.txt");
        assert_eq!(p.folder(), "x/y");
        assert_eq!(FilePath::new("z").unwrap().folder(), "");
    }

    #[test]
    fn invalid_paths_say_why() {
        assert!(reason("").contains("empty"));
        assert!(reason("/").contains("empty"));
        assert!(reason("a/").contains("folder"));
        assert!(reason("a//b").contains("empty folder"));
        assert!(reason("a/../b").contains("\"..\""));
        assert!(reason("..").contains("\"..\""));
        assert!(reason("./a").contains("\".\""));
        assert!(reason("a\0b").contains("U+0000"));
        assert!(reason("a\nb").contains("U+000A"));
        assert!(reason("a\tb").contains("U+0009"));
        assert!(reason("a\u{7f}b").contains("U+007F"));
        assert!(reason("a/ /b").contains("spaces"));
        let long = "x".repeat(MAX_PATH_BYTES + 1);
        assert!(reason(&long).contains("1025 bytes"));
        assert!(FilePath::new("x".repeat(MAX_PATH_BYTES)).is_ok());
        // multi-byte characters count in bytes
        assert!(FilePath::new("é".repeat(MAX_PATH_BYTES / 2 + 1)).is_err());
    }

    #[test]
    fn error_message_names_the_path() {
        let e = FilePath::new("a/../b").unwrap_err();
        assert!(e.to_string().contains("a/../b"), "{e}");
    }
}
