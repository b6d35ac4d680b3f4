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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

use crate::change::{Batch, Change, Cursors, Op};

/// One item of the replica: its value and the version it was last changed at.
#[derive(Debug)]
pub struct Entry<V> {
    /// The version of the change that produced `value`.
    pub version: u64,
    /// The value (shared, so snapshots and updates do not copy it).
    pub value: Arc<V>,
}

impl<V> Clone for Entry<V> {
    fn clone(&self) -> Self {
        Self {
            version: self.version,
            value: Arc::clone(&self.value),
        }
    }
}

/// An immutable view of the replica at one moment.
///
/// Holding a snapshot never blocks the writer; it only makes the writer's next change copy the map.
#[derive(Debug)]
pub struct Snapshot<K, V> {
    items: BTreeMap<K, Entry<V>>,
    /// Versions of deleted keys, so a late, older upsert cannot bring a key back.
    /// Cleared by a full resync (the resync is the new truth).
    tombstones: BTreeMap<K, u64>,
    /// The last full resync reflected every change up to this version: a change at or below it
    /// for a key the resync did not list is stale.
    floor: u64,
    cursors: Cursors,
    seq: u64,
    resets: u64,
    ready: bool,
}

impl<K: Clone, V> Clone for Snapshot<K, V> {
    fn clone(&self) -> Self {
        Self {
            items: self.items.clone(),
            tombstones: self.tombstones.clone(),
            floor: self.floor,
            cursors: self.cursors.clone(),
            seq: self.seq,
            resets: self.resets,
            ready: self.ready,
        }
    }
}

impl<K, V> Default for Snapshot<K, V> {
    fn default() -> Self {
        Self {
            items: BTreeMap::new(),
            tombstones: BTreeMap::new(),
            floor: 0,
            cursors: Cursors::new(),
            seq: 0,
            resets: 0,
            ready: false,
        }
    }
}

impl<K: Ord, V> Snapshot<K, V> {
    /// The value of `key`, if present.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.items.get(key).map(|e| e.value.as_ref())
    }

    /// The value and version of `key`, if present.
    pub fn entry(&self, key: &K) -> Option<&Entry<V>> {
        self.items.get(key)
    }

    /// True when `key` is present.
    pub fn contains(&self, key: &K) -> bool {
        self.items.contains_key(key)
    }

    /// All items, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.items.iter().map(|(k, e)| (k, e.value.as_ref()))
    }

    /// All keys, in key order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.items.keys()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The cursors the replica has applied up to.
    pub fn cursors(&self) -> &Cursors {
        &self.cursors
    }

    /// Sequence number of the last [`Update`] reflected in this snapshot.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// How many full resyncs have been swapped in so far.
    pub fn resets(&self) -> u64 {
        self.resets
    }

    /// True once the source has caught up with the server at least once.
    pub fn is_ready(&self) -> bool {
        self.ready
    }
}

/// Why the whole replica was replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResetReason {
    /// The first full load.
    Initial,
    /// The server no longer has the changes after the local cursor.
    CursorExpired,
    /// The server's data was restored from a backup.
    Restored,
    /// The server's change log started over (e.g. a restart without persistence).
    EpochChanged,
    /// A periodic full reconciliation (polling sources).
    Reconciled,
}

/// Connection state of the change source.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// (Re)connecting, or waiting for the first response.
    Connecting,
    /// Connected and receiving changes.
    Connected,
    /// Building a full snapshot aside.
    Resyncing,
    /// Disconnected; a reconnect is scheduled after a backoff delay.
    Disconnected {
        /// Why the last connection ended.
        reason: String,
    },
}

/// Out-of-band news from the server that does not change items by itself.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// The server reported a new version of itself.
    ServerVersion {
        /// The version seen before, if any.
        previous: Option<String>,
        /// The version now reported.
        current: String,
    },
    /// A server-side job (backup, restore, ...) changed status.
    Job {
        /// The job's id (its token).
        id: String,
        /// The job's name, e.g. `restore_project`.
        name: String,
        /// The status, e.g. `processing` or `done`.
        status: String,
    },
}

/// What subscribers receive.
#[derive(Debug)]
#[non_exhaustive]
pub enum Update<K, V> {
    /// `key` was inserted or changed.
    Upserted {
        /// The key.
        key: K,
        /// Its new version.
        version: u64,
        /// Its new value.
        value: Arc<V>,
    },
    /// `key` was removed.
    Removed {
        /// The key.
        key: K,
        /// The version of the deletion.
        version: u64,
    },
    /// The whole replica was replaced; `snapshot` is the new state.
    Reset {
        /// Why.
        reason: ResetReason,
        /// The replica right after the swap.
        snapshot: Arc<Snapshot<K, V>>,
    },
    /// This subscriber fell too far behind and missed updates; `snapshot` is the current state,
    /// and the updates that follow continue from it.
    Lagged {
        /// The replica when the lag was detected.
        snapshot: Arc<Snapshot<K, V>>,
    },
    /// Out-of-band server news.
    Notice(Notice),
    /// The source's connection state changed.
    Status(Status),
}

impl<K: Clone, V> Clone for Update<K, V> {
    fn clone(&self) -> Self {
        match self {
            Self::Upserted {
                key,
                version,
                value,
            } => Self::Upserted {
                key: key.clone(),
                version: *version,
                value: Arc::clone(value),
            },
            Self::Removed { key, version } => Self::Removed {
                key: key.clone(),
                version: *version,
            },
            Self::Reset { reason, snapshot } => Self::Reset {
                reason: reason.clone(),
                snapshot: Arc::clone(snapshot),
            },
            Self::Lagged { snapshot } => Self::Lagged {
                snapshot: Arc::clone(snapshot),
            },
            Self::Notice(n) => Self::Notice(n.clone()),
            Self::Status(s) => Self::Status(s.clone()),
        }
    }
}

/// An update plus the snapshot sequence number it produced (0 for updates that do not change
/// items), so a subscriber that resnapshots can drop what its snapshot already contains.
#[derive(Debug)]
struct Envelope<K, V> {
    seq: u64,
    update: Update<K, V>,
}

impl<K: Clone, V> Clone for Envelope<K, V> {
    fn clone(&self) -> Self {
        Self {
            seq: self.seq,
            update: self.update.clone(),
        }
    }
}

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

struct ResyncBuffer<K, V> {
    reason: ResetReason,
    /// The state being built; its tombstones record deletions applied during the resync.
    state: Snapshot<K, V>,
    /// Keys given by the full listing (as opposed to changes applied during the resync).
    listed: BTreeSet<K>,
}

/// The single writer of a replica. A [`ChangeSource`](crate::ChangeSource) gets `&mut` access to
/// it, so only one task can ever apply changes.
pub struct ChangeSink<K, V> {
    state: watch::Sender<Arc<Snapshot<K, V>>>,
    updates: broadcast::Sender<Envelope<K, V>>,
    status: watch::Sender<Status>,
    resync: Option<ResyncBuffer<K, V>>,
    connected_at: Option<Instant>,
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

/// True when `change` is newer than anything the state knows about its key.
fn is_newer<K: Ord, V>(state: &Snapshot<K, V>, change: &Change<K, V>) -> bool {
    if let Some(entry) = state.items.get(&change.key) {
        return match change.op {
            Op::Upsert(_) => change.version > entry.version,
            // A deletion at the same version as the value it removes still wins.
            Op::Delete => change.version >= entry.version,
        };
    }
    if state.floor > 0 && change.version <= state.floor {
        // The last full listing is newer than this change and did not contain the key.
        return false;
    }
    match (&change.op, state.tombstones.get(&change.key)) {
        (Op::Upsert(_), Some(&deleted_at)) => change.version > deleted_at,
        (Op::Upsert(_), None) => true,
        // Deleting an absent key changes nothing visible, but a newer tombstone must still be
        // recorded so a late, older upsert cannot resurrect the key.
        (Op::Delete, Some(&deleted_at)) => change.version > deleted_at,
        (Op::Delete, None) => true,
    }
}

/// Applies one change if it is newer than what `state` knows; returns the update to publish.
fn apply_change<K: Ord + Clone, V>(
    state: &mut Snapshot<K, V>,
    change: Change<K, V>,
) -> Option<Update<K, V>> {
    if !is_newer(state, &change) {
        return None;
    }
    let Change { key, version, op } = change;
    match op {
        Op::Upsert(value) => {
            state.tombstones.remove(&key);
            let value = Arc::new(value);
            state.items.insert(
                key.clone(),
                Entry {
                    version,
                    value: Arc::clone(&value),
                },
            );
            Some(Update::Upserted {
                key,
                version,
                value,
            })
        }
        Op::Delete => {
            let existed = state.items.remove(&key).is_some();
            // Remembered even for an absent key, so a late older upsert cannot resurrect it.
            state.tombstones.insert(key.clone(), version);
            existed.then_some(Update::Removed { key, version })
        }
    }
}

/// A read handle on a replica. Cheap to clone; never blocks the writer.
pub struct Replica<K, V> {
    state: watch::Receiver<Arc<Snapshot<K, V>>>,
    updates: broadcast::Sender<Envelope<K, V>>,
    status: watch::Receiver<Status>,
}

impl<K, V> Clone for Replica<K, V> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            updates: self.updates.clone(),
            status: self.status.clone(),
        }
    }
}

impl<K, V> fmt::Debug for Replica<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replica").finish_non_exhaustive()
    }
}

impl<K, V> Replica<K, V>
where
    K: Ord + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    /// The current state: an `Arc` clone, no copy.
    pub fn snapshot(&self) -> Arc<Snapshot<K, V>> {
        Arc::clone(&self.state.borrow())
    }

    /// The cursors applied so far.
    pub fn cursors(&self) -> Cursors {
        self.state.borrow().cursors.clone()
    }

    /// The source's connection state.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// A stream of updates from now on. Take a snapshot *after* subscribing, or use
    /// [`subscribe_with_snapshot`](Self::subscribe_with_snapshot), so nothing falls in between.
    pub fn subscribe(&self) -> Subscription<K, V> {
        Subscription {
            updates: self.updates.subscribe(),
            state: self.state.clone(),
            seen_through: 0,
        }
    }

    /// The current snapshot and a subscription that delivers exactly the updates after it.
    pub fn subscribe_with_snapshot(&self) -> (Arc<Snapshot<K, V>>, Subscription<K, V>) {
        let mut subscription = self.subscribe();
        let snapshot = self.snapshot();
        subscription.seen_through = snapshot.seq;
        (snapshot, subscription)
    }

    /// Waits until the source has caught up with the server once. Returns the snapshot then, or
    /// `None` if the writer is gone.
    pub async fn wait_until_ready(&self) -> Option<Arc<Snapshot<K, V>>> {
        self.wait_for(|s| s.is_ready()).await
    }

    /// Waits until `stream` has reached at least `cursor` (read-after-write).
    pub async fn wait_for_cursor(&self, stream: &str, cursor: u64) -> Option<Arc<Snapshot<K, V>>> {
        self.wait_for(|s| s.cursors.get(stream).is_some_and(|c| c >= cursor))
            .await
    }

    /// Waits until the replica satisfies `condition`; returns that snapshot, or `None` if the
    /// writer is gone before it does.
    pub async fn wait_for(
        &self,
        mut condition: impl FnMut(&Snapshot<K, V>) -> bool,
    ) -> Option<Arc<Snapshot<K, V>>> {
        let mut rx = self.state.clone();
        let result = rx.wait_for(|s| condition(s)).await;
        result.ok().map(|s| Arc::clone(&s))
    }
}

/// A subscriber's stream of [`Update`]s.
pub struct Subscription<K, V> {
    updates: broadcast::Receiver<Envelope<K, V>>,
    state: watch::Receiver<Arc<Snapshot<K, V>>>,
    /// Updates with a sequence number at or below this are already in a snapshot the subscriber
    /// holds, so they are skipped.
    seen_through: u64,
}

impl<K, V> fmt::Debug for Subscription<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("seen_through", &self.seen_through)
            .finish_non_exhaustive()
    }
}

impl<K, V> Subscription<K, V>
where
    K: Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    /// The next update, or `None` once the writer is gone and everything was delivered.
    ///
    /// If this subscriber fell behind by more than the channel capacity, it gets
    /// [`Update::Lagged`] with the current snapshot instead of the missed updates.
    pub async fn recv(&mut self) -> Option<Update<K, V>> {
        loop {
            match self.updates.recv().await {
                Ok(envelope) => {
                    if envelope.seq != 0 && envelope.seq <= self.seen_through {
                        continue;
                    }
                    if envelope.seq != 0 {
                        self.seen_through = envelope.seq;
                    }
                    return Some(envelope.update);
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "subscriber lagged; handing it a fresh snapshot");
                    let snapshot = Arc::clone(&self.state.borrow());
                    self.seen_through = snapshot.seq;
                    return Some(Update::Lagged { snapshot });
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next update if one is already queued, without waiting.
    pub fn try_recv(&mut self) -> Option<Update<K, V>> {
        loop {
            match self.updates.try_recv() {
                Ok(envelope) => {
                    if envelope.seq != 0 && envelope.seq <= self.seen_through {
                        continue;
                    }
                    if envelope.seq != 0 {
                        self.seen_through = envelope.seq;
                    }
                    return Some(envelope.update);
                }
                Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "subscriber lagged; handing it a fresh snapshot");
                    let snapshot = Arc::clone(&self.state.borrow());
                    self.seen_through = snapshot.seq;
                    return Some(Update::Lagged { snapshot });
                }
                Err(_) => return None,
            }
        }
    }
}
