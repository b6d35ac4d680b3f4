//! The state readers see: items with their versions, and the rules that decide whether a
//! change is newer than what the state knows (versions, tombstones, the resync floor).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Update;
use crate::change::{Change, Cursors, Op};

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
    pub(super) items: BTreeMap<K, Entry<V>>,
    /// Versions of deleted keys, so a late, older upsert cannot bring a key back.
    /// Cleared by a full resync (the resync is the new truth).
    pub(super) tombstones: BTreeMap<K, u64>,
    /// The last full resync reflected every change up to this version: a change at or below it
    /// for a key the resync did not list is stale.
    pub(super) floor: u64,
    pub(super) cursors: Cursors,
    pub(super) seq: u64,
    pub(super) resets: u64,
    pub(super) ready: bool,
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

    /// How many deleted keys are remembered to keep older upserts from bringing them back.
    pub fn tombstones(&self) -> usize {
        self.tombstones.len()
    }

    /// True once the source has caught up with the server at least once.
    pub fn is_ready(&self) -> bool {
        self.ready
    }
}

/// True when `change` is newer than anything the state knows about its key.
pub(super) fn is_newer<K: Ord, V>(state: &Snapshot<K, V>, change: &Change<K, V>) -> bool {
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
pub(super) fn apply_change<K: Ord + Clone, V>(
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
