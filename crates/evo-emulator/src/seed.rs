//! The seed: organizations, workspaces, users and OAuth clients the emulator starts with.
//!
//! The binary reads it from a JSON file (`--seed FILE`); the library takes it through
//! [`EmulatorBuilder::seed`](crate::EmulatorBuilder::seed). Every field is optional:
//!
//! ```json
//! {
//!   "users": [
//!     { "id": "00000000-0000-0000-0000-000000000002", "name": "Test User", "email": "test.user@unit.test" }
//!   ],
//!   "organizations": [
//!     { "id": "00000000-0000-0000-0000-000000000000", "display_name": "Org 0",
//!       "hub_code": "local", "hub_display_name": "Local hub",
//!       "workspaces": [ { "name": "Test Workspace A", "description": "a", "labels": ["x"] } ],
//!       "central": { "name": "central0", "display_name": "Central 0",
//!                    "host": "https://central0.example", "account_name": "account0" } }
//!   ],
//!   "clients": [
//!     { "client_id": "my-service", "client_secret": "s3cret" },
//!     { "client_id": "my-app", "redirect_uris": ["http://localhost:3000/signin-callback"],
//!       "post_logout_redirect_uris": ["http://localhost:3000/signed-out"] }
//!   ]
//! }
//! ```
//!
//! * The first user is the *test user*: every token acts as that user unless minted with
//!   [`Emulator::issue_token_for`](crate::Emulator::issue_token_for). Without users, one named
//!   "Emulator User" is made. Seeded workspaces are owned by the test user.
//! * Without organizations, one named "Emulator Org" on hub `local` is made. Ids left out are random.
//! * A client with a secret is confidential (client_credentials, authorization_code, refresh_token);
//!   one without is public (authorization_code with PKCE, refresh_token). The first of each kind
//!   becomes [`Emulator::service_client`](crate::Emulator::service_client) and
//!   [`Emulator::public_client_id`](crate::Emulator::public_client_id); missing kinds are generated
//!   (`evo-emulator-service` with a random secret, `evo-emulator-public`). `scopes` (default: every
//!   Evo scope plus `offline_access`) limits what a client may ask for.
//! * `redirect_uris` (default: any `http` loopback URL, as before) are the redirect URIs
//!   `/connect/authorize` accepts for a client; `post_logout_redirect_uris` (default: the same as
//!   the redirect URIs) those `/connect/endsession` may send the browser back to.
//! * An organization with `central` is linked to a Seequent Central instance: discovery then
//!   answers with an `accounts` array (accounts → instances with `hub` and `central`), as the real
//!   service does for such users. Without any `central`, discovery has no `accounts` key. Several
//!   organizations naming the same `account_id`, or the same `account_name` without an id, share
//!   one account.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::EmulatorError;

/// The whole seed document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Users; the first is the test user.
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// Organizations (Evo instances) and their workspaces.
    #[serde(default)]
    pub organizations: Vec<SeedOrganization>,
    /// OAuth clients.
    #[serde(default)]
    pub clients: Vec<SeedClient>,
}

/// A user of the emulator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    /// Fixed id, or random when absent.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// An organization (an Evo instance) on one hub.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedOrganization {
    /// Fixed id, or random when absent.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Display name.
    pub display_name: String,
    /// Hub code (default `local`); every hub's URL is the emulator's hub URL.
    #[serde(default)]
    pub hub_code: Option<String>,
    /// Hub display name (default `Local hub`).
    #[serde(default)]
    pub hub_display_name: Option<String>,
    /// Workspaces, owned by the test user.
    #[serde(default)]
    pub workspaces: Vec<SeedWorkspace>,
    /// The Seequent Central instance linked to this organization (discovery `accounts`).
    #[serde(default)]
    pub central: Option<SeedCentral>,
}

/// A Seequent Central instance linked to an organization, and the account both belong to.
///
/// Discovery shows it as `accounts[].instances[]` with the organization's id, display name and
/// hub, and `central: {id, display_name, name, host, organization_name}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCentral {
    /// Fixed id of the Central instance, or random when absent.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Short name, e.g. `central0`.
    pub name: String,
    /// Display name, e.g. `Central 0`.
    pub display_name: String,
    /// Host (URL) of the Central server.
    pub host: String,
    /// The organization name Central knows (default: the organization's display name).
    #[serde(default)]
    pub organization_name: Option<String>,
    /// Id of the account the instance belongs to; absent: the id of another instance naming the
    /// same `account_name`, else random.
    #[serde(default)]
    pub account_id: Option<Uuid>,
    /// Name of the account the instance belongs to.
    pub account_name: String,
}

/// A workspace created at start.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedWorkspace {
    /// Fixed id, or random when absent.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Name (1..60 characters, unique in the organization).
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// An OAuth client.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedClient {
    /// The `client_id`.
    pub client_id: String,
    /// The secret; absent for a public client.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Scopes this client may request (default: all Evo scopes and `offline_access`).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Exact redirect URIs `/connect/authorize` accepts (default: any `http` loopback URL).
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
    /// Exact URIs `/connect/endsession` may redirect to after logout (default: the client's
    /// redirect URIs, or any `http` loopback URL when those are not set either).
    #[serde(default)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
}

impl std::fmt::Debug for SeedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedClient")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("scopes", &self.scopes)
            .field("redirect_uris", &self.redirect_uris)
            .field("post_logout_redirect_uris", &self.post_logout_redirect_uris)
            .finish()
    }
}

impl Seed {
    /// Parses a seed from JSON text.
    pub fn from_json(text: &str) -> Result<Self, EmulatorError> {
        serde_json::from_str(text).map_err(|e| EmulatorError::Seed(e.to_string()))
    }

    /// Reads and parses a seed file.
    pub fn from_json_file(path: impl AsRef<std::path::Path>) -> Result<Self, EmulatorError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text)
    }
}

/// Every scope a default client may request.
pub(crate) const ALL_SCOPES: &[&str] = &[
    "evo.audit",
    "evo.blocksync",
    "evo.discovery",
    "evo.file",
    "evo.object",
    "evo.workspace",
    "offline_access",
];
