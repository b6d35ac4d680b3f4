//! # unicat
//!
//! An async connector for the [Unicat](https://unicat.app) PIM API, built on evo-core's
//! [`ApiConnector`](evo_core::ApiConnector) and [`Transport`](evo_core::Transport) (so it runs on
//! `evo-hyper` or any transport), faithful to the protocol of the official `unicat` Python
//! package and of Unicat's "auto-updating async API connector" how-to:
//!
//! * [`UnicatClient::connect`] posts the API key to `/api/p/<project>/auth`; the JWT comes in
//!   the `Authorization` response header, any later response may rotate it, `WWW-Authenticate`
//!   clears it ([`JwtAuthorizer`], an evo-core `Authorizer` that reads response headers).
//! * [`UnicatClient::call`] speaks the `{success, result, data}` envelope: `data` is merged into
//!   typed local [`Stores`], cursors and the server version are taken from results, an
//!   unsuccessful envelope is [`Error::Unicat`] with Unicat's code, message and info.
//! * Uploads with the 10 MB limit checked before sending, DAM publish/transform with options
//!   validated as the official package does ([`Transform`]), media downloads into an asset
//!   folder (atomic, traversal-safe, skipped when fresh).
//! * [`UnicatClient::start_sync`] keeps the stores current through the Sync API over Socket.IO
//!   (`/sync/io`), with the how-to's apply rules; [`UnicatClient::catch_up`] does the same over
//!   REST (`/sync/get` until no `warning`). Applications follow [`ChangeEvent`]s.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use unicat::UnicatClient;
//!
//! // A local Unicat server with a demo project; against unicat.app, its URL and your project.
//! # let server = unicat_emulator::UnicatEmulator::start().await?;
//! # let (base_url, project) = (server.base_url().parse()?, server.project());
//! # let (api_key, record) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
//! let client = UnicatClient::builder(base_url, project)
//!     .transport(Arc::new(evo_hyper::HyperTransport::new()))
//!     .build()?;
//! client.connect(api_key).await?;
//! client.call("/records/get", serde_json::json!({"record": record})).await?;
//! // The answer's data went into the local stores.
//! assert_eq!(client.record(record).unwrap()["fields"]["en"]["name"], "First article");
//! # Ok(()) }
//! ```

mod auth;
mod client;
mod dam;
mod error;
mod events;
mod seen_jobs;
mod stores;
mod sync;
mod upload;

pub use auth::JwtAuthorizer;
pub use client::{SyncCursors, UnicatClient, UnicatClientBuilder};
pub use dam::{Padding, Resize, Transform};
pub use error::Error;
pub use events::{ChangeEvent, JobProgress, Subscription};
pub use stores::{DataType, Stores};
pub use sync::{SyncHandle, SyncOptions, SyncStatus};
pub use upload::MAX_UPLOAD_BYTES;
