//! # evo-discovery
//!
//! The Evo Discovery API: which organizations (Evo instances) the caller can use, the hub that
//! serves each one, and the services available there. Discovery is the first call of every Evo
//! program; the hub URL it returns is the base URL of every other API.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = evo_emulator::Emulator::builder().start().await?;
//! # let (discovery_url, token) = (emulator.discovery_url(), emulator.issue_token(&["evo.discovery"]));
//! use std::sync::Arc;
//! use evo_core::{ApiConnector, StaticTokenAuthorizer};
//! use evo_discovery::DiscoveryClient;
//!
//! // The discovery host is DEFAULT_DISCOVERY_URL and the token (scope `evo.discovery`) comes
//! // from evo-auth; here both come from the embedded emulator.
//! let connector = ApiConnector::builder(discovery_url)
//!     .transport(Arc::new(evo_hyper::HyperTransport::new()))
//!     .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
//!     .build()?;
//! let organizations = DiscoveryClient::new(connector.clone()).list_organizations().await?;
//! for org in &organizations {
//!     for hub in &org.hubs {
//!         println!("{} on {} ({}): {:?}", org.display_name, hub.display_name, hub.url, hub.services);
//!     }
//! }
//! let org = &organizations[0];
//! let hub_connector = org.hubs[0].connector(&connector)?; // same transport and credentials
//! assert_eq!(org.id, emulator.org_id());
//! assert_eq!(hub_connector.base_url(), &emulator.hub_url());
//! # Ok(()) }
//! ```
//!
//! [`generated`] holds the models and the endpoint function made by `cargo xtask codegen` from
//! `specs/discovery.yaml`; [`DiscoveryClient`] adds the sorting and linking the official SDK does.

pub mod generated;

use std::collections::BTreeMap;

use evo_core::uuid::Uuid;
use evo_core::{ApiConnector, Environment};

pub use evo_core::Error;
pub use generated::models;

/// The global discovery host (not region specific).
pub const DEFAULT_DISCOVERY_URL: &str = "https://discover.api.seequent.com/";

/// The catch-all service code: discover the hubs of every Evo service.
pub const DEFAULT_SERVICE: &str = "evo";

/// The OAuth scope discovery needs.
pub const DISCOVERY_SCOPE: &str = "evo.discovery";

/// Lists the organizations a caller can use, with their hubs.
#[derive(Debug, Clone)]
pub struct DiscoveryClient {
    connector: ApiConnector,
}

impl DiscoveryClient {
    /// A client sending requests with `connector`, whose base URL is the discovery host
    /// (usually [`DEFAULT_DISCOVERY_URL`]).
    pub fn new(connector: ApiConnector) -> Self {
        DiscoveryClient { connector }
    }

    /// The connector requests go through.
    pub fn connector(&self) -> &ApiConnector {
        &self.connector
    }

    /// The organizations the caller can use for any Evo service (service code `evo`), sorted by
    /// name, each with the hubs it can use (sorted by name).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let connector = evo_core::ApiConnector::builder(emulator.discovery_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.discovery"]),
    /// #     )))
    /// #     .build()?;
    /// # let discovery = evo_discovery::DiscoveryClient::new(connector.clone());
    /// let organizations = discovery.list_organizations().await?;
    /// assert_eq!(organizations[0].id, emulator.org_id());
    /// let hub = &organizations[0].hubs[0];
    /// assert!(hub.has_service("workspace") && hub.has_service("file"));
    /// # Ok(()) }
    /// ```
    pub async fn list_organizations(&self) -> Result<Vec<Organization>, Error> {
        self.list_organizations_for([DEFAULT_SERVICE]).await
    }

    /// As [`list_organizations`](Self::list_organizations), for specific service codes (sent as
    /// `?service=a&service=b`). An empty list means [`DEFAULT_SERVICE`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let connector = evo_core::ApiConnector::builder(emulator.discovery_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.discovery"]),
    /// #     )))
    /// #     .build()?;
    /// # let discovery = evo_discovery::DiscoveryClient::new(connector.clone());
    /// // The organizations that can use the Block Model API, and where.
    /// let organizations = discovery.list_organizations_for(["blocksync"]).await?;
    /// let hub = &organizations[0].hubs[0];
    /// assert_eq!(hub.services, ["blocksync"]);
    /// # Ok(()) }
    /// ```
    pub async fn list_organizations_for<I, S>(
        &self,
        services: I,
    ) -> Result<Vec<Organization>, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let response = self.discover(services).await?;
        Ok(organizations_from(&response.discovery))
    }

    /// The raw discovery answer for these service codes (an empty list means
    /// [`DEFAULT_SERVICE`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let connector = evo_core::ApiConnector::builder(emulator.discovery_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.discovery"]),
    /// #     )))
    /// #     .build()?;
    /// # let discovery = evo_discovery::DiscoveryClient::new(connector.clone());
    /// let answer = discovery.discover(["file", "workspace"]).await?;
    /// let codes: Vec<&str> = answer.discovery.services.iter().map(|s| s.code.as_str()).collect();
    /// assert_eq!(codes.len(), 2);
    /// assert!(codes.contains(&"file"));
    /// # Ok(()) }
    /// ```
    pub async fn discover<I, S>(&self, services: I) -> Result<models::DiscoveryResponse, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut service: Vec<String> = services.into_iter().map(Into::into).collect();
        if service.is_empty() {
            service.push(DEFAULT_SERVICE.to_owned());
        }
        generated::endpoints::discover(
            &self.connector,
            &generated::endpoints::DiscoverParams { service },
        )
        .await
    }
}

/// An organization (Evo instance) the caller can use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Organization {
    /// The organization id.
    pub id: Uuid,
    /// The name shown to users.
    pub display_name: String,
    /// The hubs the organization can use, sorted by name, each with its services.
    pub hubs: Vec<Hub>,
    /// The Seequent Central server linked to the organization, if any.
    pub central: Option<CentralInstance>,
}

impl Organization {
    /// The hub with this code.
    pub fn hub(&self, code: &str) -> Option<&Hub> {
        self.hubs.iter().find(|h| h.code == code)
    }

    /// The environment of one of this organization's workspaces on `hub`.
    pub fn environment(&self, hub: &Hub, workspace_id: Uuid) -> Result<Environment, Error> {
        hub.environment(self.id, workspace_id)
    }
}

/// A hub an organization can use, with the services available to it there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Hub {
    /// The hub's unique code, e.g. `au`.
    pub code: String,
    /// The name shown to users, e.g. `Australia East`.
    pub display_name: String,
    /// The base URL of the hub's APIs, as discovery sent it (checked by [`Hub::base_url`]).
    pub url: String,
    /// The codes of the services the organization can use on this hub.
    pub services: Vec<String>,
}

impl Hub {
    /// The hub URL, parsed; an error names the hub when discovery sent something that is not an
    /// `http`/`https` URL.
    pub fn base_url(&self) -> Result<evo_core::url::Url, Error> {
        let url = evo_core::url::Url::parse(&self.url).map_err(|e| {
            Error::invalid_request(format!(
                "discovery gave hub {:?} the URL {:?}, which is not a URL: {e}",
                self.code, self.url
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::invalid_request(format!(
                "discovery gave hub {:?} the URL {:?}, which is not http or https",
                self.code, self.url
            )));
        }
        Ok(url)
    }

    /// A connector for this hub's APIs with the transport, credentials and settings of
    /// `template` (typically the discovery connector).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let connector = evo_core::ApiConnector::builder(emulator.discovery_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.discovery"]),
    /// #     )))
    /// #     .build()?;
    /// # let discovery = evo_discovery::DiscoveryClient::new(connector.clone());
    /// let organizations = discovery.list_organizations().await?;
    /// let (org, hub) = (&organizations[0], &organizations[0].hubs[0]);
    /// // The hub's APIs, with the discovery connector's transport and credentials.
    /// let hub_connector = hub.connector(&connector)?;
    /// assert_eq!(hub_connector.base_url(), &hub.base_url()?);
    /// let environment = org.environment(hub, evo_core::uuid::Uuid::nil())?;
    /// assert_eq!(environment.org_id, org.id);
    /// # Ok(()) }
    /// ```
    pub fn connector(&self, template: &ApiConnector) -> Result<ApiConnector, Error> {
        template.with_base_url(self.base_url()?)
    }

    /// The environment of a workspace of organization `org_id` on this hub.
    pub fn environment(&self, org_id: Uuid, workspace_id: Uuid) -> Result<Environment, Error> {
        Ok(Environment::new(self.base_url()?, org_id, workspace_id))
    }

    /// Whether the organization can use `service` on this hub.
    pub fn has_service(&self, service: &str) -> bool {
        self.services.iter().any(|s| s == service)
    }
}

/// A Seequent Central server linked to an organization.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CentralInstance {
    /// The Central instance id.
    pub id: Uuid,
    /// The name shown to users.
    pub display_name: String,
    /// The Central instance name.
    pub name: String,
    /// The Central host.
    pub host: String,
    /// The name of the organization it belongs to.
    pub organization_name: Option<String>,
}

impl From<&models::CentralInstance> for CentralInstance {
    fn from(c: &models::CentralInstance) -> Self {
        CentralInstance {
            id: c.id,
            display_name: c.display_name.clone(),
            name: c.name.clone(),
            host: c.host.clone(),
            organization_name: c.organization_name.clone(),
        }
    }
}

/// Links a discovery answer as the official SDK does: organizations sorted by name; each with
/// the hubs that have a `service_access` entry for it (sorted by name, with that entry's
/// services); `central` from the account instance whose id is the organization id.
/// Entries naming unknown hubs are ignored; repeated entries for one hub merge their services.
pub fn organizations_from(content: &models::DiscoveryContent) -> Vec<Organization> {
    let mut hubs: Vec<&models::Hub> = content.hubs.iter().collect();
    hubs.sort_by(|a, b| (&a.display_name, &a.code).cmp(&(&b.display_name, &b.code)));

    // (org, hub code) → services, in the order first seen.
    let mut access: BTreeMap<(Uuid, &str), Vec<String>> = BTreeMap::new();
    for entry in &content.service_access {
        let services = access
            .entry((entry.org_id, entry.hub_code.as_str()))
            .or_default();
        for s in &entry.services {
            if !services.contains(s) {
                services.push(s.clone());
            }
        }
    }

    let mut organizations: Vec<Organization> = content
        .organizations
        .iter()
        .map(|org| {
            let hubs = hubs
                .iter()
                .filter_map(|hub| {
                    access
                        .get(&(org.id, hub.code.as_str()))
                        .map(|services| Hub {
                            code: hub.code.clone(),
                            display_name: hub.display_name.clone(),
                            url: hub.url.clone(),
                            services: services.clone(),
                        })
                })
                .collect();
            let central = content
                .accounts
                .iter()
                .flatten()
                .flat_map(|a| &a.instances)
                .find(|i| i.id == org.id)
                .and_then(|i| i.central.as_ref())
                .map(CentralInstance::from);
            Organization {
                id: org.id,
                display_name: org.display_name.clone(),
                hubs,
                central,
            }
        })
        .collect();
    organizations.sort_by(|a, b| (&a.display_name, a.id).cmp(&(&b.display_name, b.id)));
    organizations
}
