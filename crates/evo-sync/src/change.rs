//! What a change source hands to the engine: changes, batches and per-stream cursors.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

/// Per-stream positions in a server's change log.
///
/// A source may follow several independent streams (the seed's Sync API has `cc` and `project`;
/// an Evo poller has one watermark per collection). Each stream's cursor only moves forward when
/// merged: [`Cursors::advance`] keeps the maximum.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cursors(BTreeMap<String, u64>);

impl Cursors {
    /// No stream has a position yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder-style: these cursors with `stream` set to at least `cursor`.
    #[must_use]
    pub fn with(mut self, stream: impl Into<String>, cursor: u64) -> Self {
        self.advance(stream, cursor);
        self
    }

    /// The position of `stream`, if it has one.
    pub fn get(&self, stream: &str) -> Option<u64> {
        self.0.get(stream).copied()
    }

    /// Moves `stream` to `cursor` unless it already is at or past it. Returns whether it moved.
    pub fn advance(&mut self, stream: impl Into<String>, cursor: u64) -> bool {
        match self.0.entry(stream.into()) {
            Entry::Vacant(slot) => {
                slot.insert(cursor);
                true
            }
            Entry::Occupied(mut slot) if *slot.get() < cursor => {
                slot.insert(cursor);
                true
            }
            Entry::Occupied(_) => false,
        }
    }

    /// Advances every stream of `other` (per-stream maximum). Returns whether anything moved.
    pub fn merge(&mut self, other: &Cursors) -> bool {
        let mut moved = false;
        for (stream, &cursor) in &other.0 {
            moved |= self.advance(stream.clone(), cursor);
        }
        moved
    }

    /// True when every stream of `other` is at or behind the same stream here.
    pub fn covers(&self, other: &Cursors) -> bool {
        other
            .0
            .iter()
            .all(|(stream, &c)| self.get(stream).is_some_and(|mine| mine >= c))
    }

    /// The streams and their positions, in stream-name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(s, &c)| (s.as_str(), c))
    }

    /// True when no stream has a position.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a change does to one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op<V> {
    /// The key now has this value.
    Upsert(V),
    /// The key no longer exists.
    Delete,
}

/// One change to one key of the replica.
///
/// `version` orders the changes of a key (a server-side version, `updated_at`, or the log cursor
/// of the change). The engine applies a change only if it is strictly newer than what it already
/// knows about the key, so replays, duplicates and late deliveries are harmless.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change<K, V> {
    /// The key changed.
    pub key: K,
    /// The version of the key after this change.
    pub version: u64,
    /// The change itself.
    pub op: Op<V>,
}

impl<K, V> Change<K, V> {
    /// The key now holds `value` at `version`.
    pub fn upsert(key: K, version: u64, value: V) -> Self {
        Self {
            key,
            version,
            op: Op::Upsert(value),
        }
    }

    /// The key was deleted at `version`.
    pub fn delete(key: K, version: u64) -> Self {
        Self {
            key,
            version,
            op: Op::Delete,
        }
    }
}

/// Changes applied together, and the cursors the source reached with them.
///
/// A batch with no changes but with cursors is a bookmark: it only moves the cursors forward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch<K, V> {
    /// The changes, in any order.
    pub changes: Vec<Change<K, V>>,
    /// The positions reached once these changes are applied (merged with a per-stream maximum).
    pub cursors: Cursors,
}

impl<K, V> Default for Batch<K, V> {
    fn default() -> Self {
        Self {
            changes: Vec::new(),
            cursors: Cursors::new(),
        }
    }
}

impl<K, V> Batch<K, V> {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// A batch that only moves cursors.
    pub fn bookmark(cursors: Cursors) -> Self {
        Self {
            changes: Vec::new(),
            cursors,
        }
    }

    /// Adds a change.
    pub fn push(&mut self, change: Change<K, V>) {
        self.changes.push(change);
    }
}
