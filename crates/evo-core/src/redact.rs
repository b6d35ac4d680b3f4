//! Keeping secrets out of logs, `Debug` output and error messages.

use std::fmt;

/// Query parameters whose values are secrets: SAS signatures (with the user-delegation key
/// members of an Azure delegation SAS), AWS and GCS signed-URL credentials, OAuth codes and
/// tokens. Lower case; compared ignoring ASCII case.
const SECRET_QUERY_KEYS: &[&str] = &[
    "sig",
    "signature",
    // Azure user-delegation SAS: the signing key's object, tenant, times, service, version.
    "skoid",
    "sktid",
    "skt",
    "ske",
    "sks",
    "skv",
    "skdutid",
    "saoid",
    "suoid",
    // AWS SigV4 / SigV2 and GCS V4 signed URLs.
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "awsaccesskeyid",
    "x-goog-signature",
    "x-goog-credential",
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

/// [`redact_url`] for a URL given as text (a pre-signed URL in a service's answer, say): text
/// that is not a URL is shown as `<not a URL>`, never as it is.
///
/// ```
/// assert_eq!(
///     evo_core::redact_url_text("https://blob.example/c/b?sv=1&sig=s3cr3t"),
///     "https://blob.example/c/b?sv=1&sig=REDACTED"
/// );
/// assert_eq!(evo_core::redact_url_text("sig=s3cr3t"), "<not a URL>");
/// ```
pub fn redact_url_text(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => redact_url(&u),
        Err(_) => "<not a URL>".to_owned(),
    }
}

/// [`redact_url`] for an [`http::Uri`] (what a [`Transport`](crate::Transport) sees): user
/// info removed and secret query values (`sig`, `code`, `token`, ...) replaced by `REDACTED`,
/// for logging requests in a custom transport or middleware. A URI without a scheme (origin
/// form, `/path?query`) keeps its form. A URI the `url` crate cannot parse is shown without
/// its query, never with it.
///
/// ```
/// let uri: http::Uri = "https://blob.example/c/b?sv=1&sig=s3cr3t".parse().unwrap();
/// assert_eq!(evo_core::redact_uri(&uri), "https://blob.example/c/b?sv=1&sig=REDACTED");
/// ```
pub fn redact_uri(uri: &http::Uri) -> String {
    let text = uri.to_string();
    if uri.scheme().is_some() {
        if let Ok(url) = url::Url::parse(&text) {
            return redact_url(&url);
        }
    } else if let Some(query) = uri.query() {
        let base = format!("http://redact.invalid/?{query}");
        if let Ok(url) = url::Url::parse(&base) {
            let redacted = redact_url(&url);
            let query = redacted.split_once('?').map_or("", |(_, q)| q);
            return format!("{}?{query}", uri.path());
        }
    } else {
        // Authority form (`host:port`, a CONNECT target) or a bare path: user info only.
        return match text.rsplit_once('@') {
            Some((_, host)) if uri.path_and_query().is_none() => host.to_owned(),
            _ => text,
        };
    }
    let mut shown = String::new();
    if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
        let host = authority.as_str().rsplit('@').next().unwrap_or_default();
        shown.push_str(&format!("{scheme}://{host}"));
    }
    shown.push_str(uri.path());
    if uri.query().is_some() {
        shown.push_str("?REDACTED");
    }
    shown
}

/// Replaces, in free text (an HTML or XML error page, a message quoting a URL), the values
/// of secret query parameters written `key=value` (`sig=`, `X-Amz-Signature=`, `skoid=`,
/// `code=`, …, see [`redact_url`]) with `REDACTED`. The value ends at `&`, whitespace, a quote,
/// `<`, `>`, `#`, `,`, `;` or `)`.
pub fn redact_text_secrets(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let is_key = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let ends_value = |b: u8| {
        b.is_ascii_whitespace()
            || matches!(
                b,
                b'&' | b'"' | b'\'' | b'<' | b'>' | b'#' | b',' | b';' | b')'
            )
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'=' {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > 0 && is_key(bytes[start - 1]) {
            start -= 1;
        }
        let at_boundary = start == 0 || !is_key(bytes[start - 1]) && bytes[start - 1] != b'.';
        if at_boundary && SECRET_QUERY_KEYS.contains(&&lower[start..i]) {
            let mut end = i + 1;
            while end < bytes.len() && !ends_value(bytes[end]) {
                end += 1;
            }
            out.push_str(&text[copied..=i]);
            out.push_str("REDACTED");
            copied = end;
            i = end;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// The start of a body as error messages quote it: at most 200 characters, with secrets
/// (token members of JSON, signatures and codes in URLs) redacted.
pub fn redacted_snippet(body: &[u8]) -> String {
    crate::error::snippet(body)
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
    fn uris_lose_user_info_and_secret_query_values() {
        let uri: http::Uri = "https://u:p@blob.example/c/b?sv=1&sig=abc&code=123"
            .parse()
            .unwrap();
        let shown = redact_uri(&uri);
        assert_eq!(
            shown,
            "https://blob.example/c/b?sv=1&sig=REDACTED&code=REDACTED"
        );
        let origin: http::Uri = "/connect/token?state=xyz&x=1".parse().unwrap();
        assert_eq!(redact_uri(&origin), "/connect/token?state=REDACTED&x=1");
        let plain: http::Uri = "/workspace/orgs".parse().unwrap();
        assert_eq!(redact_uri(&plain), "/workspace/orgs");
        let authority: http::Uri = "proxy.example:8080".parse().unwrap();
        assert_eq!(redact_uri(&authority), "proxy.example:8080");
    }

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
    fn aws_and_delegation_sas_keys_are_redacted() {
        let url: url::Url = "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA1&X-Amz-Security-Token=STS1&X-Amz-Signature=S1&skoid=O1&sktid=T1&skt=K1&ske=E1&sks=b1&skv=V1&sv=2023"
            .parse()
            .unwrap();
        let shown = redact_url(&url);
        for secret in ["AKIA1", "STS1", "S1", "O1", "T1", "K1", "E1", "b1", "V1"] {
            assert!(!shown.contains(&format!("={secret}")), "{secret}: {shown}");
        }
        assert!(
            shown.contains("X-Amz-Algorithm=AWS4") && shown.contains("sv=2023"),
            "{shown}"
        );
    }

    #[test]
    fn secrets_in_free_text_are_redacted() {
        let text = "see https://h/b?sv=1&SIG=abc%2B&se=2 and <a href='x?code=c0de'>; X-Amz-Signature=f00, design=keep";
        let shown = redact_text_secrets(text);
        assert_eq!(
            shown,
            "see https://h/b?sv=1&SIG=REDACTED&se=2 and <a href='x?code=REDACTED'>; X-Amz-Signature=REDACTED, design=keep"
        );
        assert_eq!(
            redact_text_secrets("ünïcode sig=é€ ok"),
            "ünïcode sig=REDACTED ok"
        );
        assert_eq!(redact_text_secrets("=sig="), "=sig=REDACTED");
    }

    proptest::proptest! {
        /// Any text: no panic, and text without `=` comes back unchanged.
        #[test]
        fn free_text_redaction_takes_any_text(text in "\\PC{0,200}") {
            let shown = redact_text_secrets(&text);
            if !text.contains('=') {
                proptest::prop_assert_eq!(shown, text);
            }
        }
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
