//! Rust names and doc comments: words of a schema name in `PascalCase` and `snake_case`
//! (keywords escaped), string literals, and doc lines with what rustdoc would misread escaped.

use std::fmt::Write as _;

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// Splits a name into lowercase words at separators and case changes.
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        let boundary = c.is_ascii_uppercase()
            && i > 0
            && (chars[i - 1].is_ascii_lowercase()
                || chars[i - 1].is_ascii_digit()
                || (chars[i - 1].is_ascii_uppercase()
                    && chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())));
        if boundary && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `PascalCase`.
pub(in crate::codegen) fn pascal(name: &str) -> String {
    let mut out: String = words(name)
        .iter()
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// `snake_case`, made a valid identifier (`type` → `r#type`, `self` → `self_`).
pub(in crate::codegen) fn snake(name: &str) -> String {
    let mut out = words(name).join("_");
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if matches!(out.as_str(), "self" | "super" | "crate") {
        out.push('_');
    } else if KEYWORDS.contains(&out.as_str()) {
        out.insert_str(0, "r#");
    }
    out
}

/// A Rust string literal.
pub(in crate::codegen) fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// Doc text as `///` line bodies: collapsed whitespace kept per paragraph, `<`/`>` outside code
/// spans escaped, bare URLs wrapped in `<…>` so rustdoc renders them as links.
pub(in crate::codegen) fn doc_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, paragraph) in text.trim().split("\n\n").enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        let joined = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
        lines.push(format!(" {}", escape_doc(&joined)));
    }
    lines
}

fn escape_doc(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(part);
            continue;
        }
        let escaped = part.replace('<', "&lt;").replace('>', "&gt;");
        let mut words_out = Vec::new();
        for word in escaped.split(' ') {
            if word.starts_with("http://") || word.starts_with("https://") {
                let trimmed = word.trim_end_matches(['.', ',', ';', ')']);
                words_out.push(format!("<{trimmed}>{}", &word[trimmed.len()..]));
            } else {
                words_out.push(word.to_owned());
            }
        }
        out.push_str(&words_out.join(" "));
    }
    out
}

pub(in crate::codegen) fn push_doc(out: &mut String, text: &str) {
    for line in doc_lines(text) {
        writeln!(out, "///{line}").unwrap();
    }
}
