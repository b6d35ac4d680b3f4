//! Tokens for the Socket.IO `CONNECT` auth payload, fetched fresh on every (re)connect.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use crate::error::Error;

/// A bearer token (e.g. a JWT). Its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token string.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The secret itself, for putting on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Supplies the token for each connection attempt and learns rotated tokens from the server.
#[async_trait]
pub trait TokenProvider: Send + Sync {
    /// The token to present on this connection attempt (called on every (re)connect).
    async fn token(&self) -> Result<Token, Error>;

    /// The server handed out a new token (an `authorization` event); use it from now on.
    fn rotate(&self, token: Token);
}

/// A token cell shared by whoever holds a clone: starts with a given token and follows the
/// server's rotations.
#[derive(Clone)]
pub struct RotatingToken {
    cell: Arc<Mutex<Token>>,
}

impl RotatingToken {
    /// A cell holding `initial`.
    pub fn new(initial: Token) -> Self {
        Self {
            cell: Arc::new(Mutex::new(initial)),
        }
    }

    /// The token currently held.
    pub fn current(&self) -> Token {
        self.cell
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl fmt::Debug for RotatingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RotatingToken(<redacted>)")
    }
}

#[async_trait]
impl TokenProvider for RotatingToken {
    async fn token(&self) -> Result<Token, Error> {
        Ok(self.current())
    }

    fn rotate(&self, token: Token) {
        *self.cell.lock().unwrap_or_else(PoisonError::into_inner) = token;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_secret() {
        let token = Token::new("s3cr3t-jwt");
        assert!(!format!("{token:?}").contains("s3cr3t"));
        let cell = RotatingToken::new(token);
        assert!(!format!("{cell:?}").contains("s3cr3t"));
    }

    #[tokio::test]
    async fn rotation_replaces_the_token_for_later_connects() {
        let cell = RotatingToken::new(Token::new("a"));
        cell.rotate(Token::new("b"));
        assert_eq!(cell.token().await.expect("token").expose(), "b");
    }
}
