//! [`Evo`]: transport, login, discovery and hub wired in one call.

use std::fmt;
use std::sync::Arc;

use evo_auth::{
    AuthorizationCodeAuthorizer, BrowserLauncher, ClientCredentialsAuthorizer, OAuthConnector,
    Scopes, TokenStore,
};
use evo_core::uuid::Uuid;
use evo_core::{
    ApiConnector, Authorizer, Environment, Secret, SharedTransport, StaticTokenAuthorizer,
};
use evo_discovery::{DEFAULT_DISCOVERY_URL, DiscoveryClient, Hub, Organization};
use evo_workspaces::WorkspacesClient;

use crate::Error;

/// The environment variables [`from_env`] and [`load_from_env`] read.
pub mod env {
    /// The discovery host (default [`evo_discovery::DEFAULT_DISCOVERY_URL`]).
    pub const DISCOVERY_URL: &str = "EVO_DISCOVERY_URL";
    /// The OAuth issuer (default Bentley IMS, [`evo_auth::DEFAULT_ISSUER`]).
    pub const IMS_URL: &str = "EVO_IMS_URL";
    /// A bearer token obtained elsewhere (used as is, never refreshed).
    pub const ACCESS_TOKEN: &str = "EVO_ACCESS_TOKEN";
    /// The OAuth client id: with [`CLIENT_SECRET`] a service login (client credentials),
    /// alone a browser login (authorization code with PKCE).
    pub const CLIENT_ID: &str = "EVO_CLIENT_ID";
    /// The OAuth client secret of a service client.
    pub const CLIENT_SECRET: &str = "EVO_CLIENT_SECRET";
    /// The loopback redirect URL registered for a browser-login client (default
    /// [`evo_auth::DEFAULT_REDIRECT_URL`]).
    pub const REDIRECT_URL: &str = "EVO_REDIRECT_URL";
    /// The scopes to ask for, separated by spaces (default: every Evo scope).
    pub const SCOPES: &str = "EVO_SCOPES";
    /// The organization to use (default: the first discovered that has a hub).
    pub const ORG_ID: &str = "EVO_ORG_ID";
    /// The code of the hub to use (default: the organization's first).
    pub const HUB: &str = "EVO_HUB";
}

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

/// An Evo session: one transport, one authorizer, the discovered organizations, and the
/// chosen organization and hub, with the service clients of that hub.
///
/// Cheap to clone; every client it hands out shares its transport (one connection pool)
/// and credentials (one token, renewed before it expires).
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use evo_sdk::prelude::*;
/// # let emulator = Emulator::builder().start().await?;
/// // `evo_sdk::load_from_env().await?` in practice; here the embedded emulator.
/// let evo = emulator.client().await?;
/// let page = evo.workspaces().list_workspaces(&Default::default()).await?;
/// println!("{} has {} workspaces", evo.organization().display_name, page.items.len());
/// assert_eq!(evo.org_id(), emulator.org_id());
/// # Ok(()) }
/// # #[cfg(not(feature = "emulator"))]
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct Evo {
    transport: SharedTransport,
    authorizer: Arc<dyn Authorizer>,
    discovery: ApiConnector,
    organizations: Arc<[Organization]>,
    organization: usize,
    hub: usize,
    hub_connector: ApiConnector,
}

impl fmt::Debug for Evo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evo")
            .field("discovery", self.discovery.base_url())
            .field("organization", &self.organization().id)
            .field("hub", &self.hub().code)
            .field("hub_url", self.hub_connector.base_url())
            .finish_non_exhaustive()
    }
}

impl Evo {
    /// Starts a builder with nothing set (see [`from_env`] for one read from the environment).
    pub fn builder() -> EvoBuilder {
        EvoBuilder::default()
    }

    /// The organizations discovered, sorted by name, each with its hubs.
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
    /// assert_eq!(evo.organizations().len(), 1);
    /// assert_eq!(evo.organization().id, evo.org_id());
    /// assert!(evo.hub().has_service("workspace"));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn organizations(&self) -> &[Organization] {
        &self.organizations
    }

    /// The organization in use.
    ///
    /// See the example on [`organizations`](Self::organizations).
    pub fn organization(&self) -> &Organization {
        &self.organizations[self.organization]
    }

    /// The id of the organization in use.
    pub fn org_id(&self) -> Uuid {
        self.organization().id
    }

    /// The hub in use.
    ///
    /// See the example on [`organizations`](Self::organizations).
    pub fn hub(&self) -> &Hub {
        &self.organization().hubs[self.hub]
    }

    /// The transport every request goes through.
    pub fn transport(&self) -> &SharedTransport {
        &self.transport
    }

    /// The authorizer that adds the bearer token to every request.
    pub fn authorizer(&self) -> &Arc<dyn Authorizer> {
        &self.authorizer
    }

    /// The connector of the discovery host.
    pub fn discovery_connector(&self) -> &ApiConnector {
        &self.discovery
    }

    /// The connector of the hub in use: the base of every service client, and of calls to
    /// services without a client of their own.
    pub fn hub_connector(&self) -> &ApiConnector {
        &self.hub_connector
    }

    /// A Discovery API client (to list organizations again).
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
    /// let organizations = evo.discovery().list_organizations().await?;
    /// assert_eq!(organizations[0].id, emulator.org_id());
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn discovery(&self) -> DiscoveryClient {
        DiscoveryClient::new(self.discovery.clone())
    }

    /// The Workspaces API client of the organization in use.
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
    /// let created = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Drilling")).await?;
    /// assert_eq!(evo.workspaces().get_workspace(created.id).await?.name, "Drilling");
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn workspaces(&self) -> WorkspacesClient {
        WorkspacesClient::new(self.org_id(), self.hub_connector.clone())
    }

    /// The environment (hub, organization, workspace) that workspace-scoped clients take.
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
    /// let workspace = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Env")).await?;
    /// let environment = evo.environment(workspace.id);
    /// assert_eq!((environment.org_id, environment.workspace_id), (evo.org_id(), workspace.id));
    /// assert_eq!(&environment.hub_url, evo.hub_connector().base_url());
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn environment(&self, workspace_id: Uuid) -> Environment {
        Environment::new(
            self.hub_connector.base_url().clone(),
            self.org_id(),
            workspace_id,
        )
    }

    /// A client for any service of a workspace, through the hub's connector: typed JSON
    /// requests with this session's retries and credentials (for services without a crate of
    /// their own).
    ///
    /// See the example on [`ServiceClient`](crate::ServiceClient).
    pub fn service_client(&self, workspace_id: Uuid) -> crate::ServiceClient {
        crate::ServiceClient::new(self.environment(workspace_id), self.hub_connector.clone())
    }

    /// The File API client of a workspace.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "emulator", feature = "files"))]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// let workspace = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Files")).await?;
    /// let files = evo.files(workspace.id)?;
    /// let uploaded = files.upload_bytes("notes/readme.txt", "hello").await?;
    /// assert_eq!(&files.download_to_memory(uploaded.file_id, None).await?[..], b"hello");
    /// # Ok(()) }
    /// # #[cfg(not(all(feature = "emulator", feature = "files")))]
    /// # fn main() {}
    /// ```
    #[cfg(feature = "files")]
    #[cfg_attr(docsrs, doc(cfg(feature = "files")))]
    pub fn files(&self, workspace_id: Uuid) -> Result<evo_files::FilesClient, evo_files::Error> {
        evo_files::FilesClient::new(self.environment(workspace_id), self.hub_connector.clone())
    }

    /// The Geoscience Object API client of a workspace.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "emulator", feature = "objects"))]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// let workspace = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Objects")).await?;
    /// let objects = evo.objects(workspace.id)?;
    /// let page = objects.list_page(&ListObjectsQuery::new()).await?;
    /// assert!(page.items.is_empty()); // a new workspace
    /// # Ok(()) }
    /// # #[cfg(not(all(feature = "emulator", feature = "objects")))]
    /// # fn main() {}
    /// ```
    #[cfg(feature = "objects")]
    #[cfg_attr(docsrs, doc(cfg(feature = "objects")))]
    pub fn objects(
        &self,
        workspace_id: Uuid,
    ) -> Result<evo_objects::ObjectsClient, evo_objects::Error> {
        evo_objects::ObjectsClient::new(self.environment(workspace_id), self.hub_connector.clone())
    }

    /// The Block Model API client of a workspace.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "emulator", feature = "blockmodels"))]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// use evo_sdk::blockmodels::{BlockSize, NewBlockModel, Size3, SizeOptions};
    ///
    /// let workspace = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Models")).await?;
    /// let blockmodels = evo.blockmodels(workspace.id)?;
    /// let size = SizeOptions::Regular { n_blocks: Size3::new(2, 2, 2), block_size: BlockSize::new(5.0, 5.0, 5.0) };
    /// let (model, first) = blockmodels.create(&NewBlockModel::new("Pit", size)).await?;
    /// assert_eq!((first.bm_uuid, first.version_id), (model.bm_uuid, 1));
    /// # Ok(()) }
    /// # #[cfg(not(all(feature = "emulator", feature = "blockmodels")))]
    /// # fn main() {}
    /// ```
    #[cfg(feature = "blockmodels")]
    #[cfg_attr(docsrs, doc(cfg(feature = "blockmodels")))]
    pub fn blockmodels(
        &self,
        workspace_id: Uuid,
    ) -> Result<evo_blockmodels::BlockModelsClient, evo_blockmodels::Error> {
        evo_blockmodels::BlockModelsClient::new(
            self.environment(workspace_id),
            self.hub_connector.clone(),
        )
    }

    /// The Compute Tasks API client of the organization in use.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "emulator", feature = "compute"))]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// use evo_sdk::compute::GenericTask;
    ///
    /// let compute = evo.compute()?;
    /// // The emulator runs `idw` and `knn`; a task it does not know is refused.
    /// let unknown = GenericTask::new("geostatistics", "no-such-task", serde_json::json!({}));
    /// assert!(compute.submit(&unknown).await.unwrap_err().is_not_found());
    /// # Ok(()) }
    /// # #[cfg(not(all(feature = "emulator", feature = "compute")))]
    /// # fn main() {}
    /// ```
    #[cfg(feature = "compute")]
    #[cfg_attr(docsrs, doc(cfg(feature = "compute")))]
    pub fn compute(&self) -> Result<evo_compute::ComputeClient, evo_compute::Error> {
        evo_compute::ComputeClient::new(self.org_id(), self.hub_connector.clone())
    }

    /// The Colormap API client of a workspace.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "emulator", feature = "colormaps"))]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// use evo_sdk::colormaps::{Colormap, ContinuousColormap};
    ///
    /// let workspace = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Colours")).await?;
    /// let colormaps = evo.colormaps(workspace.id)?;
    /// let heat = Colormap::from(ContinuousColormap {
    ///     colors: vec![[0, 0, 255], [255, 0, 0]],
    ///     attribute_controls: vec![0.0, 1.0],
    ///     gradient_controls: vec![0.0, 1.0],
    /// });
    /// let stored = colormaps.create_colormap(&heat, "heat").await?;
    /// assert_eq!(colormaps.get_colormap(stored.id).await?.name, "heat");
    /// # Ok(()) }
    /// # #[cfg(not(all(feature = "emulator", feature = "colormaps")))]
    /// # fn main() {}
    /// ```
    #[cfg(feature = "colormaps")]
    #[cfg_attr(docsrs, doc(cfg(feature = "colormaps")))]
    pub fn colormaps(
        &self,
        workspace_id: Uuid,
    ) -> Result<evo_colormaps::ColormapsClient, evo_colormaps::Error> {
        evo_colormaps::ColormapsClient::new(
            self.environment(workspace_id),
            self.hub_connector.clone(),
        )
    }

    /// The same session on another discovered organization (and hub: its first when `hub`
    /// is `None`), without discovering or logging in again.
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
    /// let other = evo.with_organization(evo.org_id(), Some(&evo.hub().code))?;
    /// assert_eq!(other.org_id(), evo.org_id());
    /// // An organization discovery did not list is refused.
    /// assert!(evo.with_organization(Uuid::new_v4(), None).is_err());
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn with_organization(&self, org_id: Uuid, hub: Option<&str>) -> Result<Evo, Error> {
        let (organization, hub) = choose(&self.organizations, Some(org_id), hub)?;
        let hub_connector = hub_connector(&self.organizations, organization, hub, &self.discovery)?;
        Ok(Evo {
            organization,
            hub,
            hub_connector,
            ..self.clone()
        })
    }
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

/// The indexes of the organization and hub to use.
fn choose(
    organizations: &[Organization],
    org_id: Option<Uuid>,
    hub: Option<&str>,
) -> Result<(usize, usize), Error> {
    let names = || {
        organizations
            .iter()
            .map(|o| format!("{} ({}, {} hub(s))", o.display_name, o.id, o.hubs.len()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let organization = match org_id {
        Some(id) => organizations
            .iter()
            .position(|o| o.id == id)
            .ok_or_else(|| Error::NotDiscovered {
                message: format!(
                    "organization {id} was not discovered; discovered: [{}]",
                    names()
                ),
            })?,
        None => organizations
            .iter()
            .position(|o| !o.hubs.is_empty())
            .ok_or_else(|| Error::NotDiscovered {
                message: format!(
                    "no discovered organization has a hub; discovered: [{}]",
                    names()
                ),
            })?,
    };
    let org = &organizations[organization];
    let hub = match hub {
        Some(code) => org.hubs.iter().position(|h| h.code == code),
        None => (!org.hubs.is_empty()).then_some(0),
    }
    .ok_or_else(|| Error::NotDiscovered {
        message: format!(
            "organization {} has no hub {}; its hubs: [{}]",
            org.id,
            hub.map(|c| format!("{c:?}")).unwrap_or_default(),
            org.hubs
                .iter()
                .map(|h| h.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })?;
    Ok((organization, hub))
}

fn hub_connector(
    organizations: &[Organization],
    organization: usize,
    hub: usize,
    discovery: &ApiConnector,
) -> Result<ApiConnector, Error> {
    let hub = &organizations[organization].hubs[hub];
    hub.connector(discovery)
        .map_err(|e| Error::api(format!("connecting to hub {}", hub.code), e))
}
