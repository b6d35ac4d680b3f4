//! Names and docs of generated types: names joined or split into words, words common to
//! every variant dropped, and doc text with its source and brackets escaped.

use std::collections::BTreeSet;

use crate::codegen::json_schema::Loc;

/// A type name with anything but letters and digits removed.
pub(super) fn pascal_join(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Splits a PascalCase name into words (a digit run stays with the word before it).
pub(super) fn pascal_words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let starts = i == 0
            || (c.is_ascii_uppercase()
                && (chars[i - 1].is_ascii_lowercase()
                    || chars[i - 1].is_ascii_digit()
                    || chars.get(i + 1).is_some_and(char::is_ascii_lowercase)));
        match words.last_mut() {
            Some(word) if !starts => word.push(c),
            _ => words.push(c.to_string()),
        }
    }
    words
}

/// Drops the leading and trailing words every name shares (`VariogramSphericalStructure`,
/// `VariogramGaussianStructure` → `Spherical`, `Gaussian`), when what is left still names each
/// one.
pub(super) fn drop_common_words(names: &[String]) -> Vec<String> {
    if names.len() < 2 {
        return names.to_vec();
    }
    let split: Vec<Vec<String>> = names.iter().map(|n| pascal_words(n)).collect();
    let shortest = split.iter().map(Vec::len).min().unwrap_or(0);
    let mut prefix = 0;
    while prefix < shortest && split.iter().all(|w| w[prefix] == split[0][prefix]) {
        prefix += 1;
    }
    let mut suffix = 0;
    while suffix < shortest - prefix
        && split
            .iter()
            .all(|w| w[w.len() - 1 - suffix] == split[0][split[0].len() - 1 - suffix])
    {
        suffix += 1;
    }
    let stripped: Vec<String> = split
        .iter()
        .map(|w| w[prefix..w.len() - suffix].concat())
        .collect();
    let distinct: BTreeSet<&String> = stripped.iter().collect();
    let usable = stripped
        .iter()
        .all(|s| s.starts_with(|c: char| c.is_ascii_alphabetic()))
        && distinct.len() == stripped.len();
    if usable { stripped } else { names.to_vec() }
}

/// A type's documentation with the schema place it was generated from.
pub(super) fn with_source(doc: &str, loc: &Loc) -> String {
    let doc = doc.trim();
    if loc.pointer.is_empty() {
        format!("{doc}\n\nSchema: `{}`.", loc.file)
    } else {
        format!("{doc}\n\nSchema: `{}`, at `{}`.", loc.file, loc.pointer)
    }
}

/// `[` and `]` escaped, so rustdoc does not read schema text as intra-doc links.
pub(super) fn escape_brackets(text: &str) -> String {
    text.replace('[', "\\[").replace(']', "\\]")
}
