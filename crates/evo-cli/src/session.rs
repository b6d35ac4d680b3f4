//! Everything a command needs to talk to Evo: the profile and its settings merged with flags
//! and `EVO_*` variables, the transport, the authorizer on the token store, and the choice of
//! organization, hub and workspace by name or id.

use std::sync::{Arc, OnceLock};

use evo_auth::{
    AuthorizationCodeAuthorizer, ClientCredentialsAuthorizer, FileTokenStore, MemoryTokenStore,
    OAuthConnector, TokenStore,
};
use evo_core::{ApiConnector, Authorizer, SharedTransport};
use evo_discovery::{DEFAULT_DISCOVERY_URL, DiscoveryClient, Hub, Organization};
use evo_emulator::Emulator;
use evo_hyper::HyperTransport;
use evo_workspaces::{ListWorkspacesQuery, Workspace, WorkspacesClient};
use futures_util::TryStreamExt;
use uuid::Uuid;

use crate::cli::Global;
use crate::config::{ConfigDir, ConfigFile, DEFAULT_PROFILE, Profile, check_profile_name};
use crate::error::{CliError, CliResult, Kind};
use crate::output::Format;

/// How the session signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// A service with its client id and secret.
    ClientCredentials,
    /// A user through the browser (authorization code with PKCE); the token is stored.
    User,
}

/// Where to sign in and discover, and as which client.
#[derive(Debug, Clone)]
pub struct Target {
    /// The discovery host.
    pub discovery_url: url::Url,
    /// The OAuth issuer.
    pub ims_url: String,
    /// The client id.
    pub client_id: String,
    /// The client secret, for client credentials.
    pub client_secret: Option<String>,
}

impl Target {
    /// Client credentials when there is a secret, a user otherwise.
    pub fn mode(&self) -> Mode {
        if self.client_secret.is_some() {
            Mode::ClientCredentials
        } else {
            Mode::User
        }
    }
}

/// One run of a command.
pub struct Session {
    /// The global options.
    pub global: Global,
    /// Tables or JSON.
    pub format: Format,
    /// The configuration folder.
    pub dir: ConfigDir,
    /// The configuration file as read.
    pub config: ConfigFile,
    /// The profile's name.
    pub profile_name: String,
    /// The profile as read (remembered choices live here).
    pub profile: Profile,
    /// The in-process emulator of `--emulator` (kept running for the session).
    pub emulator: Option<Emulator>,
    transport: SharedTransport,
    authorizer: OnceLock<Arc<dyn Authorizer>>,
    memory_store: Arc<MemoryTokenStore>,
}

impl Session {
    /// Reads the configuration and, with `--emulator`, starts the emulator.
    pub async fn open(global: Global) -> CliResult<Session> {
        let format = if global.json {
            Format::Json
        } else {
            Format::Human
        };
        let dir = ConfigDir::from_env()?;
        let config = dir.load()?;
        let profile_name = global
            .profile
            .clone()
            .or_else(|| config.default_profile.clone())
            .unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
        check_profile_name(&profile_name)?;
        let mut profile = config
            .profiles
            .get(&profile_name)
            .cloned()
            .unwrap_or_default();
        let mut transport = HyperTransport::builder();
        let emulator = if global.emulator {
            let emu = Emulator::builder()
                .start()
                .await
                .map_err(|e| CliError::failure(format!("starting the emulator: {e}")))?;
            // The emulator's own settings replace the profile's; nothing is saved.
            let service = emu.service_client();
            profile = Profile {
                discovery_url: Some(emu.discovery_url().to_string()),
                ims_url: Some(emu.ims_url().to_string()),
                client_id: Some(service.client_id),
                client_secret: Some(service.client_secret),
                ..Profile::default()
            };
            Some(emu)
        } else {
            None
        };
        if let Some(path) = global.ca_cert.as_ref().or(profile.ca_cert.as_ref()) {
            let pem = std::fs::read(path).map_err(|e| {
                CliError::usage(format!(
                    "reading the CA certificate {}: {e}",
                    path.display()
                ))
            })?;
            transport = transport.add_root_certificate(pem);
        }
        let transport = transport
            .build()
            .map_err(|e| CliError::usage(format!("setting up HTTPS: {e}")))?;
        Ok(Session {
            global,
            format,
            dir,
            config,
            profile_name,
            profile,
            emulator,
            transport: Arc::new(transport),
            authorizer: OnceLock::new(),
            memory_store: Arc::new(MemoryTokenStore::new()),
        })
    }

    /// True when the session must not write the configuration (`--emulator`).
    pub fn is_ephemeral(&self) -> bool {
        self.emulator.is_some()
    }

    /// Whether results are JSON.
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// The HTTP transport.
    pub fn transport(&self) -> SharedTransport {
        self.transport.clone()
    }

    /// A setting: the flag or variable, else the profile's (flags win over `--emulator`'s
    /// settings only for choices, not for where to connect).
    fn setting(&self, flag: &Option<String>, saved: &Option<String>) -> Option<String> {
        if self.emulator.is_some() {
            return saved.clone();
        }
        flag.clone().or_else(|| saved.clone())
    }

    /// Where to sign in, from flags, variables and the profile.
    pub fn target(&self) -> CliResult<Target> {
        let discovery = self
            .setting(&self.global.discovery_url, &self.profile.discovery_url)
            .unwrap_or_else(|| DEFAULT_DISCOVERY_URL.to_owned());
        let discovery_url = url::Url::parse(&discovery).map_err(|e| {
            CliError::usage(format!("the discovery URL {discovery:?} is not a URL: {e}"))
        })?;
        let ims_url = self
            .setting(&self.global.ims_url, &self.profile.ims_url)
            .unwrap_or_else(|| evo_auth::DEFAULT_ISSUER.to_owned());
        let client_id = self
            .setting(&self.global.client_id, &self.profile.client_id)
            .ok_or_else(|| {
                CliError::new(Kind::Auth, "no OAuth client id is configured").hint(
                    "pass --client-id (or set EVO_CLIENT_ID) to `evo login`; \
                     try everything without an account with `evo --emulator ...`",
                )
            })?;
        let client_secret = self.setting(&self.global.client_secret, &self.profile.client_secret);
        Ok(Target {
            discovery_url,
            ims_url,
            client_id,
            client_secret,
        })
    }

    /// The OAuth connector of `target`.
    pub fn oauth_connector(&self, target: &Target) -> CliResult<OAuthConnector> {
        let mut builder = OAuthConnector::builder(self.transport(), target.client_id.clone())
            .issuer(target.ims_url.as_str());
        if let Some(secret) = &target.client_secret {
            builder = builder.client_secret(secret.clone());
        }
        Ok(builder.build()?)
    }

    /// Where this profile's token is kept: the 0600 token file, or memory with `--emulator`.
    pub fn token_store(&self) -> Arc<dyn TokenStore> {
        if self.is_ephemeral() {
            self.memory_store.clone()
        } else {
            Arc::new(FileTokenStore::new(self.dir.token_file(&self.profile_name)))
        }
    }

    /// The browser sign-in authorizer (without signing in).
    pub fn user_authorizer(
        &self,
        target: &Target,
        configure: impl FnOnce(
            evo_auth::AuthorizationCodeAuthorizerBuilder,
        ) -> evo_auth::AuthorizationCodeAuthorizerBuilder,
    ) -> CliResult<AuthorizationCodeAuthorizer> {
        let mut builder = AuthorizationCodeAuthorizer::builder(self.oauth_connector(target)?)
            .store(self.token_store());
        if let Some(url) = &self.profile.redirect_url {
            builder = builder.redirect_url(url.clone());
        }
        Ok(configure(builder).build()?)
    }

    /// The service authorizer, starting from the stored token.
    pub async fn service_authorizer(
        &self,
        target: &Target,
    ) -> CliResult<ClientCredentialsAuthorizer> {
        Ok(
            ClientCredentialsAuthorizer::builder(self.oauth_connector(target)?)
                .store(self.token_store())
                .build_restored()
                .await?,
        )
    }

    /// The authorizer API calls use: the stored sign-in, renewed silently.
    pub async fn authorizer(&self) -> CliResult<Arc<dyn Authorizer>> {
        if let Some(a) = self.authorizer.get() {
            return Ok(a.clone());
        }
        let target = self.target()?;
        let authorizer: Arc<dyn Authorizer> = match target.mode() {
            Mode::ClientCredentials => Arc::new(self.service_authorizer(&target).await?),
            Mode::User => {
                let user = self.user_authorizer(&target, |b| b)?;
                if !user.restore().await? {
                    return Err(CliError::new(
                        Kind::Auth,
                        format!("profile {:?} is not signed in", self.profile_name),
                    )
                    .hint("sign in with `evo login`"));
                }
                Arc::new(user)
            }
        };
        Ok(self.authorizer.get_or_init(|| authorizer).clone())
    }

    /// A connector to the discovery host.
    pub async fn discovery_connector(&self) -> CliResult<ApiConnector> {
        let target = self.target()?;
        Ok(ApiConnector::builder(target.discovery_url)
            .transport(self.transport())
            .authorizer(self.authorizer().await?)
            .build()?)
    }

    /// The organizations the sign-in can use.
    pub async fn organizations(&self) -> CliResult<(ApiConnector, Vec<Organization>)> {
        let connector = self.discovery_connector().await?;
        let organizations = DiscoveryClient::new(connector.clone())
            .list_organizations()
            .await?;
        Ok((connector, organizations))
    }

    /// Whether the profile's remembered hub and workspace apply: they belong to the
    /// remembered organization, so a different `--org` sets them aside.
    fn remembered_choices_apply(&self) -> bool {
        match (&self.global.org, &self.profile.org) {
            (None, _) => true,
            (Some(flag), Some(saved)) => flag == saved,
            (Some(_), None) => false,
        }
    }

    /// The organization and hub chosen by flags, variables or the profile.
    pub async fn org_and_hub(&self) -> CliResult<Chosen> {
        let (connector, organizations) = self.organizations().await?;
        let wanted = self.global.org.clone().or_else(|| self.profile.org.clone());
        let org = pick_org(&organizations, wanted.as_deref())?.clone();
        let wanted_hub = self.global.hub.clone().or_else(|| {
            self.remembered_choices_apply()
                .then(|| self.profile.hub.clone())
                .flatten()
        });
        let hub = pick_hub(&org, wanted_hub.as_deref())?.clone();
        let hub_connector = hub.connector(&connector)?;
        Ok(Chosen {
            org,
            hub,
            hub_connector,
        })
    }

    /// The Workspaces client of the chosen organization.
    pub async fn workspaces(&self) -> CliResult<(Chosen, WorkspacesClient)> {
        let chosen = self.org_and_hub().await?;
        let client = WorkspacesClient::new(chosen.org.id, chosen.hub_connector.clone());
        Ok((chosen, client))
    }

    /// The workspace named by `explicit`, else `--workspace`, else the profile's.
    pub fn wanted_workspace(&self, explicit: Option<&str>) -> CliResult<String> {
        explicit
            .map(str::to_owned)
            .or_else(|| self.global.workspace.clone())
            .or_else(|| {
                self.remembered_choices_apply()
                    .then(|| self.profile.workspace.clone())
                    .flatten()
            })
            .ok_or_else(|| {
                CliError::usage("no workspace chosen").hint(
                    "pass --workspace NAME (or set EVO_WORKSPACE), or remember one with `evo workspaces use NAME`",
                )
            })
    }

    /// Finds a workspace by name or id; `deleted` also finds deleted ones.
    pub async fn find_workspace(
        &self,
        client: &WorkspacesClient,
        chosen: &Chosen,
        wanted: &str,
        deleted: bool,
    ) -> CliResult<Workspace> {
        if let Ok(id) = Uuid::parse_str(wanted) {
            let found = if deleted {
                client.get_deleted_workspace(id).await
            } else {
                client.get_workspace(id).await
            };
            return found.map_err(|e| {
                let e = CliError::from(e);
                if e.kind == Kind::NotFound {
                    e.hint("`evo workspaces ls` lists the workspaces")
                } else {
                    e
                }
            });
        }
        let mut query = ListWorkspacesQuery::new().name(wanted);
        if deleted {
            query = query.deleted(true);
        }
        let mut found: Vec<Workspace> = client
            .list_all_workspaces(query)
            .try_filter(|w| std::future::ready(w.name == wanted))
            .try_collect()
            .await?;
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(CliError::not_found(format!(
                "no workspace named {wanted:?} in organization {:?}",
                chosen.org.display_name
            ))
            .hint("`evo workspaces ls` lists the workspaces; names are case-sensitive")),
            n => Err(CliError::usage(format!(
                "{n} workspaces are named {wanted:?} (some deleted); name it by id"
            ))),
        }
    }

    /// The workspace chosen for a command, resolved.
    pub async fn workspace(&self, explicit: Option<&str>) -> CliResult<(Chosen, Workspace)> {
        let wanted = self.wanted_workspace(explicit)?;
        let (chosen, client) = self.workspaces().await?;
        let workspace = self
            .find_workspace(&client, &chosen, &wanted, false)
            .await?;
        Ok((chosen, workspace))
    }

    /// The File API client of the chosen workspace, moving bytes with `blobs` when given.
    pub async fn files_client(
        &self,
        blobs: Option<evo_io::BlobClient>,
    ) -> CliResult<evo_files::FilesClient> {
        let (chosen, ws) = self.workspace(None).await?;
        let environment = evo_core::Environment::new(
            chosen.hub_connector.base_url().clone(),
            chosen.org.id,
            ws.id,
        );
        let mut builder = evo_files::FilesClient::builder(environment, chosen.hub_connector);
        if let Some(blobs) = blobs {
            builder = builder.blob_client(blobs);
        }
        Ok(builder.build()?)
    }

    /// The Geoscience Object API client of the chosen workspace.
    pub async fn objects_client(&self) -> CliResult<evo_objects::ObjectsClient> {
        let (chosen, ws) = self.workspace(None).await?;
        let environment = evo_core::Environment::new(
            chosen.hub_connector.base_url().clone(),
            chosen.org.id,
            ws.id,
        );
        Ok(evo_objects::ObjectsClient::new(
            environment,
            chosen.hub_connector,
        )?)
    }

    /// The Block Model API client of the chosen workspace.
    pub async fn blockmodels_client(&self) -> CliResult<evo_blockmodels::BlockModelsClient> {
        let (chosen, ws) = self.workspace(None).await?;
        let environment = evo_core::Environment::new(
            chosen.hub_connector.base_url().clone(),
            chosen.org.id,
            ws.id,
        );
        Ok(evo_blockmodels::BlockModelsClient::new(
            environment,
            chosen.hub_connector,
        )?)
    }

    /// Writes the profile back unless the session is ephemeral.
    pub fn save_profile(&mut self) -> CliResult<()> {
        if self.is_ephemeral() {
            return Ok(());
        }
        self.config
            .profiles
            .insert(self.profile_name.clone(), self.profile.clone());
        self.dir.save(&self.config)
    }
}

/// The organization and hub a command works in.
#[derive(Debug, Clone)]
pub struct Chosen {
    /// The organization.
    pub org: Organization,
    /// The hub.
    pub hub: Hub,
    /// A connector to the hub.
    pub hub_connector: ApiConnector,
}

/// Finds an organization by id or name; without one, the only one.
pub fn pick_org<'a>(
    organizations: &'a [Organization],
    wanted: Option<&str>,
) -> CliResult<&'a Organization> {
    let names = || {
        organizations
            .iter()
            .map(|o| format!("{:?}", o.display_name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match wanted {
        Some(wanted) => {
            let by_id = Uuid::parse_str(wanted)
                .ok()
                .and_then(|id| organizations.iter().find(|o| o.id == id));
            let exact = || organizations.iter().find(|o| o.display_name == wanted);
            let folded = || {
                let mut it = organizations
                    .iter()
                    .filter(|o| o.display_name.eq_ignore_ascii_case(wanted));
                match (it.next(), it.next()) {
                    (Some(o), None) => Some(o),
                    _ => None,
                }
            };
            by_id.or_else(exact).or_else(folded).ok_or_else(|| {
                CliError::not_found(format!("no organization {wanted:?} is available"))
                    .hint(format!("available: {}", names()))
            })
        }
        None => match organizations {
            [] => Err(
                CliError::not_found("your sign-in gives access to no organization")
                    .hint("ask an administrator to invite you to an Evo organization"),
            ),
            [only] => Ok(only),
            _ => Err(
                CliError::usage("several organizations are available: choose one").hint(format!(
                    "pass --org NAME or remember one with `evo orgs use NAME` ({})",
                    names()
                )),
            ),
        },
    }
}

/// Finds a hub of `org` by code or name; without one, the first.
pub fn pick_hub<'a>(org: &'a Organization, wanted: Option<&str>) -> CliResult<&'a Hub> {
    match wanted {
        Some(wanted) => org
            .hubs
            .iter()
            .find(|h| h.code == wanted || h.display_name == wanted)
            .ok_or_else(|| {
                let codes: Vec<&str> = org.hubs.iter().map(|h| h.code.as_str()).collect();
                CliError::not_found(format!(
                    "organization {:?} has no hub {wanted:?}",
                    org.display_name
                ))
                .hint(format!("its hubs: {}", codes.join(", ")))
            }),
        None => org.hubs.first().ok_or_else(|| {
            CliError::not_found(format!(
                "organization {:?} has no hub you can use",
                org.display_name
            ))
        }),
    }
}
