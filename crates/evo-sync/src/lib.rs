//! Auto-updating replicas: a local copy of remote data that stays current as the server changes.
//!
//! * [`replica()`] creates the engine: a single writer ([`ChangeSink`]) that applies change
//!   [`Batch`]es idempotently (a change applies only if newer than what is known about its key;
//!   per-stream [`Cursors`] only move forward), and read handles ([`Replica`]) that take cheap
//!   [`Snapshot`]s and [`subscribe`](Replica::subscribe) to [`Update`]s. Full resyncs are built
//!   aside and swapped in atomically.
//! * [`ChangeSource`] is what feeds a replica; [`Live::start`] runs one in a background task and
//!   reconnects with capped, jittered [`Backoff`].
//! * [`socketio`]: a Socket.IO v5 / Engine.IO v4 (WebSocket) client for a Unicat-style Sync API
//!   (`initsync` with cursors, `sync` and `authorization` events).
//! * [`poll`]: a poller over any API that can list items changed since a time and list all ids.

mod backoff;
mod change;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod live_objects;
mod replica;
mod source;

pub mod evo;
pub mod poll;
pub mod socketio;

pub use backoff::{Backoff, BackoffPolicy};
pub use change::{Batch, Change, Cursors, Op};
pub use error::Error;
pub use replica::{
    Applied, ChangeSink, EngineOptions, Entry, Notice, Replica, ResetReason, Snapshot, Status,
    Subscription, Update, replica,
};
pub use source::{ChangeSource, Live, LiveOptions, run_forever};
