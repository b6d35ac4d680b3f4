//! Auto-updating replicas: a local copy of remote data that stays current as the server changes.
//!
//! ## Live replicas of Evo data
//!
//! [`LiveWorkspaces`], [`LiveFiles`] and [`LiveObjects`] keep the workspaces of an
//! organization, the files of a workspace or its geoscience objects in memory, as their model
//! types, up to date by polling the Evo APIs ([`EvoPollOptions`]: interval, page size,
//! backoff). Read a [`Snapshot`], or subscribe to [`Update`]s. A failure that retrying cannot
//! cure (403, 404, a missing scope) ends the replica with [`Error::Refused`], which
//! [`Replica::wait_until_ready`] returns.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use evo_core::{ApiConnector, StaticTokenAuthorizer};
//! use evo_sync::{EvoPollOptions, LiveWorkspaces};
//!
//! # let seed = evo_emulator::Seed::from_json(
//! #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Drilling"}]}]}"#,
//! # )?;
//! # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
//! # let (hub_url, org_id) = (emulator.hub_url(), emulator.org_id());
//! # let token = emulator.issue_token(&["evo.workspace"]);
//! let connector = ApiConnector::builder(hub_url)
//!     .transport(Arc::new(evo_hyper::HyperTransport::new()))
//!     .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
//!     .build()?;
//! let live = LiveWorkspaces::start(connector, org_id, EvoPollOptions::default())?;
//! let snapshot = live.wait_until_ready().await?;
//! assert!(snapshot.iter().any(|(_, workspace)| workspace.name == "Drilling"));
//! live.stop().await;
//! # Ok(()) }
//! ```
//!
//! ## The engine
//!
//! * [`replica()`] creates the engine: a single writer ([`ChangeSink`]) that applies change
//!   [`Batch`]es idempotently (a change applies only if newer than what is known about its key;
//!   per-stream [`Cursors`] only move forward), and read handles ([`Replica`]) that take cheap
//!   [`Snapshot`]s and [`subscribe`](Replica::subscribe) to [`Update`]s. Full resyncs are built
//!   aside and swapped in atomically.
//! * [`ChangeSource`] is what feeds a replica; [`Live::start`] runs one in a background task and
//!   reconnects with capped, jittered [`Backoff`].
//! * [`socketio`]: a Socket.IO v5 / Engine.IO v4 (WebSocket) client for a Unicat-style Sync API
//!   (`initsync` with cursors, `sync` and `authorization` events), authenticated by the same
//!   [`evo_core::Authorizer`] as HTTP requests: a token rotated on either side is used by both.
//! * [`poll`]: a poller over any API that can list items changed since a time and list all ids.

mod backoff;
mod change;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod replica;
mod source;

pub mod evo;
pub mod poll;
pub mod socketio;

pub use backoff::{Backoff, BackoffPolicy};
pub use change::{Batch, Change, Cursors, Op};
pub use error::Error;
pub use evo::{EvoPollOptions, LiveFiles, LiveObjects, LiveWorkspaces};
pub use replica::{
    Applied, ChangeSink, EngineOptions, Entry, Notice, Replica, ResetReason, Snapshot, Status,
    Subscription, Update, replica,
};
pub use source::{ChangeSource, Live, LiveOptions, run_forever};
