//! The error type of evo-auth.
//!
//! No variant ever holds a token, a client secret, an authorization code or a PKCE verifier, and
//! no message quotes a token response body (a 200 body that fails to parse may contain a token).

use std::fmt;
use std::sync::Arc;

use http::StatusCode;

/// An RFC 6749 error code (§4.1.2.1 for the authorize redirect, §5.2 for the token endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`: a parameter is missing, repeated or malformed.
    InvalidRequest,
    /// `invalid_client`: client authentication failed (unknown client, wrong secret).
    InvalidClient,
    /// `invalid_grant`: the code, refresh token or PKCE verifier is invalid, expired or revoked.
    InvalidGrant,
    /// `unauthorized_client`: the client may not use this grant type.
    UnauthorizedClient,
    /// `unsupported_grant_type`: the server does not know the grant type.
    UnsupportedGrantType,
    /// `invalid_scope`: a requested scope is unknown or not allowed.
    InvalidScope,
    /// `access_denied`: the user (or the server) refused consent.
    AccessDenied,
    /// `unsupported_response_type`: the server does not issue codes this way.
    UnsupportedResponseType,
    /// `server_error`: the server failed.
    ServerError,
    /// `temporarily_unavailable`: the server is overloaded or in maintenance.
    TemporarilyUnavailable,
    /// Any other code the server sent.
    Other(String),
}

impl OAuthErrorCode {
    /// Parses a code as sent on the wire.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "access_denied" => Self::AccessDenied,
            "unsupported_response_type" => Self::UnsupportedResponseType,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            other => Self::Other(truncate(other, 100)),
        }
    }

    /// The code as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong while obtaining, refreshing or storing OAuth2 tokens.
///
/// Inside an [`evo_core::Error`] (what the [`evo_core::Authorizer`] methods return) this error is
/// the `source()` of an [`evo_core::AuthError`]; get it back with [`OAuthError::find`].
/// `Debug` quotes a kept error body only as a short snippet with secrets redacted.
#[derive(Clone, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The token endpoint answered with an RFC 6749 §5.2 error document.
    #[error("the token endpoint answered {status}: {code}{}", describe(.description))]
    TokenEndpoint {
        /// The HTTP status (usually 400 or 401).
        status: StatusCode,
        /// The `error` member.
        code: OAuthErrorCode,
        /// The `error_description` member, when present.
        description: Option<String>,
        /// The `error_uri` member, when present.
        uri: Option<String>,
    },
    /// The token endpoint answered with something that is not a usable token response: a non-2xx
    /// status without an OAuth error document, or a 2xx body that is not a valid token response.
    /// The body of a 2xx response is never kept (it may hold a token).
    #[error("unexpected response from the token endpoint ({status}): {reason}")]
    UnexpectedResponse {
        /// The HTTP status.
        status: StatusCode,
        /// What was wrong, without quoting the body.
        reason: String,
        /// The body of a non-2xx response (empty for 2xx responses), at most 64 KiB.
        body: bytes::Bytes,
    },
    /// The token response has a `token_type` other than `Bearer` (compared case-insensitively).
    #[error("the token endpoint issued a token of type {token_type:?}; only Bearer is supported")]
    UnsupportedTokenType {
        /// The type received (at most 100 characters).
        token_type: String,
    },
    /// The request to the token endpoint failed below HTTP (connect, reset, timeout).
    #[error("the token request failed: {message}")]
    Transport {
        /// What happened.
        message: String,
        /// Whether trying again may help.
        retryable: bool,
    },
    /// The authorization server redirected back with `error=` (for example `access_denied`
    /// when the user refused consent).
    #[error("the authorization was refused: {code}{}", describe(.description))]
    Authorization {
        /// The `error` parameter.
        code: OAuthErrorCode,
        /// The `error_description` parameter, when present.
        description: Option<String>,
    },
    /// The redirect carried a `state` that does not match the one sent (a forged or stale
    /// redirect); the login was abandoned.
    #[error("the redirect's state does not match the authorization request")]
    StateMismatch,
    /// The redirect to the loopback listener lacked a required parameter.
    #[error("invalid redirect: {reason}")]
    InvalidRedirect {
        /// What was missing or malformed.
        reason: String,
    },
    /// No redirect arrived before the login timeout.
    #[error("timed out after {timeout:?} waiting for the browser to come back from the login page")]
    LoginTimeout {
        /// The timeout.
        timeout: std::time::Duration,
    },
    /// There is no token and this authorizer cannot get one by itself: log in first.
    #[error("not logged in: {reason}")]
    LoginRequired {
        /// Why (no token yet, expired without a refresh token, refresh token rejected…).
        reason: String,
    },
    /// The configuration is invalid (a URL that does not parse, a scope with a space…).
    #[error("invalid OAuth configuration: {message}")]
    Config {
        /// What was wrong.
        message: String,
    },
    /// Local I/O failed: binding the redirect listener, reading or writing a token file.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path or address.
        context: String,
        /// The underlying error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A stored token could not be read (malformed file).
    #[error("the stored token at {location} is unreadable: {reason}")]
    CorruptStore {
        /// Where the token is stored.
        location: String,
        /// What was wrong (never quotes the content).
        reason: String,
    },
}

impl fmt::Debug for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OAuthError::TokenEndpoint {
                status,
                code,
                description,
                uri,
            } => f
                .debug_struct("TokenEndpoint")
                .field("status", status)
                .field("code", code)
                .field("description", description)
                .field("uri", uri)
                .finish(),
            OAuthError::UnexpectedResponse {
                status,
                reason,
                body,
            } => f
                .debug_struct("UnexpectedResponse")
                .field("status", status)
                .field("reason", reason)
                .field("body", &evo_core::redacted_snippet(body))
                .finish(),
            OAuthError::UnsupportedTokenType { token_type } => f
                .debug_struct("UnsupportedTokenType")
                .field("token_type", token_type)
                .finish(),
            OAuthError::Transport { message, retryable } => f
                .debug_struct("Transport")
                .field("message", message)
                .field("retryable", retryable)
                .finish(),
            OAuthError::Authorization { code, description } => f
                .debug_struct("Authorization")
                .field("code", code)
                .field("description", description)
                .finish(),
            OAuthError::StateMismatch => f.write_str("StateMismatch"),
            OAuthError::InvalidRedirect { reason } => f
                .debug_struct("InvalidRedirect")
                .field("reason", reason)
                .finish(),
            OAuthError::LoginTimeout { timeout } => f
                .debug_struct("LoginTimeout")
                .field("timeout", timeout)
                .finish(),
            OAuthError::LoginRequired { reason } => f
                .debug_struct("LoginRequired")
                .field("reason", reason)
                .finish(),
            OAuthError::Config { message } => {
                f.debug_struct("Config").field("message", message).finish()
            }
            OAuthError::Io { context, source } => f
                .debug_struct("Io")
                .field("context", context)
                .field("source", source)
                .finish(),
            OAuthError::CorruptStore { location, reason } => f
                .debug_struct("CorruptStore")
                .field("location", location)
                .field("reason", reason)
                .finish(),
        }
    }
}

fn describe(description: &Option<String>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!(" ({d})"),
        _ => String::new(),
    }
}

pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    let mut out: String = text.chars().take(max_chars).collect();
    if text.chars().count() > max_chars {
        out.push('…');
    }
    out
}

impl OAuthError {
    /// An [`OAuthError::Io`].
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        OAuthError::Io {
            context: context.into(),
            source: Arc::new(source),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        OAuthError::Config {
            message: message.into(),
        }
    }

    /// The RFC 6749 error code, for [`TokenEndpoint`](Self::TokenEndpoint) and
    /// [`Authorization`](Self::Authorization) errors.
    pub fn code(&self) -> Option<&OAuthErrorCode> {
        match self {
            OAuthError::TokenEndpoint { code, .. } | OAuthError::Authorization { code, .. } => {
                Some(code)
            }
            _ => None,
        }
    }

    /// The HTTP status the token endpoint answered, when it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            OAuthError::TokenEndpoint { status, .. }
            | OAuthError::UnexpectedResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when trying again later may succeed (502/503/504, `temporarily_unavailable`,
    /// connection failures and timeouts).
    pub fn is_retryable(&self) -> bool {
        match self {
            OAuthError::TokenEndpoint { status, code, .. } => {
                matches!(status.as_u16(), 502..=504)
                    || matches!(
                        code,
                        OAuthErrorCode::TemporarilyUnavailable | OAuthErrorCode::ServerError
                    ) && status.is_server_error()
            }
            OAuthError::UnexpectedResponse { status, .. } => {
                matches!(status.as_u16(), 502..=504)
            }
            OAuthError::Transport { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// True when the user must log in again (the grant was refused or there is no token).
    pub fn needs_login(&self) -> bool {
        matches!(
            self,
            OAuthError::LoginRequired { .. }
                | OAuthError::TokenEndpoint {
                    code: OAuthErrorCode::InvalidGrant,
                    ..
                }
        )
    }

    /// Finds the OAuth error inside an [`evo_core::Error`] returned by an authorizer or by a
    /// client using one.
    pub fn find(error: &evo_core::Error) -> Option<&OAuthError> {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = source {
            if let Some(found) = e.downcast_ref::<OAuthError>() {
                return Some(found);
            }
            source = e.source();
        }
        None
    }
}

impl From<OAuthError> for evo_core::Error {
    fn from(error: OAuthError) -> Self {
        let retryable = error.is_retryable();
        evo_core::AuthError::new(error.to_string())
            .retryable(retryable)
            .with_source(error)
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in [
            "invalid_request",
            "invalid_client",
            "invalid_grant",
            "unauthorized_client",
            "unsupported_grant_type",
            "invalid_scope",
            "access_denied",
            "unsupported_response_type",
            "server_error",
            "temporarily_unavailable",
            "custom_thing",
        ] {
            assert_eq!(OAuthErrorCode::parse(code).as_str(), code);
        }
        assert_eq!(
            OAuthErrorCode::parse("invalid_grant"),
            OAuthErrorCode::InvalidGrant
        );
    }

    #[test]
    fn found_inside_a_core_error() {
        let e = OAuthError::TokenEndpoint {
            status: StatusCode::BAD_REQUEST,
            code: OAuthErrorCode::InvalidGrant,
            description: Some("expired".into()),
            uri: None,
        };
        let core: evo_core::Error = e.into();
        let found = OAuthError::find(&core).unwrap();
        assert_eq!(found.code(), Some(&OAuthErrorCode::InvalidGrant));
        assert!(found.needs_login());
        assert!(
            core.to_string().contains("invalid_grant (expired)"),
            "{core}"
        );
        assert!(!core.is_retryable());
    }

    #[test]
    fn debug_quotes_error_bodies_redacted() {
        let e = OAuthError::UnexpectedResponse {
            status: StatusCode::BAD_GATEWAY,
            reason: "not JSON".into(),
            body: bytes::Bytes::from_static(
                br#"{"access_token":"AT-SECRET"} <a href="/cb?code=CODE-SECRET&sig=SIG-SECRET">"#,
            ),
        };
        let shown = format!("{e:?} {e}");
        for secret in ["AT-SECRET", "CODE-SECRET", "SIG-SECRET"] {
            assert!(!shown.contains(secret), "{secret}: {shown}");
        }
        assert!(
            shown.contains("UnexpectedResponse") && shown.contains("502"),
            "{shown}"
        );
        match e {
            OAuthError::UnexpectedResponse { body, .. } => {
                assert!(
                    body.as_ref().windows(9).any(|w| w == b"AT-SECRET"),
                    "kept raw"
                );
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn gateway_errors_are_retryable() {
        let e = OAuthError::UnexpectedResponse {
            status: StatusCode::BAD_GATEWAY,
            reason: "not JSON".into(),
            body: bytes::Bytes::new(),
        };
        assert!(e.is_retryable());
        let core: evo_core::Error = e.into();
        assert!(core.is_retryable());
    }
}
