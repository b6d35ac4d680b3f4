//! Object paths in a workspace, validated before any request is made.

use std::fmt;

use crate::error::Error;

/// The longest path accepted, in UTF-8 bytes.
pub const MAX_PATH_BYTES: usize = 1024;

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
        let invalid = |reason: &str| Error::InvalidPath {
            path: original.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(c) = original.chars().find(|c| c.is_control()) {
            return Err(invalid(&format!(
                "contains the control character U+{:04X}",
                c as u32
            )));
        }
        if let Some(c) = original.chars().find(|c| matches!(c, '?' | '#' | '\\')) {
            return Err(invalid(&format!("contains {c:?}")));
        }
        let path = original.trim_start_matches('/');
        if path.is_empty() {
            return Err(invalid("the path is empty"));
        }
        if path.len() > MAX_PATH_BYTES {
            return Err(invalid(&format!(
                "the path is {} bytes long; at most {MAX_PATH_BYTES} are allowed",
                path.len()
            )));
        }
        if path.ends_with('/') {
            return Err(invalid(
                "ends with '/', which names a folder, not an object",
            ));
        }
        for segment in path.split('/') {
            match segment {
                "" => return Err(invalid("contains an empty folder name ('//')")),
                "." | ".." => {
                    return Err(invalid(&format!(
                        "contains a {segment:?} segment; paths must not be relative"
                    )));
                }
                _ if segment.trim().is_empty() => {
                    return Err(invalid(
                        "contains a folder or object name made only of spaces",
                    ));
                }
                _ => {}
            }
        }
        Ok(ObjectPath(path.to_owned()))
    }

    /// The path, without a leading `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The object's file name: the last segment.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The folder holding the object, without leading or trailing `/` (empty at the root).
    pub fn folder(&self) -> &str {
        match self.0.rfind('/') {
            Some(i) => &self.0[..i],
            None => "",
        }
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
