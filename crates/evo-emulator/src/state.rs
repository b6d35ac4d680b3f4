//! The emulator's in-memory model shared by every service: users, organizations, workspaces
//! and their roles, OAuth clients and tokens; each service's own data in [`ServiceStates`].

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::Clock;
use crate::faults::FaultEngine;
use crate::storage::store::{BlobStore, Props};

/// A user known to the emulator.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) email: String,
}

/// A workspace role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    Viewer,
    Editor,
    Owner,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Owner => "owner",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

/// A workspace.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) default_coordinate_system: String,
    pub(crate) bounding_box: serde_json::Value,
    pub(crate) labels: Vec<String>,
    pub(crate) ml_enabled: bool,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) created_by: Uuid,
    pub(crate) updated_at: OffsetDateTime,
    pub(crate) updated_by: Uuid,
    pub(crate) deleted: bool,
    /// Roles in the order they were granted.
    pub(crate) roles: Vec<(Uuid, Role)>,
    pub(crate) thumbnail: Option<(Vec<u8>, &'static str)>,
}

impl Workspace {
    /// A new workspace, owned by `owner`.
    pub(crate) fn new(
        id: Uuid,
        name: String,
        description: String,
        labels: Vec<String>,
        owner: Uuid,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            name,
            description,
            default_coordinate_system: String::new(),
            bounding_box: serde_json::Value::Null,
            labels,
            ml_enabled: false,
            created_at: now,
            created_by: owner,
            updated_at: now,
            updated_by: owner,
            deleted: false,
            roles: vec![(owner, Role::Owner)],
            thumbnail: None,
        }
    }

    pub(crate) fn role_of(&self, user: Uuid) -> Option<Role> {
        self.roles.iter().find(|(u, _)| *u == user).map(|(_, r)| *r)
    }

    /// Changed by `user` at `now`.
    pub(crate) fn touch(&mut self, now: OffsetDateTime, user: Uuid) {
        self.updated_at = now;
        self.updated_by = user;
    }
}

/// Who made an item of a workspace (a file, a geoscience object), who changed it last and who
/// deleted it, and when: the stamps the File and Object APIs keep alike.
#[derive(Debug, Clone)]
pub(crate) struct Stamps {
    pub(crate) created_at: OffsetDateTime,
    pub(crate) created_by: Uuid,
    pub(crate) modified_at: OffsetDateTime,
    pub(crate) modified_by: Uuid,
    pub(crate) deleted_at: Option<OffsetDateTime>,
    pub(crate) deleted_by: Option<Uuid>,
}

impl Stamps {
    /// Made (and so last changed) by `user` at `now`.
    pub(crate) fn new(now: OffsetDateTime, user: Uuid) -> Self {
        Self {
            created_at: now,
            created_by: user,
            modified_at: now,
            modified_by: user,
            deleted_at: None,
            deleted_by: None,
        }
    }

    /// Changed by `user` at `now`.
    pub(crate) fn modify(&mut self, now: OffsetDateTime, user: Uuid) {
        self.modified_at = now;
        self.modified_by = user;
    }

    /// Deleted by `user` at `now` (a change too).
    pub(crate) fn delete(&mut self, now: OffsetDateTime, user: Uuid) {
        self.deleted_at = Some(now);
        self.deleted_by = Some(user);
        self.modify(now, user);
    }

    /// Restored by `user` at `now` (a change too).
    pub(crate) fn restore(&mut self, now: OffsetDateTime, user: Uuid) {
        self.deleted_at = None;
        self.deleted_by = None;
        self.modify(now, user);
    }
}

/// The name of the item at `path` (a file's or an object's path without a leading slash):
/// `x.csv` of `a/b/x.csv`.
pub(crate) fn item_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The folder of the item at `path`, as the File and Object APIs give it: `/a/b/` for
/// `a/b/x.csv`, `/` for `x.csv`.
pub(crate) fn item_folder(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((dir, _)) => format!("/{dir}/"),
        None => "/".to_owned(),
    }
}

/// An instance role (`Evo User`, `Evo Admin`, `Evo Owner`).
#[derive(Debug, Clone)]
pub(crate) struct InstanceRole {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) description: String,
}

/// An invitation to an instance.
#[derive(Debug, Clone)]
pub(crate) struct Invitation {
    pub(crate) id: Uuid,
    pub(crate) email: String,
    pub(crate) invited_by_email: String,
    pub(crate) created: OffsetDateTime,
    pub(crate) roles: Vec<Uuid>,
}

/// An organization (an Evo instance).
#[derive(Debug, Clone)]
pub(crate) struct Org {
    pub(crate) id: Uuid,
    pub(crate) display_name: String,
    pub(crate) hub_code: String,
    pub(crate) hub_display_name: String,
    /// Workspaces in creation order.
    pub(crate) workspaces: Vec<Workspace>,
    /// Instance members: user id and instance role ids.
    pub(crate) members: Vec<(Uuid, Vec<Uuid>)>,
    pub(crate) invitations: Vec<Invitation>,
    pub(crate) instance_roles: Vec<InstanceRole>,
    /// The linked Seequent Central instance (discovery `accounts`), if seeded.
    pub(crate) central: Option<Central>,
}

/// A Seequent Central instance linked to an organization, with its account.
#[derive(Debug, Clone)]
pub(crate) struct Central {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) display_name: String,
    pub(crate) host: String,
    pub(crate) organization_name: String,
    pub(crate) account_id: Uuid,
    pub(crate) account_name: String,
}

/// An OAuth client.
#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) id: String,
    pub(crate) secret: Option<String>,
    pub(crate) scopes: Vec<String>,
    /// Exact redirect URIs; `None`: any `http` loopback URL.
    pub(crate) redirect_uris: Option<Vec<String>>,
    /// Exact post-logout redirect URIs; `None`: as `redirect_uris`.
    pub(crate) post_logout_redirect_uris: Option<Vec<String>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("scopes", &self.scopes)
            .field("redirect_uris", &self.redirect_uris)
            .field("post_logout_redirect_uris", &self.post_logout_redirect_uris)
            .finish()
    }
}

/// An issued access token.
#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub(crate) user: Uuid,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires: Instant,
    /// The client it was issued to; `None` for tokens minted by the test levers.
    pub(crate) client_id: Option<String>,
    /// The grant (login) it came from, shared by the refresh tokens of that grant.
    pub(crate) grant: Option<String>,
}

/// An issued refresh token.
#[derive(Debug, Clone)]
pub(crate) struct RefreshToken {
    pub(crate) client_id: String,
    pub(crate) user: Uuid,
    pub(crate) scopes: Vec<String>,
    /// The grant (login) it came from; rotation keeps it.
    pub(crate) grant: String,
}

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) user: Uuid,
    pub(crate) expires: Instant,
    /// The login (browser session) the code comes from: the id token's `sid`.
    pub(crate) session: String,
}

/// What to do when a restored file's path is taken by another file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestoreConflict {
    /// Restore under a free name (`x (1).csv`) and answer 303 with the new metadata.
    #[default]
    Rename,
    /// Refuse with 409 `files/already-exists`.
    Reject,
}

/// Everything that changes, behind one mutex (never held across an await).
#[derive(Debug, Default)]
pub(crate) struct Model {
    pub(crate) users: Vec<User>,
    pub(crate) orgs: Vec<Org>,
    pub(crate) clients: Vec<Client>,
    pub(crate) tokens: HashMap<String, AccessToken>,
    pub(crate) refresh_tokens: HashMap<String, RefreshToken>,
    pub(crate) codes: HashMap<String, AuthCode>,
    pub(crate) revoked_signatures: HashSet<String>,
    /// Each hub service's own data (files, objects, ...), under the same lock.
    pub(crate) services: ServiceStates,
}

/// The per-service parts of the [`Model`], one value per type: a service keeps its data in a
/// type of its own module, created empty on first use, so adding a service touches no other.
#[derive(Default)]
pub(crate) struct ServiceStates(HashMap<TypeId, Box<dyn Any + Send>>);

impl ServiceStates {
    /// The state of type `T`, if it was created.
    pub(crate) fn get<T: 'static>(&self) -> Option<&T> {
        self.0.get(&TypeId::of::<T>())?.downcast_ref::<T>()
    }

    /// The state of type `T`, created with `T::default()` the first time it is asked for.
    pub(crate) fn get_mut<T: Default + Send + 'static>(&mut self) -> &mut T {
        let slot = self
            .0
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()));
        if !slot.is::<T>() {
            // Unreachable (the key is `T`'s id); replaced rather than panicking.
            *slot = Box::new(T::default());
        }
        match slot.downcast_mut::<T>() {
            Some(state) => state,
            None => unreachable!("the slot was just filled with a T"),
        }
    }
}

impl std::fmt::Debug for ServiceStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceStates")
            .field("count", &self.0.len())
            .finish_non_exhaustive()
    }
}

impl Model {
    pub(crate) fn user(&self, id: Uuid) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub(crate) fn org(&self, id: Uuid) -> Option<&Org> {
        self.orgs.iter().find(|o| o.id == id)
    }

    pub(crate) fn org_mut(&mut self, id: Uuid) -> Option<&mut Org> {
        self.orgs.iter_mut().find(|o| o.id == id)
    }
}

/// URLs decided after binding.
#[derive(Debug, Clone)]
pub(crate) struct Urls {
    pub(crate) base: url::Url,
    pub(crate) blob_base: url::Url,
}

/// The state every handler shares. `Debug` shows only the URLs: the rest holds secrets.
pub(crate) struct Shared {
    pub(crate) urls: Urls,
    pub(crate) token_ttl: Duration,
    pub(crate) blob_url_ttl: Duration,
    pub(crate) restore_conflict: RestoreConflict,
    pub(crate) test_user: Uuid,
    pub(crate) sas_key: [u8; 32],
    /// Signs id tokens (HS256), so `id_token_hint` can be verified at logout.
    pub(crate) id_token_key: [u8; 32],
    pub(crate) clock: Clock,
    pub(crate) model: Mutex<Model>,
    pub(crate) blobs: BlobStore,
    pub(crate) faults: Mutex<FaultEngine>,
    pub(crate) token_requests: AtomicU64,
    /// Body bytes of blob `GET` answers handed to the connections (counted by the fault layer).
    pub(crate) blob_bytes_sent: AtomicU64,
    /// Serial of the last pre-signed URL issued.
    pub(crate) url_serial: AtomicU64,
    /// URLs with a serial at or below this are expired.
    pub(crate) min_url_serial: AtomicU64,
    pub(crate) deny_consent: AtomicBool,
    /// The services discovery advertises: code and display name (from the service registry).
    pub(crate) advertised: Vec<(&'static str, &'static str)>,
    /// Called after every blob commit (from the service registry).
    pub(crate) commit_hooks: Vec<BlobCommitHook>,
}

/// What a service runs after a blob is committed (Put Block List or Put Blob): the blob's key
/// (`{container}/{blob}`) and its properties. Lets the blob service tell the File API (and the
/// Object API) about uploads without importing them.
pub(crate) type BlobCommitHook = fn(&Shared, &str, &Props);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("urls", &self.urls)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Locks the model; a poisoned lock is recovered (a panicking handler must not wedge the server).
    pub(crate) fn model(&self) -> MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultEngine> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs every service's blob-commit hook.
    pub(crate) fn blob_committed(&self, key: &str, props: &Props) {
        for hook in &self.commit_hooks {
            hook(self, key, props);
        }
    }

    /// The hub base URL, with a trailing slash.
    pub(crate) fn hub(&self) -> &url::Url {
        &self.urls.base
    }
}

/// A random URL-safe secret of `bytes` random bytes.
pub(crate) fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = Vec::with_capacity(bytes + 16);
    while buf.len() < bytes {
        buf.extend_from_slice(Uuid::new_v4().as_bytes());
    }
    buf.truncate(bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
