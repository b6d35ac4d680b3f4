//! The authorizer seam: credentials for each request, refreshed after a 401.

use std::fmt;

use async_trait::async_trait;
use http::HeaderMap;
use http::header::{AUTHORIZATION, HeaderValue};

use crate::error::Error;
use crate::redact::Secret;

/// Supplies the credentials of each request.
///
/// The connector calls [`headers`](Authorizer::headers) before every attempt. When the server
/// answers 401 it calls [`refresh`](Authorizer::refresh) once, with the headers the rejected
/// request carried, and sends the request once more if it returns `true`.
///
/// Implementations must make `refresh` single-flight: when a thousand requests are rejected at
/// once, one token request is made; the others see that the credentials already changed since
/// their rejected headers (compare them) and return `true` without a new token request.
/// `evo-auth` implements this for OAuth2.
#[async_trait]
pub trait Authorizer: Send + Sync + fmt::Debug {
    /// The headers to add to a request (typically `Authorization`), marked sensitive.
    async fn headers(&self) -> Result<HeaderMap, Error>;

    /// Called after a 401 to a request that carried `rejected`. Returns `Ok(true)` when new
    /// credentials are available and the request should be sent once more.
    async fn refresh(&self, rejected: &HeaderMap) -> Result<bool, Error>;

    /// Sees the headers of every response, for servers that rotate credentials in responses.
    fn observe_response(&self, _headers: &HeaderMap) {}

    /// Sees the headers of every response together with the credential headers its request
    /// carried (what [`headers`](Authorizer::headers) returned for that attempt; empty when no
    /// credentials were sent).
    ///
    /// The connector calls this one; the default forwards to
    /// [`observe_response`](Authorizer::observe_response). Override it when a response must
    /// only change the credentials if its request used the current ones: a slower, older
    /// response must not clear or replace a token that was rotated after it was sent.
    fn observe_response_to(&self, _sent: &HeaderMap, response: &HeaderMap) {
        self.observe_response(response);
    }
}

/// Sends no credentials and never refreshes.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

#[async_trait]
impl Authorizer for NoAuth {
    async fn headers(&self) -> Result<HeaderMap, Error> {
        Ok(HeaderMap::new())
    }
    async fn refresh(&self, _rejected: &HeaderMap) -> Result<bool, Error> {
        Ok(false)
    }
}

/// Sends a fixed bearer token the caller already has; cannot refresh.
#[derive(Clone)]
pub struct StaticTokenAuthorizer {
    token: Secret,
}

impl StaticTokenAuthorizer {
    /// An authorizer sending `Authorization: Bearer <token>`.
    pub fn new(token: impl Into<Secret>) -> Self {
        StaticTokenAuthorizer {
            token: token.into(),
        }
    }
}

impl fmt::Debug for StaticTokenAuthorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTokenAuthorizer")
            .field("token", &self.token)
            .finish()
    }
}

#[async_trait]
impl Authorizer for StaticTokenAuthorizer {
    async fn headers(&self) -> Result<HeaderMap, Error> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, bearer_header(self.token.expose())?);
        Ok(headers)
    }
    async fn refresh(&self, _rejected: &HeaderMap) -> Result<bool, Error> {
        Ok(false)
    }
}

/// Builds a sensitive `Bearer <token>` header value.
pub fn bearer_header(token: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        Error::invalid_request("the access token contains characters not allowed in a header")
    })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn static_token_is_sent_and_hidden() {
        let auth = StaticTokenAuthorizer::new("tok-123");
        let headers = auth.headers().await.unwrap();
        assert_eq!(headers[AUTHORIZATION], "Bearer tok-123");
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert!(!format!("{auth:?} {headers:?}").contains("tok-123"));
        assert!(!auth.refresh(&headers).await.unwrap());
    }
}
