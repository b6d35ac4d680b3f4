//! Names inside the download cache: a file name short enough for any file system, and a
//! version id checked before it becomes a folder name.

use crate::error::Error;

/// The longest cached file name, in bytes (file systems allow 255; names from the File API can
/// be longer). The folder already identifies the file and version, so a shortened name is safe.
const MAX_CACHE_NAME_BYTES: usize = 200;

/// `name`, shortened to [`MAX_CACHE_NAME_BYTES`] when needed, keeping a short extension.
pub(super) fn cache_file_name(name: &str) -> String {
    if name.len() <= MAX_CACHE_NAME_BYTES {
        return name.to_owned();
    }
    let ext = match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= 16 => &name[i..],
        _ => "",
    };
    let mut end = MAX_CACHE_NAME_BYTES - ext.len() - 1;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}~{ext}", &name[..end])
}

/// A version id used as a folder name: digits only (it comes from the server).
pub(super) fn safe_segment(version_id: &str) -> Result<&str, Error> {
    if !version_id.is_empty() && version_id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(version_id)
    } else {
        Err(Error::Unexpected(format!(
            "version id {version_id:?} is not a decimal number"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_cache_names_are_shortened_keeping_the_extension() {
        assert_eq!(cache_file_name("points.csv"), "points.csv");
        let long = format!("{}.csv", "points".repeat(54));
        let short = cache_file_name(&long);
        assert!(short.len() <= MAX_CACHE_NAME_BYTES, "{}", short.len());
        assert!(short.ends_with("~.csv") && short.starts_with("pointspoints"));
        let unicode = "é".repeat(300);
        let short = cache_file_name(&unicode);
        assert!(short.len() <= MAX_CACHE_NAME_BYTES && short.ends_with('~'));
        assert!(safe_segment("12").is_ok());
        assert!(safe_segment("../1").is_err() && safe_segment("").is_err());
    }
}
