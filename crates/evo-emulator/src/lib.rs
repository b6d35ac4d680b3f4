//! A local, Evo-compatible server for tests, examples and benchmarks.
//!
//! One listener on `127.0.0.1` serves every Evo service the SDK talks to, with the wire formats
//! of the real platform:
//!
//! * Discovery: `GET /evo/identity/v2/discovery?service=...` (scope `evo.discovery`);
//! * IMS OAuth: `POST /connect/token` (client_credentials, authorization_code with PKCE S256,
//!   refresh_token with rotation) and `GET /connect/authorize` (auto-approves the test user);
//! * Workspaces API under `/workspace` (scope `evo.workspace`);
//! * File API v2 under `/file/v2` (scope `evo.file`);
//! * Azure block-blob semantics on pre-signed URLs under `/blob/{container}/{blob}`.
//!
//! Faults (latency, 5xx, 429, connection resets, truncated bodies, forced expiry) are injected
//! from a seeded [`FaultPlan`], deterministically, and counted.
//!
//! ```no_run
//! use evo_emulator::{BlobStorage, Emulator, Fault, FaultPlan, RouteClass};
//! use std::time::Duration;
//!
//! # async fn demo() -> Result<(), evo_emulator::EmulatorError> {
//! let emu = Emulator::builder()
//!     .token_ttl(Duration::from_secs(3600))
//!     .blob_url_ttl(Duration::from_secs(3600))
//!     .blob_storage(BlobStorage::Memory)
//!     .faults(FaultPlan::seeded(42).with(RouteClass::Blob, Fault::Status(503), 0.1))
//!     .start()
//!     .await?;
//! let token = emu.issue_token(&["evo.workspace", "evo.file"]);
//! let list = emu.hub_url().join(&format!("workspace/orgs/{}/workspaces", emu.org_id())).unwrap();
//! // GET `list` with `Authorization: Bearer {token}` ...
//! # let _ = (token, list);
//! // Retries: the first 2 blob GET/HEAD requests fail, then they succeed.
//! emu.set_faults(FaultPlan::none().with_first(RouteClass::BlobRead, Fault::Status(503), 2));
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The emulator shares no code with the client crates on purpose: it would agree with their bugs.

mod blob;
mod clock;
mod discovery;
mod emulator;
mod error;
mod faults;
mod files;
mod http_util;
mod oauth;
pub mod seed;
mod server;
mod state;
mod tls;
mod workspaces;

pub use blob::store::BlobStorage;
pub use emulator::{ClientCredentials, Emulator, EmulatorBuilder, SeededOrg};
pub use error::EmulatorError;
pub use faults::{Fault, FaultCounters, FaultKind, FaultPlan, RouteClass};
pub use seed::Seed;
pub use state::RestoreConflict;
