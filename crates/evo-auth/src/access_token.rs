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
    /// use std::sync::Arc;
    /// use evo_auth::AccessTokenAuthorizer;
    ///
    /// // A token obtained elsewhere (here minted by the emulator).
    /// let token = emulator.issue_token(&["evo.workspace"]);
    /// let authorizer = Arc::new(AccessTokenAuthorizer::new(token));
    /// list_workspaces(api(authorizer)).await?;
    /// # Ok(()) }
    /// ```
    pub fn new(access_token: impl Into<Secret>) -> Self {
        Self::from_token(Token::new(access_token))
    }

    /// Sends the token; never refreshes. The token is sent even past its expiry: the server
    /// decides, and its 401 reaches the caller.
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
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use evo_auth::{AccessTokenAuthorizer, Token};
    ///
    /// let token = Token::new(emulator.issue_token(&["evo.workspace"])).with_expires_in(Duration::from_secs(3600));
    /// let authorizer = Arc::new(AccessTokenAuthorizer::from_token(token));
    /// assert!(authorizer.token().unwrap().expires_at().is_some());
    /// list_workspaces(api(authorizer)).await?;
    /// # Ok(()) }
    /// ```
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
    /// # let web = transport.clone();
    /// # // A stand-in for the user's browser: the emulator approves the login at once, and the
    /// # // browser follows the redirect back to the loopback listener.
    /// # let browser = std::sync::Arc::new(evo_auth::browser_fn(move |url: &str| {
    /// #     let (web, url) = (web.clone(), url.to_owned());
    /// #     tokio::spawn(async move {
    /// #         use evo_core::Transport as _;
    /// #         let get = |url: &str| evo_core::http::Request::get(url).body(evo_core::Body::empty()).unwrap();
    /// #         let Ok(answer) = web.send(get(&url)).await else { return };
    /// #         if let Some(back) = answer.headers().get("location").and_then(|v| v.to_str().ok()) {
    /// #             let _ = web.send(get(back)).await;
    /// #         }
    /// #     });
    /// #     Ok(())
    /// # }));
    /// # let public = evo_auth::OAuthConnector::builder(transport.clone(), emulator.public_client_id())
    /// #     .issuer(issuer.as_str()).build()?;
    /// // `public`: the emulator's IMS with a public (desktop) client id; `browser` opens a URL.
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use evo_auth::{AccessTokenAuthorizer, AuthorizationCodeAuthorizer, EvoScope, Scopes};
    ///
    /// # let login = AuthorizationCodeAuthorizer::builder(public.clone())
    /// #     .redirect_url("http://localhost:0/signin-callback")
    /// #     .scopes(Scopes::all_evo() | EvoScope::OfflineAccess).browser(browser).build()?;
    /// # login.login().await?;
    /// # let token = login.token().unwrap();
    /// // `token` has a refresh token (from an earlier login, here through `login`).
    /// let authorizer = Arc::new(AccessTokenAuthorizer::refreshable(public, token.clone(), Duration::from_secs(300))?);
    /// emulator.expire_tokens(); // the server refuses the access token now ...
    /// list_workspaces(api(authorizer.clone())).await?; // ... so it is renewed after the 401
    /// assert_ne!(authorizer.token().unwrap().access_token().expose(), token.access_token().expose());
    /// # Ok(()) }
    /// ```
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
    ///
    /// See the example on [`refreshable`](Self::refreshable).
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
