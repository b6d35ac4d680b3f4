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

    /// Fuzz-style properties: whatever a token endpoint sends, parsing never panics and gives
    /// the right token or a typed error that does not quote the tokens.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;
        use serde_json::Value;

        const ACCESS: &str = "ATSECRETvalue";
        const REFRESH: &str = "RTSECRETvalue";

        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                ".{0,12}".prop_map(Value::from),
                "[0-9 ]{0,25}".prop_map(Value::from),
                Just(Value::from("bearer")),
                Just(Value::from("")),
                "x{1000,3000}".prop_map(Value::from),
            ];
            leaf.prop_recursive(2, 8, 3, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                    prop::collection::btree_map(".{0,4}", inner, 0..3)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// What happens to one member of a valid response.
        #[derive(Clone, Debug)]
        enum Mutation {
            Keep,
            Remove,
            Replace(Value),
            /// The member appears twice; the second (this value) wins.
            Duplicate(Value),
        }

        fn mutation() -> impl Strategy<Value = Mutation> {
            prop_oneof![
                3 => Just(Mutation::Keep),
                1 => Just(Mutation::Remove),
                2 => json_value().prop_map(Mutation::Replace),
                1 => json_value().prop_map(Mutation::Duplicate),
            ]
        }

        /// A valid response, `token_type` last so that a flipped byte cannot make a string
        /// swallow a token into another member.
        fn valid_members() -> Vec<(&'static str, Value)> {
            vec![
                ("access_token", Value::from(ACCESS)),
                ("expires_in", Value::from(3600)),
                ("refresh_token", Value::from(REFRESH)),
                ("scope", Value::from("evo.workspace evo.discovery")),
                ("token_type", Value::from("Bearer")),
            ]
        }

        fn render(members: &[(&str, Value)]) -> String {
            let parts: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}:{v}", Value::from(*k)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }

        fn parse(body: &[u8]) -> Result<Token, OAuthError> {
            parse_token_response(StatusCode::OK, body, SystemTime::UNIX_EPOCH)
        }

        fn assert_typed_without_tokens(result: &Result<Token, OAuthError>) {
            if let Err(e) = result {
                assert!(
                    matches!(
                        e,
                        OAuthError::UnexpectedResponse { .. }
                            | OAuthError::UnsupportedTokenType { .. }
                    ),
                    "{e:?}"
                );
                let shown = format!("{e} {e:?}");
                assert!(
                    !shown.contains("SECRET"),
                    "an error quotes a token: {shown}"
                );
            }
        }

        /// The token the RFC 6749 §5.1 rules give for these members (last duplicate wins).
        fn expected(members: &[(&str, Value)]) -> Option<(String, Option<u64>, Option<String>)> {
            let get = |name: &str| {
                members
                    .iter()
                    .rev()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v)
            };
            let access = match get("access_token")? {
                Value::String(s) if !s.is_empty() && evo_core::bearer_header(s).is_ok() => {
                    s.clone()
                }
                _ => return None,
            };
            match get("token_type")? {
                Value::String(t) if t.eq_ignore_ascii_case("bearer") => {}
                _ => return None,
            }
            let expires = match get("expires_in") {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
                    (Some(s), _) => Some(s),
                    (None, Some(f)) if f >= 0.0 => Some(f as u64),
                    _ => return None,
                },
                Some(Value::String(s)) => Some(s.trim().parse::<u64>().ok()?),
                Some(_) => return None,
            };
            let refresh = match get("refresh_token") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(_) => return None,
            };
            Some((access, expires.map(|s| s.min(MAX_EXPIRES_IN)), refresh))
        }

        #[test]
        fn every_truncation_of_a_valid_response_is_a_typed_error_without_the_tokens() {
            let body = render(&valid_members());
            for cut in 0..body.len() {
                let result = parse(&body.as_bytes()[..cut]);
                assert!(result.is_err(), "cut at {cut} parsed");
                assert_typed_without_tokens(&result);
            }
            assert!(parse(body.as_bytes()).is_ok());
        }

        proptest! {
            #[test]
            fn arbitrary_bodies_give_a_token_or_a_typed_error(body in prop::collection::vec(any::<u8>(), 0..512)) {
                assert_typed_without_tokens(&parse(&body));
            }

            #[test]
            fn mutated_valid_responses_parse_to_the_right_token_or_fail_without_quoting_it(
                mutations in prop::collection::vec(mutation(), 5),
            ) {
                let mut members = Vec::new();
                for ((name, value), m) in valid_members().into_iter().zip(mutations) {
                    match m {
                        Mutation::Keep => members.push((name, value)),
                        Mutation::Remove => {}
                        Mutation::Replace(v) => members.push((name, v)),
                        Mutation::Duplicate(v) => {
                            members.push((name, value));
                            members.push((name, v));
                        }
                    }
                }
                let result = parse(render(&members).as_bytes());
                assert_typed_without_tokens(&result);
                match (result, expected(&members)) {
                    (Ok(token), Some((access, lifetime, refresh))) => {
                        prop_assert_eq!(token.access_token().expose(), access.as_str());
                        prop_assert_eq!(token.lifetime(), lifetime.map(Duration::from_secs));
                        prop_assert_eq!(token.refresh_token().map(|r| r.expose().to_owned()), refresh);
                        let shown = format!("{token:?}");
                        prop_assert!(!shown.contains("SECRET"), "{}", shown);
                    }
                    (Err(_), None) => {}
                    (got, want) => prop_assert!(false, "parsed {:?}, expected {:?}", got.map(|t| t.lifetime()), want.map(|w| w.1)),
                }
            }

            #[test]
            fn byte_flips_in_a_valid_response_never_panic_or_leak(
                at in any::<prop::sample::Index>(),
                xor in 1u8..=255,
            ) {
                let mut body = render(&valid_members()).into_bytes();
                let i = at.index(body.len());
                body[i] ^= xor;
                assert_typed_without_tokens(&parse(&body));
            }

            #[test]
            fn huge_expiries_are_clamped_to_ten_years(digits in "[1-9][0-9]{0,300}", fraction in "(\\.[0-9]{1,5})?") {
                let body = format!(r#"{{"access_token":"a","token_type":"Bearer","expires_in":{digits}{fraction}}}"#);
                let token = parse(body.as_bytes()).expect("a non-negative expiry is accepted");
                let lifetime = token.lifetime().expect("an expiry");
                prop_assert!(lifetime <= Duration::from_secs(MAX_EXPIRES_IN));
                if let Ok(secs) = digits.parse::<u64>() {
                    prop_assert_eq!(lifetime, Duration::from_secs(secs.min(MAX_EXPIRES_IN)));
                }
            }

            #[test]
            fn expiries_beyond_the_json_number_range_are_typed_errors(digits in "[1-9][0-9]{309,400}") {
                // serde_json refuses numbers past f64's range: the body is not usable JSON.
                let body = format!(r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":{digits}}}"#);
                let result = parse(body.as_bytes());
                prop_assert!(result.is_err());
                assert_typed_without_tokens(&result);
            }

            #[test]
            fn error_documents_keep_status_code_and_a_bounded_description(
                status in 400u16..600,
                error in prop::option::of(json_value()),
                description in prop::option::of(json_value()),
                junk in prop::collection::vec(any::<u8>(), 0..64),
                as_document in any::<bool>(),
            ) {
                let status = StatusCode::from_u16(status).expect("status");
                let body = if as_document {
                    let mut members = Vec::new();
                    if let Some(e) = &error { members.push(("error", e.clone())); }
                    if let Some(d) = &description { members.push(("error_description", d.clone())); }
                    render(&members).into_bytes()
                } else {
                    junk
                };
                let parsed = parse_error_response(status, bytes::Bytes::from(body.clone()));
                prop_assert_eq!(parsed.status(), Some(status));
                match parsed {
                    OAuthError::TokenEndpoint { code, description: shown, .. } => {
                        prop_assert!(as_document);
                        let sent = error.as_ref().and_then(Value::as_str).expect("a string error");
                        prop_assert!(!sent.is_empty());
                        prop_assert_eq!(code, OAuthErrorCode::parse(&truncate(sent, 500)));
                        if let Some(shown) = shown {
                            prop_assert!(shown.chars().count() <= 501);
                        }
                    }
                    OAuthError::UnexpectedResponse { body: kept, .. } => {
                        prop_assert_eq!(&kept[..], &body[..]);
                    }
                    other => prop_assert!(false, "{:?}", other),
                }
            }
        }
    }
}
