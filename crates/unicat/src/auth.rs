//! The rotating JWT: an evo-core [`Authorizer`] that learns tokens from response headers and
//! from the Sync API's `authorization` events, for REST calls and Sync API connections alike.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use evo_core::{Authorizer, Secret, bearer_header};
use http::HeaderMap;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use tokio::sync::watch;

/// Holds Unicat's current JWT for REST calls and Sync API connections alike.
///
/// * Every response is seen through [`Authorizer::observe_response`]: an `Authorization` header
///   carries a new JWT (adopted), a `WWW-Authenticate` header clears it.
/// * `authorization` events of the Sync API rotate it through [`Authorizer::rotate_token`].
/// * Every request and every (re)connect ([`Authorizer::bearer_token`]) reads the token current
///   at that moment.
///
/// There is no refresh: Unicat has no refresh token, a new JWT needs the API key
/// ([`UnicatClient::connect`](crate::UnicatClient::connect)).
pub struct JwtAuthorizer {
    token: Mutex<Option<Secret>>,
    generation: watch::Sender<u64>,
}

impl fmt::Debug for JwtAuthorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuthorizer")
            .field("has_token", &self.has_token())
            .field("generation", &*self.generation.borrow())
            .finish()
    }
}

impl Default for JwtAuthorizer {
    fn default() -> Self {
        Self::new()
    }
}

impl JwtAuthorizer {
    /// An authorizer without a token.
    pub fn new() -> Self {
        JwtAuthorizer {
            token: Mutex::new(None),
            generation: watch::channel(0).0,
        }
    }

    /// True when a JWT is held.
    pub fn has_token(&self) -> bool {
        self.token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// The current JWT, if any (a [`Secret`]: redacted in `Debug`).
    pub fn token(&self) -> Option<Secret> {
        self.token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many times the token was set or cleared (to wait for a rotation).
    pub fn generation(&self) -> u64 {
        *self.generation.borrow()
    }

    /// A receiver that sees every change of [`generation`](Self::generation).
    pub fn watch_generation(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Replaces the token (`None` clears it).
    pub fn set(&self, token: Option<&str>) {
        let token = token.and_then(normalize);
        *self.token.lock().unwrap_or_else(PoisonError::into_inner) = token.map(Secret::from);
        self.generation.send_modify(|g| *g += 1);
    }
}

#[async_trait]
impl Authorizer for JwtAuthorizer {
    async fn headers(&self) -> Result<HeaderMap, evo_core::Error> {
        let mut headers = HeaderMap::new();
        if let Some(token) = self.token() {
            headers.insert(AUTHORIZATION, bearer_header(token.expose())?);
        }
        Ok(headers)
    }

    async fn refresh(&self, rejected: &HeaderMap) -> Result<bool, evo_core::Error> {
        // Unicat has no refresh token. Another answer (or an `authorization` event) may have
        // rotated the JWT since the rejected request was sent: then it is sent once more with
        // the current one. Otherwise the client authenticates again with the API key.
        let rejected = sent_token(rejected);
        let current = self.token();
        Ok(current.is_some_and(|c| rejected.as_deref() != Some(c.expose())))
    }

    fn observe_response(&self, headers: &HeaderMap) {
        // Which token the request carried is unknown here: treat it as the current one.
        self.observe(None, headers);
    }

    /// The race guard: a response changes the token only when its request used the current
    /// one. A slower answer to a request sent with an older token neither clears the current
    /// token (`WWW-Authenticate`) nor replaces it (`Authorization`), unless the JWT it brings
    /// was issued later (`iat`) or no token is held.
    fn observe_response_to(&self, sent: &HeaderMap, headers: &HeaderMap) {
        self.observe(Some(sent_token(sent)), headers);
    }

    /// The current JWT, for the Sync API's `CONNECT` (`None` before
    /// [`UnicatClient::connect`](crate::UnicatClient::connect)).
    async fn bearer_token(&self) -> Result<Option<Secret>, evo_core::Error> {
        Ok(JwtAuthorizer::token(self))
    }

    /// An `authorization` event of the Sync API: the JWT it carries is used from now on.
    fn rotate_token(&self, token: Secret) {
        tracing::debug!("the Sync API rotated the JWT");
        self.set(Some(token.expose()));
    }
}

impl JwtAuthorizer {
    /// [`Authorizer::observe_response_to`], with `sent` the token the request carried
    /// (`Some(None)`: none) or `None` when that is unknown. A request sent without a token
    /// while there was none, then answered after another task authenticated, did not use the
    /// current token: its `WWW-Authenticate` must not clear the new one.
    fn observe(&self, sent: Option<Option<String>>, headers: &HeaderMap) {
        let mut token = self.token.lock().unwrap_or_else(PoisonError::into_inner);
        let current = token.as_ref().map(Secret::expose);
        let used_current = match &sent {
            None => true,
            Some(sent) => sent.as_deref() == current,
        };
        if headers.contains_key(WWW_AUTHENTICATE) {
            if used_current && token.is_some() {
                tracing::debug!("the server asked for authentication; the JWT is cleared");
                *token = None;
                drop(token);
                self.generation.send_modify(|g| *g += 1);
            } else if token.is_some() {
                tracing::debug!("ignoring WWW-Authenticate on an answer to an older JWT");
            }
            return;
        }
        let Some(value) = headers.get(AUTHORIZATION) else {
            return;
        };
        let Some(jwt) = value.to_str().ok().and_then(normalize) else {
            tracing::warn!("ignoring an unreadable Authorization response header");
            return;
        };
        if current == Some(jwt.as_str()) {
            return;
        }
        let newer = match current {
            None => true,
            Some(current) => {
                used_current
                    || issued_at(&jwt)
                        .zip(issued_at(current))
                        .is_some_and(|(n, c)| n > c)
            }
        };
        if !newer {
            tracing::debug!(
                "ignoring an older JWT on an answer to a request sent before a rotation"
            );
            return;
        }
        tracing::debug!("the server sent a new JWT");
        *token = Some(Secret::from(jwt));
        drop(token);
        self.generation.send_modify(|g| *g += 1);
    }
}

/// The token a request carried in its `Authorization` header.
fn sent_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(normalize)
}

/// A JWT without surrounding blanks or a `Bearer ` prefix; `None` when empty.
fn normalize(value: &str) -> Option<String> {
    let value = value.trim();
    let value = value.strip_prefix("Bearer ").unwrap_or(value).trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// The `iat` claim of a JWT (not verified: only to order two tokens from the same server).
fn issued_at(jwt: &str) -> Option<u64> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()?
        .get("iat")?
        .as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[tokio::test]
    async fn response_headers_rotate_and_clear_the_token() {
        let auth = JwtAuthorizer::new();
        assert!(auth.headers().await.unwrap().is_empty());
        let mut response = HeaderMap::new();
        response.insert(AUTHORIZATION, HeaderValue::from_static("jwt-1"));
        auth.observe_response(&response);
        let sent = auth.headers().await.unwrap();
        assert_eq!(sent[AUTHORIZATION], "Bearer jwt-1");
        assert!(sent[AUTHORIZATION].is_sensitive());
        assert!(!format!("{auth:?}").contains("jwt-1"));
        auth.observe_response(&HeaderMap::new());
        assert_eq!(auth.token().unwrap().expose(), "jwt-1");
        auth.rotate_token(Secret::new("jwt-2"));
        assert_eq!(auth.headers().await.unwrap()[AUTHORIZATION], "Bearer jwt-2");
        let mut unauthorized = HeaderMap::new();
        unauthorized.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"JWT access to Unicat.\""),
        );
        auth.observe_response(&unauthorized);
        assert!(!auth.has_token());
        assert!(auth.bearer_token().await.unwrap().is_none());
        assert_eq!(auth.generation(), 3);
    }

    fn jwt(iat: u64) -> String {
        use base64::Engine as _;
        let part = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.sig{iat}",
            part(serde_json::json!({"alg": "HS256"})),
            part(serde_json::json!({"iat": iat}))
        )
    }

    fn headers(name: http::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn answers_to_older_tokens_neither_clear_nor_replace_the_current_one() {
        let auth = JwtAuthorizer::new();
        let (t1, t2, t3) = (jwt(1), jwt(2), jwt(3));
        auth.set(Some(&t1));
        let sent_t1 = headers(AUTHORIZATION, &format!("Bearer {t1}"));
        // An authorization event rotates to t2 while a request sent with t1 is in flight.
        auth.rotate_token(Secret::new(t2.clone()));
        // Its slow 401 does not clear t2 ...
        auth.observe_response_to(&sent_t1, &headers(WWW_AUTHENTICATE, "Bearer"));
        assert_eq!(auth.token().unwrap().expose(), t2);
        // ... and the token it was rotated to before t2 does not replace t2.
        auth.observe_response_to(&sent_t1, &headers(AUTHORIZATION, &jwt(1)));
        auth.observe_response_to(&sent_t1, &headers(AUTHORIZATION, "opaque-token"));
        assert_eq!(auth.token().unwrap().expose(), t2);
        // A token issued later is adopted even from an answer to t1.
        auth.observe_response_to(&sent_t1, &headers(AUTHORIZATION, &t3));
        assert_eq!(auth.token().unwrap().expose(), t3);
        // Answers to the current token rotate and clear as before.
        let sent_t3 = headers(AUTHORIZATION, &format!("Bearer {t3}"));
        auth.observe_response_to(&sent_t3, &headers(AUTHORIZATION, "opaque-token"));
        assert_eq!(auth.token().unwrap().expose(), "opaque-token");
        let sent_opaque = headers(AUTHORIZATION, "Bearer opaque-token");
        auth.observe_response_to(&sent_opaque, &headers(WWW_AUTHENTICATE, "Bearer"));
        assert!(!auth.has_token());
        // With no token held, any new one is taken.
        auth.observe_response_to(&sent_t1, &headers(AUTHORIZATION, &t1));
        assert_eq!(auth.token().unwrap().expose(), t1);
    }

    #[test]
    fn a_401_to_a_request_sent_without_a_token_keeps_one_obtained_since() {
        let auth = JwtAuthorizer::new();
        // Sent while no token was held (another task's 401 had cleared it) ...
        let sent_none = HeaderMap::new();
        // ... then another task authenticated again ...
        auth.set(Some(&jwt(2)));
        // ... and the tokenless request's 401 arrives: the new token stays.
        auth.observe_response_to(&sent_none, &headers(WWW_AUTHENTICATE, "Bearer"));
        assert_eq!(auth.token().unwrap().expose(), jwt(2));
        // With no token held, the same answer leaves none (nothing to clear, no event).
        auth.set(None);
        let generation = auth.generation();
        auth.observe_response_to(&sent_none, &headers(WWW_AUTHENTICATE, "Bearer"));
        assert!(!auth.has_token());
        assert_eq!(auth.generation(), generation);
    }

    #[tokio::test]
    async fn a_401_is_resent_only_when_the_token_rotated_since() {
        let auth = JwtAuthorizer::new();
        let sent = headers(AUTHORIZATION, "Bearer a");
        assert!(!auth.refresh(&sent).await.unwrap(), "no token held");
        auth.set(Some("a"));
        assert!(
            !auth.refresh(&sent).await.unwrap(),
            "the rejected token is current"
        );
        auth.set(Some("b"));
        assert!(auth.refresh(&sent).await.unwrap(), "rotated since");
    }
}
