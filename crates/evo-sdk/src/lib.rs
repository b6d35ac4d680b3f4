//! # evo-sdk
//!
//! The evo-rs SDK for [Seequent Evo](https://www.seequent.com/products-solutions/evo/) in one
//! dependency: [`Evo`] wires the transport, the login, discovery and the hub in one call, and
//! hands out the service clients; the crates it is made of are re-exported as modules.
//!
//! ```
//! # #[cfg(feature = "emulator")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use evo_sdk::prelude::*;
//!
//! // A local Evo for this example; `evo_sdk::load_from_env().await?` talks to a real one.
//! let emulator = Emulator::builder().start().await?;
//! let evo = emulator.client().await?;
//!
//! let workspaces = evo.workspaces();
//! let created = workspaces
//!     .create_workspace(&CreateWorkspaceRequest::new("Drillholes 2026"))
//!     .await?;
//! let page = workspaces.list_workspaces(&ListWorkspacesQuery::default()).await?;
//! assert!(page.items.iter().any(|w| w.id == created.id));
//! println!("{} on hub {}: {} workspace(s)", evo.organization().display_name,
//!     evo.hub().display_name, page.items.len());
//! # emulator.shutdown().await;
//! # Ok(()) }
//! # #[cfg(not(feature = "emulator"))]
//! # fn main() {}
//! ```
//!
//! The [`guide`] walks the getting-started flow step by step: transport, login (browser,
//! client credentials, static token), discovery, workspaces, environment, service clients,
//! file I/O and your own transport.
//!
//! ## Connecting
//!
//! - [`load_from_env`]: a client from `EVO_*` environment variables ([`client::env`]): a
//!   static token (`EVO_ACCESS_TOKEN`), a service's client credentials (`EVO_CLIENT_ID` and
//!   `EVO_CLIENT_SECRET`) or a browser login (`EVO_CLIENT_ID` alone).
//! - [`from_env`] returns the same configuration as an [`EvoBuilder`] to adjust, and
//!   [`Evo::builder`] starts an empty one: transport, issuer, discovery URL, login, token
//!   store, scopes, organization and hub.
//! - With feature `emulator`, [`EmulatorExt::client`] (in the prelude) connects to the
//!   embedded emulator, for tests.
//!
//! Without [`EvoBuilder::issuer`] (or `EVO_IMS_URL`) logins go to production Bentley IMS
//! ([`auth::DEFAULT_ISSUER`]); without [`EvoBuilder::discovery_url`] discovery goes to
//! [`discovery::DEFAULT_DISCOVERY_URL`].
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `hyper` | yes | [`hyper`]: the default transport (hyper-util, rustls) |
//! | `browser` | yes | opening the system browser for the browser login |
//! | `files` | | [`files`] (File API) and [`io`] (blob transfers), [`Evo::files`] |
//! | `objects` | | [`objects`] (Geoscience Object API, JSON), [`Evo::objects`] |
//! | `arrow` | | `objects` with Arrow arrays and Parquet tables |
//! | `blockmodels` | | [`blockmodels`] (Block Model API), [`Evo::blockmodels`] |
//! | `compute` | | [`compute`] (Compute Tasks API), [`Evo::compute`] |
//! | `colormaps` | | [`colormaps`] (Colormap API), [`Evo::colormaps`] |
//! | `sync` | | [`sync`]: live replicas that follow the server |
//! | `emulator` | | [`emulator`]: the embedded Evo emulator, [`EmulatorExt`] |
//! | `unicat` | | [`unicat`]: the Unicat connector |
//!
//! Each module is the crate of the same name (`evo_sdk::files` is `evo_files`), usable on its
//! own as well.
//!
//! ## Your own transport
//!
//! Any [`core::Transport`] works: implement it with [`async_trait`] (re-exported here and from
//! `evo_core`) and give it to [`EvoBuilder::transport`]; log URIs with [`core::redact_uri`].
//! The `examples/custom_transport.rs` example of the repository is a complete logging
//! middleware.
//!
//! ## Logging
//!
//! The SDK logs through [`tracing`](https://docs.rs/tracing) (requests, retries, token
//! renewals, transfers; never secrets). Install a subscriber to see it, e.g.
//! `tracing_subscriber::fmt().with_env_filter("evo=debug").init()`.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
#[cfg(feature = "emulator")]
mod emulator_ext;
mod error;
mod service;

/// The guide: the getting-started flow in Rust, step by step (features `emulator` and
/// `files`, which its examples use; on docs.rs with every feature).
#[cfg(all(feature = "emulator", feature = "files"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "emulator", feature = "files"))))]
#[doc = include_str!("guide.md")]
pub mod guide {}

pub use client::{Evo, EvoBuilder, env, from_env, load_from_env};
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub use emulator_ext::EmulatorExt;
pub use error::Error;
pub use service::ServiceClient;

/// The attribute that [`core::Transport`] and [`core::Authorizer`] implementations need.
pub use evo_core::async_trait;

/// The core: transport and authorizer seams, the API connector, errors, retries (`evo-core`).
pub use evo_core as core;

/// OAuth2 logins and token stores (`evo-auth`).
pub use evo_auth as auth;

/// The Discovery API: organizations and hubs (`evo-discovery`).
pub use evo_discovery as discovery;

/// The Workspaces API (`evo-workspaces`).
pub use evo_workspaces as workspaces;

/// The default transport: hyper-util with rustls (`evo-hyper`).
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub use evo_hyper as hyper;

/// Chunked, resumable, verified blob transfers (`evo-io`).
#[cfg(any(feature = "files", feature = "objects", feature = "blockmodels"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "files", feature = "objects", feature = "blockmodels")))
)]
pub use evo_io as io;

/// The File API (`evo-files`).
#[cfg(feature = "files")]
#[cfg_attr(docsrs, doc(cfg(feature = "files")))]
pub use evo_files as files;

/// The Geoscience Object API (`evo-objects`).
#[cfg(feature = "objects")]
#[cfg_attr(docsrs, doc(cfg(feature = "objects")))]
pub use evo_objects as objects;

/// The Block Model API (`evo-blockmodels`).
#[cfg(feature = "blockmodels")]
#[cfg_attr(docsrs, doc(cfg(feature = "blockmodels")))]
pub use evo_blockmodels as blockmodels;

/// The Compute Tasks API: geostatistics jobs (`evo-compute`).
#[cfg(feature = "compute")]
#[cfg_attr(docsrs, doc(cfg(feature = "compute")))]
pub use evo_compute as compute;

/// The Colormap API (`evo-colormaps`).
#[cfg(feature = "colormaps")]
#[cfg_attr(docsrs, doc(cfg(feature = "colormaps")))]
pub use evo_colormaps as colormaps;

/// Live replicas that follow changes on the server (`evo-sync`).
#[cfg(feature = "sync")]
#[cfg_attr(docsrs, doc(cfg(feature = "sync")))]
pub use evo_sync as sync;

/// The embedded Evo emulator, for tests and examples (`evo-emulator`).
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub use evo_emulator as emulator;

/// The Unicat connector (`unicat`).
#[cfg(feature = "unicat")]
#[cfg_attr(docsrs, doc(cfg(feature = "unicat")))]
pub use unicat;

/// What most programs use, in one `use evo_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{Evo, EvoBuilder, ServiceClient};
    pub use evo_auth::{EvoScope, Scopes};
    pub use evo_core::uuid::Uuid;
    pub use evo_core::{
        ApiConnector, Authorizer, Environment, SharedTransport, Transport, async_trait,
    };
    pub use evo_discovery::{Hub, Organization};
    pub use evo_workspaces::{CreateWorkspaceRequest, ListWorkspacesQuery, WorkspacesClient};

    #[cfg(feature = "hyper")]
    #[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
    pub use evo_hyper::HyperTransport;

    #[cfg(feature = "files")]
    #[cfg_attr(docsrs, doc(cfg(feature = "files")))]
    pub use evo_files::{FilePath, FilesClient, ListFilesQuery};

    #[cfg(feature = "objects")]
    #[cfg_attr(docsrs, doc(cfg(feature = "objects")))]
    pub use evo_objects::{ListObjectsQuery, ObjectPath, ObjectsClient};

    #[cfg(feature = "blockmodels")]
    #[cfg_attr(docsrs, doc(cfg(feature = "blockmodels")))]
    pub use evo_blockmodels::BlockModelsClient;

    #[cfg(feature = "compute")]
    #[cfg_attr(docsrs, doc(cfg(feature = "compute")))]
    pub use evo_compute::ComputeClient;

    #[cfg(feature = "colormaps")]
    #[cfg_attr(docsrs, doc(cfg(feature = "colormaps")))]
    pub use evo_colormaps::ColormapsClient;

    #[cfg(feature = "emulator")]
    #[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
    pub use crate::EmulatorExt;
    #[cfg(feature = "emulator")]
    #[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
    pub use evo_emulator::Emulator;
}
