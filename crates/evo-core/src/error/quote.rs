//! Quoting a response body in an error message: clipped to a few hundred characters, secrets
//! redacted first.

/// How much of a body an error message quotes.
pub(super) const SNIPPET_CHARS: usize = 200;

/// `text` cut to [`SNIPPET_CHARS`] characters, with `…` when cut.
pub(super) fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(SNIPPET_CHARS) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..end])),
    }
}

pub(crate) fn snippet(body: &[u8]) -> String {
    // Redact before cutting, so that a secret split by the cut is still found.
    let head = &body[..body.len().min(SNIPPET_CHARS * 4 + 1024)];
    let text = crate::redact::redact_json_secrets(&String::from_utf8_lossy(head));
    let text = crate::redact::redact_text_secrets(&text);
    match clip(&text) {
        // Short enough, but the body went on past the part read.
        std::borrow::Cow::Borrowed(all) if head.len() < body.len() => format!("{all}…"),
        clipped => clipped.into_owned(),
    }
}
