//! The single writer: applies batches, builds resyncs aside and swaps them in, publishes
//! updates and the connection state.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

use super::snapshot::{apply_change, is_newer};
use super::{Applied, Envelope, Notice, Replica, ResetReason, Snapshot, Status, Update};
use crate::change::{Batch, Change, Cursors};
use crate::error::Error;

pub(super) struct ResyncBuffer<K, V> {
    reason: ResetReason,
    /// The state being built; its tombstones record deletions applied during the resync.
    state: Snapshot<K, V>,
    /// Keys given by the full listing (as opposed to changes applied during the resync).
    listed: BTreeSet<K>,
}

/// The single writer of a replica. A [`ChangeSource`](crate::ChangeSource) gets `&mut` access to
/// it, so only one task can ever apply changes.
pub struct ChangeSink<K, V> {
    pub(super) state: watch::Sender<Arc<Snapshot<K, V>>>,
    pub(super) updates: broadcast::Sender<Envelope<K, V>>,
    pub(super) status: watch::Sender<Status>,
    pub(super) resync: Option<ResyncBuffer<K, V>>,
    pub(super) connected_at: Option<Instant>,
}

impl<K, V> fmt::Debug for ChangeSink<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangeSink")
            .field("resyncing", &self.resync.is_some())
            .finish_non_exhaustive()
    }
}

impl<K, V> ChangeSink<K, V>
where
    K: Ord + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    /// The cursors applied so far (those of the pending resync while one is being built).
    pub fn cursors(&self) -> Cursors {
        match &self.resync {
            Some(buffer) => buffer.state.cursors.clone(),
            None => self.state.borrow().cursors.clone(),
        }
    }

    /// The current state (not including a resync still being built).
    pub fn snapshot(&self) -> Arc<Snapshot<K, V>> {
        Arc::clone(&self.state.borrow())
    }

    /// A read handle on the same replica.
    pub fn replica(&self) -> Replica<K, V> {
        Replica {
            state: self.state.subscribe(),
            updates: self.updates.clone(),
            status: self.status.subscribe(),
        }
    }

    /// Applies a batch: each change only if it is newer than what is known about its key, then
    /// moves the cursors forward (never back). While a resync is being built, the batch goes into
    /// the resync buffer instead.
    pub fn apply(&mut self, batch: Batch<K, V>) -> Applied {
        let Batch { changes, cursors } = batch;
        if let Some(buffer) = &mut self.resync {
            let mut applied = Applied::default();
            for change in changes {
                if apply_change(&mut buffer.state, change).is_some() {
                    applied.changed += 1;
                } else {
                    applied.ignored += 1;
                }
            }
            buffer.state.cursors.merge(&cursors);
            return applied;
        }

        let mut applied = Applied::default();
        let mut out: Vec<Envelope<K, V>> = Vec::new();
        self.state.send_if_modified(|current| {
            // Decide first, so an all-duplicate batch does not copy a shared snapshot.
            let any_effect = changes.iter().any(|c| is_newer(current, c));
            let cursor_moves = !current.cursors.covers(&cursors);
            if !any_effect && !cursor_moves {
                applied.ignored = changes.len();
                return false;
            }
            let state = Arc::make_mut(current);
            for change in changes {
                match apply_change(state, change) {
                    Some(update) => {
                        applied.changed += 1;
                        state.seq += 1;
                        out.push(Envelope {
                            seq: state.seq,
                            update,
                        });
                    }
                    None => applied.ignored += 1,
                }
            }
            state.cursors.merge(&cursors);
            true
        });
        for envelope in out {
            // No subscribers is fine: the send only fails when nobody listens.
            let _ = self.updates.send(envelope);
        }
        applied
    }

    /// Starts building a full snapshot aside. Items given to [`resync_items`](Self::resync_items)
    /// (and batches applied meanwhile) collect in a buffer until
    /// [`finish_resync`](Self::finish_resync) swaps it in. Starting again discards the old buffer.
    pub fn begin_resync(&mut self, reason: ResetReason) {
        self.resync = Some(ResyncBuffer {
            reason,
            state: Snapshot::default(),
            listed: BTreeSet::new(),
        });
        self.set_status(Status::Resyncing);
    }

    /// Adds items `(key, version, value)` to the resync being built. Ignored (with a debug log)
    /// when no resync was begun.
    pub fn resync_items(&mut self, items: impl IntoIterator<Item = (K, u64, V)>) {
        let Some(buffer) = &mut self.resync else {
            tracing::debug!("resync items without begin_resync; ignored");
            return;
        };
        for (key, version, value) in items {
            buffer.listed.insert(key.clone());
            apply_change(&mut buffer.state, Change::upsert(key, version, value));
        }
    }

    /// Swaps the resync buffer in atomically, with `cursors` as the replica's new cursors, marks
    /// the replica ready and tells subscribers [`Update::Reset`]. Keys missing from the buffer are
    /// gone afterwards.
    ///
    /// `floor` is the version up to which the listing is complete (the listing's cursor or time;
    /// 0 if unknown, which disables the check): afterwards, a change at or below it for a key the listing did not contain
    /// is ignored as stale, so replays of older changes cannot resurrect deleted keys.
    ///
    /// The new cursors replace the old ones even when lower: a resync is the server's new truth
    /// (after a restore or a restarted change log). Everywhere else cursors only move forward.
    /// Returns false (and does nothing) when no resync was begun.
    pub fn finish_resync(&mut self, cursors: Cursors, floor: u64) -> bool {
        let Some(buffer) = self.resync.take() else {
            return false;
        };
        let ResyncBuffer {
            reason,
            mut state,
            listed,
        } = buffer;
        // Changes applied during the resync that the listing (complete up to `floor`) does not
        // confirm are older than the listing: drop them.
        state
            .items
            .retain(|key, entry| entry.version > floor || listed.contains(key));
        state.floor = state.floor.max(floor);
        state.cursors.merge(&cursors);
        let (seq, resets) = {
            let previous = self.state.borrow();
            (previous.seq + 1, previous.resets + 1)
        };
        state.seq = seq;
        state.resets = resets;
        state.ready = true;
        let snapshot = Arc::new(state);
        self.state.send_replace(Arc::clone(&snapshot));
        let seq = snapshot.seq;
        let _ = self.updates.send(Envelope {
            seq,
            update: Update::Reset { reason, snapshot },
        });
        true
    }

    /// Drops a resync that was begun but not finished (e.g. the connection broke while loading).
    pub fn discard_resync(&mut self) {
        if self.resync.take().is_some() {
            tracing::debug!("discarded an unfinished resync");
        }
    }

    /// True while a resync is being built.
    pub fn is_resyncing(&self) -> bool {
        self.resync.is_some()
    }

    /// Marks the replica as caught up with the server (see [`Replica::wait_until_ready`]).
    pub fn mark_ready(&mut self) {
        self.state.send_if_modified(|current| {
            if current.ready {
                return false;
            }
            Arc::make_mut(current).ready = true;
            true
        });
    }

    /// Publishes out-of-band news to subscribers.
    pub fn notify(&mut self, notice: Notice) {
        let _ = self.updates.send(Envelope {
            seq: 0,
            update: Update::Notice(notice),
        });
    }

    /// Forgets the deletions at or below `version`. A source calls this once every reader of
    /// its change feed (the live connection, the next catch-up, the next poll) is past
    /// `version`, so no change at or below it can arrive any more: the tombstones that kept
    /// older upserts from resurrecting deleted keys are no longer needed. Returns how many were
    /// dropped. Readers are not woken (tombstones are not visible in snapshots' items).
    pub fn prune_tombstones(&mut self, version: u64) -> usize {
        self.prune_tombstones_where(|_, deleted_at| deleted_at <= version)
    }

    /// Forgets the deletions for which `past(key, version)` is true: for sources whose keys
    /// belong to streams with cursors of their own.
    pub fn prune_tombstones_where(&mut self, mut past: impl FnMut(&K, u64) -> bool) -> usize {
        let mut pruned = 0;
        if let Some(buffer) = &mut self.resync {
            let before = buffer.state.tombstones.len();
            buffer.state.tombstones.retain(|k, v| !past(k, *v));
            pruned += before - buffer.state.tombstones.len();
        }
        self.state.send_if_modified(|current| {
            if !current.tombstones.iter().any(|(k, v)| past(k, *v)) {
                return false;
            }
            let state = Arc::make_mut(current);
            let before = state.tombstones.len();
            state.tombstones.retain(|k, v| !past(k, *v));
            pruned += before - state.tombstones.len();
            false
        });
        if pruned > 0 {
            tracing::trace!(pruned, "pruned tombstones");
        }
        pruned
    }

    /// Ends the replica for good with `error` ([`Status::Failed`]): waiters of
    /// [`Replica::wait_until_ready`] get the error.
    pub fn fail(&mut self, error: Error) {
        tracing::error!(%error, "the replica stops: the server refused permanently");
        self.set_status(Status::Failed { error });
    }

    /// Records the connection state and tells subscribers when it changes.
    pub fn set_status(&mut self, status: Status) {
        if status == Status::Connected && self.connected_at.is_none() {
            self.connected_at = Some(Instant::now());
        }
        if matches!(status, Status::Disconnected { .. } | Status::Connecting) {
            self.connected_at = None;
        }
        let changed = self.status.send_if_modified(|current| {
            if *current == status {
                return false;
            }
            *current = status.clone();
            true
        });
        if changed {
            let _ = self.updates.send(Envelope {
                seq: 0,
                update: Update::Status(status),
            });
        }
    }

    /// How long the source has been connected without interruption (zero when not connected).
    pub fn connected_for(&self) -> Duration {
        self.connected_at.map(|t| t.elapsed()).unwrap_or_default()
    }
}
