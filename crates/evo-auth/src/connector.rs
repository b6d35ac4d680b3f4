//! The OAuth connector: issuer, endpoints, client credentials and the token request.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use evo_core::retry::Failure;
use evo_core::{Body, RetryPolicy, Secret, SharedTransport, Timeouts};
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue, USER_AGENT};
use http::{Method, Request};
use url::Url;

use crate::error::OAuthError;
use crate::scope::Scopes;
use crate::token::{Token, parse_error_response, parse_token_response};

/// The Bentley IMS issuer that Evo uses.
pub const DEFAULT_ISSUER: &str = "https://ims.bentley.com";
/// The authorize endpoint below the issuer.
pub const DEFAULT_AUTHORIZE_PATH: &str = "/connect/authorize";
/// The token endpoint below the issuer.
pub const DEFAULT_TOKEN_PATH: &str = "/connect/token";
/// The end-session (logout) endpoint below the issuer (OpenID Connect RP-initiated logout).
pub const DEFAULT_END_SESSION_PATH: &str = "/connect/endsession";
/// The token revocation endpoint below the issuer (RFC 7009).
pub const DEFAULT_REVOCATION_PATH: &str = "/connect/revocation";

/// The largest token endpoint response read (a token response is a few KiB).
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// Where and as whom to ask for tokens: the issuer's endpoints, the client id and optional
/// secret, and the transport. Cheap to clone; shared by the authorizers.
///
/// ```
/// # fn main() -> Result<(), evo_auth::OAuthError> {
/// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
/// use evo_auth::OAuthConnector;
/// let connector = OAuthConnector::builder(transport, "my-client-id")
///     .client_secret("my-client-secret")
///     .build()?; // https://ims.bentley.com/connect/{authorize,token}
/// assert_eq!(connector.token_url().as_str(), "https://ims.bentley.com/connect/token");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OAuthConnector {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: Url,
    authorize_url: Url,
    token_url: Url,
    end_session_url: Url,
    revocation_url: Url,
    client_id: String,
    client_secret: Option<Secret>,
    transport: SharedTransport,
    retry: RetryPolicy,
    timeout: Duration,
    user_agent: HeaderValue,
}

/// Which kind of token [`OAuthConnector::revoke`] is given (RFC 7009 `token_type_hint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenKind {
    /// A refresh token: revoking it ends the grant, so it can no longer renew access tokens.
    RefreshToken,
    /// An access token.
    AccessToken,
}

impl TokenKind {
    fn hint(self) -> &'static str {
        match self {
            TokenKind::RefreshToken => "refresh_token",
            TokenKind::AccessToken => "access_token",
        }
    }
}

impl fmt::Debug for OAuthConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConnector")
            .field("issuer", &self.inner.issuer.as_str())
            .field("authorize_url", &self.inner.authorize_url.as_str())
            .field("token_url", &self.inner.token_url.as_str())
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &self.inner.client_secret)
            .finish_non_exhaustive()
    }
}

/// Builds an [`OAuthConnector`].
pub struct OAuthConnectorBuilder {
    transport: SharedTransport,
    client_id: String,
    client_secret: Option<Secret>,
    issuer: String,
    authorize_endpoint: String,
    token_endpoint: String,
    end_session_endpoint: String,
    revocation_endpoint: String,
    retry: RetryPolicy,
    timeout: Duration,
    allow_insecure_http: bool,
    user_agent: String,
}

impl fmt::Debug for OAuthConnectorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConnectorBuilder")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish_non_exhaustive()
    }
}

impl OAuthConnector {
    /// Starts a connector for `client_id` that sends its requests through `transport`.
    pub fn builder(
        transport: SharedTransport,
        client_id: impl Into<String>,
    ) -> OAuthConnectorBuilder {
        OAuthConnectorBuilder {
            transport,
            client_id: client_id.into(),
            client_secret: None,
            issuer: DEFAULT_ISSUER.to_owned(),
            authorize_endpoint: DEFAULT_AUTHORIZE_PATH.to_owned(),
            token_endpoint: DEFAULT_TOKEN_PATH.to_owned(),
            end_session_endpoint: DEFAULT_END_SESSION_PATH.to_owned(),
            revocation_endpoint: DEFAULT_REVOCATION_PATH.to_owned(),
            retry: RetryPolicy::default()
                .with_max_attempts(3)
                .with_max_retry_after(Duration::from_secs(30)),
            timeout: Duration::from_secs(30),
            allow_insecure_http: false,
            user_agent: evo_core::DEFAULT_USER_AGENT.to_owned(),
        }
    }

    /// The issuer base URL.
    pub fn issuer(&self) -> &Url {
        &self.inner.issuer
    }
    /// The authorize endpoint.
    pub fn authorize_url(&self) -> &Url {
        &self.inner.authorize_url
    }
    /// The token endpoint.
    pub fn token_url(&self) -> &Url {
        &self.inner.token_url
    }
    /// The end-session (logout) endpoint.
    pub fn end_session_url(&self) -> &Url {
        &self.inner.end_session_url
    }
    /// The token revocation endpoint.
    pub fn revocation_url(&self) -> &Url {
        &self.inner.revocation_url
    }
    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }
    /// True when a client secret is configured (a confidential client).
    pub fn has_client_secret(&self) -> bool {
        self.inner.client_secret.is_some()
    }

    /// The URL a browser opens to end the user's session at the issuer (OpenID Connect
    /// RP-initiated logout): the end-session endpoint with `client_id`, and
    /// `post_logout_redirect_uri` and `state` when given (the issuer redirects there after
    /// logging out, if the URI is registered for the client).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
    /// # let issuer = emulator.ims_url();
    /// # let service = emulator.service_client();
    /// # let api = |authorizer: std::sync::Arc<dyn evo_core::Authorizer>| evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(transport.clone()).authorizer(authorizer).build().unwrap();
    /// # let org_id = emulator.org_id();
    /// # let list_workspaces = |api: evo_core::ApiConnector| async move {
    /// #     api.request(evo_core::http::Method::GET, "workspace/orgs/{org}/workspaces")
    /// #         .path_param("org", org_id).send_json::<serde_json::Value>().await
    /// # };
    /// # let connector = evo_auth::OAuthConnector::builder(transport.clone(), &service.client_id)
    /// #     .issuer(issuer.as_str()).client_secret(service.client_secret.clone()).build()?;
    /// // `connector`: the emulator's IMS with a service client's id and secret.
    /// let back = evo_core::url::Url::parse("http://localhost:3000/signed-out")?;
    /// let url = connector.end_session_request_url(Some(&back), Some("xyz"));
    /// assert!(url.as_str().starts_with(issuer.join("connect/endsession")?.as_str()));
    /// assert!(url.query_pairs().any(|(k, v)| k == "state" && v == "xyz"));
    /// # Ok(()) }
    /// ```
    pub fn end_session_request_url(
        &self,
        post_logout_redirect_uri: Option<&Url>,
        state: Option<&str>,
    ) -> Url {
        let mut url = self.inner.end_session_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("client_id", &self.inner.client_id);
            if let Some(uri) = post_logout_redirect_uri {
                query.append_pair("post_logout_redirect_uri", uri.as_str());
            }
            if let Some(state) = state {
                query.append_pair("state", state);
            }
        }
        url
    }

    /// Revokes `token` at the revocation endpoint (RFC 7009), authenticating as this client.
    /// The issuer answers success for tokens it does not know, so success means the token
    /// cannot be used any more, not that it was valid. 502/503/504 answers and transport
    /// failures are retried (revoking twice is harmless).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
    /// # let issuer = emulator.ims_url();
    /// # let service = emulator.service_client();
    /// # let api = |authorizer: std::sync::Arc<dyn evo_core::Authorizer>| evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(transport.clone()).authorizer(authorizer).build().unwrap();
    /// # let org_id = emulator.org_id();
    /// # let list_workspaces = |api: evo_core::ApiConnector| async move {
    /// #     api.request(evo_core::http::Method::GET, "workspace/orgs/{org}/workspaces")
    /// #         .path_param("org", org_id).send_json::<serde_json::Value>().await
    /// # };
    /// # let connector = evo_auth::OAuthConnector::builder(transport.clone(), &service.client_id)
    /// #     .issuer(issuer.as_str()).client_secret(service.client_secret.clone()).build()?;
    /// // `connector`: the emulator's IMS with a service client's id and secret.
    /// use std::sync::Arc;
    /// use evo_auth::{ClientCredentialsAuthorizer, Scopes, TokenKind};
    /// use evo_core::StaticTokenAuthorizer;
    ///
    /// let token = ClientCredentialsAuthorizer::new(connector.clone(), Scopes::all_evo())?.token().await?;
    /// connector.revoke(token.access_token(), TokenKind::AccessToken).await?;
    /// let revoked = Arc::new(StaticTokenAuthorizer::new(token.access_token().expose()));
    /// let refused = list_workspaces(api(revoked)).await.unwrap_err();
    /// assert_eq!(refused.status().map(|s| s.as_u16()), Some(401));
    /// # Ok(()) }
    /// ```
    pub async fn revoke(&self, token: &Secret, kind: TokenKind) -> Result<(), OAuthError> {
        let params = [("token", token.expose()), ("token_type_hint", kind.hint())];
        self.post_form("revocation", &self.inner.revocation_url, &params, true)
            .await
            .map(drop)
    }

    /// The URL the browser opens to log in: the authorize endpoint with the parameters sorted
    /// by name (`client_id`, `code_challenge`, `code_challenge_method=S256`, `redirect_uri`,
    /// `response_type=code`, `scope`, `state`).
    pub(crate) fn authorization_request_url(
        &self,
        redirect_uri: &Url,
        scopes: &Scopes,
        state: &str,
        code_challenge: &str,
    ) -> Url {
        let mut url = self.inner.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.inner.client_id)
            .append_pair("code_challenge", code_challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("response_type", "code")
            .append_pair("scope", &scopes.to_string())
            .append_pair("state", state);
        url
    }

    /// Requests a token: `grant_type` and `params` posted to the token endpoint (see
    /// [`post_form`](Self::post_form)), the answer read as a token response.
    pub(crate) async fn request_token(
        &self,
        grant: &'static str,
        params: &[(&str, &str)],
        repeatable: bool,
    ) -> Result<Token, OAuthError> {
        tracing::debug!(grant, token_url = %self.inner.token_url, "requesting a token");
        let mut form = vec![("grant_type", grant)];
        form.extend_from_slice(params);
        let (status, body) = self
            .post_form(grant, &self.inner.token_url, &form, repeatable)
            .await?;
        let token = parse_token_response(status, &body, SystemTime::now());
        if let Err(e) = &token {
            tracing::warn!(grant, error = %e, "unusable token response");
        }
        token
    }

    /// `POST` of the form `params` plus `client_id` (and `client_secret` when configured,
    /// client_secret_post) to `url`; the status and body of the first 2xx answer, or the
    /// issuer's error. 502/503/504 answers are retried, and so are transport failures when the
    /// request never left or `repeatable` says sending it twice is harmless.
    async fn post_form(
        &self,
        what: &'static str,
        url: &Url,
        params: &[(&str, &str)],
        repeatable: bool,
    ) -> Result<(http::StatusCode, Bytes), OAuthError> {
        let inner = &*self.inner;
        let body = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in params {
                form.append_pair(name, value);
            }
            form.append_pair("client_id", &inner.client_id);
            if let Some(secret) = &inner.client_secret {
                form.append_pair("client_secret", secret.expose());
            }
            Bytes::from(form.finish())
        };
        let outcome = inner
            .retry
            .driver(url.host_str().unwrap_or_default())
            .idempotent(repeatable)
            .run(|attempt| {
                let body = body.clone();
                async move {
                    tracing::debug!(what, attempt = attempt.number(), %url, "posting to the issuer");
                    match self.send_once(url, body).await {
                        Ok((status, _, body)) if status.is_success() => Ok((status, body)),
                        Ok((status, headers, body)) => {
                            let error = parse_error_response(status, body);
                            if !matches!(status.as_u16(), 502..=504) {
                                return Err(Failure::fatal(error));
                            }
                            // A gateway answered in the issuer's place: the token request is
                            // sent again even when it is not repeatable (as always here).
                            let retry_after =
                                evo_core::parse_retry_after(&headers, SystemTime::now());
                            Err(Failure::transient(error)
                                .retry_after(retry_after)
                                .unprocessed())
                        }
                        Err((error, _)) if !error.is_retryable() => Err(Failure::fatal(error)),
                        Err((error, sent)) => {
                            let failure = Failure::transient(error);
                            Err(if sent { failure } else { failure.unprocessed() })
                        }
                    }
                }
            })
            .await;
        outcome.map_err(|failed| {
            tracing::debug!(what, attempts = failed.attempts(), error = %failed.error(), "the issuer request failed");
            failed.into_error()
        })
    }

    /// One attempt. Errors carry whether the request may have reached the server.
    async fn send_once(
        &self,
        url: &Url,
        body: Bytes,
    ) -> Result<(http::StatusCode, http::HeaderMap, Bytes), (OAuthError, bool)> {
        let inner = &*self.inner;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(url.as_str())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, inner.user_agent.clone())
            .body(Body::from_bytes(body))
            .map_err(|_| {
                (
                    OAuthError::config(format!("{url} is not a valid request URI")),
                    false,
                )
            })?;
        request
            .extensions_mut()
            .insert(Timeouts::new(Some(inner.timeout), Some(inner.timeout)));
        let exchange = async {
            let response = inner.transport.send(request).await.map_err(|e| {
                let sent = e.request_sent();
                let error = OAuthError::Transport {
                    message: e.to_string(),
                    retryable: e.is_retryable(),
                };
                (error, sent)
            })?;
            let (parts, body) = response.into_parts();
            let body = body.collect(MAX_TOKEN_RESPONSE_BYTES).await.map_err(|e| {
                let retryable = e.kind() != std::io::ErrorKind::InvalidData;
                let error = OAuthError::Transport {
                    message: format!("reading the token response ({}): {e}", parts.status),
                    retryable,
                };
                (error, true)
            })?;
            Ok((parts.status, parts.headers, body))
        };
        match tokio::time::timeout(inner.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err((
                OAuthError::Transport {
                    message: format!(
                        "no complete response within {} s",
                        inner.timeout.as_secs_f32()
                    ),
                    retryable: true,
                },
                true,
            )),
        }
    }
}

fn endpoint(issuer: &Url, endpoint: &str) -> Result<Url, OAuthError> {
    if let Ok(url) = Url::parse(endpoint) {
        return Ok(url);
    }
    let base = issuer.as_str().trim_end_matches('/');
    let joined = format!("{base}/{}", endpoint.trim_start_matches('/'));
    Url::parse(&joined)
        .map_err(|e| OAuthError::config(format!("endpoint {endpoint:?} below the issuer: {e}")))
}

impl OAuthConnectorBuilder {
    /// The issuer base URL (default [`DEFAULT_ISSUER`], `https://ims.bentley.com`).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }
    /// The authorize endpoint: a path below the issuer or an absolute URL
    /// (default `/connect/authorize`; oauth2-mock-server uses `/authorize`).
    pub fn authorize_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.authorize_endpoint = endpoint.into();
        self
    }
    /// The token endpoint: a path below the issuer or an absolute URL
    /// (default `/connect/token`; oauth2-mock-server uses `/token`).
    pub fn token_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.token_endpoint = endpoint.into();
        self
    }
    /// The end-session endpoint: a path below the issuer or an absolute URL
    /// (default `/connect/endsession`).
    pub fn end_session_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.end_session_endpoint = endpoint.into();
        self
    }
    /// The token revocation endpoint: a path below the issuer or an absolute URL
    /// (default `/connect/revocation`).
    pub fn revocation_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.revocation_endpoint = endpoint.into();
        self
    }
    /// The client secret of a confidential (service) client, sent in the form body.
    pub fn client_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }
    /// How token requests are retried after 502/503/504 and transport failures (default:
    /// 3 attempts, full-jitter backoff, `Retry-After` honoured up to 30 s, 2 minutes in all).
    /// A [`RetryBudget`](evo_core::RetryBudget) in the policy is charged per issuer host.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
    /// The limit of one token request, connect to last byte (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Allow token and revocation endpoints on plain `http://` at another machine (default
    /// false: codes, refresh tokens and client secrets are sent there, so [`build`](Self::build)
    /// refuses such endpoints; `https://` and loopback addresses are always allowed).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
    /// The `User-Agent` of token and revocation requests (default
    /// [`evo_core::DEFAULT_USER_AGENT`], `evo-rs/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
    /// Checks the URLs and builds the connector: an endpoint that receives secrets (token,
    /// revocation) must be `https://` or on this machine unless
    /// [`allow_insecure_http`](Self::allow_insecure_http) says otherwise.
    pub fn build(self) -> Result<OAuthConnector, OAuthError> {
        let issuer = Url::parse(&self.issuer)
            .map_err(|e| OAuthError::config(format!("issuer {:?}: {e}", self.issuer)))?;
        if !matches!(issuer.scheme(), "http" | "https") {
            return Err(OAuthError::config("the issuer must be an http(s) URL"));
        }
        if self.client_id.is_empty() {
            return Err(OAuthError::config("the client id is empty"));
        }
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| OAuthError::config(format!("invalid User-Agent {:?}", self.user_agent)))?;
        let authorize_url = endpoint(&issuer, &self.authorize_endpoint)?;
        let token_url = endpoint(&issuer, &self.token_endpoint)?;
        let end_session_url = endpoint(&issuer, &self.end_session_endpoint)?;
        let revocation_url = endpoint(&issuer, &self.revocation_endpoint)?;
        let what = if self.client_secret.is_some() {
            "the client secret and tokens"
        } else {
            "authorization codes and tokens"
        };
        for url in [&token_url, &revocation_url] {
            evo_core::check_plain_http(url, what, self.allow_insecure_http)
                .map_err(OAuthError::config)?;
            if url.scheme() == "http" && !evo_core::is_loopback_url(url) {
                tracing::warn!(url = %url, "plain http endpoint allowed: credentials travel unencrypted");
            }
        }
        Ok(OAuthConnector {
            inner: Arc::new(Inner {
                issuer,
                authorize_url,
                token_url,
                end_session_url,
                revocation_url,
                client_id: self.client_id,
                client_secret: self.client_secret,
                transport: self.transport,
                retry: self.retry,
                timeout: self.timeout,
                user_agent,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport() -> SharedTransport {
        Arc::new(evo_core::transport_fn(|_r| async {
            Err(evo_core::TransportError::new(
                evo_core::TransportErrorKind::Connect,
                "unused",
            ))
        }))
    }

    #[test]
    fn default_endpoints_are_ims() {
        let c = OAuthConnector::builder(transport(), "cid").build().unwrap();
        assert_eq!(
            c.authorize_url().as_str(),
            "https://ims.bentley.com/connect/authorize"
        );
        assert_eq!(
            c.token_url().as_str(),
            "https://ims.bentley.com/connect/token"
        );
    }

    #[test]
    fn endpoints_are_joined_below_the_issuer_path_or_taken_whole() {
        let c = OAuthConnector::builder(transport(), "cid")
            .issuer("http://127.0.0.1:9/tenant/")
            .authorize_endpoint("/authorize")
            .token_endpoint("https://other.example/oauth/token")
            .build()
            .unwrap();
        assert_eq!(
            c.authorize_url().as_str(),
            "http://127.0.0.1:9/tenant/authorize"
        );
        assert_eq!(c.token_url().as_str(), "https://other.example/oauth/token");
        assert!(
            OAuthConnector::builder(transport(), "cid")
                .issuer("not a url")
                .build()
                .is_err()
        );
        assert!(OAuthConnector::builder(transport(), "").build().is_err());
    }

    #[test]
    fn authorize_url_parameters_are_sorted() {
        let c = OAuthConnector::builder(transport(), "cid").build().unwrap();
        let url = c.authorization_request_url(
            &"http://localhost:3000/signin-callback".parse().unwrap(),
            &Scopes::default(),
            "st",
            "ch",
        );
        let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(
            url.as_str().contains("scope=evo.discovery+evo.workspace"),
            "{url}"
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let c = OAuthConnector::builder(transport(), "cid")
            .client_secret("s3cr3t-value")
            .build()
            .unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
    }
}
