//! The rotating JWT: an evo-core [`Authorizer`] that learns tokens from response headers, and
//! the same token cell as the Sync API's [`TokenProvider`].

use std::fmt;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use evo_core::{Authorizer, Secret, bearer_header};
use evo_sync::socketio::{Token, TokenProvider};
use http::HeaderMap;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use tokio::sync::watch;

/// Holds Unicat's current JWT for REST calls and Sync API connections alike.
///
/// * Every response is seen through [`Authorizer::observe_response`]: an `Authorization` header
///   carries a new JWT (adopted), a `WWW-Authenticate` header clears it.
/// * `authorization` events of the Sync API rotate it through [`TokenProvider::rotate`].
/// * Every request and every (re)connect reads the token current at that moment.
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
        let token = token.map(str::trim).filter(|t| !t.is_empty());
        let token = token.map(|t| t.strip_prefix("Bearer ").unwrap_or(t).trim().to_owned());
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

    async fn refresh(&self, _rejected: &HeaderMap) -> Result<bool, evo_core::Error> {
        // Unicat has no refresh token: a 401 means connect(api_key) again.
        Ok(false)
    }

    fn observe_response(&self, headers: &HeaderMap) {
        if headers.contains_key(WWW_AUTHENTICATE) {
            tracing::debug!("the server asked for authentication; the JWT is cleared");
            self.set(None);
            return;
        }
        if let Some(value) = headers.get(AUTHORIZATION) {
            match value.to_str() {
                Ok(jwt) if !jwt.trim().is_empty() => {
                    tracing::debug!("the server sent a new JWT");
                    self.set(Some(jwt));
                }
                _ => tracing::warn!("ignoring an unreadable Authorization response header"),
            }
        }
    }
}

#[async_trait]
impl TokenProvider for JwtAuthorizer {
    async fn token(&self) -> Result<Token, evo_sync::Error> {
        match JwtAuthorizer::token(self) {
            Some(secret) => Ok(Token::new(secret.expose())),
            None => Err(evo_sync::Error::Token {
                message: "no JWT: connect(api_key) first".to_owned(),
            }),
        }
    }

    fn rotate(&self, token: Token) {
        tracing::debug!("the Sync API rotated the JWT");
        self.set(Some(token.expose()));
    }
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
        TokenProvider::rotate(&auth, Token::new("jwt-2"));
        assert_eq!(auth.headers().await.unwrap()[AUTHORIZATION], "Bearer jwt-2");
        let mut unauthorized = HeaderMap::new();
        unauthorized.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"JWT access to Unicat.\""),
        );
        auth.observe_response(&unauthorized);
        assert!(!auth.has_token());
        assert!(TokenProvider::token(&auth).await.is_err());
        assert_eq!(auth.generation(), 3);
    }
}
