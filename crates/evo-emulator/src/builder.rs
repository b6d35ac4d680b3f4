//! [`EmulatorBuilder`]: configuration, binding the listeners, and starting the services.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use uuid::Uuid;

use crate::clock::Clock;
use crate::emulator::Emulator;
use crate::faults::{FaultEngine, FaultPlan};
use crate::seed::Seed;
use crate::seeding::build_model;
use crate::server::ListenerConfig;
use crate::state::{RestoreConflict, Shared, Urls};
use crate::storage::store::BlobStore;
use crate::wan::WanProfile;
use crate::{BlobStorage, EmulatorError};

/// Azure's lifetime of uncommitted blocks: a week after the blob's last Put Block.
pub const DEFAULT_UNCOMMITTED_BLOCK_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);

impl Emulator {
    /// A builder with the defaults: `127.0.0.1:0`, plain HTTP, memory blobs, no faults.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }
}

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
    wan: WanProfile,
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
            wan: WanProfile::new(),
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

    /// Plays a WAN profile on every listener: each request waits the added latency and each
    /// connection moves at most the capped bytes per second in each direction (default none).
    pub fn wan_profile(mut self, profile: WanProfile) -> Self {
        self.wan = profile;
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
            blob_bytes_sent: AtomicU64::new(0),
            url_serial: AtomicU64::new(0),
            min_url_serial: AtomicU64::new(0),
            deny_consent: AtomicBool::new(false),
            advertised: crate::services::advertised(),
            commit_hooks: crate::services::commit_hooks(),
        });

        let app = router(shared.clone());
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let main = ListenerConfig {
            tls: if self.tls {
                tls.as_ref().map(|t| t.acceptor.clone())
            } else {
                None
            },
            http1_only: false,
            wan: self.wan,
        };
        tasks.push(tokio::spawn(crate::server::serve(
            listener,
            app.clone(),
            main,
            shutdown_rx.clone(),
        )));
        if let Some(l) = blob_listener {
            // Azure's blob endpoints speak HTTP/1.1 only: clients open a pool of connections.
            let blob = ListenerConfig {
                tls: tls.as_ref().map(|t| t.acceptor_http1.clone()),
                http1_only: true,
                wan: self.wan,
            };
            tasks.push(tokio::spawn(crate::server::serve(
                l,
                app,
                blob,
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

/// Every registered service's routes behind the fault-injection layer.
fn router(shared: Arc<Shared>) -> Router {
    crate::services::routes()
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            crate::server::fault_layer,
        ))
        .with_state(shared)
}
