//! An access token the user already has, optionally with a refresh token.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use evo_core::Secret;
use http::HeaderMap;

use crate::connector::OAuthConnector;
use crate::error::OAuthError;
use crate::token::Token;
use crate::token_cache::{DEFAULT_REFRESH_MARGIN, Grant, TokenCache};

/// Sends a token obtained elsewhere (a notebook, another tool).
///
/// Built with [`new`](Self::new) it sends the token as it is and cannot refresh it (a 401 is
/// returned to the caller). Built with [`refreshable`](Self::refreshable) from a [`Token`] that
/// has a refresh token, it renews the token with the refresh-token grant before it expires and
/// after a 401, like the other authorizers.
#[derive(Clone)]
pub struct AccessTokenAuthorizer {
    cache: Arc<TokenCache>,
}

impl fmt::Debug for AccessTokenAuthorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenAuthorizer")
            .field("cache", &self.cache)
            .finish()
    }
}

impl AccessTokenAuthorizer {
    /// Sends `Authorization: Bearer <access_token>`; never refreshes.
    pub fn new(access_token: impl Into<Secret>) -> Self {
        Self::from_token(Token::new(access_token))
    }

    /// Sends the token; never refreshes. The token is sent even past its expiry: the server
    /// decides, and its 401 reaches the caller.
    pub fn from_token(token: Token) -> Self {
        AccessTokenAuthorizer {
            cache: Arc::new(TokenCache::new(
                None,
                Grant::None,
                DEFAULT_REFRESH_MARGIN,
                None,
                Some(token),
            )),
        }
    }

    /// Sends the token and renews it with its refresh token through `connector`
    /// (`grant_type=refresh_token`), `margin` before expiry and after a 401.
    pub fn refreshable(
        connector: OAuthConnector,
        token: Token,
        margin: Duration,
    ) -> Result<Self, OAuthError> {
        if token.refresh_token().is_none() {
            return Err(OAuthError::Config {
                message: "a refreshable access token needs a refresh token".into(),
            });
        }
        Ok(AccessTokenAuthorizer {
            cache: Arc::new(TokenCache::new(
                Some(connector),
                Grant::RefreshToken,
                margin,
                None,
                Some(token),
            )),
        })
    }

    /// The current token (after any refresh).
    pub fn token(&self) -> Option<Token> {
        self.cache.current().map(|t| (*t).clone())
    }
}

#[async_trait]
impl evo_core::Authorizer for AccessTokenAuthorizer {
    async fn headers(&self) -> Result<HeaderMap, evo_core::Error> {
        self.cache.authorizer_headers().await
    }
    async fn refresh(&self, rejected: &HeaderMap) -> Result<bool, evo_core::Error> {
        self.cache.authorizer_refresh(rejected).await
    }
}
