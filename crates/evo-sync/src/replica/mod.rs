//! The replica: one writer ([`ChangeSink`]) applies changes; readers ([`Replica`]) take cheap
//! snapshots and subscribe to a stream of [`Update`]s.
//!
//! Why this shape:
//! * One writer applies everything in order, so cursor and store updates never interleave.
//! * The current state is an `Arc<Snapshot>` held by a `watch` channel. A reader clones the `Arc`
//!   (no copy, no lock held across `.await`). The writer mutates in place through
//!   `Arc::make_mut`, which copies the map only when some reader still holds an older snapshot.
//! * Subscribers read a bounded `broadcast` channel. A subscriber that falls behind is not waited
//!   for: it receives [`Update::Lagged`] with a fresh snapshot and continues from there.
//! * A full resync is collected in a buffer and swapped in with one store, so readers never see
//!   a half-built replica.
//! * Deleted keys are remembered (tombstones) so a late, older upsert cannot bring them back,
//!   until the source reports that every reader of its feed is past them
//!   ([`ChangeSink::prune_tombstones`]): memory stays bounded in a long-running replica.
//! * A permanent failure (403, 404, a missing scope) ends the replica:
//!   [`Status::Failed`], and [`Replica::wait_until_ready`] returns the error.
//!
//! Where things live: `snapshot.rs` the state and the "is this change newer" rules,
//! `sink.rs` the writer, `updates.rs` what subscribers receive, `reader.rs` the read handles.

mod reader;
mod sink;
mod snapshot;
mod updates;

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

pub use reader::Replica;
pub use sink::ChangeSink;
pub use snapshot::{Entry, Snapshot};
pub use updates::{Notice, ResetReason, Status, Subscription, Update};

use updates::Envelope;

/// Counts of what one [`ChangeSink::apply`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Changes that altered the replica.
    pub changed: usize,
    /// Changes ignored as duplicates or stale (not newer than what the replica knows).
    pub ignored: usize,
}

/// Sizes of the engine's bounded queues.
#[derive(Clone, Copy, Debug)]
pub struct EngineOptions {
    /// How many updates a subscriber may fall behind before it is told it lagged.
    pub subscriber_capacity: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            subscriber_capacity: 1024,
        }
    }
}

/// Creates an empty replica: the single writer and the first read handle.
pub fn replica<K, V>(options: EngineOptions) -> (ChangeSink<K, V>, Replica<K, V>)
where
    K: Ord + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    let (state_tx, state_rx) = watch::channel(Arc::new(Snapshot::default()));
    let (updates, _) = broadcast::channel(options.subscriber_capacity.max(1));
    let (status_tx, status_rx) = watch::channel(Status::Connecting);
    let sink = ChangeSink {
        state: state_tx,
        updates: updates.clone(),
        status: status_tx,
        resync: None,
        connected_at: None,
    };
    let replica = Replica {
        state: state_rx,
        updates,
        status: status_rx,
    };
    (sink, replica)
}
