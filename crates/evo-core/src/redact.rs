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
    fn secret_debug_and_display_hide_the_value() {
        let s = Secret::new("top-secret");
        assert!(!format!("{s:?} {s}").contains("top-secret"));
        assert_eq!(s.expose(), "top-secret");
    }
}
