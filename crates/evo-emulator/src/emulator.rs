//! [`Emulator`] and [`EmulatorBuilder`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{any, get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;
use uuid::Uuid;

use crate::blob::store::BlobStore;
use crate::clock::Clock;
use crate::faults::{FaultCounters, FaultEngine, FaultPlan};
use crate::seed::{ALL_SCOPES, Seed};
use crate::state::{
    Central, Client, InstanceRole, Model, Org, RestoreConflict, Shared, Urls, User, random_token,
};
use crate::{BlobStorage, EmulatorError};

/// An organization the emulator was seeded with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededOrg {
    /// Organization (instance) id.
    pub id: Uuid,
    /// Display name.
    pub display_name: String,
    /// Code of the hub it lives on.
    pub hub_code: String,
    /// Seeded workspaces: id and name.
    pub workspaces: Vec<(Uuid, String)>,
}

/// A confidential OAuth client (client_credentials grant).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret` (never printed by `Debug`).
    pub client_secret: String,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// Azure's lifetime of uncommitted blocks: a week after the blob's last Put Block.
pub const DEFAULT_UNCOMMITTED_BLOCK_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Configures and starts an [`Emulator`]. Get one from [`Emulator::builder`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    bind: SocketAddr,
    token_ttl: Duration,
    blob_url_ttl: Duration,
    storage: BlobStorage,
    faults: FaultPlan,
    tls: bool,
    ca_pem_path: Option<PathBuf>,
    blob_listener: Option<SocketAddr>,
    blob_loopback_443: bool,
    public_blob_base: Option<url::Url>,
    seed: Seed,
    restore_conflict: RestoreConflict,
    uncommitted_block_ttl: Duration,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            token_ttl: Duration::from_secs(3600),
            blob_url_ttl: Duration::from_secs(1800),
            storage: BlobStorage::Memory,
            faults: FaultPlan::none(),
            tls: false,
            ca_pem_path: None,
            blob_listener: None,
            blob_loopback_443: false,
            public_blob_base: None,
            seed: Seed::default(),
            restore_conflict: RestoreConflict::Rename,
            uncommitted_block_ttl: DEFAULT_UNCOMMITTED_BLOCK_TTL,
        }
    }
}

impl EmulatorBuilder {
    /// Address of the main listener (default `127.0.0.1:0`, an ephemeral port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Lifetime of issued access tokens (default 1 hour).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Lifetime of pre-signed blob URLs (default 30 minutes, as Evo).
    pub fn blob_url_ttl(mut self, ttl: Duration) -> Self {
        self.blob_url_ttl = ttl;
        self
    }

    /// Where blob bytes live (default [`BlobStorage::Memory`]).
    pub fn blob_storage(mut self, storage: BlobStorage) -> Self {
        self.storage = storage;
        self
    }

    /// The fault plan to start with (default: no faults).
    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.faults = plan;
        self
    }

    /// Serve the main listener over HTTPS with the emulator's own certificate (default false).
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Write the PEM of the emulator's CA certificate to this path at start (for
    /// `SSL_CERT_FILE` and similar). The PEM is also available from [`Emulator::ca_cert_pem`].
    pub fn ca_cert_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_pem_path = Some(path.into());
        self
    }

    /// Also serve every route over HTTPS on `addr` (e.g. `127.0.0.7:443`) and hand out blob URLs
    /// on it: the official Python SDK only accepts `https` blob URLs on the default port.
    pub fn blob_listener(mut self, addr: SocketAddr) -> Self {
        self.blob_listener = Some(addr);
        self
    }

    /// Like [`blob_listener`](Self::blob_listener) on port 443 of a random `127.x.y.z` address,
    /// retried on another address when taken, so parallel tests never collide. Needs the right
    /// to bind port 443 (root, or `CAP_NET_BIND_SERVICE`); start fails clearly otherwise.
    pub fn blob_listener_on_random_loopback_443(mut self) -> Self {
        self.blob_loopback_443 = true;
        self
    }

    /// The base of the blob URLs the emulator hands out, when it differs from the listener
    /// (e.g. behind a proxy). Default: the blob listener's URL, else [`Emulator::base_url`].
    pub fn public_blob_base(mut self, base: url::Url) -> Self {
        self.public_blob_base = Some(base);
        self
    }

    /// Organizations, workspaces, users and clients to start with (see [`crate::seed`]).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// What restoring a file whose path is now taken does (default: rename and answer 303).
    pub fn restore_conflict(mut self, policy: RestoreConflict) -> Self {
        self.restore_conflict = policy;
        self
    }

    /// How long uncommitted blocks survive after the last Put Block on their blob when no Put
    /// Block List commits them (default [`DEFAULT_UNCOMMITTED_BLOCK_TTL`], a week, as Azure).
    /// Expiry is applied lazily, by the next request touching the blob (Get Block List included),
    /// against the emulator's clock, which [`Emulator::advance_clock`] moves forward.
    pub fn uncommitted_block_ttl(mut self, ttl: Duration) -> Self {
        self.uncommitted_block_ttl = ttl;
        self
    }

    /// Binds the listeners and starts serving; returns once they accept connections.
    pub async fn start(self) -> Result<Emulator, EmulatorError> {
        let listener =
            TcpListener::bind(self.bind)
                .await
                .map_err(|source| EmulatorError::Bind {
                    addr: self.bind,
                    source,
                })?;
        let local = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: self.bind,
                source,
            })?;
        let blob_listener = if self.blob_loopback_443 {
            Some(bind_random_loopback_443().await?)
        } else if let Some(addr) = self.blob_listener {
            Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| EmulatorError::Bind { addr, source })?,
            )
        } else {
            None
        };
        let blob_addr = blob_listener.as_ref().and_then(|l| l.local_addr().ok());

        let host_ip = if local.ip().is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            local.ip()
        };
        let scheme = if self.tls { "https" } else { "http" };
        let base = url::Url::parse(&format!(
            "{scheme}://{}/",
            SocketAddr::new(host_ip, local.port())
        ))
        .map_err(|e| EmulatorError::Tls(e.to_string()))?;
        let blob_base = match (&self.public_blob_base, blob_addr) {
            (Some(u), _) => u.clone(),
            (None, Some(a)) => {
                let text = if a.port() == 443 {
                    format!("https://{}/", a.ip())
                } else {
                    format!("https://{a}/")
                };
                url::Url::parse(&text).map_err(|e| EmulatorError::Tls(e.to_string()))?
            }
            (None, None) => base.clone(),
        };
        let mut blob_base = blob_base;
        if !blob_base.path().ends_with('/') {
            let p = format!("{}/", blob_base.path());
            blob_base.set_path(&p);
        }

        let tls = if self.tls || blob_listener.is_some() {
            let mut ips = vec![host_ip];
            ips.extend(blob_addr.map(|a| a.ip()));
            Some(crate::tls::make(&ips)?)
        } else {
            None
        };
        if let (Some(path), Some(t)) = (&self.ca_pem_path, &tls) {
            std::fs::write(path, &t.ca_pem).map_err(|source| EmulatorError::Io {
                path: path.clone(),
                source,
            })?;
        }

        let (model, test_user, service, public, orgs) =
            build_model(&self.seed, Clock::default().now())?;
        let blobs =
            BlobStore::new(&self.storage, self.uncommitted_block_ttl).map_err(|source| {
                EmulatorError::Io {
                    path: match &self.storage {
                        BlobStorage::Folder(p) => p.clone(),
                        BlobStorage::Memory => PathBuf::new(),
                    },
                    source,
                }
            })?;
        let mut sas_key = [0u8; 32];
        sas_key[..16].copy_from_slice(Uuid::new_v4().as_bytes());
        sas_key[16..].copy_from_slice(Uuid::new_v4().as_bytes());
        let mut id_token_key = [0u8; 32];
        id_token_key[..16].copy_from_slice(Uuid::new_v4().as_bytes());
        id_token_key[16..].copy_from_slice(Uuid::new_v4().as_bytes());
        let shared = Arc::new(Shared {
            urls: Urls { base, blob_base },
            token_ttl: self.token_ttl,
            blob_url_ttl: self.blob_url_ttl,
            restore_conflict: self.restore_conflict,
            test_user,
            sas_key,
            id_token_key,
            clock: Clock::default(),
            model: std::sync::Mutex::new(model),
            blobs,
            faults: std::sync::Mutex::new(FaultEngine::new(self.faults)),
            token_requests: AtomicU64::new(0),
            url_serial: AtomicU64::new(0),
            min_url_serial: AtomicU64::new(0),
            deny_consent: AtomicBool::new(false),
        });

        let app = router(shared.clone());
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let main_tls = if self.tls {
            tls.as_ref().map(|t| t.acceptor.clone())
        } else {
            None
        };
        tasks.push(tokio::spawn(crate::server::serve(
            listener,
            app.clone(),
            main_tls,
            shutdown_rx.clone(),
        )));
        if let Some(l) = blob_listener {
            let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
            tasks.push(tokio::spawn(crate::server::serve(
                l,
                app,
                acceptor,
                shutdown_rx,
            )));
        }
        tracing::info!(base = %shared.urls.base, blob = %shared.urls.blob_base, "evo-emulator listening");
        Ok(Emulator {
            shared,
            shutdown: shutdown_tx,
            tasks,
            ca_pem: tls.map(|t| t.ca_pem),
            service,
            public,
            orgs,
            blob_addr,
        })
    }
}

async fn bind_random_loopback_443() -> Result<TcpListener, EmulatorError> {
    let mut last = None;
    for _ in 0..64 {
        let b = Uuid::new_v4().into_bytes();
        let ip = Ipv4Addr::new(127, b[0].max(1), b[1], b[2].clamp(2, 254));
        let addr = SocketAddr::new(IpAddr::V4(ip), 443);
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some((addr, e)),
            Err(source) => {
                return Err(EmulatorError::Bind {
                    addr,
                    source: std::io::Error::new(
                        source.kind(),
                        format!("{source} (binding port 443 needs root or CAP_NET_BIND_SERVICE)"),
                    ),
                });
            }
        }
    }
    let (addr, source) = last.unwrap_or_else(|| {
        (
            SocketAddr::from(([127, 0, 0, 2], 443)),
            std::io::Error::other("no loopback address was free"),
        )
    });
    Err(EmulatorError::Bind { addr, source })
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/evo/identity/v2/discovery",
            get(crate::discovery::discovery),
        )
        .route("/connect/token", post(crate::oauth::token))
        .route("/connect/authorize", get(crate::oauth::authorize))
        .route(
            "/connect/endsession",
            get(crate::oauth::end_session_get).post(crate::oauth::end_session_post),
        )
        .route("/connect/revocation", post(crate::oauth::revocation))
        .route("/blob/{container}/{*blob}", any(crate::blob::handler))
        .merge(crate::workspaces::routes())
        .merge(crate::files::routes())
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            crate::server::fault_layer,
        ))
        .with_state(shared)
}

type Built = (Model, Uuid, ClientCredentials, String, Vec<SeededOrg>);

fn build_model(seed: &Seed, now: time::OffsetDateTime) -> Result<Built, EmulatorError> {
    let mut model = Model::default();
    for u in &seed.users {
        model.users.push(User {
            id: u.id.unwrap_or_else(Uuid::new_v4),
            name: u.name.clone(),
            email: u.email.clone(),
        });
    }
    if model.users.is_empty() {
        model.users.push(User {
            id: Uuid::new_v4(),
            name: "Emulator User".into(),
            email: "user@evo-emulator.test".into(),
        });
    }
    let test_user = model.users[0].id;
    let mut orgs_seed = seed.organizations.clone();
    if orgs_seed.is_empty() {
        orgs_seed.push(crate::seed::SeedOrganization {
            id: None,
            display_name: "Emulator Org".into(),
            hub_code: None,
            hub_display_name: None,
            workspaces: Vec::new(),
            central: None,
        });
    }
    let instance_roles = |_: usize| {
        vec![
            InstanceRole {
                id: Uuid::from_u128(1),
                name: "Evo User".into(),
                description: "evo user".into(),
            },
            InstanceRole {
                id: Uuid::from_u128(2),
                name: "Evo Admin".into(),
                description: "evo admin".into(),
            },
            InstanceRole {
                id: Uuid::from_u128(3),
                name: "Evo Owner".into(),
                description: "evo owner".into(),
            },
        ]
    };
    let mut seeded = Vec::new();
    for (i, o) in orgs_seed.iter().enumerate() {
        let id = o.id.unwrap_or_else(Uuid::new_v4);
        if model.orgs.iter().any(|x| x.id == id) {
            return Err(EmulatorError::Seed(format!(
                "organization id {id} appears twice"
            )));
        }
        let mut workspaces = Vec::new();
        for w in &o.workspaces {
            if w.name.trim().is_empty() || w.name.chars().count() > 60 {
                return Err(EmulatorError::Seed(format!(
                    "workspace name '{}' must be 1..60 characters",
                    w.name
                )));
            }
            if workspaces
                .iter()
                .any(|x: &crate::state::Workspace| x.name == w.name)
            {
                return Err(EmulatorError::Seed(format!(
                    "workspace name '{}' appears twice",
                    w.name
                )));
            }
            workspaces.push(crate::workspaces::new_workspace(
                w.id.unwrap_or_else(Uuid::new_v4),
                w.name.clone(),
                w.description.clone(),
                w.labels.clone(),
                test_user,
                now,
            ));
        }
        let hub_code = o.hub_code.clone().unwrap_or_else(|| "local".into());
        let central = match &o.central {
            Some(c) => Some(seed_central(c, &o.display_name, &model.orgs)?),
            None => None,
        };
        seeded.push(SeededOrg {
            id,
            display_name: o.display_name.clone(),
            hub_code: hub_code.clone(),
            workspaces: workspaces.iter().map(|w| (w.id, w.name.clone())).collect(),
        });
        model.orgs.push(Org {
            id,
            display_name: o.display_name.clone(),
            hub_code,
            hub_display_name: o
                .hub_display_name
                .clone()
                .unwrap_or_else(|| "Local hub".into()),
            workspaces,
            members: model
                .users
                .iter()
                .map(|u| (u.id, vec![Uuid::from_u128(3)]))
                .collect(),
            invitations: Vec::new(),
            instance_roles: instance_roles(i),
            central,
        });
    }
    let all_scopes: Vec<String> = ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    for c in &seed.clients {
        model.clients.push(Client {
            id: c.client_id.clone(),
            secret: c.client_secret.clone(),
            scopes: c.scopes.clone().unwrap_or_else(|| all_scopes.clone()),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        });
    }
    if !model.clients.iter().any(|c| c.secret.is_some()) {
        model.clients.push(Client {
            id: "evo-emulator-service".into(),
            secret: Some(random_token(24)),
            scopes: all_scopes.clone(),
            redirect_uris: None,
            post_logout_redirect_uris: None,
        });
    }
    if !model.clients.iter().any(|c| c.secret.is_none()) {
        model.clients.push(Client {
            id: "evo-emulator-public".into(),
            secret: None,
            scopes: all_scopes,
            redirect_uris: None,
            post_logout_redirect_uris: None,
        });
    }
    let service = model
        .clients
        .iter()
        .find_map(|c| {
            c.secret.as_ref().map(|s| ClientCredentials {
                client_id: c.id.clone(),
                client_secret: s.clone(),
            })
        })
        .ok_or_else(|| EmulatorError::Seed("no confidential client".into()))?;
    let public = model
        .clients
        .iter()
        .find(|c| c.secret.is_none())
        .map(|c| c.id.clone())
        .ok_or_else(|| EmulatorError::Seed("no public client".into()))?;
    Ok((model, test_user, service, public, seeded))
}

/// The model of a seeded Central instance; accounts are shared by id, or by name without an id.
fn seed_central(
    c: &crate::seed::SeedCentral,
    org_display_name: &str,
    earlier: &[Org],
) -> Result<Central, EmulatorError> {
    let known = earlier.iter().filter_map(|o| o.central.as_ref());
    let account_id = match c.account_id {
        Some(id) => {
            if let Some(other) = known.clone().find(|k| k.account_id == id) {
                if other.account_name != c.account_name {
                    return Err(EmulatorError::Seed(format!(
                        "account {id} is named both '{}' and '{}'",
                        other.account_name, c.account_name
                    )));
                }
            }
            id
        }
        None => known
            .clone()
            .find(|k| k.account_name == c.account_name)
            .map_or_else(Uuid::new_v4, |k| k.account_id),
    };
    Ok(Central {
        id: c.id.unwrap_or_else(Uuid::new_v4),
        name: c.name.clone(),
        display_name: c.display_name.clone(),
        host: c.host.clone(),
        organization_name: c
            .organization_name
            .clone()
            .unwrap_or_else(|| org_display_name.to_owned()),
        account_id,
        account_name: c.account_name.clone(),
    })
}

/// A running emulator. Every service (discovery, IMS, hub APIs, blobs) is served by one listener
/// at [`base_url`](Self::base_url). Dropping it stops the server.
pub struct Emulator {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    ca_pem: Option<String>,
    service: ClientCredentials,
    public: String,
    orgs: Vec<SeededOrg>,
    blob_addr: Option<SocketAddr>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.shared.urls.base.as_str())
            .field("blob_base_url", &self.shared.urls.blob_base.as_str())
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// A builder with the defaults: `127.0.0.1:0`, plain HTTP, memory blobs, no faults.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// `http://127.0.0.1:PORT/` (or `https://` with [`EmulatorBuilder::tls`]).
    pub fn base_url(&self) -> url::Url {
        self.shared.urls.base.clone()
    }

    /// The discovery base: `GET {discovery_url}evo/identity/v2/discovery?service=evo`.
    pub fn discovery_url(&self) -> url::Url {
        self.shared.urls.base.clone()
    }

    /// The hub URL that discovery returns; `/workspace/...` and `/file/...` live under it.
    pub fn hub_url(&self) -> url::Url {
        self.shared.urls.base.clone()
    }

    /// The OAuth issuer base: `{ims_url}connect/token`, `{ims_url}connect/authorize`.
    pub fn ims_url(&self) -> url::Url {
        self.shared.urls.base.clone()
    }

    /// The base of the blob URLs handed out (`{blob_base_url}blob/{container}/{blob}?...`).
    pub fn blob_base_url(&self) -> url::Url {
        self.shared.urls.blob_base.clone()
    }

    /// The address of the extra TLS blob listener, if one was asked for.
    pub fn blob_listener_addr(&self) -> Option<SocketAddr> {
        self.blob_addr
    }

    /// PEM of the CA that signed the emulator's TLS certificate (when TLS is in use).
    pub fn ca_cert_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The id of the first seeded organization.
    pub fn org_id(&self) -> Uuid {
        self.orgs[0].id
    }

    /// Every seeded organization.
    pub fn organizations(&self) -> Vec<SeededOrg> {
        self.orgs.clone()
    }

    /// The id of the test user every token acts for (unless minted by [`issue_token_for`](Self::issue_token_for)).
    pub fn test_user_id(&self) -> Uuid {
        self.shared.test_user
    }

    /// The confidential client: client_credentials (and the other grants), every Evo scope.
    pub fn service_client(&self) -> ClientCredentials {
        self.service.clone()
    }

    /// The public client for authorization_code + PKCE (no secret; any http loopback redirect).
    pub fn public_client_id(&self) -> String {
        self.public.clone()
    }

    /// Mints an access token for the test user with these scopes.
    pub fn issue_token(&self, scopes: &[&str]) -> String {
        self.issue_token_for(self.shared.test_user, scopes)
    }

    /// Mints an access token acting for `user` (see [`add_user`](Self::add_user)).
    pub fn issue_token_for(&self, user: Uuid, scopes: &[&str]) -> String {
        crate::oauth::mint_access(
            &self.shared,
            user,
            scopes.iter().map(|s| (*s).to_owned()).collect(),
            None,
            None,
        )
    }

    /// Adds a user (no workspace roles) and returns its id.
    pub fn add_user(&self, name: &str, email: &str) -> Uuid {
        let id = Uuid::new_v4();
        self.shared.model().users.push(User {
            id,
            name: name.to_owned(),
            email: email.to_owned(),
        });
        id
    }

    /// Moves the emulator's clock forward by `by`, without sleeping. It drives the timestamps the
    /// APIs return (`created_at`, `modified_at`, ...) and the expiry of uncommitted blob blocks
    /// ([`EmulatorBuilder::uncommitted_block_ttl`]). Access tokens, authorization codes and
    /// pre-signed URLs keep real time: use [`expire_tokens`](Self::expire_tokens) and
    /// [`expire_blob_urls`](Self::expire_blob_urls) for those.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Every access token issued so far is now expired (401 on use).
    pub fn expire_tokens(&self) {
        let now = Instant::now();
        for t in self.shared.model().tokens.values_mut() {
            t.expires = t.expires.min(now);
        }
    }

    /// Every pre-signed URL issued so far now answers 403 `AuthenticationFailed`.
    pub fn expire_blob_urls(&self) {
        let issued = self.shared.url_serial.load(Ordering::SeqCst);
        self.shared
            .min_url_serial
            .fetch_max(issued, Ordering::SeqCst);
    }

    /// A pre-signed URL for any blob (`perms` from `r`, `c`, `w`), for blob-protocol tests.
    pub fn blob_url(&self, container: &str, blob: &str, perms: &str) -> url::Url {
        let text = crate::blob::sas::presign(&self.shared, container, blob, perms);
        url::Url::parse(&text).unwrap_or_else(|_| self.shared.urls.blob_base.clone())
    }

    /// Replaces the fault plan (injection counters are kept).
    pub fn set_faults(&self, plan: FaultPlan) {
        self.shared.faults().set_plan(plan);
    }

    /// How many faults were injected, per route class and kind.
    pub fn fault_counters(&self) -> FaultCounters {
        self.shared.faults().counters()
    }

    /// How many `/connect/token` requests were served.
    pub fn token_requests(&self) -> u64 {
        self.shared.token_requests.load(Ordering::SeqCst)
    }

    /// When true, `/connect/authorize` redirects with `error=access_denied`.
    pub fn deny_consent(&self, deny: bool) {
        self.shared.deny_consent.store(deny, Ordering::SeqCst);
    }

    /// Stops the listeners and closes every connection.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
