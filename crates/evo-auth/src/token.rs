//! Access tokens and the parsing of token responses (RFC 6749 §5.1).

use std::fmt;
use std::time::{Duration, SystemTime};

use evo_core::Secret;
use http::StatusCode;

use crate::error::{OAuthError, OAuthErrorCode, truncate};
use crate::scope::Scopes;

/// The longest `expires_in` believed (ten years); larger values are clamped.
const MAX_EXPIRES_IN: u64 = 10 * 365 * 24 * 3600;

/// An access token with its refresh token and lifetime. `Debug` never shows the secrets.
#[derive(Clone)]
pub struct Token {
    access_token: Secret,
    refresh_token: Option<Secret>,
    issued_at: SystemTime,
    expires_at: Option<SystemTime>,
    scopes: Option<Scopes>,
}

impl Token {
    /// A token issued now, with no known expiry and no refresh token.
    pub fn new(access_token: impl Into<Secret>) -> Self {
        Token {
            access_token: access_token.into(),
            refresh_token: None,
            issued_at: SystemTime::now(),
            expires_at: None,
            scopes: None,
        }
    }

    /// Sets the refresh token.
    pub fn with_refresh_token(mut self, refresh_token: impl Into<Secret>) -> Self {
        self.refresh_token = Some(refresh_token.into());
        self
    }

    /// Sets when the token was issued (default: when it was created).
    pub fn with_issued_at(mut self, issued_at: SystemTime) -> Self {
        self.issued_at = issued_at;
        self
    }

    /// Sets when the token expires.
    pub fn with_expires_at(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// Sets the expiry to `lifetime` after the issue time.
    pub fn with_expires_in(mut self, lifetime: Duration) -> Self {
        self.expires_at = Some(self.issued_at + lifetime);
        self
    }

    /// Sets the scopes the token was granted.
    pub fn with_scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = Some(scopes);
        self
    }

    /// The access token (a secret: put it on the wire only).
    pub fn access_token(&self) -> &Secret {
        &self.access_token
    }

    /// The refresh token, when the server issued one (`offline_access`).
    pub fn refresh_token(&self) -> Option<&Secret> {
        self.refresh_token.as_ref()
    }

    /// When the token was received.
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// When the token expires, when the server said.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// The scopes granted, when the server said.
    pub fn scopes(&self) -> Option<&Scopes> {
        self.scopes.as_ref()
    }

    /// True when the token has expired at `now` (false when the expiry is unknown).
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// The time left at `now` (`None` when the expiry is unknown, zero once expired).
    pub fn remaining_at(&self, now: SystemTime) -> Option<Duration> {
        self.expires_at
            .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO))
    }

    /// The lifetime from issue to expiry, when known.
    pub(crate) fn lifetime(&self) -> Option<Duration> {
        self.expires_at
            .map(|at| at.duration_since(self.issued_at).unwrap_or(Duration::ZERO))
    }

    /// True when `value` is the `Authorization` header this token produces.
    pub(crate) fn is_header(&self, value: &[u8]) -> bool {
        value
            .strip_prefix(b"Bearer ")
            .is_some_and(|rest| rest == self.access_token.expose().as_bytes())
    }

    /// Keeps the refresh token and scopes of `previous` where a refresh response omitted them
    /// (RFC 6749 §6: the server may keep the old refresh token valid).
    pub(crate) fn inherit(mut self, previous: &Token) -> Self {
        if self.refresh_token.is_none() {
            self.refresh_token = previous.refresh_token.clone();
        }
        if self.scopes.is_none() {
            self.scopes = previous.scopes.clone();
        }
        self
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

fn unexpected(status: StatusCode, reason: impl Into<String>) -> OAuthError {
    OAuthError::UnexpectedResponse {
        status,
        reason: reason.into(),
        body: bytes::Bytes::new(),
    }
}

/// Reads a successful token response. Error messages name the member that was wrong but never
/// quote a value or the body.
pub(crate) fn parse_token_response(
    status: StatusCode,
    body: &[u8],
    received_at: SystemTime,
) -> Result<Token, OAuthError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        unexpected(
            status,
            format!(
                "the body ({} bytes) is not JSON (error at line {} column {})",
                body.len(),
                e.line(),
                e.column()
            ),
        )
    })?;
    let Some(object) = value.as_object() else {
        return Err(unexpected(status, "the body is not a JSON object"));
    };
    let access_token = match object.get("access_token") {
        Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => {
            return Err(unexpected(status, "access_token is not a non-empty string"));
        }
        None => return Err(unexpected(status, "access_token is missing")),
    };
    if evo_core::bearer_header(&access_token).is_err() {
        return Err(unexpected(
            status,
            "access_token contains characters not allowed in an HTTP header",
        ));
    }
    match object.get("token_type") {
        Some(serde_json::Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        Some(serde_json::Value::String(t)) => {
            return Err(OAuthError::UnsupportedTokenType {
                token_type: truncate(t, 100),
            });
        }
        Some(_) => return Err(unexpected(status, "token_type is not a string")),
        None => return Err(unexpected(status, "token_type is missing")),
    }
    let expires_in = match object.get("expires_in") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(secs), _) => Some(secs),
            (None, Some(f)) if f.is_finite() && f >= 0.0 => Some(f as u64),
            _ => return Err(unexpected(status, "expires_in is negative or not a number")),
        },
        // Some servers send the number as a string.
        Some(serde_json::Value::String(s)) => match s.trim().parse::<u64>() {
            Ok(secs) => Some(secs),
            Err(_) => return Err(unexpected(status, "expires_in is not a number of seconds")),
        },
        Some(_) => return Err(unexpected(status, "expires_in is not a number")),
    };
    let refresh_token = match object.get("refresh_token") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(Secret::new(s.clone())),
        Some(_) => {
            return Err(unexpected(
                status,
                "refresh_token is not a non-empty string",
            ));
        }
    };
    // A malformed `scope` is not worth failing a login for: the token still works.
    let scopes = object
        .get("scope")
        .and_then(|s| s.as_str())
        .and_then(|s| Scopes::parse([s]).ok());

    let mut token = Token::new(access_token).with_issued_at(received_at);
    if let Some(secs) = expires_in {
        token = token.with_expires_in(Duration::from_secs(secs.min(MAX_EXPIRES_IN)));
    }
    token.refresh_token = refresh_token;
    token.scopes = scopes;
    Ok(token)
}

/// Reads a non-2xx token endpoint response: an RFC 6749 §5.2 error document when there is one.
pub(crate) fn parse_error_response(status: StatusCode, body: bytes::Bytes) -> OAuthError {
    let document = serde_json::from_slice::<serde_json::Value>(&body).ok();
    let field = |name: &str| {
        document
            .as_ref()
            .and_then(|d| d.get(name))
            .and_then(|v| v.as_str())
            .map(|s| truncate(s, 500))
    };
    match field("error") {
        Some(code) if !code.is_empty() => OAuthError::TokenEndpoint {
            status,
            code: OAuthErrorCode::parse(&code),
            description: field("error_description"),
            uri: field("error_uri"),
        },
        _ => OAuthError::UnexpectedResponse {
            status,
            reason: format!(
                "the body ({} bytes) is not an OAuth error document",
                body.len()
            ),
            body,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Token, OAuthError> {
        parse_token_response(StatusCode::OK, body.as_bytes(), SystemTime::now())
    }

    #[test]
    fn a_full_response_is_read() {
        let t = parse(r#"{"access_token":"AT-1","token_type":"Bearer","expires_in":3600,"refresh_token":"RT-1","scope":"evo.workspace evo.discovery","id_token":"x"}"#).unwrap();
        assert_eq!(t.access_token().expose(), "AT-1");
        assert_eq!(t.refresh_token().unwrap().expose(), "RT-1");
        assert_eq!(t.lifetime(), Some(Duration::from_secs(3600)));
        assert_eq!(
            t.scopes().unwrap().to_string(),
            "evo.discovery evo.workspace"
        );
        let shown = format!("{t:?}");
        assert!(
            !shown.contains("AT-1") && !shown.contains("RT-1"),
            "{shown}"
        );
    }

    #[test]
    fn token_type_is_case_insensitive() {
        for tt in ["bearer", "BEARER", "Bearer", "bEaReR"] {
            let body = format!(r#"{{"access_token":"a","token_type":"{tt}"}}"#);
            assert!(parse(&body).is_ok(), "{tt}");
        }
        let e = parse(r#"{"access_token":"a","token_type":"mac"}"#).unwrap_err();
        assert!(
            matches!(e, OAuthError::UnsupportedTokenType { ref token_type } if token_type == "mac")
        );
    }

    #[test]
    fn expires_in_as_string_or_float() {
        let t = parse(r#"{"access_token":"a","token_type":"Bearer","expires_in":"60"}"#).unwrap();
        assert_eq!(t.lifetime(), Some(Duration::from_secs(60)));
        let t = parse(r#"{"access_token":"a","token_type":"Bearer","expires_in":59.7}"#).unwrap();
        assert_eq!(t.lifetime(), Some(Duration::from_secs(59)));
        let t = parse(r#"{"access_token":"a","token_type":"Bearer","expires_in":1e300}"#).unwrap();
        assert_eq!(t.lifetime(), Some(Duration::from_secs(MAX_EXPIRES_IN)));
        assert!(parse(r#"{"access_token":"a","token_type":"Bearer","expires_in":-5}"#).is_err());
        assert!(
            parse(r#"{"access_token":"a","token_type":"Bearer","expires_in":"soon"}"#).is_err()
        );
    }

    #[test]
    fn malformed_bodies_are_typed_errors_without_the_body() {
        let cases = [
            "",
            "not json SECRETVALUE",
            "[\"SECRETVALUE\"]",
            r#"{"token_type":"Bearer"}"#,
            r#"{"access_token":17,"token_type":"Bearer"}"#,
            r#"{"access_token":"SECRETVALUE"}"#,
            r#"{"access_token":"SECRETVALUE","token_type":5}"#,
            r#"{"access_token":"SECRET\nVALUE","token_type":"Bearer"}"#,
            r#"{"access_token":"SECRETVALUE","token_type":"Bearer","refresh_token":5}"#,
        ];
        for body in cases {
            let e = parse(body).unwrap_err();
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains("SECRET"), "{body}: {shown}");
            assert!(
                matches!(e, OAuthError::UnexpectedResponse { .. }),
                "{body}: {e:?}"
            );
        }
    }

    #[test]
    fn error_documents_are_read() {
        let e = parse_error_response(
            StatusCode::BAD_REQUEST,
            bytes::Bytes::from_static(
                br#"{"error":"invalid_grant","error_description":"PKCE verification failed"}"#,
            ),
        );
        assert_eq!(e.code(), Some(&OAuthErrorCode::InvalidGrant));
        assert_eq!(
            e.to_string(),
            "the token endpoint answered 400 Bad Request: invalid_grant (PKCE verification failed)"
        );
        let e = parse_error_response(
            StatusCode::BAD_GATEWAY,
            bytes::Bytes::from_static(b"<html>"),
        );
        assert!(matches!(e, OAuthError::UnexpectedResponse { .. }));
        assert_eq!(e.status(), Some(StatusCode::BAD_GATEWAY));
        assert!(e.is_retryable());
    }
}
