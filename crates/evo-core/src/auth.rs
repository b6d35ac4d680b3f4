//! The authorizer seam: credentials for each request, refreshed after a 401.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

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
///
/// Connections that carry a bearer token outside HTTP headers (evo-sync's Socket.IO client,
/// which sends it in the `CONNECT` packet) ask [`bearer_token`](Authorizer::bearer_token) on
/// every (re)connect and hand tokens the server rotates on that connection to
/// [`rotate_token`](Authorizer::rotate_token), so that HTTP requests and such connections share
/// one token.
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

    /// The bearer token to present where credentials do not travel in HTTP headers, such as
    /// the Socket.IO `CONNECT` packet (asked on every (re)connect); `Ok(None)` when none is
    /// held.
    ///
    /// The default takes the token of the `Authorization: Bearer <token>` header that
    /// [`headers`](Authorizer::headers) returns. Override it when the headers carry other
    /// credentials.
    async fn bearer_token(&self) -> Result<Option<Secret>, Error> {
        Ok(bearer_token_of(&self.headers().await?))
    }

    /// The server handed out a new bearer token outside an HTTP response (a Socket.IO
    /// `authorization` event, for instance): use it from now on, for requests and connections
    /// alike.
    ///
    /// The default does nothing: an authorizer that gets its tokens elsewhere (OAuth2) keeps
    /// them.
    fn rotate_token(&self, _token: Secret) {}
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

/// Sends a bearer token the server may replace: [`rotate_token`](Authorizer::rotate_token)
/// (a Socket.IO `authorization` event, for instance) swaps it for every later request and
/// connection. Clones share the token.
///
/// There is no refresh: after a 401 the request is sent once more only when the token was
/// rotated since it was sent.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), evo_core::Error> {
/// use evo_core::{Authorizer, RotatingTokenAuthorizer, Secret};
///
/// let auth = RotatingTokenAuthorizer::new("jwt-1");
/// auth.rotate_token(Secret::new("jwt-2"));
/// assert_eq!(auth.headers().await?["authorization"], "Bearer jwt-2");
/// assert_eq!(auth.bearer_token().await?, Some(Secret::new("jwt-2")));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RotatingTokenAuthorizer {
    token: Arc<Mutex<Secret>>,
}

impl RotatingTokenAuthorizer {
    /// An authorizer sending `Authorization: Bearer <initial>` until the token is rotated.
    pub fn new(initial: impl Into<Secret>) -> Self {
        RotatingTokenAuthorizer {
            token: Arc::new(Mutex::new(initial.into())),
        }
    }

    /// The token currently held.
    pub fn current(&self) -> Secret {
        self.token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl fmt::Debug for RotatingTokenAuthorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatingTokenAuthorizer")
            .field("token", &self.current())
            .finish()
    }
}

#[async_trait]
impl Authorizer for RotatingTokenAuthorizer {
    async fn headers(&self) -> Result<HeaderMap, Error> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, bearer_header(self.current().expose())?);
        Ok(headers)
    }

    async fn refresh(&self, rejected: &HeaderMap) -> Result<bool, Error> {
        Ok(bearer_token_of(rejected).as_ref() != Some(&self.current()))
    }

    async fn bearer_token(&self) -> Result<Option<Secret>, Error> {
        Ok(Some(self.current()))
    }

    fn rotate_token(&self, token: Secret) {
        *self.token.lock().unwrap_or_else(PoisonError::into_inner) = token;
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case), if any.
fn bearer_token_of(headers: &HeaderMap) -> Option<Secret> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| Secret::new(token))
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

    #[tokio::test]
    async fn the_bearer_token_comes_from_the_headers_by_default() {
        let auth = StaticTokenAuthorizer::new("tok-123");
        assert_eq!(
            auth.bearer_token().await.unwrap(),
            Some(Secret::new("tok-123"))
        );
        assert_eq!(NoAuth.bearer_token().await.unwrap(), None);
        // The default rotation does nothing.
        auth.rotate_token(Secret::new("other"));
        assert_eq!(
            auth.headers().await.unwrap()[AUTHORIZATION],
            "Bearer tok-123"
        );
        let header = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
            bearer_token_of(&headers).map(|t| t.expose().to_owned())
        };
        assert_eq!(header("bearer  t-1 ").as_deref(), Some("t-1"));
        assert_eq!(header("Basic dXNlcjpwYXNz"), None);
        assert_eq!(header("Bearer "), None);
        assert_eq!(header("t-1"), None);
    }

    #[tokio::test]
    async fn a_rotated_token_is_sent_by_every_clone_and_hidden() {
        let auth = RotatingTokenAuthorizer::new("jwt-1");
        let shared = auth.clone();
        let sent = auth.headers().await.unwrap();
        assert_eq!(sent[AUTHORIZATION], "Bearer jwt-1");
        assert!(sent[AUTHORIZATION].is_sensitive());
        assert!(!auth.refresh(&sent).await.unwrap(), "not rotated since");
        shared.rotate_token(Secret::new("jwt-2"));
        assert_eq!(auth.headers().await.unwrap()[AUTHORIZATION], "Bearer jwt-2");
        assert_eq!(
            auth.bearer_token().await.unwrap(),
            Some(Secret::new("jwt-2"))
        );
        assert!(auth.refresh(&sent).await.unwrap(), "rotated since");
        assert!(!format!("{auth:?}").contains("jwt"));
    }
}
