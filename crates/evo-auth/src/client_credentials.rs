//! The client credentials grant (service to service).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::HeaderMap;

use crate::connector::OAuthConnector;
use crate::error::OAuthError;
use crate::scope::Scopes;
use crate::store::{TokenKey, TokenStore};
use crate::token::Token;
use crate::token_cache::{DEFAULT_REFRESH_MARGIN, Grant, TokenCache};

/// Authorizes a service with its client id and secret (`grant_type=client_credentials`).
///
/// The token is requested on first use, renewed a margin before it expires (default 5
/// minutes), renewed once after a 401, and shared by all concurrent requests: any number of
/// callers cause one token request.
///
/// ```
/// # fn main() -> Result<(), evo_auth::OAuthError> {
/// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
/// use std::sync::Arc;
/// use evo_auth::{ClientCredentialsAuthorizer, OAuthConnector, Scopes};
/// let connector = OAuthConnector::builder(transport, "service-client")
///     .client_secret("…")
///     .build()?;
/// // No request yet: the first token is asked for by the first API call.
/// let authorizer = Arc::new(ClientCredentialsAuthorizer::new(connector, Scopes::all_evo())?);
/// assert_eq!(authorizer.scopes(), &Scopes::all_evo());
/// // evo_core::ApiConnector::builder(...).authorizer(authorizer); see `new` for a run.
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientCredentialsAuthorizer {
    cache: Arc<TokenCache>,
    connector: OAuthConnector,
    scopes: Scopes,
}

impl fmt::Debug for ClientCredentialsAuthorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentialsAuthorizer")
            .field("connector", &self.connector)
            .field("scopes", &self.scopes.to_string())
            .field("cache", &self.cache)
            .finish()
    }
}

/// Builds a [`ClientCredentialsAuthorizer`].
#[derive(Debug)]
pub struct ClientCredentialsAuthorizerBuilder {
    connector: OAuthConnector,
    scopes: Scopes,
    margin: Duration,
    store: Option<Arc<dyn TokenStore>>,
}

impl ClientCredentialsAuthorizer {
    /// An authorizer asking for `scopes`, with the default settings.
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
    /// use evo_auth::{ClientCredentialsAuthorizer, EvoScope, Scopes};
    ///
    /// let scopes = Scopes::from_evo([EvoScope::Workspace]);
    /// let authorizer = Arc::new(ClientCredentialsAuthorizer::new(connector, scopes.clone())?);
    /// list_workspaces(api(authorizer.clone())).await?;
    /// list_workspaces(api(authorizer.clone())).await?;
    /// assert_eq!(emulator.token_requests(), 1); // the token is kept until it is due for renewal
    /// assert_eq!(authorizer.token().await?.scopes(), Some(&scopes));
    /// # Ok(()) }
    /// ```
    pub fn new(connector: OAuthConnector, scopes: Scopes) -> Result<Self, OAuthError> {
        Self::builder(connector).scopes(scopes).build()
    }

    /// Starts a builder (scopes default to [`Scopes::all_evo`]).
    pub fn builder(connector: OAuthConnector) -> ClientCredentialsAuthorizerBuilder {
        ClientCredentialsAuthorizerBuilder {
            connector,
            scopes: Scopes::all_evo(),
            margin: DEFAULT_REFRESH_MARGIN,
            store: None,
        }
    }

    /// A valid token, requested when there is none or it is due for renewal.
    ///
    /// See the example on [`new`](Self::new).
    pub async fn token(&self) -> Result<Token, OAuthError> {
        Ok((*self.cache.token().await?).clone())
    }

    /// The scopes requested.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }
}

impl ClientCredentialsAuthorizerBuilder {
    /// The scopes to request.
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }
    /// Renew the token when less than this is left (default 5 minutes; at most half the
    /// token's lifetime is used). Renewal starts somewhere between the margin and 1.2 times
    /// it, fixed per token and different in each process, so that many clients started
    /// together do not all renew at the same moment.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }
    /// Keep tokens in this store (and start from the stored one, see
    /// [`build_restored`](Self::build_restored)).
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }
    /// Builds the authorizer; fails when the connector has no client secret.
    pub fn build(self) -> Result<ClientCredentialsAuthorizer, OAuthError> {
        if !self.connector.has_client_secret() {
            return Err(OAuthError::Config {
                message: "the client credentials grant needs a client secret".into(),
            });
        }
        let key = TokenKey::new(
            self.connector.issuer().as_str(),
            self.connector.client_id(),
            &self.scopes,
        );
        let cache = TokenCache::new(
            Some(self.connector.clone()),
            Grant::ClientCredentials {
                scopes: self.scopes.clone(),
            },
            self.margin,
            self.store.map(|s| (s, key)),
            None,
        );
        Ok(ClientCredentialsAuthorizer {
            cache: Arc::new(cache),
            connector: self.connector,
            scopes: self.scopes,
        })
    }
    /// Builds the authorizer and loads the stored token, if any.
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
    /// use evo_auth::{ClientCredentialsAuthorizer, MemoryTokenStore};
    ///
    /// // Two processes sharing a store (a FileTokenStore in practice) ask for one token.
    /// let store = Arc::new(MemoryTokenStore::new());
    /// let first = ClientCredentialsAuthorizer::builder(connector.clone()).store(store.clone()).build()?;
    /// let token = first.token().await?;
    /// let second = ClientCredentialsAuthorizer::builder(connector).store(store).build_restored().await?;
    /// assert_eq!(second.token().await?.access_token().expose(), token.access_token().expose());
    /// assert_eq!(emulator.token_requests(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn build_restored(self) -> Result<ClientCredentialsAuthorizer, OAuthError> {
        let authorizer = self.build()?;
        authorizer.cache.restore().await?;
        Ok(authorizer)
    }
}

#[async_trait]
impl evo_core::Authorizer for ClientCredentialsAuthorizer {
    async fn headers(&self) -> Result<HeaderMap, evo_core::Error> {
        self.cache.authorizer_headers().await
    }
    async fn refresh(&self, rejected: &HeaderMap) -> Result<bool, evo_core::Error> {
        self.cache.authorizer_refresh(rejected).await
    }
}
