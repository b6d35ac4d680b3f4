//! [`Emulator`], the handle of a running emulator: its URLs, seeded data and test levers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use uuid::Uuid;

use crate::faults::{FaultCounters, FaultPlan};
use crate::seeding::{ClientCredentials, SeededOrg};
use crate::state::{Shared, User};

/// A running emulator. Every service (discovery, IMS, hub APIs, blobs) is served by one listener
/// at [`base_url`](Self::base_url). Dropping it stops the server.
pub struct Emulator {
    pub(crate) shared: Arc<Shared>,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) tasks: Vec<tokio::task::JoinHandle<()>>,
    pub(crate) ca_pem: Option<String>,
    pub(crate) service: ClientCredentials,
    pub(crate) public: String,
    pub(crate) orgs: Vec<SeededOrg>,
    pub(crate) blob_addr: Option<SocketAddr>,
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
    /// `http://127.0.0.1:PORT/` (or `https://` with [`crate::EmulatorBuilder::tls`]).
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
    /// ([`crate::EmulatorBuilder::uncommitted_block_ttl`]). Access tokens, authorization codes and
    /// pre-signed URLs keep real time: use [`expire_tokens`](Self::expire_tokens) and
    /// [`expire_blob_urls`](Self::expire_blob_urls) for those.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// How long a compute job stays requested, in progress, and cancelling before it moves on
    /// (default 100 ms). Applies to jobs submitted afterwards.
    pub fn set_compute_job_step(&self, step: Duration) {
        crate::compute::set_step(&self.shared, step);
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
        let text = crate::storage::sas::presign(&self.shared, container, blob, perms);
        url::Url::parse(&text).unwrap_or_else(|_| self.shared.urls.blob_base.clone())
    }

    /// How long Block Model API jobs take: a job is `QUEUED` for half of `delay`, then
    /// `PROCESSING` for the other half (and for as long as its work takes), then `COMPLETE` or
    /// `FAILED`. Default: no delay. Applies to jobs started afterwards.
    pub fn set_blockmodel_job_delay(&self, delay: Duration) {
        crate::blockmodels::set_job_delay(&self.shared, delay);
    }

    /// Replaces the fault plan (injection counters are kept).
    pub fn set_faults(&self, plan: FaultPlan) {
        self.shared.faults().set_plan(plan);
    }

    /// How many faults were injected, per route class and kind.
    pub fn fault_counters(&self) -> FaultCounters {
        self.shared.faults().counters()
    }

    /// Body bytes the blob service received (Put Block and Put Blob, failed uploads included)
    /// for Geoscience Object API data files, in every workspace: a second save of unchanged data
    /// adds nothing.
    pub fn data_bytes_received(&self) -> u64 {
        self.shared
            .blobs
            .bytes_received(&format!("{}/", crate::objects::state::DATA_CONTAINER))
    }

    /// Body bytes the blob service received for one object data file (`name`: its SHA-256 or
    /// UUID) of workspace `ws` in organization `org`.
    pub fn data_file_bytes_received(&self, org: Uuid, ws: Uuid, name: &str) -> u64 {
        self.shared.blobs.bytes_received(&format!(
            "{}/{org}/{ws}/{name}",
            crate::objects::state::DATA_CONTAINER
        ))
    }

    /// Body bytes the blob service received for every blob (Put Block and Put Blob).
    pub fn blob_bytes_received(&self) -> u64 {
        self.shared.blobs.bytes_received("")
    }

    /// Body bytes of blob `GET` answers sent so far (every blob, ranged or whole, cut-off
    /// answers counted as far as they went): with
    /// [`blob_bytes_received`](Self::blob_bytes_received), how much a transfer moved.
    pub fn blob_bytes_sent(&self) -> u64 {
        self.shared.blob_bytes_sent.load(Ordering::SeqCst)
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
