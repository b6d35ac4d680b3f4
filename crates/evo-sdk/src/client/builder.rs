//! [`EvoBuilder`]: where the transport, login, discovery URL, organization and hub come from
//! (the environment or the builder's methods), and connecting with them.

use std::fmt;
use std::sync::Arc;

use evo_auth::{
    AuthorizationCodeAuthorizer, BrowserLauncher, ClientCredentialsAuthorizer, OAuthConnector,
    Scopes, TokenStore,
};
use evo_core::uuid::Uuid;
use evo_core::{ApiConnector, Authorizer, Secret, SharedTransport, StaticTokenAuthorizer};
use evo_discovery::{DEFAULT_DISCOVERY_URL, DiscoveryClient};

use super::{Evo, choose, env, hub_connector};
use crate::Error;

/// How [`EvoBuilder::connect`] obtains credentials.
#[derive(Clone)]
enum Login {
    None,
    ClientCredentials { client_id: String, secret: Secret },
    Browser { client_id: String },
    AccessToken(Secret),
    Authorizer(Arc<dyn Authorizer>),
}

/// Starts an [`EvoBuilder`] configured from the environment variables listed in [`mod@env`], to
/// adjust before [`connect`](EvoBuilder::connect) (the way `aws_config::from_env()` does).
///
/// The login is chosen from what is set: `EVO_ACCESS_TOKEN` (a static token), else
/// `EVO_CLIENT_ID` with `EVO_CLIENT_SECRET` (client credentials), else `EVO_CLIENT_ID` alone
/// (a browser login with PKCE). A variable that is set but invalid (an unparsable UUID or scope
/// list) is reported by [`connect`](EvoBuilder::connect).
pub fn from_env() -> EvoBuilder {
    EvoBuilder::from_env()
}

/// Connects with the configuration of [`from_env`]: `evo_sdk::load_from_env().await?` is
/// a logged-in client of the first organization's hub.
pub async fn load_from_env() -> Result<Evo, Error> {
    from_env().connect().await
}

/// Builds an [`Evo`] client: where to log in and discover, with which credentials, and which
/// organization and hub to use. Start with [`Evo::builder`] or [`from_env`].
#[derive(Clone)]
pub struct EvoBuilder {
    transport: Option<SharedTransport>,
    discovery_url: Option<String>,
    issuer: Option<String>,
    login: Login,
    redirect_url: Option<String>,
    browser: Option<Arc<dyn BrowserLauncher>>,
    store: Option<Arc<dyn TokenStore>>,
    scopes: Option<Scopes>,
    scopes_text: Option<String>,
    org_id: Option<String>,
    hub: Option<String>,
    user_agent: Option<String>,
}

impl Default for EvoBuilder {
    fn default() -> Self {
        EvoBuilder {
            transport: None,
            discovery_url: None,
            issuer: None,
            login: Login::None,
            redirect_url: None,
            browser: None,
            store: None,
            scopes: None,
            scopes_text: None,
            org_id: None,
            hub: None,
            user_agent: None,
        }
    }
}

impl fmt::Debug for EvoBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let login = match &self.login {
            Login::None => "none",
            Login::ClientCredentials { .. } => "client credentials",
            Login::Browser { .. } => "browser",
            Login::AccessToken(_) => "access token",
            Login::Authorizer(_) => "custom authorizer",
        };
        f.debug_struct("EvoBuilder")
            .field("discovery_url", &self.discovery_url)
            .field("issuer", &self.issuer)
            .field("login", &login)
            .field("org_id", &self.org_id)
            .field("hub", &self.hub)
            .finish_non_exhaustive()
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl EvoBuilder {
    fn from_env() -> Self {
        let mut builder = EvoBuilder {
            discovery_url: var(env::DISCOVERY_URL),
            issuer: var(env::IMS_URL),
            redirect_url: var(env::REDIRECT_URL),
            scopes_text: var(env::SCOPES),
            org_id: var(env::ORG_ID),
            hub: var(env::HUB),
            ..EvoBuilder::default()
        };
        builder.login = match (
            var(env::ACCESS_TOKEN),
            var(env::CLIENT_ID),
            var(env::CLIENT_SECRET),
        ) {
            (Some(token), _, _) => Login::AccessToken(Secret::new(token)),
            (None, Some(client_id), Some(secret)) => Login::ClientCredentials {
                client_id,
                secret: Secret::new(secret),
            },
            (None, Some(client_id), None) => Login::Browser { client_id },
            (None, None, _) => Login::None,
        };
        builder
    }

    /// The transport (default: a shared `evo_hyper::HyperTransport` with feature `hyper`).
    pub fn transport(mut self, transport: SharedTransport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The discovery host (default [`DEFAULT_DISCOVERY_URL`], the production one).
    pub fn discovery_url(mut self, url: impl Into<String>) -> Self {
        self.discovery_url = Some(url.into());
        self
    }

    /// The OAuth issuer (default [`evo_auth::DEFAULT_ISSUER`], production Bentley IMS).
    pub fn issuer(mut self, url: impl Into<String>) -> Self {
        self.issuer = Some(url.into());
        self
    }

    /// Logs in as a service with client credentials.
    pub fn client_credentials(
        mut self,
        client_id: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        self.login = Login::ClientCredentials {
            client_id: client_id.into(),
            secret: secret.into(),
        };
        self
    }

    /// Logs a user in through the browser (authorization code with PKCE and a loopback
    /// redirect). With a [`token_store`](Self::token_store) a saved session is reused and the
    /// browser opens only when it cannot be renewed.
    pub fn browser_login(mut self, client_id: impl Into<String>) -> Self {
        self.login = Login::Browser {
            client_id: client_id.into(),
        };
        self
    }

    /// Uses a bearer token obtained elsewhere, as is (it is never refreshed).
    pub fn access_token(mut self, token: impl Into<Secret>) -> Self {
        self.login = Login::AccessToken(token.into());
        self
    }

    /// Uses your own authorizer (any [`Authorizer`]); the issuer settings are then unused.
    pub fn authorizer(mut self, authorizer: Arc<dyn Authorizer>) -> Self {
        self.login = Login::Authorizer(authorizer);
        self
    }

    /// The redirect URL registered for the browser-login client (default
    /// [`evo_auth::DEFAULT_REDIRECT_URL`]).
    pub fn redirect_url(mut self, url: impl Into<String>) -> Self {
        self.redirect_url = Some(url.into());
        self
    }

    /// How the browser login shows its page (default: the system browser with feature
    /// `browser`, else the URL printed to standard error).
    pub fn browser(mut self, browser: Arc<dyn BrowserLauncher>) -> Self {
        self.browser = Some(browser);
        self
    }

    /// Where tokens are kept between runs (e.g. an `evo_auth::FileTokenStore`), for the
    /// browser and client-credentials logins.
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The scopes to ask for (default: every Evo scope, plus `offline_access` for the browser
    /// login so that it can be renewed).
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = Some(scopes);
        self.scopes_text = None;
        self
    }

    /// The organization to use (default: the first discovered that has a hub).
    pub fn organization(mut self, org_id: Uuid) -> Self {
        self.org_id = Some(org_id.to_string());
        self
    }

    /// The code of the hub to use (default: the organization's first).
    pub fn hub(mut self, code: impl Into<String>) -> Self {
        self.hub = Some(code.into());
        self
    }

    /// The `User-Agent` of the API and token requests (default
    /// `evo_core::DEFAULT_USER_AGENT`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Logs in, discovers the organizations and picks the organization and hub.
    ///
    /// Fails with [`Error::Config`] when no login is configured or a setting is invalid,
    /// [`Error::Login`] when the token cannot be obtained (the issuer is named: without
    /// [`issuer`](Self::issuer) it is production IMS), [`Error::Api`] when discovery fails and
    /// [`Error::NotDiscovered`] when the organization or hub asked for is not among those
    /// discovered.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// // Any login: here a static token (client credentials and the browser work the same way).
    /// let token = emulator.issue_token(&["evo.discovery", "evo.workspace"]);
    /// let session = Evo::builder()
    ///     .discovery_url(emulator.discovery_url().as_str())
    ///     .access_token(token)
    ///     .organization(emulator.org_id())
    ///     .connect()
    ///     .await?;
    /// assert_eq!(session.org_id(), emulator.org_id());
    /// session.workspaces().list_workspaces(&ListWorkspacesQuery::new()).await?;
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub async fn connect(self) -> Result<Evo, Error> {
        let transport = match self.transport.clone() {
            Some(t) => t,
            None => default_transport()?,
        };
        let scopes = self.resolve_scopes()?;
        let org_id = self
            .org_id
            .as_deref()
            .map(|id| {
                id.trim().parse::<Uuid>().map_err(|_| {
                    Error::config(format!(
                        "the organization id {id:?} ({}) is not a UUID",
                        env::ORG_ID
                    ))
                })
            })
            .transpose()?;
        let authorizer = self.make_authorizer(&transport, scopes).await?;
        let discovery_url = self
            .discovery_url
            .as_deref()
            .unwrap_or(DEFAULT_DISCOVERY_URL);
        let discovery_url = discovery_url.parse().map_err(|_| {
            Error::config(format!(
                "the discovery URL {discovery_url:?} ({}) is not a URL",
                env::DISCOVERY_URL
            ))
        })?;
        let mut discovery = ApiConnector::builder(discovery_url)
            .transport(transport.clone())
            .authorizer(authorizer.clone());
        if let Some(user_agent) = &self.user_agent {
            discovery = discovery.user_agent(user_agent.clone());
        }
        let discovery = discovery
            .build()
            .map_err(|e| Error::api("configuring the discovery connector", e))?;
        let organizations = DiscoveryClient::new(discovery.clone())
            .list_organizations()
            .await
            .map_err(|e| {
                Error::api(
                    format!(
                        "discovering organizations at {}",
                        evo_core::redact_url(discovery.base_url())
                    ),
                    e,
                )
            })?;
        let (organization, hub) = choose(&organizations, org_id, self.hub.as_deref())?;
        let hub_connector = hub_connector(&organizations, organization, hub, &discovery)?;
        tracing::debug!(
            org = %organizations[organization].id,
            hub = %organizations[organization].hubs[hub].code,
            "evo-sdk connected"
        );
        Ok(Evo {
            transport,
            authorizer,
            discovery,
            organizations: organizations.into(),
            organization,
            hub,
            hub_connector,
        })
    }

    fn resolve_scopes(&self) -> Result<Option<Scopes>, Error> {
        match (&self.scopes, &self.scopes_text) {
            (Some(scopes), _) => Ok(Some(scopes.clone())),
            (None, Some(text)) => Scopes::parse(text.split_whitespace())
                .map(Some)
                .map_err(|e| Error::config(format!("the scopes {text:?} ({}): {e}", env::SCOPES))),
            (None, None) => Ok(None),
        }
    }

    fn oauth(&self, transport: &SharedTransport, client_id: &str) -> OAuthConnectorParts {
        let mut builder = OAuthConnector::builder(transport.clone(), client_id.to_owned());
        if let Some(issuer) = &self.issuer {
            builder = builder.issuer(issuer.clone());
        }
        if let Some(user_agent) = &self.user_agent {
            builder = builder.user_agent(user_agent.clone());
        }
        OAuthConnectorParts {
            builder,
            issuer: self
                .issuer
                .clone()
                .unwrap_or_else(|| evo_auth::DEFAULT_ISSUER.to_owned()),
        }
    }

    async fn make_authorizer(
        &self,
        transport: &SharedTransport,
        scopes: Option<Scopes>,
    ) -> Result<Arc<dyn Authorizer>, Error> {
        match &self.login {
            Login::None => Err(Error::config(format!(
                "no credentials: set {} (a token), or {} with {} (a service), or {} alone \
                 (a browser login), or give the builder a login",
                env::ACCESS_TOKEN,
                env::CLIENT_ID,
                env::CLIENT_SECRET,
                env::CLIENT_ID
            ))),
            Login::AccessToken(token) => Ok(Arc::new(StaticTokenAuthorizer::new(token.clone()))),
            Login::Authorizer(authorizer) => Ok(authorizer.clone()),
            Login::ClientCredentials { client_id, secret } => {
                let parts = self.oauth(transport, client_id);
                let issuer = parts.issuer.clone();
                let login = |source| Error::Login {
                    issuer: issuer.clone(),
                    source,
                };
                let connector = parts
                    .builder
                    .client_secret(secret.clone())
                    .build()
                    .map_err(login)?;
                let mut builder = ClientCredentialsAuthorizer::builder(connector);
                if let Some(scopes) = scopes {
                    builder = builder.scopes(scopes);
                }
                let authorizer = match &self.store {
                    Some(store) => builder.store(store.clone()).build_restored().await,
                    None => builder.build(),
                }
                .map_err(login)?;
                // Fail here, naming the issuer, rather than on the first API call.
                authorizer.token().await.map_err(login)?;
                Ok(Arc::new(authorizer))
            }
            Login::Browser { client_id } => {
                let parts = self.oauth(transport, client_id);
                let issuer = parts.issuer.clone();
                let login = |source| Error::Login {
                    issuer: issuer.clone(),
                    source,
                };
                let connector = parts.builder.build().map_err(login)?;
                let mut builder = AuthorizationCodeAuthorizer::builder(connector);
                if let Some(scopes) = scopes {
                    builder = builder.scopes(scopes);
                }
                if let Some(url) = &self.redirect_url {
                    builder = builder.redirect_url(url.clone());
                }
                if let Some(browser) = &self.browser {
                    builder = builder.browser(browser.clone());
                }
                if let Some(store) = &self.store {
                    builder = builder.store(store.clone());
                }
                let authorizer = builder.build().map_err(login)?;
                authorizer.login_if_needed().await.map_err(login)?;
                Ok(Arc::new(authorizer))
            }
        }
    }
}

struct OAuthConnectorParts {
    builder: evo_auth::OAuthConnectorBuilder,
    issuer: String,
}

#[cfg(feature = "hyper")]
fn default_transport() -> Result<SharedTransport, Error> {
    Ok(Arc::new(evo_hyper::HyperTransport::new()))
}

#[cfg(not(feature = "hyper"))]
fn default_transport() -> Result<SharedTransport, Error> {
    Err(Error::config(
        "no transport: enable the `hyper` feature or give EvoBuilder::transport one",
    ))
}
