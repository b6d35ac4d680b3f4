//! Keeping secrets out of logs, `Debug` output and error messages.

use std::fmt;

/// Query parameters whose values are secrets: SAS signatures, OAuth codes and tokens.
const SECRET_QUERY_KEYS: &[&str] = &[
    "sig",
    "signature",
    "code",
    "code_verifier",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "password",
    "state",
];

/// Returns the URL as text with the values of secret query parameters replaced by `REDACTED`
/// and any user info removed.
pub fn redact_url(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret = SECRET_QUERY_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s));
                let v = if secret {
                    "REDACTED".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// JSON members whose string values are secrets.
const SECRET_JSON_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code_verifier",
    "password",
    "token",
    "secret",
];

/// Replaces the string values of secret-looking JSON members (`access_token`,
/// `refresh_token`, `id_token`, `client_secret`, `code_verifier`, `password`, `token`,
/// `secret`) in `text` with `[redacted]`. Works on truncated or invalid JSON too, so an error
/// message quoting the start of a token response shows no token.
pub fn redact_json_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = SECRET_JSON_KEYS
            .iter()
            .filter_map(|key| {
                let quoted = format!("\"{key}\"");
                rest.find(&quoted).map(|at| (at, at + quoted.len()))
            })
            .min();
        let Some((_, key_end)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..key_end]);
        rest = &rest[key_end..];
        let after_ws = rest.trim_start();
        let Some(after_colon) = after_ws.strip_prefix(':') else {
            continue;
        };
        let value = after_colon.trim_start();
        let Some(inside) = value.strip_prefix('"') else {
            continue;
        };
        out.push_str(&rest[..rest.len() - value.len()]);
        out.push_str("\"[redacted]\"");
        rest = match closing_quote(inside) {
            Some(end) => &inside[end + 1..],
            None => "",
        };
    }
}

/// The byte index of the closing `"` of a JSON string whose content starts `text`.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// A secret string (token, client secret, signature) whose `Debug` and `Display` print
/// `[redacted]`. Read it with [`Secret::expose`] only where it goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_codes_are_redacted() {
        let url: url::Url = "https://u:p@blob.example/c/b?sv=1&sig=abc%2Bdef&se=x&code=123"
            .parse()
            .unwrap();
        let shown = redact_url(&url);
        assert!(!shown.contains("abc"), "{shown}");
        assert!(!shown.contains("123"), "{shown}");
        assert!(!shown.contains("u:p"), "{shown}");
        assert!(shown.contains("sv=1"), "{shown}");
    }

    #[test]
    fn json_secrets_are_redacted_even_when_truncated() {
        let text = r#"{"access_token" : "eyJ\"abc", "token_type":"Bearer","refresh_token":"r-123"#;
        let shown = redact_json_secrets(text);
        assert!(!shown.contains("eyJ"), "{shown}");
        assert!(!shown.contains("r-123"), "{shown}");
        assert!(shown.contains(r#""token_type":"Bearer""#), "{shown}");
        assert_eq!(shown.matches("[redacted]").count(), 2, "{shown}");
        assert_eq!(
            redact_json_secrets(r#"{"token": 5, "a": "b"}"#),
            r#"{"token": 5, "a": "b"}"#
        );
        assert_eq!(redact_json_secrets("no json"), "no json");
    }

    #[test]
    fn secret_debug_and_display_hide_the_value() {
        let s = Secret::new("top-secret");
        assert!(!format!("{s:?} {s}").contains("top-secret"));
        assert_eq!(s.expose(), "top-secret");
    }
}
