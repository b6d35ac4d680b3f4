//! [`Evo`]: transport, login, discovery and hub wired in one call.
//!
//! What lives where: this file holds [`Evo`] itself and how an organization and hub are chosen
//! from what discovery found; `builder` holds [`EvoBuilder`] (the environment, the login and
//! connecting) and `services` the clients of Evo's services an [`Evo`] makes.

mod builder;
mod services;

use std::fmt;
use std::sync::Arc;

use evo_core::uuid::Uuid;
use evo_core::{ApiConnector, Authorizer, Environment, SharedTransport};
use evo_discovery::{Hub, Organization};

use crate::Error;
pub use builder::{EvoBuilder, from_env, load_from_env};

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
